// OpenSslCrypto: the Crypto seam on OpenSSL 3 (RAND_bytes, EVP SHA-256, EVP AES-256-GCM, and
// ECDSA P-256 keys with X.509 certificates for the PKI).
//
// Thread-safe as OpenSSL is; holds no state of its own (random bytes come from a per-thread
// draw, see the .cc). Every OpenSSL object lives in a unique_ptr with its free function, and
// every failure clears OpenSSL's thread-local error queue before returning, so no stale error
// leaks into the next caller's SSL_get_error().
// The X.509 operations live in openssl_x509.cc.
#pragma once

#include "core/env/crypto.h"

namespace shoal::real {

class OpenSslCrypto : public Crypto {
 public:
  void random_bytes(uint8_t* out, size_t n) override;
  Sha256Digest sha256(std::string_view data) override;
  std::string seal(const AeadKey& key, std::string_view plaintext, std::string_view aad) override;
  Result<std::string> unseal(const AeadKey& key, std::string_view sealed, std::string_view aad) override;

  Result<KeyPair> generate_key() override;
  Result<std::string> make_csr(const std::string& private_key_pem) override;
  Result<std::string> self_sign(const std::string& key_pem, const CertificateTemplate& tmpl) override;
  Result<std::string> sign_csr(const std::string& csr_pem, const CertificateTemplate& tmpl,
                               const std::string& issuer_cert_pem, const std::string& issuer_key_pem) override;
  Result<std::string> cross_sign(const std::string& cert_pem, const std::string& issuer_cert_pem,
                                 const std::string& issuer_key_pem) override;
  Result<CertificateInfo> parse_certificate(std::string_view pem) override;
  Status verify_certificate(std::string_view chain_pem, const std::vector<std::string>& trusted_roots_pem,
                            int64_t now_unix_s) override;
  Result<Sha256Digest> certificate_digest(std::string_view pem) override;
};

}  // namespace shoal::real
