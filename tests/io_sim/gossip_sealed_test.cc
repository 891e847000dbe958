// Sealed gossip (core/gossip/sealed_transport.h) in the simulated World: a cluster sealed under
// one key behaves as in the clear; a node holding another key is never admitted and its
// datagrams are counted and dropped; a key rotation done step by step keeps the cluster whole;
// a datagram replayed by the network is dropped.
#include <gtest/gtest.h>

#include "io_sim/cluster/gossip_cluster.h"
#include "tests/io_sim/gossip_test_util.h"

namespace shoal::sim {
namespace {

using std::chrono::seconds;

AeadKey key(uint8_t fill) {
  AeadKey k;
  k.fill(fill);
  return k;
}

GossipClusterOptions sealed_opts(size_t nodes, uint64_t seed, std::function<std::vector<AeadKey>(NodeId)> keys) {
  GossipClusterOptions o = testing::gossip_opts(nodes, seed, 0.01);
  o.keys = std::move(keys);
  return o;
}

uint64_t dropped(GossipCluster& c, NodeId id, const std::string& why) {
  const auto& m = c.sealed(id)->stats().dropped_by_reason;
  auto it = m.find(why);
  return it == m.end() ? 0 : it->second;
}

TEST(GossipSealed, ASealedClusterConvergesDetectsACrashAndSpreadsRecords) {
  GossipCluster c(sealed_opts(10, 31, [](NodeId) { return std::vector<AeadKey>{key(1)}; }));
  ASSERT_TRUE(c.run_until_converged(seconds(10)));
  ASSERT_TRUE(c.put(2, "endpoints", "task-2", "198.18.0.2").ok());
  c.crash(7);
  c.world().run_for(seconds(15));
  EXPECT_TRUE(c.converged()) << c.agreement_error() << c.table_agreement_error();
  for (NodeId id : c.up_nodes()) {
    EXPECT_EQ(c.table(id)->get("endpoints", "task-2"), "198.18.0.2") << id;
    EXPECT_GT(c.sealed(id)->stats().opened, 0u);
    EXPECT_EQ(c.sealed(id)->stats().dropped, 0u) << id;
  }
}

TEST(GossipSealed, ANodeWithAnotherKeyIsNeverAdmitted) {
  GossipCluster c(sealed_opts(6, 32, [](NodeId id) { return std::vector<AeadKey>{key(id == 6 ? 9 : 1)}; }));
  c.world().run_for(seconds(20));
  uint64_t refused = 0;
  for (NodeId id = 1; id <= 5; ++id) {
    EXPECT_EQ(c.member(id)->member(6), nullptr) << id;  // never heard of it
    EXPECT_EQ(c.member(id)->num_alive(), 5u) << id;
    refused += dropped(c, id, "bad-key");
  }
  EXPECT_GT(refused, 0u);
  EXPECT_EQ(c.member(6)->num_alive(), 1u);
}

TEST(GossipSealed, AStepByStepKeyRotationKeepsTheClusterWhole) {
  GossipCluster c(sealed_opts(8, 33, [](NodeId) { return std::vector<AeadKey>{key(1)}; }));
  ASSERT_TRUE(c.run_until_converged(seconds(10)));
  c.checker().set_false_deaths_allowed(false);
  for (NodeId id : c.up_nodes()) c.sealed(id)->keyring().install(key(2));
  c.world().run_for(seconds(2));
  // Members switch one by one, a second apart: old and new are both understood meanwhile.
  for (NodeId id : c.up_nodes()) {
    ASSERT_TRUE(c.sealed(id)->keyring().use(key(2)).ok());
    c.world().run_for(seconds(1));
  }
  for (NodeId id : c.up_nodes()) ASSERT_TRUE(c.sealed(id)->keyring().remove(key(1)).ok());
  c.world().run_for(seconds(10));
  EXPECT_TRUE(c.converged()) << c.agreement_error();
  EXPECT_TRUE(c.checker().violations().empty());
  for (NodeId id : c.up_nodes()) EXPECT_EQ(dropped(c, id, "bad-key"), 0u) << id;
}

TEST(GossipSealed, RemovingTheOldKeyTooEarlyCutsOffTheMembersStillUsingIt) {
  GossipCluster c(sealed_opts(6, 34, [](NodeId) { return std::vector<AeadKey>{key(1)}; }));
  ASSERT_TRUE(c.run_until_converged(seconds(10)));
  // Node 1 moves to a new key nobody else has: everyone drops what it sends.
  c.sealed(1)->keyring().install(key(2));
  ASSERT_TRUE(c.sealed(1)->keyring().use(key(2)).ok());
  ASSERT_TRUE(c.sealed(1)->keyring().remove(key(1)).ok());
  c.world().run_for(seconds(20));
  for (NodeId id = 2; id <= 6; ++id) {
    EXPECT_NE(c.member(id)->member(1)->state, gossip::State::kAlive) << id;
    EXPECT_GT(dropped(c, id, "bad-key"), 0u) << id;
  }
}

TEST(GossipSealed, DuplicatedDatagramsAreDroppedAsReplays) {
  GossipClusterOptions o = sealed_opts(6, 35, [](NodeId) { return std::vector<AeadKey>{key(1)}; });
  o.duplicate = 0.2;
  GossipCluster c(o);
  ASSERT_TRUE(c.run_until_converged(seconds(10)));
  c.world().run_for(seconds(5));
  uint64_t replays = 0;
  for (NodeId id : c.up_nodes()) replays += dropped(c, id, "replay");
  EXPECT_GT(replays, 0u);
  EXPECT_TRUE(c.converged());
}

}  // namespace
}  // namespace shoal::sim
