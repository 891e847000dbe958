#include "io_real/crypto/openssl_crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <pthread.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace shoal::real {

namespace {

constexpr int kNonceSize = 12;
constexpr int kTagSize = 16;

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

[[noreturn]] void fatal(const char* what) {
  std::fprintf(stderr, "fatal: OpenSSL %s failed\n", what);
  std::abort();
}

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// AES-256-GCM fetched from the provider once: OpenSSL 3 looks an implicit EVP_aes_256_gcm() up
// again (under a lock) on every init, and every Raft entry written is sealed.
const EVP_CIPHER* aes_256_gcm() {
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  if (cipher == nullptr) fatal("AES-256-GCM fetch");
  return cipher;
}

// A node that cannot get randomness must not invent secrets: stop loudly.
void draw_random(unsigned char* out, size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) {
    std::fprintf(stderr, "fatal: OpenSSL RAND_bytes failed; refusing to make weak secrets\n");
    std::abort();
  }
}

// Small random values (seal nonces, object ids, keys) come from the CSPRNG 4 KiB at a time: one
// RAND_bytes call each cost more than the AES-GCM of a seal (OpenSSL 3's DRBG locks and
// dispatches on every call: about 3 % of a manager's CPU under write load for nonces, 2 % for
// object ids). Each thread keeps its own draw, and wipes each part as it hands it out, so no copy
// of a key stays behind. A fork's child drops what it inherited, so a parent and a child never
// hand out the same bytes.
std::atomic<uint64_t> g_fork_generation{0};

class RandomDraw {
 public:
  static constexpr size_t kMaxTake = 256;  // larger requests go to RAND_bytes directly

  void take(unsigned char* out, size_t n) {
    if (n > kMaxTake) return draw_random(out, n);
    static const bool registered = [] {
      pthread_atfork(nullptr, nullptr, [] { g_fork_generation.fetch_add(1); });
      return true;
    }();
    (void)registered;
    const uint64_t generation = g_fork_generation.load();
    if (generation != generation_ || used_ + n > buf_.size()) {
      draw_random(buf_.data(), buf_.size());
      used_ = 0;
      generation_ = generation;
    }
    std::memcpy(out, buf_.data() + used_, n);
    OPENSSL_cleanse(buf_.data() + used_, n);
    used_ += n;
  }

 private:
  std::array<unsigned char, 4096> buf_{};
  size_t used_ = buf_.size();
  uint64_t generation_ = 0;
};

thread_local RandomDraw t_draw;

}  // namespace

void OpenSslCrypto::random_bytes(uint8_t* out, size_t n) { t_draw.take(out, n); }

Sha256Digest OpenSslCrypto::sha256(std::string_view data) {
  Sha256Digest d{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), d.data(), &len, EVP_sha256(), nullptr) != 1 || len != d.size()) {
    std::fprintf(stderr, "fatal: OpenSSL SHA-256 failed\n");
    std::abort();
  }
  return d;
}

std::string OpenSslCrypto::seal(const AeadKey& key, std::string_view plaintext, std::string_view aad) {
  std::string out(kNonceSize + plaintext.size() + kTagSize, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  random_bytes(o, kNonceSize);  // virtual: the simulator's crypto draws from its seeded stream
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), aes_256_gcm(), nullptr, key.data(), o) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), o + kNonceSize, &len, bytes(plaintext), static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), o + kNonceSize + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagSize, o + kNonceSize + plaintext.size()) != 1) {
    fatal("AES-256-GCM seal");
  }
  return out;
}

Result<std::string> OpenSslCrypto::unseal(const AeadKey& key, std::string_view sealed, std::string_view aad) {
  if (sealed.size() < static_cast<size_t>(kNonceSize + kTagSize)) {
    return Status::corruption("sealed data is truncated (" + std::to_string(sealed.size()) +
                              " bytes, less than a nonce and a tag)");
  }
  const size_t n = sealed.size() - kNonceSize - kTagSize;
  std::string plain(n, '\0');
  auto* p = reinterpret_cast<unsigned char*>(plain.data());
  const unsigned char* s = bytes(sealed);
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), aes_256_gcm(), nullptr, key.data(), s) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), p, &len, s + kNonceSize, static_cast<int>(n)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagSize,
                          const_cast<unsigned char*>(s + kNonceSize + n)) != 1) {
    fatal("AES-256-GCM unseal setup");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), p + len, &len) != 1) {
    return Status::corruption("sealed data failed authentication (tampered, or sealed under another key)");
  }
  return plain;
}

}  // namespace shoal::real
