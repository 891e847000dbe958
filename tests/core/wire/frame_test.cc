#include "core/wire/frame.h"

#include <gtest/gtest.h>

namespace shoal::wire {
namespace {

TEST(Frame, RoundTripsWhateverWayTheBytesArrive) {
  const std::string a = encode_frame(FrameType::kRaft, "hello");
  const std::string b = encode_frame(FrameType::kGossip, std::string(1000, 'x'));
  const std::string c = encode_frame(FrameType::kRaft, "");
  const std::string stream = a + b + c;
  for (size_t piece : {size_t{1}, size_t{5}, size_t{12}, size_t{13}, stream.size()}) {
    SCOPED_TRACE("pieces of " + std::to_string(piece));
    FrameDecoder d;
    std::vector<Frame> got;
    for (size_t at = 0; at < stream.size(); at += piece) {
      ASSERT_TRUE(d.feed(std::string_view(stream).substr(at, piece)).ok());
      while (auto f = d.next()) got.push_back(std::move(*f));
    }
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0].type, FrameType::kRaft);
    EXPECT_EQ(got[0].body, "hello");
    EXPECT_EQ(got[1].type, FrameType::kGossip);
    EXPECT_EQ(got[1].body.size(), 1000u);
    EXPECT_EQ(got[2].body, "");
    EXPECT_EQ(d.buffered(), 0u);
  }
}

TEST(Frame, HeaderIsTheDocumentedLayout) {
  const std::string f = encode_frame(FrameType::kRaft, std::string(258, 'y'));
  ASSERT_EQ(f.size(), kFrameHeaderSize + 258);
  EXPECT_EQ(f.substr(0, 4), "SHOL");
  EXPECT_EQ(static_cast<uint8_t>(f[4]), kFrameVersion);
  EXPECT_EQ(static_cast<uint8_t>(f[5]), 1);
  EXPECT_EQ(f.substr(6, 6), std::string("\0\0\0\0\x01\x02", 6));
}

TEST(Frame, MalformedInputIsAnErrorAndPoisonsTheDecoder) {
  struct Case {
    std::string name;
    std::string bytes;
    std::string says;
  };
  std::string good = encode_frame(FrameType::kRaft, "abc");
  std::string bad_magic = good;
  bad_magic[0] = 'X';
  std::string bad_version = good;
  bad_version[4] = 9;
  std::string bad_type = good;
  bad_type[5] = 77;
  std::string reserved = good;
  reserved[7] = 1;
  for (const Case& c : {Case{"magic", bad_magic, "magic"}, Case{"version", bad_version, "version 9"},
                        Case{"type", bad_type, "type 77"}, Case{"reserved", reserved, "reserved"}}) {
    SCOPED_TRACE(c.name);
    FrameDecoder d;
    Status s = d.feed(c.bytes);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find(c.says), std::string::npos) << s.message();
    EXPECT_FALSE(d.next().has_value());
    EXPECT_FALSE(d.feed(good).ok()) << "a poisoned decoder must refuse good frames too";
    EXPECT_FALSE(d.next().has_value());
  }
}

TEST(Frame, OversizedBodyIsRefusedFromItsHeaderAlone) {
  FrameDecoder d(/*max_body=*/100);
  const std::string big = encode_frame(FrameType::kRaft, std::string(101, 'z'));
  Status s = d.feed(big.substr(0, kFrameHeaderSize));  // the body never needs to arrive
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("exceeds the limit of 100"), std::string::npos) << s.message();
  FrameDecoder ok(100);
  EXPECT_TRUE(ok.feed(encode_frame(FrameType::kRaft, std::string(100, 'z'))).ok());
  EXPECT_TRUE(ok.next().has_value());
}

}  // namespace
}  // namespace shoal::wire
