// Node: one host of a Shoal cluster, a manager or a worker, and everything that makes it one:
// its identity (node record, key, certificate), its components (the RPC layer, gossip, the
// agent running its tasks, and on a manager Raft, the replicated store and the Manager with its
// orchestrator, scheduler and dispatcher), and its lifecycle. shoald builds one over the real
// seams (io_real/daemon/daemon.h); every host of the simulator builds the same over simulated
// ones (io_sim/cluster/services_cluster.h).
//
// Lifecycle. A node starts one of three ways, each ending in `done` once:
//   init     a new cluster: a root CA, this manager's certificate, join tokens, a one-member
//            Raft; once it leads it commits the founding transaction (the cluster object and
//            this node), and `done` reports the cluster founded;
//   join     fetches the root CA from a manager anonymously and checks it against the token's
//            digest before anything secret leaves; then sends the token with a certificate
//            request to a server whose chain verifies against that root (a cluster between
//            leaders answers "unavailable": it keeps trying for join_patience); a manager
//            joins Raft as a learner and `done` waits until it has caught up (at most
//            catch_up_patience);
//   restart  opens the data directory with the unlock key file; with none (an autolocked
//            manager) the node is locked until unlock() is given the cluster's unlock key.
// Running, it follows the cluster: it asks the managers (or, on a manager, its store) every
// node_info_every what the cluster wants of it — its role, the roots to trust, the managers'
// addresses, the gossip keys — and renews its certificate when the role or the signing root
// changed, besides the renewal at a random point in the certificate's late life. A renewal that
// changes the role starts or stops the manager's parts (a demoted manager forgets its copy of
// the log). Autolock turned on seals the data key under the cluster's unlock key and removes the
// key file; turned off, a fresh key goes back into the file.
//
// Thread contract: one event loop, like every core component. Callbacks run on it.
//
//   Node node(seams, options);
//   node.init([](Result<InitResult> r) { ... print the join command ... });
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/agent/agent.h"
#include "core/api/node.pb.h"
#include "core/env/cluster_net.h"
#include "core/env/crypto.h"
#include "core/env/env.h"
#include "core/env/gossip_net.h"
#include "core/env/node_storage.h"
#include "core/env/runtime.h"
#include "core/manager/manager.h"
#include "core/node/node_gossip.h"
#include "core/raft/raft_node.h"
#include "core/rpc/rpc_peer.h"
#include "core/store/store.h"

namespace shoal::node {

// The seams a node runs on; all outlive it.
struct NodeSeams {
  Clock& clock;
  Timers& timers;
  Rng& rng;
  Log& log;
  Crypto& crypto;
  ClusterNet& net;
  GossipNet* gossip;  // null: no gossip
  NodeStorage& storage;
  Runtime& runtime;
};

struct NodeOptions {
  std::string hostname;
  std::string listen_addr;     // where the cluster port listens (a restart keeps the recorded one)
  std::string advertise_addr;  // where other nodes reach it; empty: listen_addr
  // Where other nodes reach its gossip port; empty: the advertise address's host with gossip_port.
  std::string gossip_advertise_addr;
  uint16_t gossip_port = 7946;
  storepb::NodeDescription description;  // what this host offers the scheduler
  // init only.
  bool autolock = false;
  int64_t cert_expiry_s = 0;  // 0: the CA's default
  // Raft's timing (see raft/config.h) and snapshots (raft/raft_node.h).
  Duration tick = std::chrono::milliseconds(20);
  int election_ticks = 10;
  int heartbeat_ticks = 1;
  uint64_t snapshot_every = 100000;
  uint64_t keep_behind_snapshot = 1000;
  uint64_t max_msg_bytes = 1 << 20;
  size_t max_inflight = 64;
  bool pre_vote = true;
  bool check_quorum = true;
  bool force_new_cluster = false;
  manager::ManagerOptions manager;  // its `self` is filled in
  agent::AgentOptions agent;        // its hostname and description are filled in
  Duration node_info_every = std::chrono::seconds(2);
  Duration join_call_timeout = std::chrono::seconds(10);
  Duration join_patience = std::chrono::seconds(20);
  Duration catch_up_patience = std::chrono::seconds(15);
  Duration found_patience = std::chrono::seconds(10);
  PlantedBugs bugs;  // test-only (core/env/planted_bugs.h)
  // Observers of the manager's Raft (the simulator's checker); not part of the protocol.
  std::function<raft::RaftNodeEvents()> raft_events;
};

struct InitResult {
  NodeId node_id = 0;
  std::string worker_token;
  std::string manager_token;
  std::string advertise_addr;
  std::optional<std::string> unlock_key;  // autolock: the key to keep safe
};

struct JoinResult {
  NodeId node_id = 0;
  NodeRole role = NodeRole::kWorker;
};

class Node {
 public:
  Node(NodeSeams seams, NodeOptions options);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  void init(std::function<void(Result<InitResult>)> done);
  void join(std::string token, std::string manager_addr, std::function<void(Result<JoinResult>)> done);
  // ok once running, or locked (then locked() is true and unlock() opens it).
  void restart(std::function<void(Status)> done);
  // Opens a locked node's data directory with the cluster's unlock key; an error (a wrong key)
  // leaves it locked.
  Status unlock(const AeadKey& key);
  // Leaves the gossip ring and closes the cluster port: the node is going away.
  void stop();

  bool locked() const { return locked_; }
  bool running() const { return running_; }
  // Who it is; null until it has joined (or while locked).
  const nodepb::NodeRecord* record() const { return record_ ? &*record_ : nullptr; }
  NodeId id() const { return record_ ? record_->node_id() : 0; }
  // The manager's parts; null on a worker (or a manager that is not running).
  store::Store* store() { return store_.get(); }
  manager::Manager* manager() { return manager_.get(); }
  raft::RaftNode* raft() { return raft_.get(); }
  agent::Agent* agent() { return agent_.get(); }
  NodeGossip* gossip() { return gossip_.get(); }
  Rpc& rpc() { return rpc_; }
  // The roots this node trusts now.
  std::vector<std::string> trusted_roots() const;

  // Aborts (SHOAL_CHECK) if an invariant of any of the node's state machines is broken: Raft,
  // the store, the dispatcher, the orchestrator and the agent. Cheap enough to run after every
  // event (the simulator does).
  void check_invariants() const;
  // The same for gossip's membership and table, whose checks walk every member and entry: the
  // simulator runs them periodically.
  void check_gossip_invariants() const;

  // Whether manager `id` is reachable from here (the leader tracks its followers).
  bool reachable(NodeId id) const;
  // Asks the agent of `node` for a task's output (this node's own without the network).
  void task_logs(const storepb::NodeObject& node, const agentpb::LogsRequest& request, Rpc::Reply done);

  // Called when the manager's parts start or stop (promotion, demotion, a restart).
  void on_manager_changed(std::function<void()> fn) { on_manager_changed_ = std::move(fn); }

 private:
  // ---- start-up (node_lifecycle.cc)
  Status open_storage(const AeadKey& kek, bool create);
  void join_with_root(std::string token, std::string addr, std::string root_pem, std::string key_pem,
                      MonoTime give_up, std::function<void(Result<JoinResult>)> done);
  void finish_join(const managerpb::JoinResponse& resp, std::string key_pem, std::function<void(Result<JoinResult>)> done);
  Status open_and_start();
  void wait_until(std::function<bool()> ready, MonoTime give_up, std::function<void(bool)> done);
  void found_cluster_when_leader();
  // ---- running (node.cc)
  Status start_node(std::vector<NodeId> bootstrap_voters);
  Status start_manager(std::vector<NodeId> bootstrap_voters);
  void stop_manager();
  void start_agent();
  PeerIdentity self_identity() const;
  TlsIdentity tls_identity() const;
  // `roots` and every root trusted now (the planted bug node_keeps_old_roots).
  std::vector<std::string> with_old_roots(std::vector<std::string> roots) const;
  // What this node's agent tells the dispatcher about it: the configured description, where
  // its gossip listens and which certificate it uses.
  storepb::NodeDescription description() const;
  void on_store_change(const storepb::StoreAction& a);
  void check_node_info();
  // Whether this node asks its own manager what the cluster wants of it (node info, renewals).
  // A manager that knows no leader, or that the cluster is demoting, asks the others: it may
  // have been removed from Raft without hearing of it, its store frozen where it was.
  bool asks_itself() const;
  // Another manager to ask, a different one each time (0: none known).
  NodeId next_manager();
  void poll_node_info();
  void apply_node_info(const managerpb::NodeInfoResponse& info);
  void apply_autolock(const storepb::ClusterObject& cluster);
  void save_record();
  void save_record_durably();  // saved and synced
  void serve_as_worker();
  // Takes the managers a manager named, if they differ from the record's; true if they did.
  bool remember_managers(const google::protobuf::RepeatedPtrField<managerpb::ManagerAddress>& managers);
  // ---- certificates (node_certificates.cc)
  void schedule_renewal();
  void renew();
  void install_certificate(const std::string& key_pem, const managerpb::RenewResponse& resp);
  int64_t now_s() const { return seams_.clock.wall_now_unix_ns() / 1'000'000'000; }

  NodeSeams seams_;
  NodeOptions opts_;
  RpcPeer rpc_;
  AeadKey kek_{};
  Disk* disk_ = nullptr;
  std::optional<nodepb::NodeRecord> record_;
  bool locked_ = false;
  bool running_ = false;
  bool renewing_ = false;
  Duration renew_backoff_ = std::chrono::seconds(1);  // see schedule_renewal()
  uint64_t manager_turn_ = 0;  // which manager next_manager() gives next
  // The last certificate checked against the signing root the cluster named, and the outcome.
  std::string checked_cert_;
  std::string checked_root_;
  bool signed_by_root_ = false;
  bool stopped_ = false;
  // Envs over the open disk: one for the manager's parts (Raft's transport), one for the rest.
  std::unique_ptr<Env> env_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<raft::RaftNode> raft_;
  std::unique_ptr<manager::Manager> manager_;
  std::unique_ptr<NodeGossip> gossip_;
  std::unique_ptr<agent::Agent> agent_;
  TimerId info_timer_ = 0;
  TimerId renew_timer_ = 0;
  TimerId found_timer_ = 0;
  std::function<void()> on_manager_changed_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace shoal::node
