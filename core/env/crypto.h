// Crypto: the seam through which core code gets secrets, digests and sealed (encrypted and
// authenticated) data; keys and certificates join it as the PKI grows.
//
// random_bytes() must be cryptographically strong in a real node (OpenSSL's RAND_bytes); the
// simulator makes the same OpenSSL calls deterministic by feeding them from the run's seed.
// Core code never uses Rng (core/env/random.h) for secrets: Rng is for timing and choices.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/env/status.h"

namespace shoal {

using Sha256Digest = std::array<uint8_t, 32>;
using AeadKey = std::array<uint8_t, 32>;  // an AES-256-GCM key

class Crypto {
 public:
  virtual ~Crypto() = default;
  virtual void random_bytes(uint8_t* out, size_t n) = 0;
  virtual Sha256Digest sha256(std::string_view data) = 0;

  // AES-256-GCM. seal() returns nonce (12 bytes, fresh random) || ciphertext || tag (16 bytes).
  // `aad` is authenticated but not stored: bind a sealed value to where it belongs (its record
  // key, say) so it cannot be moved elsewhere unnoticed. unseal() fails, saying why, on any
  // tampering, truncation, wrong key or wrong aad, and returns nothing in that case.
  static constexpr size_t kSealOverhead = 12 + 16;
  virtual std::string seal(const AeadKey& key, std::string_view plaintext, std::string_view aad) = 0;
  virtual Result<std::string> unseal(const AeadKey& key, std::string_view sealed, std::string_view aad) = 0;
};

}  // namespace shoal
