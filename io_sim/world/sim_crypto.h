// SimCrypto: the Crypto seam for the simulator. It runs OpenSslCrypto's own code, but every
// random byte it uses comes from a seeded stream, so a run's keys, CSRs, certificates, serials,
// sealing nonces and ECDSA signatures are the same bytes for the same seed.
//
// Bytes drawn through random_bytes(), seal()'s nonces among them, come straight from the stream.
// Bytes OpenSSL draws inside (key generation, ECDSA nonces, blinding) are redirected with
// RAND_set_rand_method (deprecated in OpenSSL 3.0 but present): a method installed once per
// process whose callbacks read the stream of the SimCrypto whose call is running on the calling
// thread, and fall through to OpenSSL's own DRBG when none is. So other threads, and
// OpenSslCrypto objects in the same process, keep real randomness.
//
// Parsing and verifying certificates are pure functions of their text (and of the time, through
// the certificates' validity): they are answered from a memo that every SimCrypto of the process
// shares, as a run makes the same few checks on every node. The answers are OpenSSL's own; only
// the cost differs.
//
// Not secure, by design: anyone with the seed has every secret. Single-threaded, like the
// simulator; one per node (derive each node's seed from the run's).
//
// Linking: shoal_sim links shoal_crypto (io_real/crypto and OpenSSL's libcrypto) for it.
//
//   sim::SimCrypto crypto(mix64(run_seed ^ node_id));
//   auto key = crypto.generate_key();   // the same PEM on every run with this seed
#pragma once

#include <cstdint>

#include "core/env/random.h"
#include "io_real/crypto/openssl_crypto.h"

namespace shoal::sim {

class SimCrypto final : public real::OpenSslCrypto {
 public:
  explicit SimCrypto(uint64_t seed);

  void random_bytes(uint8_t* out, size_t n) override;

  // The operations in which OpenSSL draws randomness of its own run with the stream installed.
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

 private:
  Rng stream_;
};

}  // namespace shoal::sim
