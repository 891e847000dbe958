// Runner: plays one Scenario on a simulated Raft cluster for one seed — timeline, random faults,
// workload — through a safety phase with faults and a liveness phase in which every fault heals,
// and reports what the checkers found.
//
//   RunResult r = run_scenario(scenario, {.seed = 7});
//   std::cout << r.violations.size() << " " << r.trace_hash;
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/orchestrator/reconciler.h"
#include "core/raft/config.h"
#include "io_sim/checkers/raft_checker.h"
#include "io_sim/cluster/raft_cluster.h"
#include "io_sim/cluster/services_cluster.h"
#include "io_sim/scenario/scenario.h"

namespace shoal::sim {

struct RunOptions {
  uint64_t seed = 1;
  // Swarm testing: this seed also draws its own random fault probabilities.
  bool swarm = false;
  bool keep_trace = false;
  // The nodes' log records from this level go into the timeline (kOff: none; they cost time).
  LogLevel log = LogLevel::kOff;
  PlantedBugs bugs;  // test-only (core/env/planted_bugs.h)
  // Test-only: false leaves the nodes' invariants unchecked, so that a test can show a checker of
  // the whole run catching a planted bug that an invariant would otherwise stop first.
  bool node_invariants = true;
};

struct RunResult {
  std::vector<Violation> violations;
  std::string trace_hash;
  double sim_seconds = 0;
  uint64_t events = 0;
  uint64_t writes_acked = 0;
  uint64_t reads_served = 0;
  double first_leader_s = -1;           // when the first leader was elected
  double liveness_recovery_s = -1;      // from liveness start to the first write acknowledged
  std::map<std::string, uint64_t> probes;
  RandomFaults faults;                  // the random faults in force
  // Services scenarios: the services half (declared first: it outlives the cluster's hosts).
  std::unique_ptr<ServicesCluster> services;
  std::unique_ptr<RaftCluster> cluster; // the finished cluster (its trace, timeline, stats)
};

// Draws the random fault probabilities of one seed (swarm testing).
RandomFaults draw_swarm_faults(uint64_t seed, const RandomFaults& base);

RunResult run_scenario(const Scenario& scenario, const RunOptions& options);


}  // namespace shoal::sim
