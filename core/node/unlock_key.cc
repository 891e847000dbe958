#include "core/node/unlock_key.h"

#include <cstring>

#include "core/wire/base64.h"

namespace shoal::node {
namespace {
constexpr std::string_view kUnlockPrefix = "SWMKEY-1-";
}  // namespace

std::string format_unlock_key(const AeadKey& kek) {
  return std::string(kUnlockPrefix) +
         wire::base64_encode(std::string_view(reinterpret_cast<const char*>(kek.data()), kek.size()));
}

Result<AeadKey> parse_unlock_key(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
  if (text.substr(0, kUnlockPrefix.size()) != kUnlockPrefix) {
    return Status::invalid_argument("an unlock key starts with SWMKEY-1-; this one does not");
  }
  auto bytes = wire::base64_decode(text.substr(kUnlockPrefix.size()));
  if (!bytes.ok()) return Status::invalid_argument("the unlock key is not valid base64");
  if (bytes->size() != AeadKey{}.size()) return Status::invalid_argument("the unlock key has the wrong length");
  AeadKey kek{};
  std::memcpy(kek.data(), bytes->data(), kek.size());
  return kek;
}

}  // namespace shoal::node
