// ServicesCluster: Shoal's cluster in the simulator. Every host runs the same Node as shoald
// (core/node/node.h) over simulated seams: its cluster port checks real certificates
// (SimClusterNet), its gossip rides the simulated network (SimGossipNet), its data directory
// survives crashes as files would (SimNodeStorage), its tasks run in a SimRuntime, and its
// Crypto is OpenSSL made deterministic (SimCrypto).
//
// The cluster forms as an operator forms one: host 1 runs `init`; every other host, on its
// first start, joins with a token read from a manager's store (hosts 1..managers with the
// manager token, the rest with the worker token), retried until it succeeds; a restarted host
// restarts from its data directory (an autolocked one is unlocked with the cluster's unlock key
// after a moment, as an operator would); a host that lost its disk joins again. Each node, once
// joined, is labelled zone=z<host mod 3>, and the scenario's services are created once the
// cluster is founded. A node object no host is any more (a join whose answer was lost and was
// tried again, a host that lost its disk) is demoted if need be and removed once it is down,
// as an operator tidies `node ls`. Every change goes through the control API (core/controlapi/), as
// shoald's HTTP routes do.
//
// It plugs into RaftCluster through ClusterOptions::make_host, so the scenario runner's faults,
// Raft checks and timeline apply unchanged; it adds the ServicesChecker and the actions a
// scenario may take on services (scale, update, drain, activate).
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
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/node/node.h"
#include "core/store/store.h"
#include "io_sim/checkers/pki_checker.h"
#include "io_sim/checkers/services_checker.h"
#include "io_sim/cluster/raft_cluster.h"
#include "io_sim/scenario/scenario.h"
#include "io_sim/world/sim_cluster_net.h"
#include "io_sim/world/sim_crypto.h"
#include "io_sim/world/sim_gossip_net.h"
#include "io_sim/world/sim_node_storage.h"
#include "io_sim/world/sim_runtime.h"

namespace shoal::sim {

struct ServicesOptions {
  size_t managers = 3;
  std::vector<SimService> services;
  TaskFaults tasks;
  PlantedBugs bugs;
  int64_t cert_expiry_s = 0;  // the node certificates' lifetime (0: the CA's default)
  bool autolock = false;      // founded autolocked: restarted managers wait to be unlocked
  Duration unlock_after = std::chrono::seconds(1);  // how long an operator takes to unlock one
};

class ServicesCluster;

// One simulated host running a Node.
class NodeHost final : public RaftMember {
 public:
  NodeHost(NodeId host, Env& env, const raft::RaftNodeOptions& raft, raft::RaftNodeEvents events,
           ServicesCluster& cluster);
  ~NodeHost() override;
  raft::RaftNode* raft_node() override { return node_.raft(); }
  void check_invariants() override { node_.check_invariants(); }
  void check_slow_invariants() override { node_.check_gossip_invariants(); }
  node::Node& shoal_node() { return node_; }
  SimRuntime& runtime() { return runtime_; }
  SimClusterNet& net() { return net_; }
  SimNodeStorage& storage() { return storage_; }
  Crypto& crypto() { return crypto_; }
  int64_t now_ns() const { return env_.clock.wall_now_unix_ns(); }

 private:
  Env& env_;
  SimCrypto crypto_;
  ChannelMux mux_;
  SimClusterNet net_;
  SimGossipNet gossip_;
  SimNodeStorage storage_;
  SimRuntime runtime_;
  node::Node node_;
};

class ServicesCluster {
 public:
  explicit ServicesCluster(ServicesOptions options);

  HostFactory host_factory();
  void attach(RaftCluster& raft);
  const ServicesOptions& options() const { return options_; }
  ServicesChecker& checker() { return *checker_; }
  PkiChecker& pki_checker() { return *pki_; }
  // The PKI checker's end-of-run checks (pki_checker.h), once the cluster has converged.
  void check_pki_end();

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
  void set_availability(NodeId host, storepb::NodeSpec::Availability availability);
  // Promotes or demotes the host's node (`node promote|demote`).
  void set_role(NodeId host, storepb::NodeRole role);
  // Asks for a root CA rotation (`swarm ca --rotate`).
  void rotate_ca();
  // Liveness phase: tasks stop failing, crashing and hanging, on every node now and after.
  void stop_task_faults();
  // The host lost its disk: its data directory went with it, and it must join again.
  void on_disk_loss(NodeId host);

  // "" once the cluster runs exactly what its services ask for; else what is still missing.
  std::string unconverged();

  // The host's Node host, null while it is down.
  NodeHost* node_host(NodeId host);
  // A running manager's store on `host`, null otherwise.
  const store::Store* store_of(NodeId host);
  // The cluster's node id of `host` (0: it has not joined).
  NodeId node_of(NodeId host) const;
  SimShownCerts& shown_certs() { return shown_; }
  SimDataDir& data_dir(NodeId host) { return dirs_[host]; }

 private:
  friend class NodeHost;
  // A host's Node was made: init, join or restart it.
  void started(NodeId host, NodeHost& h);
  // Joins `host` (in its current life) through some manager, retrying until it has joined.
  void join(NodeId host, uint64_t incarnation);
  void unlock(NodeId host, uint64_t incarnation);
  void restarted(NodeId host);
  void joined(NodeId host, NodeId node);
  void create_services();
  // Demotes and removes node objects no host is any more; every second.
  void tidy();
  // As an operator would with a node that cannot go on as itself (its certificate expired while
  // the managers could not renew it): clear its data directory and join it again.
  void start_over(NodeId host, const std::string& why);

  // Commits `make()`'s transaction through some live manager, retrying (re-reading with a fresh
  // make()) every 200 ms until it is applied or `attempts` run out. make() returns nullopt when
  // that manager's store does not show what it needs yet (a manager still catching up, a node
  // not joined), and an empty transaction when there is nothing left to do. `committed` runs
  // once the transaction is applied (in commit order, not request order), `gave_up` if the
  // attempts ran out.
  using MakeTx = std::function<std::optional<storepb::Transaction>(NodeHost&, const store::Store&)>;
  void commit(std::string what, MakeTx make, int attempts, std::function<void()> committed = {},
              std::function<void()> gave_up = {});

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
  SimShownCerts shown_;                   // what every host's cluster port shows (outlives hosts)
  std::map<NodeId, SimDataDir> dirs_;     // every host's data directory beside its disk
  std::map<NodeId, NodeId> node_of_;      // host -> its node id in the cluster, once joined
  std::set<NodeId> joining_;              // hosts with a join in flight
  std::set<NodeId> labelled_;
  std::set<std::string> tidying_;  // node ids being demoted or removed
  std::map<NodeId, NodeId> current_id_;  // host -> the node id its data directory holds
  bool services_created_ = false;
  bool founded_ = false;  // host 1's init has made the cluster (it inits again until then)
  std::string unlock_key_;  // the autolocked cluster's unlock key, as `init` printed it
  std::map<std::string, Expected> expected_;  // service name -> how its last update must end
  std::map<std::string, uint64_t> versions_;  // service name -> updates asked for
  // Service name -> versions asked for and not yet committed (nor given up): a version goes in
  // only after every earlier one, so a failing version never follows a failing one that a good
  // one between them should have replaced.
  std::map<std::string, std::set<uint64_t>> unsettled_;
  std::set<std::string> bound_reported_;     // one update-bounds report per service and bound
  uint64_t bounds_seen_ = 0;                 // what check_update_bounds last looked at
  std::set<std::string> failing_;            // services whose last update is a failing version
  std::unique_ptr<ServicesChecker> checker_;
  std::unique_ptr<SimCrypto> checker_crypto_;  // the PKI checker's own (it draws no randomness)
  std::unique_ptr<PkiChecker> pki_;
  uint64_t next_target_ = 0;
};

}  // namespace shoal::sim
