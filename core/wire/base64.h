// Standard base64 (RFC 4648, with padding), as Docker's API carries config and secret data and
// as unlock keys are written. One implementation for the daemon and the CLI.
#pragma once
#include <string>
#include <string_view>

#include "core/env/status.h"

namespace shoal::wire {

std::string base64_encode(std::string_view bytes);
// Errors (InvalidArgument) name what is wrong: a length that is not a multiple of 4, or a
// character outside the alphabet.
Result<std::string> base64_decode(std::string_view text);

}  // namespace shoal::wire
