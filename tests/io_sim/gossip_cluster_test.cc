// Gossip in the simulated World: clusters of GossipApps joining, detecting crashes, refuting
// false suspicions, leaving and healing partitions — and the GossipChecker proven able to fail,
// each check with a planted bug (core/env/planted_bugs.h, gossip::Config::bugs).
#include <gtest/gtest.h>

#include "io_sim/cluster/gossip_bench.h"
#include "io_sim/cluster/gossip_cluster.h"
#include "tests/io_sim/gossip_test_util.h"

namespace shoal::sim {
namespace {

using std::chrono::seconds;

using testing::gossip_opts;

TEST(GossipCluster, NodesJoinThroughAnyMemberAndConverge) {
  GossipCluster c(gossip_opts(12, 3));
  ASSERT_TRUE(c.run_until_converged(seconds(10)));
  for (NodeId id = 1; id <= 12; ++id) {
    EXPECT_EQ(c.member(id)->num_alive(), 12u);
    EXPECT_EQ(c.member(id)->broken_invariant(), "");
  }
}

TEST(GossipCluster, ACrashIsDeclaredDeadByEveryLiveMember) {
  GossipCluster c(gossip_opts(12, 4, 0.01));
  ASSERT_TRUE(c.run_until_converged(seconds(10)));
  c.crash(5);
  c.world().run_for(seconds(15));
  c.checker().check_detection(c.world().now(), seconds(10));
  EXPECT_TRUE(c.checker().violations().empty());
  ASSERT_EQ(c.checker().crashes().size(), 1u);
  EXPECT_TRUE(c.checker().crashes()[0].all.has_value());
  for (NodeId id : c.up_nodes()) EXPECT_EQ(c.member(id)->member(5)->state, gossip::State::kDead) << id;
  EXPECT_EQ(c.agreement_error(), "");
}

TEST(GossipCluster, AShortlyIsolatedNodeRefutesAndIsNotDeclaredDead) {
  GossipCluster c(gossip_opts(10, 5));
  ASSERT_TRUE(c.run_until_converged(seconds(10)));
  c.checker().set_false_deaths_allowed(false);
  // Cut off for less than the suspicion timeout: others suspect it, then it refutes.
  c.world().isolate(4);
  c.world().run_for(std::chrono::milliseconds(500));
  c.world().heal();
  c.world().run_for(seconds(10));
  EXPECT_GE(c.member(4)->stats().refutations, 1u);
  EXPECT_GT(c.member(4)->incarnation(), 1u);
  EXPECT_EQ(c.checker().false_deaths(), 0u);
  EXPECT_TRUE(c.checker().violations().empty());
  EXPECT_TRUE(c.converged());
}

TEST(GossipCluster, AGracefulLeaveIsLeftEverywhereAndNotAFalseDeath) {
  GossipCluster c(gossip_opts(8, 6));
  ASSERT_TRUE(c.run_until_converged(seconds(10)));
  c.checker().set_false_deaths_allowed(false);
  c.leave(3);
  c.world().run_for(seconds(5));
  for (NodeId id : c.up_nodes()) {
    if (id == 3) continue;
    EXPECT_EQ(c.member(id)->member(3)->state, gossip::State::kLeft) << id;
  }
  EXPECT_TRUE(c.checker().violations().empty());
}

TEST(GossipCluster, ARestartedNodeRejoinsAboveItsDeadIncarnation) {
  GossipCluster c(gossip_opts(8, 7));
  ASSERT_TRUE(c.run_until_converged(seconds(10)));
  c.crash(6);
  c.world().run_for(seconds(10));
  c.restart(6);
  ASSERT_TRUE(c.run_until_converged(seconds(20)));
  EXPECT_GT(c.member(6)->incarnation(), 1u);
}

TEST(GossipCluster, ALongPartitionHealsIntoOneView) {
  GossipCluster c(gossip_opts(10, 8));
  ASSERT_TRUE(c.run_until_converged(seconds(10)));
  c.world().partition({{1, 2, 3, 4, 5}, {6, 7, 8, 9, 10}});
  c.world().run_for(seconds(60));  // both sides declare the other dead, past gossip-to-the-dead
  EXPECT_EQ(c.member(1)->member(7)->state, gossip::State::kDead);
  c.world().heal();
  EXPECT_TRUE(c.run_until_converged(seconds(60))) << c.agreement_error();
}

TEST(GossipCluster, SameSeedSameTraceHash) {
  auto run = [](uint64_t seed) {
    GossipCluster c(gossip_opts(10, seed, 0.05));
    c.world().run_for(seconds(5));
    c.crash(3);
    c.world().run_for(seconds(10));
    return c.world().trace().hash();
  };
  EXPECT_EQ(run(11), run(11));
  EXPECT_NE(run(11), run(12));
}

// --- the checkers can fail ------------------------------------------------------------------

TEST(GossipChecker, DetectionFailsWhenSuspicionsNeverExpire) {
  for (bool planted : {false, true}) {
    gossip::Config cfg;
    cfg.bugs.suspicion_never_expires = planted;
    GossipCluster c(gossip_opts(10, 9, 0.0, cfg));
    ASSERT_TRUE(c.run_until_converged(seconds(10)));
    c.crash(2);
    c.world().run_for(seconds(30));
    c.checker().check_detection(c.world().now(), seconds(20));
    EXPECT_EQ(c.checker().violations().size(), planted ? 1u : 0u) << "planted=" << planted;
    if (planted) {
      EXPECT_EQ(c.checker().violations()[0].checker, "detection");
    }
  }
}

TEST(GossipChecker, FalseDeathsAppearWhenSuspectedNodesNeverRefute) {
  for (bool planted : {false, true}) {
    gossip::Config cfg;
    cfg.bugs.never_refute = planted;
    GossipCluster c(gossip_opts(20, 10, 0.10, cfg));
    c.checker().set_false_deaths_allowed(false);
    // (With the bug, a false death during the join is permanent: no convergence to wait for.)
    EXPECT_EQ(c.run_until_converged(seconds(30)), !planted);
    c.world().run_for(seconds(120));
    if (planted) {
      EXPECT_GT(c.checker().false_deaths(), 0u);
      ASSERT_FALSE(c.checker().violations().empty());
      EXPECT_EQ(c.checker().violations()[0].checker, "false-death");
    } else {
      EXPECT_EQ(c.checker().false_deaths(), 0u);
      EXPECT_TRUE(c.checker().violations().empty()) << c.checker().violations()[0].what << " at " << format_sim_time(c.checker().violations()[0].t);
    }
  }
}

TEST(GossipChecker, AgreementFailsWhenPushPullIgnoresTheRemoteState) {
  for (bool planted : {false, true}) {
    gossip::Config cfg;
    cfg.bugs.push_pull_ignores_remote = planted;
    GossipCluster c(gossip_opts(10, 8, 0.0, cfg));
    ASSERT_TRUE(c.run_until_converged(seconds(10)));
    c.world().partition({{1, 2, 3, 4, 5}, {6, 7, 8, 9, 10}});
    c.world().run_for(seconds(60));
    c.world().heal();
    c.world().run_for(seconds(60));
    EXPECT_EQ(c.agreement_error().empty(), !planted) << "planted=" << planted << ": " << c.agreement_error();
  }
}

TEST(GossipBench, SmallRunPrintsTheContractLines) {
  GossipBenchOptions o;
  o.nodes = 20;
  o.loss = 0.01;
  o.crashes = 3;
  const GossipBenchResult r = bench_gossip(o);
  EXPECT_TRUE(r.converged);
  EXPECT_EQ(r.undetected, 0);
  EXPECT_EQ(r.detect_all_s.size(), 3u);
  std::ostringstream out;
  print_gossip_bench(o, r, out);
  for (const char* key : {"detect_all_p50_s: ", "detect_all_p99_s: ", "false_deaths_per_node_hour: ",
                          "msgs_per_node_s: ", "bytes_per_node_s: "}) {
    EXPECT_NE(out.str().find(key), std::string::npos) << key;
  }
  EXPECT_EQ(bench_gossip(o).trace_hash, r.trace_hash);
}

}  // namespace
}  // namespace shoal::sim
