// Lifeguard's dynamic suspicion timeout (core/gossip/suspicion.h), against the numbers of
// hashicorp/memberlist's suspicion_test.go and the formula in the Lifeguard paper.
#include <gtest/gtest.h>

#include "core/gossip/suspicion.h"

namespace shoal::gossip {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(SuspicionTimeout, MinScalesWithLog10OfClusterSize) {
  // memberlist LAN: 4 * max(1, log10(n)) * 1 s.
  EXPECT_EQ(suspicion_timeout(4, 1, seconds(1)), seconds(4));
  EXPECT_EQ(suspicion_timeout(4, 10, seconds(1)), seconds(4));
  EXPECT_EQ(suspicion_timeout(4, 100, seconds(1)), seconds(8));
  EXPECT_EQ(suspicion_timeout(4, 1000, seconds(1)), seconds(12));  // a 1,000-node cluster
  EXPECT_EQ(suspicion_timeout(4, 1000, milliseconds(200)), milliseconds(2400));
  EXPECT_EQ(suspicion_timeout(3, 1000, seconds(1)), seconds(9));
}

TEST(SuspicionTimeout, StartsAtMaxAndShrinksToMinWithConfirmations) {
  const Duration min = seconds(2), max = seconds(30);
  // memberlist suspicion_test.go: k = 3.
  EXPECT_EQ(remaining_suspicion_time(0, 3, Duration::zero(), min, max), seconds(30));
  EXPECT_EQ(remaining_suspicion_time(1, 3, Duration::zero(), min, max), milliseconds(16000));
  EXPECT_EQ(remaining_suspicion_time(2, 3, Duration::zero(), min, max), milliseconds(7810));
  EXPECT_EQ(remaining_suspicion_time(3, 3, Duration::zero(), min, max), seconds(2));
  EXPECT_EQ(remaining_suspicion_time(4, 3, Duration::zero(), min, max), seconds(2));  // floor at min
  // Elapsed time counts against it, and it may go negative (expired).
  EXPECT_EQ(remaining_suspicion_time(1, 3, seconds(5), min, max), milliseconds(11000));
  EXPECT_LT(remaining_suspicion_time(3, 3, seconds(5), min, max), Duration::zero());
  // Nobody to confirm: min from the start.
  EXPECT_EQ(remaining_suspicion_time(0, 0, Duration::zero(), min, max), min);
}

TEST(Suspicion, CountsDistinctConfirmersUpToKButNotTheAccuser) {
  Suspicion s(/*from=*/7, /*k=*/2, seconds(1), seconds(6), MonoTime{0});
  EXPECT_EQ(s.remaining(MonoTime{0}), seconds(6));
  EXPECT_FALSE(s.confirm(7));  // the accuser itself
  EXPECT_TRUE(s.confirm(8));
  EXPECT_FALSE(s.confirm(8));  // twice from one member is one confirmation
  EXPECT_EQ(s.confirmations(), 1);
  EXPECT_LT(s.remaining(MonoTime{0}), seconds(6));
  EXPECT_TRUE(s.confirm(9));
  EXPECT_FALSE(s.confirm(10));  // k reached
  EXPECT_EQ(s.confirmations(), 2);
  EXPECT_EQ(s.remaining(MonoTime{0}), seconds(1));
}

}  // namespace
}  // namespace shoal::gossip
