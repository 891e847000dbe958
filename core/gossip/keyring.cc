#include "core/gossip/keyring.h"

#include <algorithm>

#include "core/env/check.h"

namespace shoal::gossip {

Keyring::Keyring(std::vector<AeadKey> keys) : keys_(std::move(keys)) {
  SHOAL_CHECK(!keys_.empty(), "a keyring needs at least one key");
}

void Keyring::install(const AeadKey& key) {
  if (std::find(keys_.begin(), keys_.end(), key) == keys_.end()) keys_.push_back(key);
}

Status Keyring::use(const AeadKey& key) {
  auto it = std::find(keys_.begin(), keys_.end(), key);
  if (it == keys_.end()) return Status::failed_precondition("install a gossip key before using it");
  std::rotate(keys_.begin(), it, it + 1);  // to the front, the others keep their order
  return {};
}

Status Keyring::remove(const AeadKey& key) {
  auto it = std::find(keys_.begin(), keys_.end(), key);
  if (it == keys_.end()) return Status::not_found("that gossip key is not installed");
  if (it == keys_.begin()) return Status::failed_precondition("the primary gossip key cannot be removed; use another first");
  keys_.erase(it);
  return {};
}

Status Keyring::replace(const std::vector<AeadKey>& keys) {
  if (keys.empty()) return Status::invalid_argument("a gossip keyring needs at least one key");
  keys_ = keys;
  return {};
}

}  // namespace shoal::gossip
