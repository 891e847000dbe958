// Every checker must be able to fail: each planted bug (a test-only switch that breaks Raft) is
// run through the scenario that exposes it, and the test demands that the named checker reports
// it within a bounded number of seeds. A clean run of the same seeds reports nothing.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "io_sim/scenario/runner.h"
#include "tests/io_sim/scenario_test_util.h"

namespace shoal::sim {
namespace {

using testing::checkers_catching;
using testing::scenario_path;

TEST(PlantedBugs, VotingTwiceInATermIsCaught) {
  auto fired = checkers_catching("vote_twice_in_term", "leader_partition", 40, true);
  EXPECT_TRUE(fired.count("step-invariant") || fired.count("election-safety"))
      << "no checker caught a node voting twice in one term";
}

TEST(PlantedBugs, AcknowledgingBeforeSyncIsCaught) {
  auto fired = checkers_catching("ack_before_sync", "power_loss", 40, false);
  EXPECT_TRUE(fired.count("durability") || fired.count("leader-completeness"))
      << "no checker caught acknowledgements sent before the disk sync";
}

TEST(PlantedBugs, ReadIndexBeforeOwnTermCommitIsCaught) {
  auto fired = checkers_catching("read_index_before_own_term_commit", "leader_churn_reads", 20, false);
  EXPECT_TRUE(fired.count("linearizability")) << "stale reads of a new leader went unnoticed";
}

TEST(PlantedBugs, SingleVoterSelfAckBeforePersistIsCaught) {
  auto fired = checkers_catching("self_ack_before_persist", "single_manager", 20, false);
  EXPECT_TRUE(fired.count("durability")) << "a lost acknowledged write went unnoticed";
}

// The invariants of core's state machines (check_invariants(), run after every event of the
// node): each is shown catching the bug that breaks it.
TEST(PlantedBugs, AppendsPastTheInflightWindowAreCaught) {
  EXPECT_TRUE(testing::caught_as("inflights_ignore_window", "minority_partition", 5, true, "core-invariant",
                                 "appends in flight"));
}

TEST(PlantedBugs, ASnapshotStateWithoutItsIndexIsCaught) {
  EXPECT_TRUE(testing::caught_as("snapshot_state_forgets_index", "snapshot_transfer", 3, false, "core-invariant",
                                 "waits for a snapshot of no index"));
}

TEST(PlantedBugs, AStoreVersionThatDoesNotGrowIsCaught) {
  EXPECT_TRUE(testing::caught_as("store_keeps_writer_version", "services_basic", 2, false, "core-invariant",
                                 "written over"));
}

TEST(PlantedBugs, AnAgentRunningAnEndedTaskAgainIsCaught) {
  EXPECT_TRUE(
      testing::caught_as("agent_restarts_ended_tasks", "services_unhealthy", 6, false, "core-invariant", "ended 2 times"));
}

TEST(PlantedBugs, AnAgentTakingATaskStateBackIsCaught) {
  EXPECT_TRUE(testing::caught_as("agent_takes_stale_state", "services_rolling_update", 2, false, "core-invariant",
                                 "went back from"));
}

TEST(PlantedBugs, TwoNodesSharingADispatcherSessionAreCaught) {
  EXPECT_TRUE(testing::caught_as("dispatcher_shares_session_ids", "services_basic", 2, false, "core-invariant",
                                 "is held by two nodes"));
}

TEST(PlantedBugs, ANodeKeepingTheOldRootAfterARotationIsCaughtByThePkiChecker) {
  EXPECT_TRUE(testing::caught_as("node_keeps_old_roots", "lifecycle_root_rotation", 2, false, "pki",
                                 "after the rotation is over, not the cluster's root alone"));
}

TEST(PlantedBugs, CorrectRaftPassesTheSameRuns) {
  for (const char* name : {"leader_partition", "power_loss", "leader_churn_reads", "single_manager"}) {
    auto sc = load_scenario(scenario_path(name));
    ASSERT_TRUE(sc.ok());
    for (uint64_t seed = 1; seed <= 3; ++seed) {
      RunResult r = run_scenario(*sc, {.seed = seed, .swarm = false, .keep_trace = false, .bugs = {}});
      EXPECT_TRUE(r.violations.empty()) << name << " seed " << seed << ": " << r.violations.front().what;
    }
  }
}

TEST(Determinism, SameSeedSameTraceHashDifferentSeedDifferentHash) {
  auto sc = load_scenario(scenario_path("chaos"));
  ASSERT_TRUE(sc.ok());
  RunResult a = run_scenario(*sc, {.seed = 11, .swarm = true, .keep_trace = true, .bugs = {}});
  RunResult b = run_scenario(*sc, {.seed = 11, .swarm = true, .keep_trace = true, .bugs = {}});
  RunResult c = run_scenario(*sc, {.seed = 12, .swarm = true, .keep_trace = false, .bugs = {}});
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  EXPECT_FALSE(first_divergence(a.cluster->world().trace(), b.cluster->world().trace()).has_value());
  EXPECT_NE(a.trace_hash, c.trace_hash);
}

TEST(Scenarios, EveryScenarioFileParses) {
  for (const char* name : {"leader_partition", "minority_partition", "flapping_links",
                           "leader_crash_replication", "rolling_restart", "one_way_partition",
                           "membership_partition", "lossy_network", "partial_connectivity",
                           "prevote_leader_flap", "power_loss", "single_manager",
                           "leader_churn_reads", "snapshot_transfer", "chaos",
                           "leader_churn_small_batches", "wan_latency", "services_basic",
                           "services_leader_kill", "services_chaos", "services_rolling_update",
                           "services_update_worker_loss"}) {
    auto sc = load_scenario(scenario_path(name));
    EXPECT_TRUE(sc.ok()) << name << ": " << sc.status().message();
  }
}

TEST(Scenarios, BadScenariosAreRejectedWithTheFieldNamed) {
  auto bad_field = parse_scenario("cluster: {nodez: 3}\n", "t");
  ASSERT_FALSE(bad_field.ok());
  EXPECT_NE(bad_field.status().message().find("nodez"), std::string::npos);
  auto bad_node = parse_scenario("cluster: {nodes: 3}\ntimeline:\n  - {at: 1s, crash: 9}\n", "t");
  ASSERT_FALSE(bad_node.ok());
  EXPECT_NE(bad_node.status().message().find("node 9"), std::string::npos);
  auto bad_duration = parse_scenario("safety_phase: 10 parsecs\n", "t");
  EXPECT_FALSE(bad_duration.ok());
  auto bad_yaml = parse_scenario("cluster: [unclosed\n", "t");
  EXPECT_FALSE(bad_yaml.ok());
  auto two_actions = parse_scenario("timeline:\n  - {at: 1s, crash: 1, heal: true}\n", "t");
  EXPECT_FALSE(two_actions.ok());
}

}  // namespace
}  // namespace shoal::sim
