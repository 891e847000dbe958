// ServicesChecker: orchestration safety, checked on every manager's store as the simulation runs,
// and convergence, checked once the faults have healed.
//
// Safety, after every applied transaction on every manager:
//   forward only     a task's observed state and desired state never move backwards;
//   stays put        a task placed on a node is never moved to another;
//   one per slot     a replicated service's slot (a global service's node) has at most one live
//                    task, i.e. one whose desired state is RUNNING or less: the orchestrator never
//                    makes a task twice, nor a successor before shutting down what it replaces
//                    (two during a start-first update: the new task beside the old).
// Convergence (Converged() below), once every fault has healed: every service has exactly the
// tasks its spec asks for, RUNNING in the store and running in its node's runtime, none on a
// drained node; no runtime runs a task the store does not want running; every node is ready.
//
// Violations go to the run's RaftChecker, with the simulated time and a sentence to act on.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/api/store.pb.h"
#include "core/store/store.h"
#include "io_sim/checkers/raft_checker.h"

namespace shoal::sim {

class ServicesChecker {
 public:
  // store_of(manager): that manager's store, nullptr while it is down.
  using StoreOf = std::function<const store::Store*(NodeId)>;

  ServicesChecker(RaftChecker& sink, StoreOf store_of) : sink_(sink), store_of_(std::move(store_of)) {}

  // After each simulated event: every manager whose store moved is read again (a transaction is
  // applied whole within one event, so no half-applied transaction is ever judged).
  void check(const std::vector<NodeId>& managers);
  // A restarted manager's store starts over (from its disk's snapshot and log), so its tasks'
  // states may be older than those seen before the crash.
  void forget_manager(NodeId manager);

  uint64_t scans() const { return scans_; }

 private:
  struct Seen {
    storepb::TaskState state;
    storepb::TaskState desired;
    std::string node_id;
  };
  void scan(NodeId manager, const store::Store& store);
  void report(const std::string& key, const std::string& what);

  RaftChecker& sink_;
  StoreOf store_of_;
  std::map<std::pair<NodeId, std::string>, Seen> tasks_;  // (manager, task id)
  std::map<NodeId, uint64_t> checked_index_;  // manager -> store index last scanned
  std::set<std::string> reported_;  // one report per broken task or slot is enough
  uint64_t scans_ = 0;
};

// What a converged cluster looks like, for the liveness phase. `running_on(node)`: the task ids
// the node's runtime runs now (nullopt: the node is down). Returns "" when converged, or the
// first thing still missing, in words.
std::string unconverged_reason(const store::Store& leader_store,
                               const std::function<const std::vector<std::string>*(const std::string& node_id)>& running_on);

}  // namespace shoal::sim
