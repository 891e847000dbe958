#include "io_sim/world/sim_crypto.h"

#include <algorithm>
#include <climits>
#include <map>
#include <vector>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace shoal::sim {

namespace {

// The stream of the SimCrypto call running on this thread, if any.
thread_local Rng* t_stream = nullptr;

void fill(Rng& rng, uint8_t* out, size_t n) {
  while (n > 0) {
    const uint64_t word = rng.next_u64();
    const size_t k = n < sizeof word ? n : sizeof word;
    std::memcpy(out, &word, k);  // byte order differs by machine; the simulator runs on one
    out += k;
    n -= k;
  }
}

int sim_bytes(unsigned char* out, int n) {
  if (n < 0) return 0;
  if (t_stream != nullptr) {
    fill(*t_stream, out, static_cast<size_t>(n));
    return 1;
  }
  // Not inside a SimCrypto call: OpenSSL's own DRBG, as if no method were installed.
  EVP_RAND_CTX* drbg = RAND_get0_private(nullptr);
  return drbg != nullptr && EVP_RAND_generate(drbg, out, static_cast<size_t>(n), 0, 0, nullptr, 0) == 1 ? 1 : 0;
}

int sim_seed(const void*, int) { return 1; }
int sim_add(const void*, int, double) { return 1; }
int sim_status() { return 1; }

const RAND_METHOD kSimRandMethod = {sim_seed, sim_bytes, nullptr, sim_add, sim_bytes, sim_status};

void install_sim_rand_method() {
  static std::once_flag once;
  std::call_once(once, [] {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    const int ok = RAND_set_rand_method(&kSimRandMethod);
#pragma GCC diagnostic pop
    if (ok != 1) {
      std::fprintf(stderr, "fatal: RAND_set_rand_method failed; the simulator's crypto would not be seeded\n");
      std::abort();
    }
  });
}

// Points OpenSSL's randomness at `stream` for one call on this thread.
class StreamScope {
 public:
  explicit StreamScope(Rng& stream) : previous_(t_stream) { t_stream = &stream; }
  ~StreamScope() { t_stream = previous_; }
  StreamScope(const StreamScope&) = delete;
  StreamScope& operator=(const StreamScope&) = delete;

 private:
  Rng* previous_;
};

}  // namespace

SimCrypto::SimCrypto(uint64_t seed) : stream_(seed) { install_sim_rand_method(); }

void SimCrypto::random_bytes(uint8_t* out, size_t n) { fill(stream_, out, n); }

Result<KeyPair> SimCrypto::generate_key() {
  StreamScope scope(stream_);
  return OpenSslCrypto::generate_key();
}

Result<std::string> SimCrypto::make_csr(const std::string& private_key_pem) {
  StreamScope scope(stream_);
  return OpenSslCrypto::make_csr(private_key_pem);
}

Result<std::string> SimCrypto::self_sign(const std::string& key_pem, const CertificateTemplate& tmpl) {
  StreamScope scope(stream_);
  return OpenSslCrypto::self_sign(key_pem, tmpl);
}

Result<std::string> SimCrypto::sign_csr(const std::string& csr_pem, const CertificateTemplate& tmpl,
                                        const std::string& issuer_cert_pem, const std::string& issuer_key_pem) {
  StreamScope scope(stream_);
  return OpenSslCrypto::sign_csr(csr_pem, tmpl, issuer_cert_pem, issuer_key_pem);
}

Result<std::string> SimCrypto::cross_sign(const std::string& cert_pem, const std::string& issuer_cert_pem,
                                          const std::string& issuer_key_pem) {
  StreamScope scope(stream_);
  return OpenSslCrypto::cross_sign(cert_pem, issuer_cert_pem, issuer_key_pem);
}

// ---- memos of pure answers -------------------------------------------------------------------

namespace {

// Bounded: cleared whole when full (a run makes a few dozen entries).
constexpr size_t kMemoLimit = 4096;

std::map<std::string, Result<CertificateInfo>, std::less<>>& parse_memo() {
  static std::map<std::string, Result<CertificateInfo>, std::less<>> memo;
  return memo;
}

// A verification that passed, and the times it passes at: where every certificate involved is
// valid. (Outside them, or for one that failed, OpenSSL is asked again.)
struct Verified {
  int64_t from = 0;
  int64_t until = 0;
};
std::map<std::string, Verified>& verify_memo() {
  static std::map<std::string, Verified> memo;
  return memo;
}

// Each PEM certificate block of a text.
std::vector<std::string_view> pem_blocks(std::string_view text) {
  static constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  std::vector<std::string_view> out;
  size_t at = text.find("-----BEGIN CERTIFICATE-----");
  while (at != std::string_view::npos) {
    const size_t end = text.find(kEnd, at);
    if (end == std::string_view::npos) break;
    out.push_back(text.substr(at, end + kEnd.size() - at));
    at = text.find("-----BEGIN CERTIFICATE-----", end);
  }
  return out;
}

}  // namespace

Result<CertificateInfo> SimCrypto::parse_certificate(std::string_view pem) {
  auto& memo = parse_memo();
  if (auto it = memo.find(pem); it != memo.end()) return it->second;
  if (memo.size() >= kMemoLimit) memo.clear();
  Result<CertificateInfo> info = real::OpenSslCrypto::parse_certificate(pem);
  memo.emplace(std::string(pem), info);
  return info;
}

Status SimCrypto::verify_certificate(std::string_view chain_pem, const std::vector<std::string>& trusted_roots_pem,
                                     int64_t now_unix_s) {
  std::string key(chain_pem);
  for (const auto& r : trusted_roots_pem) key += "\n--root--\n" + r;
  auto& memo = verify_memo();
  if (auto it = memo.find(key); it != memo.end() && now_unix_s >= it->second.from && now_unix_s <= it->second.until) {
    return {};
  }
  Status s = real::OpenSslCrypto::verify_certificate(chain_pem, trusted_roots_pem, now_unix_s);
  if (!s.ok()) return s;
  Verified v{INT64_MIN, INT64_MAX};
  std::vector<std::string_view> blocks = pem_blocks(chain_pem);
  for (const auto& r : trusted_roots_pem) {
    for (auto b : pem_blocks(r)) blocks.push_back(b);
  }
  for (auto b : blocks) {
    auto info = parse_certificate(b);
    if (!info.ok()) return s;  // not memoized
    v.from = std::max(v.from, info->not_before_unix_s);
    v.until = std::min(v.until, info->not_after_unix_s);
  }
  if (memo.size() >= kMemoLimit) memo.clear();
  memo[std::move(key)] = v;
  return s;
}

}  // namespace shoal::sim
