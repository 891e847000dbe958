// TailBuffer against a simple model: the last `limit` bytes of everything appended.
#include "io_real/runtime/tail_buffer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace shoal::real {
namespace {

TEST(TailBuffer, KeepsEverythingUnderTheLimit) {
  TailBuffer b(10);
  b.append("abc");
  b.append("");
  b.append("def");
  EXPECT_EQ(b.tail(100), "abcdef");
  EXPECT_EQ(b.tail(2), "ef");
  EXPECT_EQ(b.tail(0), "");
  EXPECT_EQ(b.dropped(), 0u);
}

TEST(TailBuffer, WrapsAndKeepsTheLastBytes) {
  TailBuffer b(5);
  b.append("abcd");
  b.append("efg");  // fills one byte, overwrites two
  EXPECT_EQ(b.tail(100), "cdefg");
  EXPECT_EQ(b.tail(3), "efg");
  b.append("hij");  // wraps around the end of the ring
  EXPECT_EQ(b.tail(100), "fghij");
  EXPECT_EQ(b.tail(4), "ghij");
  EXPECT_EQ(b.size(), 5u);
  EXPECT_EQ(b.dropped(), 5u);
  b.append("0123456789");  // larger than the limit
  EXPECT_EQ(b.tail(100), "56789");
  EXPECT_EQ(b.dropped(), 15u);
}

TEST(TailBuffer, ZeroLimitKeepsNothing) {
  TailBuffer b(0);
  b.append("abc");
  EXPECT_EQ(b.tail(10), "");
  EXPECT_EQ(b.dropped(), 3u);
}

// Many appends of varying sizes, compared with the tail of the whole stream.
TEST(TailBuffer, MatchesTheModel) {
  for (size_t limit : {1u, 7u, 64u, 100u}) {
    TailBuffer b(limit);
    std::string all;
    uint32_t x = 12345;
    for (int i = 0; i < 500; ++i) {
      x = x * 1103515245u + 12345u;
      const size_t n = (x >> 16) % (2 * limit + 3);
      std::string chunk;
      for (size_t j = 0; j < n; ++j) chunk.push_back(static_cast<char>('a' + (all.size() + j) % 26));
      b.append(chunk);
      all += chunk;
      const size_t keep = std::min(all.size(), limit);
      ASSERT_EQ(b.tail(SIZE_MAX), all.substr(all.size() - keep)) << "limit " << limit << " step " << i;
      const size_t m = (x >> 8) % (limit + 2);
      ASSERT_EQ(b.tail(m), all.substr(all.size() - std::min(m, keep)));
      ASSERT_EQ(b.dropped(), all.size() - keep);
    }
  }
}

}  // namespace
}  // namespace shoal::real
