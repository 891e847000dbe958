// Crypto: the seam through which core code gets secrets, digests, sealed (encrypted and
// authenticated) data, keys and X.509 certificates.
//
// random_bytes() must be cryptographically strong in a real node (OpenSSL's RAND_bytes); the
// simulator makes the same OpenSSL calls deterministic by feeding them from the run's seed.
// Core code never uses Rng (core/env/random.h) for secrets: Rng is for timing and choices.
//
// The PKI part (generate_key .. certificate_digest) is ECDSA P-256 only, signatures are
// ECDSA-SHA256, and keys, requests and certificates travel as PEM text. Every operation takes
// untrusted text and answers bad input with an error that says what is wrong, never a crash.
// Times are Unix seconds (UTC) and are always passed in: an implementation never reads a clock.
//
//   KeyPair root_key = *crypto.generate_key();
//   std::string root = *crypto.self_sign(root_key.private_key_pem, {"swarm-ca", "", "cluster-x",
//                                                                   now, now + years, true});
//   KeyPair node_key = *crypto.generate_key();                          // on the joining node
//   std::string csr = *crypto.make_csr(node_key.private_key_pem);      // sent to a manager
//   std::string leaf = *crypto.sign_csr(csr, {node_id, "swarm-worker", "cluster-x", now - 60,
//                                             now + days90, false}, root, root_key.private_key_pem);
//   Status ok = crypto.verify_certificate(leaf, {root}, now);
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/env/status.h"

namespace shoal {

using Sha256Digest = std::array<uint8_t, 32>;
using AeadKey = std::array<uint8_t, 32>;  // an AES-256-GCM key

// An ECDSA P-256 key pair: the private key as PKCS#8 PEM ("BEGIN PRIVATE KEY"), the public key
// as SubjectPublicKeyInfo PEM ("BEGIN PUBLIC KEY").
struct KeyPair {
  std::string private_key_pem;
  std::string public_key_pem;
};

// What a signer writes into a certificate. Subject fields that are empty are left out.
// is_ca: true makes a CA (basicConstraints CA:true, keyUsage keyCertSign+cRLSign); false makes a
// node certificate (CA:false, keyUsage digitalSignature, extendedKeyUsage serverAuth+clientAuth).
struct CertificateTemplate {
  std::string common_name;
  std::string org_unit;
  std::string organization;
  int64_t not_before_unix_s = 0;
  int64_t not_after_unix_s = 0;
  bool is_ca = false;
};

// What a certificate says, read back from its PEM. Subject fields missing from it are empty.
struct CertificateInfo {
  std::string common_name;
  std::string org_unit;
  std::string organization;
  std::string issuer_common_name;
  int64_t not_before_unix_s = 0;
  int64_t not_after_unix_s = 0;
  bool is_ca = false;          // basicConstraints CA:true
  std::string public_key_pem;  // SubjectPublicKeyInfo PEM
  std::string serial_hex;      // lowercase hex, no leading zeros
};

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

  // ---- PKI: ECDSA P-256 keys and X.509 certificates, PEM in and out ----
  // The defaults refuse with kFailedPrecondition, so a test double that only needs the
  // methods above (or wraps a real Crypto for some of them) need not spell these out.

  // A fresh ECDSA P-256 key pair.
  virtual Result<KeyPair> generate_key() { return unsupported("generate_key"); }

  // A certificate signing request (PKCS#10) signed with `private_key_pem`, which proves the
  // requester holds the key. Its subject is a placeholder: signers take only the public key.
  virtual Result<std::string> make_csr(const std::string& /*private_key_pem*/) { return unsupported("make_csr"); }

  // A self-signed root CA certificate for `key_pem` with the template's subject and validity.
  // The template must say is_ca (a self-signed leaf is refused).
  virtual Result<std::string> self_sign(const std::string& /*key_pem*/, const CertificateTemplate& /*tmpl*/) {
    return unsupported("self_sign");
  }

  // Issues a certificate for the public key of `csr_pem`, after checking the request's
  // signature. Subject, validity and extensions come from `tmpl` only (nothing else in the
  // request is copied). The serial is 128 random bits from random_bytes(). Refused, with a
  // message saying why: an unsigned or tampered request, an issuer that is not a CA, an issuer
  // key that is not the issuer certificate's, or a not_after later than the issuer's not_after.
  virtual Result<std::string> sign_csr(const std::string& /*csr_pem*/, const CertificateTemplate& /*tmpl*/,
                                       const std::string& /*issuer_cert_pem*/, const std::string& /*issuer_key_pem*/) {
    return unsupported("sign_csr");
  }

  // Cross-signing, for root CA rotation (as swarmkit does): a new certificate with the subject,
  // public key and extensions of `cert_pem` (a CA certificate) but issued and signed by the
  // issuer. A chain leaf -> cross-signed cert then reaches the issuer's root, while the leaf
  // still chains directly to `cert_pem` for those who trust it. The validity is cert_pem's,
  // with not_after cut to the issuer's not_after (the cross-signed cert is no use after that).
  virtual Result<std::string> cross_sign(const std::string& /*cert_pem*/, const std::string& /*issuer_cert_pem*/,
                                         const std::string& /*issuer_key_pem*/) {
    return unsupported("cross_sign");
  }

  // Reads the first certificate of a PEM bundle.
  virtual Result<CertificateInfo> parse_certificate(std::string_view /*pem*/) {
    return unsupported("parse_certificate");
  }

  // Checks that `chain_pem` (a leaf certificate followed by any intermediates, PEM) chains to
  // one of `trusted_roots_pem` (each a PEM holding one or more self-signed roots), with every
  // certificate's validity judged at `now_unix_s`. The error names the fault: expired (with the
  // date), not yet valid, not signed by this cluster's root CA, a signature that does not
  // verify. Verification failures are kPermissionDenied; unreadable input kInvalidArgument.
  virtual Status verify_certificate(std::string_view /*chain_pem*/,
                                    const std::vector<std::string>& /*trusted_roots_pem*/, int64_t /*now_unix_s*/) {
    return unsupported("verify_certificate");
  }

  // SHA-256 of the first certificate's DER encoding: the root CA digest join tokens carry.
  virtual Result<Sha256Digest> certificate_digest(std::string_view /*pem*/) {
    return unsupported("certificate_digest");
  }

 private:
  static Status unsupported(const char* what) {
    return Status::failed_precondition(std::string("this Crypto does not implement ") + what);
  }
};

}  // namespace shoal
