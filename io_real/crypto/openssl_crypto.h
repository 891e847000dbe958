// OpenSslCrypto: the Crypto seam on OpenSSL 3 (RAND_bytes, EVP SHA-256, EVP AES-256-GCM).
// Thread-safe as OpenSSL is; holds no state of its own.
#pragma once

#include "core/env/crypto.h"

namespace shoal::io {

class OpenSslCrypto final : public Crypto {
 public:
  void random_bytes(uint8_t* out, size_t n) override;
  Sha256Digest sha256(std::string_view data) override;
  std::string seal(const AeadKey& key, std::string_view plaintext, std::string_view aad) override;
  Result<std::string> unseal(const AeadKey& key, std::string_view sealed, std::string_view aad) override;
};

}  // namespace shoal::io
