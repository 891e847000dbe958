// Gossip keys: the leader makes three, rotates one in (and the oldest out) each interval, and
// nodes seal with the second newest while accepting all.
#include <gtest/gtest.h>

#include "core/manager/gossip_keys.h"
#include "io_real/crypto/openssl_crypto.h"

namespace shoal::manager {
namespace {

using std::chrono::hours;

constexpr int64_t kHour = 3'600'000'000'000;

TEST(GossipKeys, AClusterWithoutKeysGetsThreeDistinctOnes) {
  real::OpenSslCrypto crypto;
  storepb::ClusterObject c;
  auto next = rotate_gossip_keys(c, 5, hours(12), crypto);
  ASSERT_TRUE(next.has_value());
  ASSERT_EQ(next->gossip_keys_size(), 3);
  EXPECT_EQ(next->gossip_keys(0).key().size(), 32u);
  EXPECT_NE(next->gossip_keys(0).key(), next->gossip_keys(1).key());
  EXPECT_NE(next->gossip_keys(1).key(), next->gossip_keys(2).key());
  EXPECT_EQ(next->gossip_keys(2).lamport_time(), 3u);
  EXPECT_FALSE(rotate_gossip_keys(*next, 5 + kHour, hours(12), crypto).has_value());  // nothing due
}

TEST(GossipKeys, EachIntervalAddsANewKeyAndDropsTheOldest) {
  real::OpenSslCrypto crypto;
  storepb::ClusterObject c = *rotate_gossip_keys({}, 0, hours(12), crypto);
  const std::string oldest = c.gossip_keys(0).key();
  auto next = rotate_gossip_keys(c, 12 * kHour, hours(12), crypto);
  ASSERT_TRUE(next.has_value());
  ASSERT_EQ(next->gossip_keys_size(), 3);
  for (const auto& k : next->gossip_keys()) EXPECT_NE(k.key(), oldest);
  EXPECT_EQ(next->gossip_keys(2).lamport_time(), 4u);
}

TEST(GossipKeys, NodesSealWithTheSecondNewestAndAcceptAll) {
  real::OpenSslCrypto crypto;
  storepb::ClusterObject c = *rotate_gossip_keys({}, 0, hours(12), crypto);
  const auto ring = gossip_keyring_order(c.gossip_keys());
  ASSERT_EQ(ring.size(), 3u);
  AeadKey second_newest;
  std::copy(c.gossip_keys(1).key().begin(), c.gossip_keys(1).key().end(), second_newest.begin());
  EXPECT_EQ(ring[0], second_newest);
  // A malformed key (not 32 bytes) is skipped rather than used.
  c.mutable_gossip_keys(2)->set_key("short");
  EXPECT_EQ(gossip_keyring_order(c.gossip_keys()).size(), 2u);
  // One key: it is the primary.
  c.mutable_gossip_keys()->DeleteSubrange(1, 2);
  EXPECT_EQ(gossip_keyring_order(c.gossip_keys()).size(), 1u);
}

}  // namespace
}  // namespace shoal::manager
