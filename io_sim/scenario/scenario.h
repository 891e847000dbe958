// Scenario: one simulated failure story, read from a YAML file in scenarios/ (format in
// docs/simulation.md): the cluster, the workload, a timeline of faults, the random faults to
// draw, and what must hold. Parsing checks every field and names the bad one; nothing runs from
// a scenario that did not parse.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/env/status.h"
#include "core/env/time.h"
#include "io_sim/world/sim_runtime.h"

namespace shoal::sim {

// A node as a scenario names it: a number, or a role resolved when the step runs.
struct Target {
  enum class Kind { kNode, kLeader, kFollower, kAll, kCrashed } kind = Kind::kNode;
  uint64_t node = 0;
};

// A service as a services scenario declares it.
struct SimService {
  std::string name;
  uint64_t replicas = 1;
  bool global = false;
  std::vector<std::string> constraints;
  std::string spread;  // "node.labels.zone"; every node has the label zone=z<id mod 3>
  uint64_t max_per_node = 0;
  Duration restart_delay = std::chrono::milliseconds(500);
  // Its update config (`update:`), used by the timeline's `update` steps and for rollbacks.
  uint64_t update_parallelism = 1;
  Duration update_delay{0};
  Duration update_monitor = std::chrono::seconds(1);
  std::string update_failure_action = "pause";  // pause, continue or rollback
  bool update_start_first = false;
  // Its health check (`health:`): every task runs one; interval, timeout, retries, start period.
  bool health = false;
  Duration health_interval = std::chrono::milliseconds(200);
  Duration health_timeout = std::chrono::milliseconds(100);
  uint64_t health_retries = 2;
  Duration health_start_period{0};
  // Probability each of its tasks is unhealthy (`unhealthy:`, needs `health`): a fault, off in
  // the liveness phase. Its tasks run with --sim-unhealthy-chance=P.
  double unhealthy = 0;
};

// One timeline step. `action` is one of: partition, isolate, block, unblock, heal, crash,
// restart, pause, disk_loss, clock_jump, clock_drift, link, flap, add_learner, add_voter,
// remove_node, transfer_leader; in services scenarios also scale, update, drain, activate,
// promote, demote (a node's role) and rotate_ca (a root CA rotation).
struct Step {
  Duration at{0};
  std::string action;
  std::vector<std::vector<Target>> groups;  // partition; an empty group means "everyone else"
  Target node;                              // most actions
  Target to;                                // block/unblock (node -> to), transfer_leader
  Duration amount{0};                       // pause length, clock jump, flap down-time
  Duration amount2{0};                      // flap up-time
  int times = 0;                            // flap repetitions
  double ppm = 0;                           // clock_drift
  double drop = 0, duplicate = 0, reorder = 0;  // link
  Duration latency{-1}, jitter{-1};         // link: base latency and its spread (-1: unchanged)
  std::string service;                      // scale, update
  uint64_t replicas = 0;                    // scale
  bool failing = false;                     // update: the new version's tasks crash soon after starting
  bool unhealthy = false;                   // update: the new version's health checks all fail
  std::string line;                         // the step as written, for the timeline
};

// Probabilities per fault interval of each random fault (all zero: no random faults).
struct RandomFaults {
  Duration every = std::chrono::milliseconds(500);
  double crash = 0;       // crash a random live node
  double restart = 0.5;   // restart each crashed node
  double partition = 0;   // cut a random shape (split, isolate, one-way)
  double heal = 0.3;
  double loss = 0;        // set link loss to a random level up to 30% (or back to 0)
  double duplicate = 0;
  double clock = 0;       // jump a node's wall clock or change its drift
  double pause = 0;       // pause a random node up to 2 s
  double power_loss = 0;  // crash every node at once (then restarts follow)
  double disk_torn = 0.5; // probability a crash keeps a torn prefix of unsynced writes
  bool any() const { return crash + partition + loss + duplicate + clock + pause + power_loss > 0; }
};

struct Scenario {
  std::string name;
  std::string description;
  // Cluster.
  size_t nodes = 5;
  size_t voters = 0;  // 0: all nodes
  int tick_ms = 50;
  int election_tick = 10;
  int heartbeat_tick = 1;
  uint64_t snapshot_every = 1000;
  bool pre_vote = true;
  bool check_quorum = true;
  uint64_t max_msg_bytes = 1 << 20;  // batching limit per append message
  size_t max_inflight = 64;          // pipeline window per follower
  // Disk sync latency range (slow disks widen the window in which unsynced data is at risk).
  Duration disk_sync_min = std::chrono::microseconds(100);
  Duration disk_sync_max = std::chrono::milliseconds(2);
  // Workload.
  double writes_per_s = 50;
  double reads_per_s = 10;
  // Phases.
  Duration safety_phase = std::chrono::seconds(20);
  Duration liveness_bound = std::chrono::seconds(10);
  // Optional: acknowledged writes never stop for longer than this during the safety phase
  // (the cluster must stay live through these faults). Zero: not checked.
  Duration max_commit_gap{0};
  Duration max_commit_gap_after{0};  // ...counted from this time on (after the first election)
  std::vector<Step> timeline;
  RandomFaults faults;
  // Services scenarios (`services:` present): nodes 1..managers are managers (the Raft voters),
  // the rest workers; there is no key-value workload, and the liveness phase waits for every
  // service to converge within liveness_bound.
  size_t managers = 0;
  std::vector<SimService> services;
  TaskFaults tasks;
  // Services scenarios without partitions: check at every event that an update keeps the
  // running tasks of each service within Docker's bounds (updater.h).
  bool check_update_bounds = false;
  // Services scenarios: the node certificates' lifetime (0: the CA's 90 days; a short one makes
  // nodes renew within the run) and whether the cluster is founded autolocked.
  Duration cert_expiry{0};
  bool autolock = false;
  bool has_services() const { return !services.empty(); }
};

Result<Scenario> parse_scenario(const std::string& yaml_text, const std::string& name_for_errors);
Result<Scenario> load_scenario(const std::string& path);
Result<Duration> parse_duration(const std::string& text);

}  // namespace shoal::sim
