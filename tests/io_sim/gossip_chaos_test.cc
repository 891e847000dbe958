// The gossip chaos runner behind `shoalsim sweep-gossip` (io_sim/cluster/gossip_chaos.h): seeds
// run clean, a seed replays to the same trace, the seeds that once failed on checker mistakes
// stay clean, and each planted bug makes some seed fail.
#include <gtest/gtest.h>

#include "io_sim/cluster/gossip_chaos.h"

namespace shoal::sim {
namespace {

GossipChaosOptions opts(uint64_t seed, size_t nodes = 8, int steps = 12) {
  GossipChaosOptions o;
  o.seed = seed;
  o.nodes = nodes;
  o.steps = steps;
  return o;
}

int failing_seeds(PlantedBugs bugs, uint64_t seeds) {
  int failed = 0;
  for (uint64_t s = 1; s <= seeds; ++s) {
    GossipChaosOptions o = opts(s);
    o.bugs = bugs;
    failed += !run_gossip_chaos(o).violations.empty();
  }
  return failed;
}

TEST(GossipChaos, SeedsRunClean) {
  for (uint64_t s = 1; s <= 40; ++s) {
    const GossipChaosResult r = run_gossip_chaos(opts(s));
    EXPECT_TRUE(r.violations.empty()) << "seed " << s << ": " << r.violations.front();
    EXPECT_EQ(r.schedule.size(), 12u);
  }
}

TEST(GossipChaos, ASeedReplaysToTheSameTrace) {
  EXPECT_EQ(run_gossip_chaos(opts(77)).trace_hash, run_gossip_chaos(opts(77)).trace_hash);
  EXPECT_NE(run_gossip_chaos(opts(77)).trace_hash, run_gossip_chaos(opts(78)).trace_hash);
}

// Regression seeds for the detection check: a member that restarted during a partition never
// knows the node that crashed later, so the check must not wait for it to declare that node dead.
TEST(GossipChaos, SeedsThatFoundCheckerMistakesStayClean) {
  EXPECT_TRUE(run_gossip_chaos(opts(953)).violations.empty());
  EXPECT_TRUE(run_gossip_chaos(opts(119, 30, 20)).violations.empty());
}

TEST(GossipChaos, EachPlantedBugFailsSomeSeeds) {
  PlantedBugs keeps_dead;
  keeps_dead.table_keeps_dead_owners = true;
  EXPECT_GT(failing_seeds(keeps_dead, 30), 0);
  PlantedBugs ignores_remote;
  ignores_remote.push_pull_ignores_remote = true;
  EXPECT_GT(failing_seeds(ignores_remote, 10), 0);
  PlantedBugs never_expires;
  never_expires.suspicion_never_expires = true;
  EXPECT_GT(failing_seeds(never_expires, 10), 0);
}

}  // namespace
}  // namespace shoal::sim
