// The transmit-limited broadcast queue (core/gossip/broadcast_queue.h).
#include <gtest/gtest.h>

#include "core/gossip/broadcast_queue.h"
#include "tests/core/gossip/gossip_test_util.h"

namespace shoal::gossip {
namespace {

using testing::alive;
using testing::dead;

TEST(RetransmitLimit, IsMultTimesCeilLog10OfNPlusOne) {
  EXPECT_EQ(retransmit_limit(4, 1), 4);
  EXPECT_EQ(retransmit_limit(4, 9), 4);
  EXPECT_EQ(retransmit_limit(4, 10), 8);
  EXPECT_EQ(retransmit_limit(4, 99), 8);
  EXPECT_EQ(retransmit_limit(4, 100), 12);
  EXPECT_EQ(retransmit_limit(4, 1000), 16);
}

TEST(BroadcastQueue, EachBroadcastLeavesAfterTheRetransmitLimit) {
  BroadcastQueue q(100);
  q.queue(5, alive(5, 1));
  for (int i = 0; i < 3; ++i) {
    auto parts = q.take(1000, /*limit=*/3, 64);
    ASSERT_EQ(parts.size(), 1u) << "take " << i;
  }
  EXPECT_TRUE(q.take(1000, 3, 64).empty());
  EXPECT_TRUE(q.empty());
}

TEST(BroadcastQueue, NewerNewsAboutAMemberReplacesTheOlder) {
  BroadcastQueue q(100);
  q.queue(5, alive(5, 1));
  q.queue(5, dead(5, 1, 2));
  auto parts = q.take(1000, 10, 64);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_TRUE(parts[0].has_dead());
}

TEST(BroadcastQueue, LeastTransmittedFirstThenNewestAndWithinTheBudget) {
  BroadcastQueue q(100);
  q.queue(1, alive(1, 1));
  ASSERT_EQ(q.take(1000, 10, 64).size(), 1u);  // member 1 sent once
  q.queue(2, alive(2, 1));
  q.queue(3, alive(3, 1));
  const size_t one = alive(3, 1).ByteSizeLong() + kPartOverhead;
  auto parts = q.take(one, 10, 64);  // room for exactly one
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].alive().node(), 3u);  // newest of the never-sent
  parts = q.take(1000, 10, 64);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].alive().node(), 2u);  // 0 transmits
  EXPECT_EQ(q.transmits(1), 2);
  EXPECT_EQ(q.transmits(2), 1);
  EXPECT_EQ(q.take(1000, 10, 1).size(), 1u);  // max parts
}

TEST(BroadcastQueue, IsBoundedAndCountsWhatItDrops) {
  BroadcastQueue q(3);
  for (NodeId id = 1; id <= 5; ++id) q.queue(id, alive(id, 1));
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(q.dropped(), 2u);
  EXPECT_EQ(q.transmits(1), -1);  // the oldest went first
  EXPECT_EQ(q.transmits(5), 0);
}

}  // namespace
}  // namespace shoal::gossip
