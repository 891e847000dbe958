#include "core/ca/join_token.h"

#include <gtest/gtest.h>

#include "core/env/random.h"

namespace shoal::ca {
namespace {

JoinToken random_token(Rng& rng) {
  JoinToken t;
  for (auto& b : t.ca_digest) b = static_cast<uint8_t>(rng.next_u64());
  for (auto& b : t.secret) b = static_cast<uint8_t>(rng.next_u64());
  return t;
}

TEST(JoinToken, FormatHasDockersShapeAndParsesBack) {
  Rng rng(3);
  for (int i = 0; i < 200; ++i) {
    JoinToken t = random_token(rng);
    if (i == 0) t = JoinToken{};                  // all zeros
    if (i == 1) t.ca_digest.fill(0xff), t.secret.fill(0xff);  // the largest values
    const std::string s = format_join_token(t);
    ASSERT_EQ(s.size(), 9 + 50 + 1 + 25) << s;
    EXPECT_EQ(s.substr(0, 9), "SWMTKN-1-");
    EXPECT_EQ(s[59], '-');
    auto back = parse_join_token(s);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(*back, t);
  }
}

TEST(JoinToken, Base36MatchesKnownValues) {
  const uint8_t v[2] = {0x01, 0x00};  // 256 = 7*36 + 4
  EXPECT_EQ(base36_encode(v, 2, 4), "0074");
  uint8_t out[2];
  ASSERT_TRUE(base36_decode("74", out, 2).ok());
  EXPECT_EQ(out[0], 0x01);
  EXPECT_EQ(out[1], 0x00);
  EXPECT_FALSE(base36_decode("zzzz", out, 2).ok()) << "36^4-1 does not fit in two bytes";
}

TEST(JoinToken, MalformedTokensSayWhatIsWrong) {
  Rng rng(4);
  const std::string good = format_join_token(random_token(rng));
  struct Case {
    std::string token;
    std::string says;
  };
  std::string upper = good;
  upper[20] = 'A';
  const std::string zzz_digest = "SWMTKN-1-" + std::string(50, 'z') + good.substr(59);
  for (const Case& c : {Case{"", "does not start with SWMTKN-"},
                        Case{"hello", "does not start with SWMTKN-"},
                        Case{"SWMTKN-2-" + good.substr(9), "version '2'"},
                        Case{good.substr(0, 59) + good.substr(60), "has no secret"},
                        Case{good + "0", "25"},
                        Case{"SWMTKN-1-abc-" + good.substr(60), "not 50"},
                        Case{upper, "not a base-36 digit"},
                        Case{zzz_digest, "does not fit"},
                        Case{std::string(500, 'S'), "too long"}}) {
    SCOPED_TRACE(c.token);
    auto r = parse_join_token(c.token);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find(c.says), std::string::npos) << r.status().message();
  }
}

TEST(JoinToken, SecretsCompareByValue) {
  std::array<uint8_t, 16> a{}, b{};
  EXPECT_TRUE(secrets_equal(a, b));
  b[15] = 1;
  EXPECT_FALSE(secrets_equal(a, b));
}

}  // namespace
}  // namespace shoal::ca
