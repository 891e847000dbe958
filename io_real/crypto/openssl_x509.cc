// OpenSslCrypto's PKI half: ECDSA P-256 keys, CSRs and X.509 certificates on OpenSSL 3.
//
// Conventions in this file:
//  - every OpenSSL object is owned by a unique_ptr with its free function (Ptr<T, free>);
//  - every input is untrusted text: its size is capped, its PEM label is looked for before
//    OpenSSL sees it (so "no PEM block" and "unreadable PEM block" are told apart plainly), and
//    no PEM read can prompt for a password;
//  - every failure drains OpenSSL's error queue into the message and leaves the queue empty.
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <cctype>
#include <cstring>
#include <ctime>
#include <deque>
#include <memory>
#include <mutex>
#include <utility>

#include "io_real/crypto/openssl_crypto.h"
#include "io_real/crypto/openssl_util.h"

namespace shoal::real {

namespace {

// Certificate times must fit X.509's four-digit years.
constexpr int64_t kLatestTime = 253402300799;  // 9999-12-31 23:59:59 UTC
constexpr size_t kSerialBytes = 16;            // 128 bits, as RFC 5280 allows at most 20 bytes

// ---- time ----

int64_t days_from_civil(int64_t y, int m, int d) {  // Howard Hinnant's algorithm
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Result<int64_t> unix_seconds(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    return Status::invalid_argument(with_reason("the certificate's validity time is unreadable"));
  }
  return days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday) * 86400 + tm.tm_hour * 3600 +
         tm.tm_min * 60 + tm.tm_sec;
}

// "2026-05-01 12:00:00Z", for messages.
std::string time_text(int64_t unix_s) {
  Asn1TimePtr t(ASN1_TIME_set(nullptr, static_cast<time_t>(unix_s)));
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!t || !bio || ASN1_TIME_print_ex(bio.get(), t.get(), ASN1_DTFLGS_ISO8601) != 1) {
    ERR_clear_error();
    return "@" + std::to_string(unix_s) + " (Unix seconds)";
  }
  return bio_text(bio.get());
}

std::string time_text(const ASN1_TIME* t) {
  auto s = unix_seconds(t);
  return s.ok() ? time_text(*s) : "(unreadable time)";
}

Status check_time(int64_t t, const char* what) {
  if (t < 0 || t > kLatestTime) {
    return Status::invalid_argument(std::string(what) + " " + std::to_string(t) +
                                    " is outside 1970-01-01..9999-12-31 (Unix seconds)");
  }
  return Status::ok_status();
}

// ---- reading PEM ----

Result<PkeyPtr> check_p256(PkeyPtr key, const std::string& what) {
  char group[64] = {};
  size_t len = 0;
  if (EVP_PKEY_is_a(key.get(), "EC") != 1 ||
      EVP_PKEY_get_group_name(key.get(), group, sizeof group, &len) != 1 ||
      (std::strcmp(group, "prime256v1") != 0 && std::strcmp(group, "P-256") != 0)) {
    ERR_clear_error();
    return Status::invalid_argument("the " + what + " is not an ECDSA P-256 key (Shoal uses P-256 only)");
  }
  return key;
}

// Parsing a PEM private key costs OpenSSL 3's decoder framework far more than the signature it
// is read for, and a CA signs with the same key again and again: the last few keys read are
// kept, by their PEM, and shared (an EVP_PKEY is reference-counted, and signing with it from
// several threads is allowed).
class KeyCache {
 public:
  PkeyPtr find(std::string_view pem) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [text, key] : keys_) {
      if (text == pem && EVP_PKEY_up_ref(key.get()) == 1) return PkeyPtr(key.get());
    }
    return nullptr;
  }
  void add(std::string_view pem, EVP_PKEY* key) {
    if (EVP_PKEY_up_ref(key) != 1) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (keys_.size() >= kSize) keys_.pop_front();
    keys_.emplace_back(std::string(pem), PkeyPtr(key));
  }

 private:
  static constexpr size_t kSize = 8;
  std::mutex mu_;
  std::deque<std::pair<std::string, PkeyPtr>> keys_;
};

KeyCache& key_cache() {
  static KeyCache cache;
  return cache;
}

Result<PkeyPtr> read_private_key(std::string_view pem, const std::string& what) {
  if (PkeyPtr cached = key_cache().find(pem)) return cached;
  if (Status s = check_size(pem, what); !s.ok()) return s;
  if (pem.find("PRIVATE KEY-----") == std::string_view::npos) {
    return Status::invalid_argument("no PEM private key found in the " + what +
                                    " (expected -----BEGIN PRIVATE KEY-----)");
  }
  ERR_clear_error();
  BioPtr bio = read_bio(pem);
  PkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_password, nullptr) : nullptr);
  if (!key) return Status::invalid_argument(with_reason("the " + what + " is not a readable PEM private key"));
  auto checked = check_p256(std::move(key), what);
  if (checked.ok()) key_cache().add(pem, checked->get());
  return checked;
}

Result<ReqPtr> read_csr(std::string_view pem) {
  const std::string what = "certificate signing request";
  if (Status s = check_size(pem, what); !s.ok()) return s;
  if (pem.find("CERTIFICATE REQUEST-----") == std::string_view::npos) {
    return Status::invalid_argument("no PEM certificate signing request found (expected -----BEGIN CERTIFICATE "
                                    "REQUEST-----)");
  }
  ERR_clear_error();
  BioPtr bio = read_bio(pem);
  ReqPtr req(bio ? PEM_read_bio_X509_REQ(bio.get(), nullptr, no_password, nullptr) : nullptr);
  if (!req) return Status::invalid_argument(with_reason("the " + what + " is not a readable PEM request"));
  return req;
}

// ---- reading certificates ----

bool is_ca(X509* x) { return (X509_get_extension_flags(x) & EXFLAG_CA) != 0; }

bool may_sign_certificates(X509* x) {
  if (!is_ca(x)) return false;
  return (X509_get_extension_flags(x) & EXFLAG_KUSAGE) == 0 || (X509_get_key_usage(x) & KU_KEY_CERT_SIGN) != 0;
}

Result<std::string> public_key_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) return internal_error("PEM_write_bio_PUBKEY");
  return bio_text(bio.get());
}

// ---- building certificates ----

Result<NamePtr> subject_of(const CertificateTemplate& t) {
  NamePtr name(X509_NAME_new());
  if (!name) return internal_error("X509_NAME_new");
  const std::pair<const char*, const std::string*> fields[] = {
      {"O", &t.organization}, {"OU", &t.org_unit}, {"CN", &t.common_name}};
  for (const auto& [field, value] : fields) {
    if (value->empty()) continue;
    if (X509_NAME_add_entry_by_txt(name.get(), field, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value->data()),
                                   static_cast<int>(value->size()), -1, 0) != 1) {
      return Status::invalid_argument(
          with_reason(std::string("certificate subject ") + field + " '" + *value + "' is not acceptable"));
    }
  }
  if (X509_NAME_entry_count(name.get()) == 0) {
    return Status::invalid_argument("certificate template has an empty subject (no CN, OU or O)");
  }
  return name;
}

Status check_validity(const CertificateTemplate& t) {
  if (Status s = check_time(t.not_before_unix_s, "not_before"); !s.ok()) return s;
  if (Status s = check_time(t.not_after_unix_s, "not_after"); !s.ok()) return s;
  if (t.not_after_unix_s <= t.not_before_unix_s) {
    return Status::invalid_argument("certificate template's not_after (" + time_text(t.not_after_unix_s) +
                                    ") is not later than its not_before (" + time_text(t.not_before_unix_s) + ")");
  }
  return Status::ok_status();
}

Status set_validity(X509* x, int64_t not_before, int64_t not_after) {
  if (ASN1_TIME_set(X509_getm_notBefore(x), static_cast<time_t>(not_before)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(x), static_cast<time_t>(not_after)) == nullptr) {
    return internal_error("ASN1_TIME_set");
  }
  return Status::ok_status();
}

// A fresh positive serial of 128 random bits (the top bit cleared so DER needs no sign byte).
Status set_random_serial(Crypto& crypto, X509* x) {
  uint8_t bytes[kSerialBytes];
  crypto.random_bytes(bytes, sizeof bytes);
  bytes[0] &= 0x7f;
  bytes[kSerialBytes - 1] |= 0x01;  // never zero
  BnPtr bn(BN_bin2bn(bytes, sizeof bytes, nullptr));
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(x)) == nullptr) {
    return internal_error("setting the serial number");
  }
  return Status::ok_status();
}

// Adds one extension written in OpenSSL's config syntax. `value` is always a constant of this
// file, never caller text, so nothing can be smuggled into it.
Status add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return internal_error(std::string("adding extension ") + OBJ_nid2sn(nid) + "=" + value);
  }
  return Status::ok_status();
}

bool dns_safe(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') return false;
  }
  return true;
}

// subjectAltName DNS entries for a node certificate: its CN (node id) and OU (role), as
// swarmkit does, so TLS name checks can match either. Names that are not DNS-safe are left out.
Status add_node_alt_names(X509* cert, const CertificateTemplate& t) {
  GeneralNamesPtr names(GENERAL_NAMES_new());
  if (!names) return internal_error("GENERAL_NAMES_new");
  for (const std::string* s : {&t.common_name, &t.org_unit}) {
    if (!dns_safe(*s)) continue;
    GENERAL_NAME* gn = GENERAL_NAME_new();
    ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
    if (gn == nullptr || ia5 == nullptr || ASN1_STRING_set(ia5, s->data(), static_cast<int>(s->size())) != 1) {
      GENERAL_NAME_free(gn);
      ASN1_IA5STRING_free(ia5);
      return internal_error("building subjectAltName");
    }
    GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
    if (sk_GENERAL_NAME_push(names.get(), gn) == 0) {
      GENERAL_NAME_free(gn);
      return internal_error("building subjectAltName");
    }
  }
  if (sk_GENERAL_NAME_num(names.get()) == 0) return Status::ok_status();
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return internal_error("adding subjectAltName");
  }
  return Status::ok_status();
}

// The extensions a template asks for. `issuer` is null for a self-signed root.
Status add_template_extensions(X509* cert, X509* issuer, const CertificateTemplate& t) {
  const bool self_signed = issuer == nullptr;
  X509* iss = self_signed ? cert : issuer;
  Status s;
  if (t.is_ca) {
    if (s = add_extension(cert, iss, NID_basic_constraints, "critical,CA:TRUE"); !s.ok()) return s;
    if (s = add_extension(cert, iss, NID_key_usage, "critical,keyCertSign,cRLSign"); !s.ok()) return s;
  } else {
    if (s = add_extension(cert, iss, NID_basic_constraints, "critical,CA:FALSE"); !s.ok()) return s;
    if (s = add_extension(cert, iss, NID_key_usage, "critical,digitalSignature"); !s.ok()) return s;
    if (s = add_extension(cert, iss, NID_ext_key_usage, "serverAuth,clientAuth"); !s.ok()) return s;
    if (s = add_node_alt_names(cert, t); !s.ok()) return s;
  }
  if (s = add_extension(cert, iss, NID_subject_key_identifier, "hash"); !s.ok()) return s;
  // The authority key id lets chain building tell apart two CAs with the same name (the old and
  // the new root during a rotation are both "CN=swarm-ca,O=<cluster>").
  if (!self_signed) {
    if (s = add_extension(cert, iss, NID_authority_key_identifier, "keyid:always"); !s.ok()) return s;
  }
  return Status::ok_status();
}

Result<std::string> sign_and_write(X509* cert, EVP_PKEY* key) {
  if (X509_sign(cert, key, EVP_sha256()) <= 0) return internal_error("X509_sign (ECDSA-SHA256)");
  return certificate_pem(cert);
}

// Loads an issuer: its certificate must be a CA allowed to sign certificates, and the key must be
// that certificate's.
struct Issuer {
  X509Ptr cert;
  PkeyPtr key;
  int64_t not_after = 0;
};

Result<Issuer> read_issuer(const std::string& cert_pem, const std::string& key_pem) {
  auto cert = read_certificate(cert_pem, "issuer certificate");
  if (!cert.ok()) return cert.status();
  auto key = read_private_key(key_pem, "issuer key");
  if (!key.ok()) return key.status();
  X509* c = cert->get();
  if (!may_sign_certificates(c)) {
    return Status::invalid_argument("the issuer certificate (" + name_text(X509_get_subject_name(c)) +
                                    ") is not a CA allowed to sign certificates");
  }
  if (X509_check_private_key(c, key->get()) != 1) {
    ERR_clear_error();
    return Status::invalid_argument("the issuer key is not the key of the issuer certificate (" +
                                    name_text(X509_get_subject_name(c)) + ")");
  }
  auto not_after = unix_seconds(X509_get0_notAfter(c));
  if (!not_after.ok()) return not_after.status();
  return Issuer{std::move(*cert), std::move(*key), *not_after};
}

// ---- verification messages ----

std::string verify_failure_text(X509_STORE_CTX* ctx, int64_t now) {
  const int err = X509_STORE_CTX_get_error(ctx);
  const int depth = X509_STORE_CTX_get_error_depth(ctx);
  X509* cert = X509_STORE_CTX_get_current_cert(ctx);
  std::string who = depth == 0 ? "certificate" : "CA certificate";
  if (cert != nullptr) who += " " + name_text(X509_get_subject_name(cert));
  switch (err) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return who + " has expired (not after " + (cert ? time_text(X509_get0_notAfter(cert)) : "?") + ", now " +
             time_text(now) + ")";
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return who + " is not yet valid (not before " + (cert ? time_text(X509_get0_notBefore(cert)) : "?") +
             ", now " + time_text(now) + "); are the clocks apart?";
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      return who + " is not signed by this cluster's root CA (its issuer is " +
             (cert ? name_text(X509_get_issuer_name(cert)) : "unknown") + ")";
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
    case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
      return "the signature on " + who + " does not verify (tampered, or not signed by the CA it names)";
    case X509_V_ERR_INVALID_CA:
      return who + " is used as a CA but is not one";
    default:
      return who + " is refused: " + X509_verify_cert_error_string(err);
  }
}

}  // namespace

Result<KeyPair> OpenSslCrypto::generate_key() {
  ERR_clear_error();
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return internal_error("EC P-256 key generation");
  // A secure-memory BIO is wiped when freed, so the private key leaves no copy behind in it.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return internal_error("PEM_write_bio_PrivateKey");
  }
  KeyPair pair;
  pair.private_key_pem = bio_text(bio.get());
  auto pub = public_key_pem(key.get());
  if (!pub.ok()) return pub.status();
  pair.public_key_pem = std::move(*pub);
  return pair;
}

Result<std::string> OpenSslCrypto::make_csr(const std::string& private_key_pem) {
  auto key = read_private_key(private_key_pem, "private key");
  if (!key.ok()) return key.status();
  ReqPtr req(X509_REQ_new());
  NamePtr name(X509_NAME_new());
  if (!req || !name) return internal_error("X509_REQ_new");
  static constexpr unsigned char kPlaceholder[] = "shoal-node";  // the signer ignores the subject
  if (X509_REQ_set_version(req.get(), 0) != 1 ||
      X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_ASC, kPlaceholder, -1, -1, 0) != 1 ||
      X509_REQ_set_subject_name(req.get(), name.get()) != 1 || X509_REQ_set_pubkey(req.get(), key->get()) != 1) {
    return internal_error("building the certificate signing request");
  }
  if (X509_REQ_sign(req.get(), key->get(), EVP_sha256()) <= 0) return internal_error("X509_REQ_sign");
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509_REQ(bio.get(), req.get()) != 1) return internal_error("PEM_write_bio_X509_REQ");
  return bio_text(bio.get());
}

Result<std::string> OpenSslCrypto::self_sign(const std::string& key_pem, const CertificateTemplate& tmpl) {
  if (!tmpl.is_ca) {
    return Status::invalid_argument("self_sign makes root CAs only, and the template does not say is_ca");
  }
  if (Status s = check_validity(tmpl); !s.ok()) return s;
  auto key = read_private_key(key_pem, "root CA key");
  if (!key.ok()) return key.status();
  auto name = subject_of(tmpl);
  if (!name.ok()) return name.status();
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      X509_set_subject_name(cert.get(), name->get()) != 1 || X509_set_issuer_name(cert.get(), name->get()) != 1 ||
      X509_set_pubkey(cert.get(), key->get()) != 1) {
    return internal_error("building the root CA certificate");
  }
  if (Status s = set_random_serial(*this, cert.get()); !s.ok()) return s;
  if (Status s = set_validity(cert.get(), tmpl.not_before_unix_s, tmpl.not_after_unix_s); !s.ok()) return s;
  if (Status s = add_template_extensions(cert.get(), nullptr, tmpl); !s.ok()) return s;
  return sign_and_write(cert.get(), key->get());
}

Result<std::string> OpenSslCrypto::sign_csr(const std::string& csr_pem, const CertificateTemplate& tmpl,
                                            const std::string& issuer_cert_pem, const std::string& issuer_key_pem) {
  if (Status s = check_validity(tmpl); !s.ok()) return s;
  auto req = read_csr(csr_pem);
  if (!req.ok()) return req.status();
  EVP_PKEY* req_key = X509_REQ_get0_pubkey(req->get());
  if (req_key == nullptr) {
    return Status::invalid_argument(with_reason("the certificate signing request has no readable public key"));
  }
  if (X509_REQ_verify(req->get(), req_key) != 1) {
    ERR_clear_error();
    return Status::invalid_argument(
        "the certificate signing request's signature does not verify: it does not prove possession of its key");
  }
  if (EVP_PKEY_up_ref(req_key) != 1) return internal_error("EVP_PKEY_up_ref");
  auto subject_key = check_p256(PkeyPtr(req_key), "certificate signing request's key");
  if (!subject_key.ok()) return subject_key.status();

  auto issuer = read_issuer(issuer_cert_pem, issuer_key_pem);
  if (!issuer.ok()) return issuer.status();
  if (tmpl.not_after_unix_s > issuer->not_after) {
    return Status::invalid_argument("the requested not_after " + time_text(tmpl.not_after_unix_s) +
                                    " is later than the issuer's not_after " + time_text(issuer->not_after) +
                                    "; a certificate cannot outlive its CA");
  }
  auto name = subject_of(tmpl);
  if (!name.ok()) return name.status();
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      X509_set_subject_name(cert.get(), name->get()) != 1 ||
      X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer->cert.get())) != 1 ||
      X509_set_pubkey(cert.get(), subject_key->get()) != 1) {
    return internal_error("building the certificate");
  }
  if (Status s = set_random_serial(*this, cert.get()); !s.ok()) return s;
  if (Status s = set_validity(cert.get(), tmpl.not_before_unix_s, tmpl.not_after_unix_s); !s.ok()) return s;
  if (Status s = add_template_extensions(cert.get(), issuer->cert.get(), tmpl); !s.ok()) return s;
  return sign_and_write(cert.get(), issuer->key.get());
}

Result<std::string> OpenSslCrypto::cross_sign(const std::string& cert_pem, const std::string& issuer_cert_pem,
                                              const std::string& issuer_key_pem) {
  auto original = read_certificate(cert_pem, "certificate to cross-sign");
  if (!original.ok()) return original.status();
  X509* orig = original->get();
  if (!is_ca(orig)) {
    return Status::invalid_argument("cross_sign is for CA certificates, and " +
                                    name_text(X509_get_subject_name(orig)) + " is not a CA");
  }
  auto issuer = read_issuer(issuer_cert_pem, issuer_key_pem);
  if (!issuer.ok()) return issuer.status();
  auto not_before = unix_seconds(X509_get0_notBefore(orig));
  if (!not_before.ok()) return not_before.status();
  auto not_after = unix_seconds(X509_get0_notAfter(orig));
  if (!not_after.ok()) return not_after.status();
  const int64_t cut_not_after = std::min(*not_after, issuer->not_after);
  if (cut_not_after <= *not_before) {
    return Status::invalid_argument("the issuer expires (" + time_text(issuer->not_after) +
                                    ") before the certificate to cross-sign becomes valid (" +
                                    time_text(*not_before) + ")");
  }

  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      X509_set_subject_name(cert.get(), X509_get_subject_name(orig)) != 1 ||
      X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer->cert.get())) != 1 ||
      X509_set_pubkey(cert.get(), X509_get0_pubkey(orig)) != 1) {
    return internal_error("building the cross-signed certificate");
  }
  if (Status s = set_random_serial(*this, cert.get()); !s.ok()) return s;
  if (Status s = set_validity(cert.get(), *not_before, cut_not_after); !s.ok()) return s;
  // Every extension of the original except its authority key id, which must name the new issuer.
  for (int i = 0; i < X509_get_ext_count(orig); ++i) {
    X509_EXTENSION* ext = X509_get_ext(orig, i);
    if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) == NID_authority_key_identifier) continue;
    if (X509_add_ext(cert.get(), ext, -1) != 1) return internal_error("copying an extension");
  }
  if (Status s = add_extension(cert.get(), issuer->cert.get(), NID_authority_key_identifier, "keyid:always");
      !s.ok()) {
    return s;
  }
  return sign_and_write(cert.get(), issuer->key.get());
}

Result<CertificateInfo> OpenSslCrypto::parse_certificate(std::string_view pem) {
  auto cert = read_certificate(pem, "certificate");
  if (!cert.ok()) return cert.status();
  X509* x = cert->get();
  CertificateInfo info;
  const X509_NAME* subject = X509_get_subject_name(x);
  const std::pair<int, std::string*> fields[] = {{NID_commonName, &info.common_name},
                                                 {NID_organizationalUnitName, &info.org_unit},
                                                 {NID_organizationName, &info.organization}};
  for (const auto& [nid, out] : fields) {
    auto v = name_entry(subject, nid);
    if (!v.ok()) return v.status();
    *out = std::move(*v);
  }
  auto issuer_cn = name_entry(X509_get_issuer_name(x), NID_commonName);
  if (!issuer_cn.ok()) return issuer_cn.status();
  info.issuer_common_name = std::move(*issuer_cn);
  auto nb = unix_seconds(X509_get0_notBefore(x));
  if (!nb.ok()) return nb.status();
  auto na = unix_seconds(X509_get0_notAfter(x));
  if (!na.ok()) return na.status();
  info.not_before_unix_s = *nb;
  info.not_after_unix_s = *na;
  info.is_ca = is_ca(x);
  EVP_PKEY* key = X509_get0_pubkey(x);
  if (key == nullptr) return Status::invalid_argument(with_reason("the certificate's public key is unreadable"));
  auto pub = public_key_pem(key);
  if (!pub.ok()) return pub.status();
  info.public_key_pem = std::move(*pub);
  BnPtr serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr));
  std::unique_ptr<char, OpenSslStringFree> hex(serial ? BN_bn2hex(serial.get()) : nullptr);
  if (!hex) return internal_error("reading the serial number");
  info.serial_hex = hex.get();
  for (char& c : info.serial_hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return info;
}

Status OpenSslCrypto::verify_certificate(std::string_view chain_pem, const std::vector<std::string>& trusted_roots_pem,
                                         int64_t now_unix_s) {
  if (Status s = check_time(now_unix_s, "verification time"); !s.ok()) return s;
  auto chain = read_certificates(chain_pem, "certificate chain");
  if (!chain.ok()) return chain.status();
  if (trusted_roots_pem.empty()) return Status::invalid_argument("no trusted root CA certificate was given");
  if (trusted_roots_pem.size() > kMaxCertsPerPem) {
    return Status::invalid_argument("too many trusted root CA certificates (" +
                                    std::to_string(trusted_roots_pem.size()) + "; the limit is " +
                                    std::to_string(kMaxCertsPerPem) + ")");
  }
  StorePtr store(X509_STORE_new());
  if (!store) return internal_error("X509_STORE_new");
  for (const std::string& root_pem : trusted_roots_pem) {
    auto roots = read_certificates(root_pem, "trusted root CA certificate");
    if (!roots.ok()) return roots.status();
    for (X509Ptr& root : *roots) {
      if (X509_STORE_add_cert(store.get(), root.get()) != 1) return internal_error("X509_STORE_add_cert");
    }
  }
  CertStackPtr untrusted(sk_X509_new_null());
  if (!untrusted) return internal_error("sk_X509_new_null");
  for (size_t i = 1; i < chain->size(); ++i) {
    if (sk_X509_push(untrusted.get(), (*chain)[i].get()) <= 0) return internal_error("sk_X509_push");
  }
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), chain->front().get(), untrusted.get()) != 1) {
    return internal_error("X509_STORE_CTX_init");
  }
  X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx.get()), static_cast<time_t>(now_unix_s));
  const int rc = X509_verify_cert(ctx.get());
  if (rc == 1) {
    ERR_clear_error();
    return Status::ok_status();
  }
  const std::string text = rc < 0 ? with_reason("certificate verification could not run")
                                  : verify_failure_text(ctx.get(), now_unix_s);
  ERR_clear_error();
  return Status::permission_denied(text);
}

Result<Sha256Digest> OpenSslCrypto::certificate_digest(std::string_view pem) {
  auto cert = read_certificate(pem, "certificate");
  if (!cert.ok()) return cert.status();
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert->get(), &der);
  if (len <= 0) return internal_error("i2d_X509");
  const Sha256Digest digest = sha256(std::string_view(reinterpret_cast<const char*>(der), static_cast<size_t>(len)));
  OPENSSL_free(der);
  return digest;
}

}  // namespace shoal::real
