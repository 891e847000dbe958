#include "io_real/crypto/openssl_crypto.h"

#include <gtest/gtest.h>

namespace shoal::real {
namespace {

TEST(OpenSslCrypto, Sha256MatchesTheStandardVector) {
  OpenSslCrypto c;
  const Sha256Digest d = c.sha256("abc");  // FIPS 180-2, appendix B.1
  const uint8_t want[4] = {0xba, 0x78, 0x16, 0xbf};
  EXPECT_EQ(d[0], want[0]);
  EXPECT_EQ(d[1], want[1]);
  EXPECT_EQ(d[2], want[2]);
  EXPECT_EQ(d[3], want[3]);
  EXPECT_EQ(d[31], 0xad);
}

TEST(OpenSslCrypto, RandomBytesDifferEachTime) {
  OpenSslCrypto c;
  std::array<uint8_t, 16> a{}, b{};
  c.random_bytes(a.data(), a.size());
  c.random_bytes(b.data(), b.size());
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace shoal::real

namespace shoal::real {
namespace {

TEST(OpenSslCrypto, SealOpensOnlyWithTheSameKeyAndContext) {
  OpenSslCrypto c;
  AeadKey key{}, other{};
  c.random_bytes(key.data(), key.size());
  c.random_bytes(other.data(), other.size());
  const std::string sealed = c.seal(key, "raft entry 42", "raft/e/42");
  EXPECT_EQ(sealed.size(), std::string("raft entry 42").size() + Crypto::kSealOverhead);
  EXPECT_EQ(sealed.find("raft entry"), std::string::npos) << "plaintext visible in the sealed bytes";
  auto opened = c.unseal(key, sealed, "raft/e/42");
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  EXPECT_EQ(*opened, "raft entry 42");
  EXPECT_NE(c.seal(key, "raft entry 42", "raft/e/42"), sealed) << "nonces must be fresh";

  EXPECT_FALSE(c.unseal(other, sealed, "raft/e/42").ok()) << "wrong key";
  EXPECT_FALSE(c.unseal(key, sealed, "raft/e/43").ok()) << "moved to another record";
  for (size_t i : {size_t{0}, size_t{12}, sealed.size() - 1}) {
    std::string tampered = sealed;
    tampered[i] = static_cast<char>(tampered[i] ^ 1);
    auto r = c.unseal(key, tampered, "raft/e/42");
    ASSERT_FALSE(r.ok()) << "byte " << i;
    EXPECT_NE(r.status().message().find("tampered"), std::string::npos);
  }
  auto truncated = c.unseal(key, sealed.substr(0, 20), "raft/e/42");
  ASSERT_FALSE(truncated.ok());
  EXPECT_NE(truncated.status().message().find("truncated"), std::string::npos);
  EXPECT_FALSE(c.unseal(key, sealed.substr(0, sealed.size() - 1), "raft/e/42").ok());
}

TEST(OpenSslCrypto, EmptyPlaintextSealsToo) {
  OpenSslCrypto c;
  AeadKey key{};
  auto opened = c.unseal(key, c.seal(key, "", ""), "");
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, "");
}

}  // namespace
}  // namespace shoal::real
