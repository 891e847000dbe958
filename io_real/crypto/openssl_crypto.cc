#include "io_real/crypto/openssl_crypto.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>

namespace shoal::io {

void OpenSslCrypto::random_bytes(uint8_t* out, size_t n) {
  // A node that cannot get randomness must not invent secrets: stop loudly.
  if (RAND_bytes(out, static_cast<int>(n)) != 1) {
    std::fprintf(stderr, "fatal: OpenSSL RAND_bytes failed; refusing to make weak secrets\n");
    std::abort();
  }
}

Sha256Digest OpenSslCrypto::sha256(std::string_view data) {
  Sha256Digest d{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), d.data(), &len, EVP_sha256(), nullptr) != 1 || len != d.size()) {
    std::fprintf(stderr, "fatal: OpenSSL SHA-256 failed\n");
    std::abort();
  }
  return d;
}

}  // namespace shoal::io
