// The unlock key's text, as Docker writes it: "SWMKEY-1-" and the base64 of the 32-byte
// key-encryption key. `shoal swarm unlock` reads it; an autolocked cluster keeps it in its
// cluster object for `swarm unlock-key`.
#pragma once

#include <string>
#include <string_view>

#include "core/env/crypto.h"
#include "core/env/status.h"

namespace shoal::node {

std::string format_unlock_key(const AeadKey& kek);
// Errors say what is wrong (the prefix, the base64, the length). Trailing white space is ignored.
Result<AeadKey> parse_unlock_key(std::string_view text);

}  // namespace shoal::node
