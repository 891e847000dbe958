// The replicated table (core/gossip/table.h) in the simulated World: records reach every live
// member, a crashed or restarted writer's records disappear everywhere, partitions heal into one
// table, any fault schedule that heals ends in agreement (a property test) — and the table
// checker proven able to fail with a planted bug.
#include <gtest/gtest.h>
// rapidcheck's gtest glue needs gtest declared first.
#include <rapidcheck/gtest.h>

#include <string>

#include "io_sim/cluster/gossip_cluster.h"
#include "tests/io_sim/gossip_test_util.h"

namespace shoal::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

using testing::gossip_opts;

std::optional<std::string> seen_by(GossipCluster& c, NodeId id, const std::string& key) {
  return c.table(id)->get("endpoints", key);
}

TEST(GossipTable, ARecordReachesEveryLiveMember) {
  GossipCluster c(gossip_opts(12, 21, 0.01));
  ASSERT_TRUE(c.run_until_converged(seconds(10)));
  ASSERT_TRUE(c.put(3, "endpoints", "task-1", "198.18.0.7").ok());
  c.world().run_for(seconds(5));
  ASSERT_EQ(c.checker().entry_spreads().size(), 1u);
  EXPECT_TRUE(c.checker().entry_spreads()[0].all.has_value());
  for (NodeId id : c.up_nodes()) EXPECT_EQ(seen_by(c, id, "task-1"), "198.18.0.7") << id;
  EXPECT_EQ(c.table_agreement_error(), "");
}

TEST(GossipTable, TheLaterWriteOfAKeyWinsEverywhere) {
  GossipCluster c(gossip_opts(8, 22));
  ASSERT_TRUE(c.run_until_converged(seconds(10)));
  ASSERT_TRUE(c.put(2, "endpoints", "vip", "198.18.0.2").ok());
  c.world().run_for(seconds(3));
  ASSERT_TRUE(c.put(5, "endpoints", "vip", "198.18.0.5").ok());
  c.world().run_for(seconds(3));
  for (NodeId id : c.up_nodes()) EXPECT_EQ(seen_by(c, id, "vip"), "198.18.0.5") << id;
  ASSERT_TRUE(c.table(5)->remove("endpoints", "vip").ok());
  c.world().run_for(seconds(3));
  for (NodeId id : c.up_nodes()) EXPECT_EQ(seen_by(c, id, "vip"), std::nullopt) << id;
  EXPECT_EQ(c.table_agreement_error(), "");
}

TEST(GossipTable, ACrashedWritersRecordsDisappearEverywhere) {
  GossipCluster c(gossip_opts(10, 23, 0.01));
  ASSERT_TRUE(c.run_until_converged(seconds(10)));
  ASSERT_TRUE(c.put(4, "endpoints", "task-4", "198.18.0.4").ok());
  ASSERT_TRUE(c.put(6, "endpoints", "task-6", "198.18.0.6").ok());
  c.world().run_for(seconds(3));
  c.crash(4);
  c.world().run_for(seconds(15));
  for (NodeId id : c.up_nodes()) {
    EXPECT_EQ(seen_by(c, id, "task-4"), std::nullopt) << id;
    EXPECT_EQ(seen_by(c, id, "task-6"), "198.18.0.6") << id;
  }
  EXPECT_EQ(c.table_agreement_error(), "");
}

TEST(GossipTable, ARestartedNodesOldRecordsAreRefutedAndItsNewOnesSpread) {
  GossipCluster c(gossip_opts(8, 24));
  ASSERT_TRUE(c.run_until_converged(seconds(10)));
  ASSERT_TRUE(c.put(4, "endpoints", "old", "198.18.0.40").ok());
  c.world().run_for(seconds(3));
  // Back before anyone declared it dead: the others still hold its old record as live.
  c.crash(4);
  c.world().run_for(milliseconds(100));
  c.restart(4);
  ASSERT_TRUE(c.put(4, "endpoints", "new", "198.18.0.41").ok());
  ASSERT_TRUE(c.run_until_converged(seconds(30))) << c.table_agreement_error();
  EXPECT_GE(c.table(4)->stats().refutations, 1u);
  for (NodeId id : c.up_nodes()) {
    EXPECT_EQ(seen_by(c, id, "old"), std::nullopt) << id;
    EXPECT_EQ(seen_by(c, id, "new"), "198.18.0.41") << id;
  }
}

TEST(GossipTable, APartitionHealsIntoOneTable) {
  GossipCluster c(gossip_opts(10, 25));
  ASSERT_TRUE(c.run_until_converged(seconds(10)));
  c.world().partition({{1, 2, 3, 4, 5}, {6, 7, 8, 9, 10}});
  ASSERT_TRUE(c.put(2, "endpoints", "left", "198.18.0.2").ok());
  ASSERT_TRUE(c.put(9, "endpoints", "right", "198.18.0.9").ok());
  c.world().run_for(seconds(60));
  EXPECT_EQ(seen_by(c, 1, "right"), std::nullopt);  // its owner is dead to this side
  c.world().heal();
  ASSERT_TRUE(c.run_until_converged(seconds(60))) << c.agreement_error() << c.table_agreement_error();
  for (NodeId id : c.up_nodes()) {
    EXPECT_EQ(seen_by(c, id, "left"), "198.18.0.2") << id;
    EXPECT_EQ(seen_by(c, id, "right"), "198.18.0.9") << id;
    EXPECT_EQ(c.table(id)->broken_invariant(), "") << id;
  }
}

// Any schedule of faults and writes that heals ends with every live member agreeing on
// membership and on the table within a bound.
RC_GTEST_PROP(GossipTableProperty, AnyFaultScheduleThatHealsEndsInAgreement, ()) {
  const uint64_t seed = *rc::gen::inRange<uint64_t>(1, 1'000'000);
  const size_t n = *rc::gen::inRange<size_t>(3, 9);
  const double loss = *rc::gen::element(0.0, 0.01, 0.1);
  GossipCluster c(gossip_opts(n, seed, loss));
  RC_ASSERT(c.run_until_converged(seconds(30)));
  const int steps = *rc::gen::inRange(1, 12);
  for (int i = 0; i < steps; ++i) {
    const NodeId id = *rc::gen::inRange<NodeId>(1, n + 1);
    switch (*rc::gen::inRange(0, 7)) {
      case 0: c.put(id, "endpoints", "k" + std::to_string(*rc::gen::inRange(0, 5)), std::to_string(i)).ignore(); break;
      case 1:
        if (c.table(id)) c.table(id)->remove("endpoints", "k" + std::to_string(*rc::gen::inRange(0, 5))).ignore();
        break;
      case 2: c.world().isolate(id); break;
      case 3: {
        std::vector<NodeId> a, b;
        for (NodeId x = 1; x <= n; ++x) (x <= id ? a : b).push_back(x);
        if (!b.empty()) c.world().partition({a, b});
        break;
      }
      case 4: c.world().heal(); break;
      case 5:
        if (c.up_nodes().size() > 2) c.crash(id);
        break;
      default: c.restart(id); break;
    }
    c.world().run_for(milliseconds(*rc::gen::inRange(0, 20'000)));
  }
  c.world().heal();
  RC_ASSERT(c.run_until_converged(seconds(120)));
  for (NodeId id : c.up_nodes()) RC_ASSERT(c.table(id)->broken_invariant().empty());
}

// --- the checker can fail --------------------------------------------------------------------

TEST(GossipTableChecker, AgreementFailsWhenDeadOwnersRecordsStayVisible) {
  for (bool planted : {false, true}) {
    gossip::Config cfg;
    cfg.bugs.table_keeps_dead_owners = planted;
    GossipCluster c(gossip_opts(8, 26, 0.0, cfg));
    ASSERT_TRUE(c.run_until_converged(seconds(10)));
    ASSERT_TRUE(c.put(3, "endpoints", "task-3", "198.18.0.3").ok());
    c.world().run_for(seconds(3));
    c.crash(3);
    c.world().run_for(seconds(15));
    EXPECT_EQ(c.table_agreement_error().empty(), !planted) << c.table_agreement_error();
  }
}

}  // namespace
}  // namespace shoal::sim
