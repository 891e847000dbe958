// Keyring: the AES-256-GCM keys a gossip member encrypts and decrypts with (memberlist's
// Keyring). The primary key seals everything sent; every installed key is tried on what arrives.
//
// Rotation without a moment where members cannot understand each other, as Serf does it:
//   1. install(new) on every member      (all accept old and new; all still send with old)
//   2. use(new) on every member          (senders move to new; the old is still accepted)
//   3. remove(old) on every member       (old messages are now refused)
// The cluster hands the keys to its members through the PKI-backed channel (the managers' API).
//
//   Keyring ring({k1});
//   ring.install(k2); ring.use(k2); ring.remove(k1);
#pragma once

#include <vector>

#include "core/env/crypto.h"
#include "core/env/status.h"

namespace shoal::gossip {

class Keyring {
 public:
  // keys[0] becomes the primary; at least one key.
  explicit Keyring(std::vector<AeadKey> keys);

  const AeadKey& primary() const { return keys_.front(); }
  // Every key, primary first.
  const std::vector<AeadKey>& keys() const { return keys_; }

  // Accepts messages under `key` too (no-op if installed).
  void install(const AeadKey& key);
  // Makes an installed key the primary (failed_precondition if it is not installed).
  Status use(const AeadKey& key);
  // Stops accepting `key` (failed_precondition for the primary; not_found if not installed).
  Status remove(const AeadKey& key);
  // The three steps at once: exactly `keys`, keys[0] the primary (invalid_argument if empty).
  Status replace(const std::vector<AeadKey>& keys);

 private:
  std::vector<AeadKey> keys_;
};

}  // namespace shoal::gossip
