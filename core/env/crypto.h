// Crypto: the seam through which core code gets secrets and digests (and, as the PKI grows,
// keys, certificates and sealing).
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

namespace shoal {

using Sha256Digest = std::array<uint8_t, 32>;

class Crypto {
 public:
  virtual ~Crypto() = default;
  virtual void random_bytes(uint8_t* out, size_t n) = 0;
  virtual Sha256Digest sha256(std::string_view data) = 0;
};

}  // namespace shoal
