#include "io_real/crypto/openssl_util.h"

#include <openssl/err.h>
#include <openssl/pem.h>

namespace shoal::real {

int no_password(char*, int, int, void*) { return 0; }

std::string take_openssl_error() {
  const unsigned long e = ERR_peek_error();
  std::string text;
  if (e != 0) {
    const char* reason = ERR_reason_error_string(e);
    if (reason != nullptr) {
      text = reason;
    } else {
      char buf[256];
      ERR_error_string_n(e, buf, sizeof buf);
      text = buf;
    }
  }
  ERR_clear_error();
  return text;
}

std::string with_reason(std::string what) {
  const std::string reason = take_openssl_error();
  if (!reason.empty()) what += " (OpenSSL: " + reason + ")";
  return what;
}

Status internal_error(const std::string& what) { return Status::io_error(with_reason("OpenSSL " + what + " failed")); }

BioPtr read_bio(std::string_view s) { return BioPtr(BIO_new_mem_buf(s.data(), static_cast<int>(s.size()))); }

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

size_t count_of(std::string_view text, std::string_view needle) {
  size_t n = 0;
  for (size_t pos = text.find(needle); pos != std::string_view::npos; pos = text.find(needle, pos + 1)) ++n;
  return n;
}

Status check_size(std::string_view pem, const std::string& what) {
  if (pem.size() > kMaxPemBytes) {
    return Status::invalid_argument("the " + what + " is too large (" + std::to_string(pem.size()) +
                                    " bytes; the limit is " + std::to_string(kMaxPemBytes) + ")");
  }
  return Status::ok_status();
}

Result<std::vector<X509Ptr>> read_certificates(std::string_view pem, const std::string& what) {
  if (Status s = check_size(pem, what); !s.ok()) return s;
  const size_t n = count_of(pem, "-----BEGIN CERTIFICATE-----");
  if (n == 0) {
    return Status::invalid_argument("no PEM certificate found in the " + what +
                                    " (expected -----BEGIN CERTIFICATE-----)");
  }
  if (n > kMaxCertsPerPem) {
    return Status::invalid_argument("the " + what + " holds " + std::to_string(n) + " certificates; the limit is " +
                                    std::to_string(kMaxCertsPerPem));
  }
  ERR_clear_error();
  BioPtr bio = read_bio(pem);
  if (!bio) return internal_error("BIO_new_mem_buf");
  std::vector<X509Ptr> certs;
  for (size_t i = 0; i < n; ++i) {
    X509Ptr x(PEM_read_bio_X509(bio.get(), nullptr, no_password, nullptr));
    if (!x) {
      const std::string which = n == 1 ? "the " + what : "certificate " + std::to_string(i + 1) + " of the " + what;
      return Status::invalid_argument(with_reason(which + " is not a readable PEM certificate"));
    }
    // Malformed extensions make OpenSSL's cached view of the certificate unreliable: refuse.
    if ((X509_get_extension_flags(x.get()) & EXFLAG_INVALID) != 0) {
      ERR_clear_error();
      return Status::invalid_argument("the " + what + " has malformed extensions");
    }
    certs.push_back(std::move(x));
  }
  return certs;
}

Result<X509Ptr> read_certificate(std::string_view pem, const std::string& what) {
  auto certs = read_certificates(pem, what);
  if (!certs.ok()) return certs.status();
  return std::move(certs->front());
}

Result<std::string> name_entry(const X509_NAME* name, int nid) {
  const int i = X509_NAME_get_index_by_NID(name, nid, -1);
  if (i < 0) return std::string();
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
  unsigned char* utf8 = nullptr;
  const int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) return Status::invalid_argument(with_reason("a certificate name field is not readable text"));
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

// "CN=...,OU=...,O=..." for messages.
std::string name_text(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) {
    ERR_clear_error();
    return "(unprintable name)";
  }
  return bio_text(bio.get());
}

Result<std::string> certificate_pem(X509* x) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), x) != 1) return internal_error("PEM_write_bio_X509");
  return bio_text(bio.get());
}

Result<std::string> unique_name_entry(X509_NAME* name, int nid, const char* label) {
  const int at = X509_NAME_get_index_by_NID(name, nid, -1);
  if (at < 0) return Status::invalid_argument(std::string("certificate has no ") + label);
  if (X509_NAME_get_index_by_NID(name, nid, at) >= 0) {
    return Status::invalid_argument(std::string("certificate has more than one ") + label);
  }
  unsigned char* utf8 = nullptr;
  const int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at)));
  if (n < 0) return Status::invalid_argument(std::string("certificate ") + label + " is not text");
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

}  // namespace shoal::real
