// The OpenSSL plumbing the real world's crypto and TLS share: every OpenSSL object owned by a
// unique_ptr with its free function (Ptr<T, free>), its error queue read into messages, and
// untrusted PEM text read with its size capped and no password prompt.
//
//   X509Ptr leaf = *read_certificate(pem, "peer certificate");
//   auto cn = unique_name_entry(X509_get_subject_name(leaf.get()), NID_commonName, "CN");
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/env/status.h"

namespace shoal::real {

template <auto Free>
struct Freer {
  template <typename T>
  void operator()(T* p) const { Free(p); }
};
template <typename T, auto Free>
using Ptr = std::unique_ptr<T, Freer<Free>>;

using BioPtr = Ptr<BIO, &BIO_free>;
using PkeyPtr = Ptr<EVP_PKEY, &EVP_PKEY_free>;
using X509Ptr = Ptr<X509, &X509_free>;
using ReqPtr = Ptr<X509_REQ, &X509_REQ_free>;
using NamePtr = Ptr<X509_NAME, &X509_NAME_free>;
using ExtPtr = Ptr<X509_EXTENSION, &X509_EXTENSION_free>;
using BnPtr = Ptr<BIGNUM, &BN_free>;
using StorePtr = Ptr<X509_STORE, &X509_STORE_free>;
using StoreCtxPtr = Ptr<X509_STORE_CTX, &X509_STORE_CTX_free>;
using Asn1TimePtr = Ptr<ASN1_TIME, &ASN1_TIME_free>;
using GeneralNamesPtr = Ptr<GENERAL_NAMES, &GENERAL_NAMES_free>;
struct StackFree {  // frees the stack only; the certificates it points to are owned elsewhere
  void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }
};
using CertStackPtr = std::unique_ptr<STACK_OF(X509), StackFree>;
struct OpenSslStringFree {
  void operator()(char* p) const { OPENSSL_free(p); }
};

// Limits on untrusted input. A P-256 certificate is about 700 bytes of PEM.
inline constexpr size_t kMaxPemBytes = 64 * 1024;
inline constexpr size_t kMaxCertsPerPem = 10;

// Refuses every password prompt: keys here are never encrypted, and nothing may read a tty.
int no_password(char*, int, int, void*);
// The oldest queued OpenSSL error as text ("" if none); the queue is left empty.
std::string take_openssl_error();
// `what` plus OpenSSL's reason, if it gave one; clears the queue.
std::string with_reason(std::string what);
Status internal_error(const std::string& what);
BioPtr read_bio(std::string_view s);
std::string bio_text(BIO* bio);
size_t count_of(std::string_view text, std::string_view needle);
Status check_size(std::string_view pem, const std::string& what);
// Every certificate of a PEM bundle (at least one), in order; `what` names it in errors.
Result<std::vector<X509Ptr>> read_certificates(std::string_view pem, const std::string& what);
Result<X509Ptr> read_certificate(std::string_view pem, const std::string& what);
Result<std::string> certificate_pem(X509* x);
// A name's first entry of `nid` as UTF-8 ("" if none).
Result<std::string> name_entry(const X509_NAME* name, int nid);
// "CN=...,OU=...,O=..." for messages.
std::string name_text(const X509_NAME* name);
// A name's one entry of `nid`: missing or repeated is an error naming `label` (a repeated CN
// could mean different things to different readers).
Result<std::string> unique_name_entry(X509_NAME* name, int nid, const char* label);

}  // namespace shoal::real
