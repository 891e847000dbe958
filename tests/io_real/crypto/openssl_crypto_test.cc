#include "io_real/crypto/openssl_crypto.h"

#include <gtest/gtest.h>

namespace shoal::io {
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
}  // namespace shoal::io
