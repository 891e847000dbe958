// ServicesCluster: the services half of Shoal in the simulator — the same core code a real
// cluster runs (Manager with its orchestrator, scheduler and dispatcher; the worker's Agent),
// on simulated hosts whose tasks run in a SimRuntime.
//
// Nodes 1..managers are managers (Raft voters; each also runs an agent, as every shoald does);
// the rest are workers. RPC between nodes rides SimRpc on the node's one simulated transport,
// beside Raft. The cluster is founded, as `shoald init` founds one, by the first leader
// committing the cluster object, every node's object and the scenario's services.
//
// It plugs into RaftCluster through ClusterOptions::make_host, so the scenario runner's faults,
// Raft checks and timeline apply unchanged; it adds the ServicesChecker and the actions a
// scenario may take on services (scale, drain, activate).
//
//   ServicesCluster services(opts);
//   ClusterOptions co = ...; co.make_host = services.host_factory();
//   RaftCluster raft(co);
//   services.attach(raft);
//   raft.start();
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/agent/agent.h"
#include "core/manager/manager.h"
#include "core/orchestrator/reconciler.h"
#include "core/store/store.h"
#include "io_sim/checkers/services_checker.h"
#include "io_sim/cluster/raft_cluster.h"
#include "io_sim/scenario/scenario.h"
#include "io_sim/world/sim_crypto.h"
#include "core/rpc/rpc_peer.h"
#include "io_sim/world/sim_rpc_wire.h"
#include "io_sim/world/sim_runtime.h"

namespace shoal::sim {

struct ServicesOptions {
  size_t managers = 3;
  std::vector<SimService> services;
  TaskFaults tasks;
  PlantedBugs bugs;
};

// What every node runs for tasks: the agent and its runtime.
class TaskHost {
 public:
  TaskHost(NodeId id, Env& env, Rpc& rpc, const TaskFaults& faults, size_t managers);
  SimRuntime& runtime() { return runtime_; }
  agent::Agent& agent() { return agent_; }

 private:
  SimRuntime runtime_;
  agent::Agent agent_;
};

class ServicesCluster;

// A manager: Raft over the store, the Manager, and its own agent.
class ManagerHost final : public RaftMember {
 public:
  ManagerHost(NodeId id, Env& env, const raft::RaftNodeOptions& options, raft::RaftNodeEvents events,
              ServicesCluster& cluster);
  ~ManagerHost() override;
  raft::RaftNode& node() override { return raft_; }
  store::Store& store() { return store_; }
  manager::Manager& manager() { return manager_; }
  TaskHost& tasks() { return tasks_; }

 private:
  ChannelMux mux_;
  SimRpcWire wire_;
  RpcPeer rpc_;
  SimCrypto crypto_;
  Env raft_env_;
  store::Store store_;
  raft::RaftNode raft_;
  manager::Manager manager_;
  TaskHost tasks_;
};

// A worker: only an agent.
class WorkerHost final : public NodeApp {
 public:
  WorkerHost(NodeId id, Env& env, ServicesCluster& cluster);
  TaskHost& tasks() { return tasks_; }

 private:
  ChannelMux mux_;
  SimRpcWire wire_;
  RpcPeer rpc_;
  TaskHost tasks_;
};

class ServicesCluster {
 public:
  explicit ServicesCluster(ServicesOptions options);

  HostFactory host_factory();
  void attach(RaftCluster& raft);
  const ServicesOptions& options() const { return options_; }
  ServicesChecker& checker() { return *checker_; }

  // Founds the cluster through the first leader: retried until it is committed.
  void found();
  // Scenario actions; each is retried through whichever manager is up until it is committed.
  void scale(const std::string& service, uint64_t replicas);
  // A new version of the service's tasks (new args), rolled out by the updater. A version that
  // crashes (its tasks exit soon after they start: SimRuntime's --sim-fail) or is unhealthy (its
  // health checks all fail: --sim-unhealthy) must be rolled back.
  enum class Version { kWorks, kCrashes, kUnhealthy };
  void update(const std::string& service, Version version);
  // Update bounds (scenario check_update_bounds): while a replicated service updates, its tasks
  // running in the runtimes are at most replicas (+ parallelism when start-first), and its
  // healthy ones (running, and RUNNING in the leader's store) at least replicas - parallelism —
  // the lower bound only while its new version is not one made to fail (those tasks go down by
  // themselves). Called after every event.
  void check_update_bounds();
  void set_availability(NodeId node, storepb::NodeSpec::Availability availability);
  // Liveness phase: tasks stop failing, crashing and hanging, on every node now and after.
  void stop_task_faults();

  // "" once the cluster runs exactly what its services ask for; else what is still missing.
  std::string unconverged();

  ManagerHost* manager_host(NodeId id);
  TaskHost* task_host(NodeId id);
  NodeRole role_of(NodeId id) const { return id <= options_.managers ? NodeRole::kManager : NodeRole::kWorker; }
  PeerIdentity identity_of(NodeId id) const { return PeerIdentity{id, role_of(id), "sim"}; }
  static std::string node_id(NodeId id);

 private:
  // Commits `make()`'s transaction through some live manager, retrying (re-reading with a fresh
  // make()) every 200 ms until it is applied or `attempts` run out. make() returns nullopt when
  // that manager's store does not show what it needs yet (a manager still catching up), and an
  // empty transaction when there is nothing left to do.
  // `committed` runs once the transaction is applied (in commit order, not request order).
  using MakeTx = std::function<std::optional<storepb::Transaction>(const store::Store&)>;
  void commit(std::string what, MakeTx make, int attempts, std::function<void()> committed = {});

  // Judged by version number, not by the order the harness hears of commits: a retried update
  // may learn that it committed after a newer one's commit was already heard of.
  struct Expected {
    std::vector<std::string> args;  // every live task's args at the end: the newest good version's
    storepb::UpdateStatus::State state = storepb::UpdateStatus::NONE;  // the newest version's outcome
    uint64_t version = 1;       // the newest version known committed
    uint64_t good_version = 1;  // the newest good version known committed
  };

  ServicesOptions options_;
  RaftCluster* raft_ = nullptr;
  std::map<std::string, Expected> expected_;  // service name -> how its last update must end
  std::map<std::string, uint64_t> versions_;  // service name -> updates asked for
  std::set<std::string> bound_reported_;     // one update-bounds report per service and bound
  std::set<std::string> failing_;            // services whose last update is a failing version
  std::unique_ptr<ServicesChecker> checker_;
  uint64_t next_target_ = 0;
};

}  // namespace shoal::sim
