// Node: the running node — its components, and following what the cluster wants of it.
// Start-up is in node_lifecycle.cc, certificates in node_certificates.cc.
#include "core/node/node.h"

#include <algorithm>

#include "core/ca/node_identity.h"
#include "core/node/node_record.h"
#include "core/node/unlock_key.h"
#include "core/store/manager_addresses.h"
#include "core/store/node_role.h"
#include "core/wire/rfc3339.h"

namespace shoal::node {

Node::Node(NodeSeams seams, NodeOptions options)
    : seams_(seams),
      opts_(std::move(options)),
      rpc_(seams_.timers, seams_.rng, seams_.log, seams_.net.rpc_wire(), PeerIdentity{}) {
  if (opts_.advertise_addr.empty()) opts_.advertise_addr = opts_.listen_addr;
}

Node::~Node() {
  *alive_ = false;
  seams_.timers.cancel(info_timer_);
  seams_.timers.cancel(renew_timer_);
  seams_.timers.cancel(found_timer_);
  // The agent first (it calls the dispatcher), the manager's parts last.
  agent_.reset();
  gossip_.reset();
  manager_.reset();
  raft_.reset();
  store_.reset();
}

void Node::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (gossip_) gossip_->leave();  // its dead-with-leave goes out before the host exits
  seams_.net.stop();
}

PeerIdentity Node::self_identity() const {
  return PeerIdentity{record_->node_id(), store::from_store(record_->role()), record_->cluster_id()};
}

std::vector<std::string> Node::trusted_roots() const {
  return {record_->trusted_roots_pem().begin(), record_->trusted_roots_pem().end()};
}

std::vector<std::string> Node::with_old_roots(std::vector<std::string> roots) const {
  for (const std::string& old : trusted_roots()) {
    if (std::find(roots.begin(), roots.end(), old) == roots.end()) roots.push_back(old);
  }
  return roots;
}

TlsIdentity Node::tls_identity() const { return TlsIdentity{record_->cert_pem(), record_->key_pem(), trusted_roots()}; }

// An agent may still take this node for a manager (it was one, or the agent's list is old):
// its heartbeat is answered with the managers this node knows of, so it looks there instead.
void Node::serve_as_worker() {
  rpc_.serve("dispatcher.heartbeat", RpcAccess::kAnyNode,
             [this, alive = std::weak_ptr<bool>(alive_)](const PeerIdentity*, std::string, Rpc::Reply reply) {
               if (alive.expired() || manager_) return reply(Status::unavailable("try again"), "");
               dispatcherpb::HeartbeatResponse redirect;  // no session: not the leader
               *redirect.mutable_managers() = record_->managers();
               reply({}, redirect.SerializeAsString());
             });
}

storepb::NodeDescription Node::description() const {
  storepb::NodeDescription d = opts_.description;
  if (gossip_) d.set_gossip_addr(gossip_->advertise());
  d.set_certificate_pem(record_->cert_pem());
  return d;
}

void Node::save_record() { save_node_record(*disk_, *record_); }

// ---- running -------------------------------------------------------------------------------

Status Node::start_node(std::vector<NodeId> bootstrap_voters) {
  // A node that was away longer than its certificate lives cannot prove who it is any more.
  auto own = seams_.crypto.parse_certificate(record_->cert_pem());
  if (!own.ok()) return Status::corruption("this node's certificate is unreadable: " + own.status().message());
  if (own->not_after_unix_s < now_s()) {
    return Status::failed_precondition(
        "this node's certificate expired at " + wire::rfc3339(own->not_after_unix_s * 1'000'000'000LL) +
        " (it was offline longer than the certificate lives); move " + seams_.storage.describe() +
        " aside and join the cluster again with a join token");
  }
  if (Status s = seams_.net.set_identity(tls_identity()); !s.ok()) return s;
  if (Status s = seams_.net.listen(record_->listen_addr()); !s.ok()) return s;
  for (const auto& m : record_->managers()) {
    if (m.node_id() != record_->node_id()) seams_.net.set_peer_address(m.node_id(), m.addr());
  }
  rpc_.set_identity(self_identity());
  seams_.log.set_node(record_->node_id());
  env_ = std::make_unique<Env>(
      Env{seams_.clock, seams_.timers, seams_.rng, seams_.net.raft_transport(), *disk_, seams_.log});
  if (seams_.gossip) {
    std::string advertise = opts_.gossip_advertise_addr;
    if (advertise.empty()) {
      const std::string& a = record_->advertise_addr();
      advertise = a.substr(0, a.rfind(':')) + ":" + std::to_string(opts_.gossip_port);
    }
    gossip_ = std::make_unique<NodeGossip>(*env_, seams_.crypto, *seams_.gossip,
                                           NodeGossipOptions{record_->node_id(), opts_.hostname, advertise, opts_.bugs});
  }
  if (record_->role() == storepb::MANAGER) {
    if (Status s = start_manager(std::move(bootstrap_voters)); !s.ok()) return s;
  }
  if (!manager_) serve_as_worker();
  start_agent();
  schedule_renewal();
  poll_node_info();
  running_ = true;
  seams_.log.info("node", "{} of cluster {}, listening on {}", role_name(store::from_store(record_->role())),
                  record_->cluster_id(), record_->listen_addr());
  return {};
}

// The agent talks to the managers the cluster last named (this node first, if it is one).
void Node::start_agent() {
  agent::AgentOptions ao = opts_.agent;
  ao.bugs = opts_.bugs;
  ao.hostname = opts_.hostname;
  ao.description = description();
  ao.on_managers = [this](const google::protobuf::RepeatedPtrField<managerpb::ManagerAddress>& managers) {
    if (remember_managers(managers)) save_record_durably();
  };
  agent_ = std::make_unique<agent::Agent>(
      *env_, rpc_, seams_.runtime,
      [this] {
        std::vector<NodeId> ids;
        if (manager_) ids.push_back(record_->node_id());
        for (const auto& m : record_->managers()) {
          if (m.node_id() != record_->node_id()) ids.push_back(m.node_id());
        }
        return ids;
      },
      ao);
  agent_->start();
}

// The manager's parts: Raft on the sealed disk, the replicated store, the Manager.
Status Node::start_manager(std::vector<NodeId> bootstrap_voters) {
  // A founder that restarts before its founding committed may also have lost Raft's bootstrap
  // (it is made durable by Raft's first sync): RaftNode writes it again if it is not whole.
  if (bootstrap_voters.empty() && disk_->get("node/founding")) bootstrap_voters = {record_->node_id()};
  store_ = std::make_unique<store::Store>(opts_.bugs);
  store_->on_change([this](const storepb::StoreAction& a) { on_store_change(a); });
  raft::RaftNodeOptions ro;
  ro.raft.id = record_->node_id();
  ro.raft.election_tick = opts_.election_ticks;
  ro.raft.heartbeat_tick = opts_.heartbeat_ticks;
  ro.raft.max_msg_bytes = opts_.max_msg_bytes;
  ro.raft.max_inflight = opts_.max_inflight;
  ro.raft.pre_vote = opts_.pre_vote;
  ro.raft.check_quorum = opts_.check_quorum;
  ro.raft.bugs = opts_.bugs;
  ro.tick_interval = opts_.tick;
  ro.snapshot_every = opts_.snapshot_every;
  ro.keep_behind_snapshot = opts_.keep_behind_snapshot;
  ro.bootstrap_voters = std::move(bootstrap_voters);
  ro.force_new_cluster = opts_.force_new_cluster;
  if (opts_.force_new_cluster) seams_.log.warn("node", "--force-new-cluster: this manager alone is now the cluster");
  raft_ = std::make_unique<raft::RaftNode>(*env_, ro, *store_, opts_.raft_events ? opts_.raft_events() : raft::RaftNodeEvents{});
  if (!raft_->status().ok()) return Status::corruption("raft state: " + raft_->status().message());
  manager::ManagerOptions mo = opts_.manager;
  mo.self = record_->node_id();
  mo.orchestrator.bugs = opts_.bugs;
  mo.dispatcher.bugs = opts_.bugs;
  manager_ = std::make_unique<manager::Manager>(*env_, seams_.crypto, rpc_, *raft_, *store_, mo);
  if (disk_->get("node/founding")) found_cluster_when_leader();
  if (on_manager_changed_) on_manager_changed_();
  return {};
}

// A demoted manager leaves Raft (the leader removes it) and forgets its copy of the log.
void Node::stop_manager() {
  manager_.reset();
  raft_.reset();
  store_.reset();
  serve_as_worker();
  raft::RaftNode::forget_log(*disk_);
  disk_->sync([](Status) {});
  if (on_manager_changed_) on_manager_changed_();
}

void Node::on_store_change(const storepb::StoreAction& a) {
  std::weak_ptr<bool> alive = alive_;
  if (a.object_case() == storepb::StoreAction::kNode) {
    const auto& n = a.node();
    auto id = ca::parse_node_id(n.id());
    if (!id.ok()) return;
    if (*id == record_->node_id()) {
      // Promotion or demotion of this node: on a later turn, so the store finishes applying.
      if (n.spec().desired_role() != record_->role()) {
        seams_.timers.after(Duration::zero(), [this, alive] {
          if (!alive.expired()) check_node_info();
        });
      }
      return;
    }
    if (a.kind() == storepb::StoreAction::REMOVE) {
      seams_.net.forget_peer(*id);
    } else if (!n.addr().empty()) {
      // Managers for Raft; workers too, whose agents a manager asks for task logs.
      seams_.net.set_peer_address(*id, n.addr());
    }
  } else if (a.object_case() == storepb::StoreAction::kCluster) {
    apply_autolock(a.cluster());
    seams_.timers.after(Duration::zero(), [this, alive] {
      if (!alive.expired()) check_node_info();
    });
  }
}

// What the cluster wants of this node, against what it has: a manager reads it from its own
// store, a worker asks a manager every node_info_every.
void Node::check_node_info() {
  if (asks_itself() && store_->cluster()) apply_node_info(manager_->node_info(record_->node_id()));
}

bool Node::asks_itself() const {
  if (!manager_ || !store_ || manager_->leader() == 0) return false;
  const auto* self = store_->find_node(ca::node_id_text(record_->node_id()));
  return !self || self->spec().desired_role() != storepb::WORKER;
}

NodeId Node::next_manager() {
  // The managers it last heard of, and, on a manager, those its own store knows (its record
  // may predate the latest promotion).
  std::vector<NodeId> others;
  auto add = [&](NodeId id) {
    if (id != record_->node_id() && std::find(others.begin(), others.end(), id) == others.end()) others.push_back(id);
  };
  // The manager its agent has a session with first: the others may have moved on.
  if (agent_ && agent_->in_session()) add(agent_->manager());
  for (const auto& m : record_->managers()) add(m.node_id());
  if (store_) {
    google::protobuf::RepeatedPtrField<managerpb::ManagerAddress> known;
    store::list_managers(*store_, &known);
    for (const auto& m : known) add(m.node_id());
  }
  if (others.empty()) return 0;
  manager_turn_ = manager_turn_ == 0 ? seams_.rng.uniform(1, others.size()) : manager_turn_ + 1;
  return others[manager_turn_ % others.size()];
}

void Node::poll_node_info() {
  seams_.timers.cancel(info_timer_);
  info_timer_ = seams_.timers.after(opts_.node_info_every, [this] { poll_node_info(); });
  if (asks_itself()) return check_node_info();
  const NodeId to = next_manager();
  if (to == 0) return;
  rpc_.call(to, "node.info", "", opts_.node_info_every,
            [this, alive = std::weak_ptr<bool>(alive_)](Status s, std::string body) {
              managerpb::NodeInfoResponse info;
              if (!alive.expired() && s.ok() && info.ParseFromString(body)) apply_node_info(info);
            });
}

namespace {
bool same_managers(const google::protobuf::RepeatedPtrField<managerpb::ManagerAddress>& a,
                   const google::protobuf::RepeatedPtrField<managerpb::ManagerAddress>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return x.node_id() == y.node_id() && x.addr() == y.addr() && x.gossip_addr() == y.gossip_addr();
  });
}
}  // namespace

// Kept across a restart: a node finds the cluster again through the managers it last knew.
bool Node::remember_managers(const google::protobuf::RepeatedPtrField<managerpb::ManagerAddress>& managers) {
  if (managers.empty() || same_managers(managers, record_->managers())) return false;
  *record_->mutable_managers() = managers;
  for (const auto& m : managers) {
    if (m.node_id() != record_->node_id()) seams_.net.set_peer_address(m.node_id(), m.addr());
  }
  return true;
}

void Node::save_record_durably() {
  save_record();
  disk_->sync([this, alive = std::weak_ptr<bool>(alive_)](Status s) {
    if (!alive.expired() && !s.ok()) seams_.log.error("node", "saving the node record: {}", s.message());
  });
}

void Node::apply_node_info(const managerpb::NodeInfoResponse& info) {
  if (gossip_) gossip_->update(info);
  bool save = remember_managers(info.managers());
  std::vector<std::string> roots(info.trusted_roots_pem().begin(), info.trusted_roots_pem().end());
  if (opts_.bugs.node_keeps_old_roots) roots = with_old_roots(roots);
  if (!roots.empty() && roots != trusted_roots()) {
    const std::vector<std::string> before = trusted_roots();
    *record_->mutable_trusted_roots_pem() = {roots.begin(), roots.end()};
    if (Status s = seams_.net.set_identity(tls_identity()); !s.ok()) {
      *record_->mutable_trusted_roots_pem() = {before.begin(), before.end()};
      seams_.log.error("node", "new trust roots refused: {}", s.message());
    } else {
      // Kept across a restart: a node that came back trusting only a root the cluster has
      // rotated away from could not reach a manager to learn the new one.
      save = true;
      seams_.log.info("node", "now trusting {} root CA(s)", roots.size());
    }
  }
  if (save) save_record_durably();
  const bool wrong_role = info.has_role_to_certify() && info.role_to_certify() != record_->role();
  // Whether the certificate comes from the root that signs now: verified once per certificate
  // and root (a verification costs far more than the answer that asks for it).
  if (!info.signing_root_pem().empty() &&
      (info.signing_root_pem() != checked_root_ || record_->cert_pem() != checked_cert_)) {
    checked_root_ = info.signing_root_pem();
    checked_cert_ = record_->cert_pem();
    signed_by_root_ = seams_.crypto.verify_certificate(checked_cert_, {checked_root_}, now_s()).ok();
  }
  const bool wrong_root = !info.signing_root_pem().empty() && !signed_by_root_;
  if ((wrong_role || wrong_root) && !renewing_) {
    seams_.log.info("node", "renewing the certificate now: {}",
                    wrong_role ? "the cluster changed this node's role" : "the root CA is rotating");
    renew();
  }
}

// Autolock on: the data key is sealed under the cluster's unlock key, and no key file stays on
// disk. Off: a key of this node's own, kept in the key file.
void Node::apply_autolock(const storepb::ClusterObject& c) {
  if (!disk_) return;
  if (c.autolock()) {
    auto key = parse_unlock_key(c.unlock_key());
    if (!key.ok() || *key == kek_) return;
    if (Status s = seams_.storage.rewrap(*key); !s.ok()) return seams_.log.error("node", "autolock: {}", s.message());
    kek_ = *key;
    seams_.storage.remove_unlock_key().ignore();
    seams_.log.info("node", "autolock: the data key is now sealed under the cluster's unlock key");
  } else {
    auto file = seams_.storage.read_unlock_key();
    if (file.ok() && *file) return;
    AeadKey fresh;
    seams_.crypto.random_bytes(fresh.data(), fresh.size());
    if (Status s = seams_.storage.rewrap(fresh); !s.ok()) return seams_.log.error("node", "autolock off: {}", s.message());
    kek_ = fresh;
    seams_.storage.write_unlock_key(kek_).ignore();
    seams_.log.info("node", "autolock off: the unlock key is kept in the data directory");
  }
}

bool Node::reachable(NodeId id) const {
  if (!record_ || id == record_->node_id()) return true;
  if (!raft_ || !manager_ || !manager_->is_leader()) return true;  // only the leader tracks followers
  const raft::Progress* pr = raft_->raft().progress(id);
  return pr != nullptr && pr->recent_active;
}

// A task's output, from the agent of the node that runs it. The address comes from the store,
// in case no change has named it here yet.
void Node::task_logs(const storepb::NodeObject& node, const agentpb::LogsRequest& request, Rpc::Reply done) {
  auto id = ca::parse_node_id(node.id());
  if (!id.ok()) return done(Status::invalid_argument("bad node id " + node.id()), "");
  if (!running_) return done(Status::unavailable("this node is not running"), "");
  if (*id != record_->node_id()) {
    if (node.addr().empty()) return done(Status::unavailable("the node has no known address"), "");
    seams_.net.set_peer_address(*id, node.addr());
  }
  rpc_.call(*id, agent::kLogsMethod, request.SerializeAsString(), std::chrono::seconds(3), std::move(done));
}

void Node::check_invariants() const {
  if (raft_) raft_->raft().check_invariants();
  if (store_) store_->check_invariants();
  if (manager_) manager_->check_invariants();
  if (agent_) agent_->check_invariants();
}

void Node::check_gossip_invariants() const {
  if (gossip_ && gossip_->membership()) gossip_->membership()->check_invariants();
  if (gossip_ && gossip_->table()) gossip_->table()->check_invariants();
}

}  // namespace shoal::node
