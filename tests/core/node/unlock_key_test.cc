// The unlock key's text (core/node/unlock_key.h): "SWMKEY-1-" and the base64 of the 32-byte
// key-encryption key. A key formatted reads back as the same bytes and still opens what it
// sealed; text that is not such a key is refused with an error saying what is wrong.
#include "core/node/unlock_key.h"

#include <gtest/gtest.h>

#include "core/wire/base64.h"
#include "io_sim/world/sim_crypto.h"

namespace shoal::node {
namespace {

AeadKey key_of(uint8_t first) {
  AeadKey k{};
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(first + i * 7);
  return k;
}

TEST(UnlockKeyTest, AFormattedKeyReadsBackAsTheSameBytes) {
  const AeadKey kek = key_of(3);
  const std::string text = format_unlock_key(kek);
  EXPECT_EQ(text.rfind("SWMKEY-1-", 0), 0u) << text;
  EXPECT_EQ(text.size(), 9 + 44u);  // the prefix and 32 bytes of base64
  auto parsed = parse_unlock_key(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(*parsed, kek);
  EXPECT_NE(format_unlock_key(key_of(4)), text);
}

// What a person pastes often ends with a newline.
TEST(UnlockKeyTest, TrailingWhiteSpaceIsIgnoredButLeadingIsNot) {
  const AeadKey kek = key_of(9);
  const std::string text = format_unlock_key(kek);
  for (const std::string& pasted : {text + "\n", text + "\r\n", text + "  \n"}) {
    auto parsed = parse_unlock_key(pasted);
    ASSERT_TRUE(parsed.ok()) << parsed.status().message();
    EXPECT_EQ(*parsed, kek);
  }
  auto leading = parse_unlock_key(" " + text);
  ASSERT_FALSE(leading.ok());
  EXPECT_EQ(leading.status().code(), StatusCode::kInvalidArgument);
}

TEST(UnlockKeyTest, TextThatIsNotAnUnlockKeyIsRefusedSayingWhy) {
  const std::string body = format_unlock_key(key_of(1)).substr(9);
  struct Case {
    std::string text;
    const char* expected;
  };
  const std::vector<Case> cases = {
      {"", "starts with SWMKEY-1-"},
      {"SWMTKN-1-" + body, "starts with SWMKEY-1-"},  // a join token's prefix
      {"swmkey-1-" + body, "starts with SWMKEY-1-"},
      {"SWMKEY-1-" + body.substr(0, 20) + "!!" + body.substr(22), "not valid base64"},
      {"SWMKEY-1-" + wire::base64_encode(std::string(16, 'k')), "wrong length"},
      {"SWMKEY-1-" + wire::base64_encode(std::string(33, 'k')), "wrong length"},
      {"SWMKEY-1-", "wrong length"},
  };
  for (const auto& c : cases) {
    auto parsed = parse_unlock_key(c.text);
    ASSERT_FALSE(parsed.ok()) << c.text;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_NE(parsed.status().message().find(c.expected), std::string::npos)
        << c.text << ": " << parsed.status().message();
  }
}

// The key as the operator keeps it opens what the node sealed under it; another key opens
// nothing and leaves the sealed bytes as they were.
TEST(UnlockKeyTest, TheParsedKeyUnsealsWhatTheKeySealedAndAnotherKeyIsRefused) {
  sim::SimCrypto crypto(11);
  const AeadKey kek = key_of(5);
  const std::string sealed = crypto.seal(kek, "the data key", "node/data-key");
  const std::string copy = sealed;

  auto kept = parse_unlock_key(format_unlock_key(kek) + "\n");
  ASSERT_TRUE(kept.ok());
  auto opened = crypto.unseal(*kept, sealed, "node/data-key");
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  EXPECT_EQ(*opened, "the data key");

  auto wrong = parse_unlock_key(format_unlock_key(key_of(6)));
  ASSERT_TRUE(wrong.ok());
  auto refused = crypto.unseal(*wrong, sealed, "node/data-key");
  ASSERT_FALSE(refused.ok());
  EXPECT_FALSE(refused.status().message().empty());
  EXPECT_EQ(sealed, copy);
}

}  // namespace
}  // namespace shoal::node
