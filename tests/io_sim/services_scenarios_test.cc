// The services scenarios: the orchestration checkers pass on correct code, catch each planted
// orchestrator bug, and a run replays to the same trace; bad services sections are refused with
// the field named.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "io_sim/scenario/runner.h"
#include "tests/io_sim/scenario_test_util.h"

namespace shoal::sim {
namespace {

using testing::checkers_catching;
using testing::scenario_path;

const char* const kServicesScenarios[] = {"services_basic", "services_leader_kill", "services_chaos",
                                          "services_rolling_update", "services_update_worker_loss",
                                          "services_unhealthy"};

TEST(ServicesScenarios, CorrectCodeConvergesWithNoViolation) {
  for (const char* name : kServicesScenarios) {
    auto sc = load_scenario(scenario_path(name));
    ASSERT_TRUE(sc.ok()) << name << ": " << sc.status().message();
    for (uint64_t seed = 1; seed <= 4; ++seed) {
      RunResult r = run_scenario(*sc, {.seed = seed, .swarm = seed % 2 == 0, .keep_trace = false, .bugs = {}});
      EXPECT_TRUE(r.violations.empty()) << name << " seed " << seed << ": " << r.violations.front().what;
      EXPECT_GE(r.liveness_recovery_s, 0) << name << " seed " << seed << " never converged";
    }
  }
}

// Regression seeds: each reaches the case described beside it, which the checkers have caught
// before; they must stay clean.
TEST(ServicesScenarios, SeedsThatFoundBugsStayClean) {
  struct Found {
    const char* scenario;
    uint64_t seed;
    bool swarm;
    const char* bug;
  };
  const Found found[] = {
      // A new leader whose store had not applied its predecessor's last tasks made them again.
      {"services_rolling_update", 401, true, "three live tasks in a start-first slot"},
      // A start-first update superseded while its new task was starting kept all three.
      {"services_unhealthy", 26, true, "three live tasks in a start-first slot"},
      // A leader cut off while a node write was in flight never heard that write's fate, so its
      // dispatcher (one write per node at a time) never marked the restarted node ready again.
      {"services_rolling_update", 520, true, "a restarted worker stays down"},
      // A worker that crashed after making its data directory but before keeping the key that
      // opens it came back locked for good; the key is now kept from the start.
      {"services_chaos", 21, true, "a worker that crashed mid-join stays locked"},
  };
  for (const Found& f : found) {
    auto sc = load_scenario(scenario_path(f.scenario));
    ASSERT_TRUE(sc.ok()) << f.scenario;
    RunResult r = run_scenario(*sc, {.seed = f.seed, .swarm = f.swarm, .keep_trace = false, .bugs = {}});
    EXPECT_TRUE(r.violations.empty()) << f.scenario << " seed " << f.seed << " (" << f.bug
                                      << "): " << r.violations.front().what;
  }
}

TEST(ServicesScenarios, ASuccessorMadeBeforeItsPredecessorStopsIsCaught) {
  // The orchestrator's invariant (no more tasks meant to run than replicas) stops the run at
  // once; without it, the orchestration checker sees two live tasks in one slot.
  EXPECT_TRUE(testing::caught_as("replace_without_shutdown", "services_leader_kill", 10, true, "core-invariant",
                                 "tasks meant to run, more than"));
  auto fired = checkers_catching("replace_without_shutdown", "services_leader_kill", 10, /*swarm=*/true,
                                 /*node_invariants=*/false);
  EXPECT_TRUE(fired.count("orchestration")) << "two live tasks in one slot went unnoticed";
}

TEST(ServicesScenarios, TasksLeftOnADrainedNodeAreCaught) {
  auto fired = checkers_catching("keep_tasks_on_lost_nodes", "services_leader_kill", 10, /*swarm=*/true);
  EXPECT_TRUE(fired.count("convergence")) << "tasks left on a drained node went unnoticed";
}

TEST(ServicesScenarios, AnUpdaterThatIgnoresParallelismIsCaught) {
  // The updater's own check (never past parallelism by its own starts) stops the run as the
  // leader plans the whole batch. (The update-bounds checker is shown by the next test.)
  EXPECT_TRUE(testing::caught_as("update_ignores_parallelism", "services_rolling_update", 5, false, "core-invariant",
                                 "in flight, parallelism"));
}

TEST(ServicesScenarios, AStopFirstSuccessorThatDoesNotWaitForItsOldTaskIsCaught) {
  // services_rolling_update's tasks take up to 600 ms to exit, so a new task that starts beside
  // its slot's exiting old task runs more than the replicas.
  auto fired = checkers_catching("update_starts_without_waiting", "services_rolling_update", 5, /*swarm=*/false);
  EXPECT_TRUE(fired.count("update-bounds")) << "a stop-first update running old and new tasks at once went unnoticed";
}

TEST(ServicesScenarios, AnUpdaterBlindToFailedHealthChecksIsCaught) {
  // The unhealthy version's update completes instead of rolling back: the services do not end as
  // the updates asked.
  auto fired = checkers_catching("update_ignores_unhealthy", "services_unhealthy", 3, /*swarm=*/false);
  EXPECT_TRUE(fired.count("convergence")) << "an unhealthy version kept by its update went unnoticed";
}

TEST(ServicesScenarios, SameSeedSameTrace) {
  auto sc = load_scenario(scenario_path("services_chaos"));
  ASSERT_TRUE(sc.ok());
  RunResult a = run_scenario(*sc, {.seed = 21, .swarm = true, .keep_trace = false, .bugs = {}});
  RunResult b = run_scenario(*sc, {.seed = 21, .swarm = true, .keep_trace = false, .bugs = {}});
  RunResult c = run_scenario(*sc, {.seed = 22, .swarm = true, .keep_trace = false, .bugs = {}});
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  EXPECT_NE(a.trace_hash, c.trace_hash);
}

TEST(ServicesScenarios, BadServicesSectionsNameTheField) {
  struct Case {
    const char* yaml;
    const char* names;
  };
  const Case cases[] = {
      {"cluster: {nodes: 4}\nservices: [{name: web}]\n", "cluster.managers"},
      {"cluster: {nodes: 4, managers: 5}\nservices: [{name: web}]\n", "cluster.managers"},
      {"cluster: {nodes: 4, managers: 1}\nservices: [{name: Web}]\n", "services[0].name"},
      {"cluster: {nodes: 4, managers: 1}\nservices: [{name: web, mode: sideways}]\n", "services[0].mode"},
      {"cluster: {nodes: 4, managers: 1}\nservices: [{name: web, mode: global, replicas: 2}]\n", "services[0].replicas"},
      {"cluster: {nodes: 4, managers: 1}\nservices: [{name: web}, {name: web}]\n", "two services named"},
      {"cluster: {nodes: 4, managers: 1}\nservices: [{name: web, colour: red}]\n", "colour"},
      {"cluster: {nodes: 4, managers: 1}\nservices: [{name: web}]\ntasks: {crash: 2}\n", "tasks.crash"},
      {"cluster: {nodes: 4, managers: 1}\nservices: [{name: web}]\ntasks: {start: [2s, 1s]}\n", "tasks.start"},
      {"cluster: {nodes: 4, managers: 1}\nservices: [{name: web}]\ntimeline:\n  - {at: 1s, scale: {service: api, replicas: 2}}\n",
       "no replicated service named 'api'"},
      {"cluster: {nodes: 4}\ntimeline:\n  - {at: 1s, drain: 2}\n", "needs a services scenario"},
      {"cluster: {nodes: 4}\ntasks: {crash: 0.1}\n", "tasks"},
      {"cluster: {nodes: 4, managers: 1}\nservices: [{name: web, unhealthy: 0.1}]\n", "services[0].unhealthy"},
      {"cluster: {nodes: 4, managers: 1}\nservices: [{name: web, health: {interval: 0s}}]\n", "services[0].health"},
      {"cluster: {nodes: 4, managers: 1}\nservices: [{name: web, health: {every: 1s}}]\n", "every"},
      {"cluster: {nodes: 4, managers: 1}\nservices: [{name: web, update: {failure_action: rollback}}]\n"
       "timeline:\n  - {at: 1s, update: {service: web, unhealthy: true}}\n",
       "has no health: check"},
      {"cluster: {nodes: 4, managers: 1}\nservices: [{name: web, health: {}, update: {failure_action: rollback}}]\n"
       "timeline:\n  - {at: 1s, update: {service: web, unhealthy: true, failing: true}}\n",
       "either crashes"},
      {"cluster: {nodes: 4, managers: 1}\nservices: [{name: web, health: {}, unhealthy: 0.1}]\n"
       "timeline:\n  - {at: 1s, update: {service: web}}\n",
       "randomly unhealthy"},
  };
  for (const auto& c : cases) {
    auto sc = parse_scenario(c.yaml, "t");
    ASSERT_FALSE(sc.ok()) << c.yaml;
    EXPECT_NE(sc.status().message().find(c.names), std::string::npos) << sc.status().message();
  }
  auto good = parse_scenario(
      "cluster: {nodes: 5, managers: 3}\nservices:\n  - {name: web, replicas: 3, constraints: [node.role==worker], "
      "spread: node.labels.zone, max_per_node: 1, restart_delay: 1s}\n  - {name: mon, mode: global}\n"
      "tasks: {start: [10ms, 20ms], fail_start: 0.1, crash: 0.1, crash_after: [1s, 2s], hang: 0.1, stop: [1ms, 2ms]}\n"
      "timeline:\n  - {at: 1s, scale: {service: web, replicas: 4}}\n  - {at: 2s, drain: 4}\n  - {at: 3s, activate: 4}\n",
      "t");
  ASSERT_TRUE(good.ok()) << good.status().message();
  EXPECT_EQ(good->voters, 3u);
  EXPECT_EQ(good->services.size(), 2u);
  EXPECT_TRUE(good->services[1].global);
  EXPECT_EQ(good->timeline[0].replicas, 4u);
}

}  // namespace
}  // namespace shoal::sim
