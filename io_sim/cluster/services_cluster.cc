#include "io_sim/cluster/services_cluster.h"

#include <algorithm>

#include "core/ca/node_identity.h"
#include "core/controlapi/cluster.h"
#include "core/controlapi/nodes.h"
#include "core/controlapi/services.h"
#include "core/node/unlock_key.h"
#include "core/orchestrator/updater.h"
#include "core/store/node_role.h"

namespace shoal::sim {

namespace {

using std::chrono::milliseconds;

std::string host_name(NodeId host) { return "n" + std::to_string(host); }
std::string zone_of(NodeId host) { return "z" + std::to_string(host % 3); }

node::NodeOptions node_options(NodeId host, const raft::RaftNodeOptions& raft, raft::RaftNodeEvents events,
                               const ServicesOptions& o) {
  node::NodeOptions no;
  no.hostname = host_name(host);
  no.listen_addr = sim_address(host);
  no.advertise_addr = sim_address(host);
  no.gossip_advertise_addr = host_name(host) + ":7946";
  no.description.mutable_platform()->set_os("linux");
  no.description.mutable_platform()->set_architecture("x86_64");
  no.autolock = o.autolock;
  no.cert_expiry_s = o.cert_expiry_s;
  no.tick = raft.tick_interval;
  no.election_ticks = raft.raft.election_tick;
  no.heartbeat_ticks = raft.raft.heartbeat_tick;
  no.snapshot_every = raft.snapshot_every;
  no.keep_behind_snapshot = raft.keep_behind_snapshot;
  no.max_msg_bytes = raft.raft.max_msg_bytes;
  no.max_inflight = raft.raft.max_inflight;
  no.pre_vote = raft.raft.pre_vote;
  no.check_quorum = raft.raft.check_quorum;
  no.bugs = o.bugs;
  no.raft_events = [events] { return events; };
  return no;
}

}  // namespace

// ---- hosts ---------------------------------------------------------------------------------

NodeHost::NodeHost(NodeId host, Env& env, const raft::RaftNodeOptions& raft, raft::RaftNodeEvents events,
                   ServicesCluster& cluster)
    : env_(env),
      crypto_(env.rng.next_u64()),
      mux_(env.transport),
      net_(env, crypto_, mux_, cluster.shown_certs(), host),
      gossip_(mux_.gossip()),
      storage_(env.disk, cluster.data_dir(host), host_name(host)),
      runtime_(env, cluster.options().tasks),
      node_(node::NodeSeams{env.clock, env.timers, env.rng, env.log, crypto_, net_, &gossip_, storage_, runtime_},
            node_options(host, raft, std::move(events), cluster.options())) {
  cluster.checker().forget_manager(host);
  cluster.started(host, *this);
}

NodeHost::~NodeHost() = default;

// ---- the cluster forming -------------------------------------------------------------------

ServicesCluster::ServicesCluster(ServicesOptions options) : options_(std::move(options)) {}

HostFactory ServicesCluster::host_factory() {
  return [this](NodeId id, Env& env, const raft::RaftNodeOptions& o,
                raft::RaftNodeEvents events) -> std::unique_ptr<NodeApp> {
    return std::make_unique<NodeHost>(id, env, o, std::move(events), *this);
  };
}

void ServicesCluster::attach(RaftCluster& raft) {
  raft_ = &raft;
  checker_ = std::make_unique<ServicesChecker>(raft.checker(), [this](NodeId h) { return store_of(h); });
  checker_crypto_ = std::make_unique<SimCrypto>(0);
  pki_ = std::make_unique<PkiChecker>(raft.checker(), *checker_crypto_, [this] {
    std::vector<PkiChecker::HostView> out;
    for (NodeId id = 1; id <= raft_->world().size(); ++id) {
      NodeHost* h = node_host(id);
      if (!h || !h->shoal_node().running()) continue;
      const nodepb::NodeRecord* rec = h->shoal_node().record();
      out.push_back(PkiChecker::HostView{id, rec->key_pem(), rec->cert_pem(), h->shoal_node().trusted_roots(),
                                         h->shoal_node().manager() != nullptr, h->now_ns() / 1'000'000'000});
    }
    return out;
  });
  raft_->world().set_wire_tap(
      [this](NodeId from, NodeId to, std::string_view payload) { pki_->on_message(from, to, payload); });
  raft_->world().after(std::chrono::seconds(1), [this] { tidy(); });
}

void ServicesCluster::check_pki_end() {
  const store::Store* st = store_of(raft_->leader());
  if (!st || !st->cluster()) return;
  pki_->check_end(*st->cluster(), [st](const std::string& cert_pem) -> std::string {
    for (const auto& [id, n] : st->nodes()) {
      if (n.cert_pem() == cert_pem) return role_name(store::from_store(n.spec().desired_role()));
    }
    return "";
  });
}

void ServicesCluster::tidy() {
  raft_->world().after(std::chrono::seconds(1), [this] { tidy(); });
  const NodeId l = raft_->leader();
  // Each host's node id as its data directory holds it now.
  for (NodeId host = 1; host <= raft_->world().size(); ++host) {
    NodeHost* h = node_host(host);
    if (!h || !h->shoal_node().record()) continue;
    current_id_[host] = h->shoal_node().id();
    auto cert = h->crypto().parse_certificate(h->shoal_node().record()->cert_pem());
    if (h->shoal_node().running() && cert.ok() && cert->not_after_unix_s < h->now_ns() / 1'000'000'000) {
      return start_over(host, "holds an expired certificate");  // tidied again in a second
    }
  }
  const store::Store* st = store_of(l);
  if (!st) return;
  const raft::Raft& r = node_host(l)->raft_node()->raft();
  for (const auto& [node_id, n] : st->nodes()) {
    const std::string id = node_id;  // a copy the lambdas below can capture
    // Stale: made for a host that now holds another node id (a join tried again, a disk lost).
    // A host with no id yet may still be hearing its join's answer: its nodes wait.
    const NodeId host = n.hostname().size() > 1 ? std::strtoull(n.hostname().c_str() + 1, nullptr, 10) : 0;
    auto cur = current_id_.find(host);
    if (cur == current_id_.end() || node_id_text(cur->second) == id) continue;
    if (n.state() == storepb::NodeObject::READY || tidying_.count(id)) continue;
    auto nid = ca::parse_node_id(id);
    if (!nid.ok()) continue;
    const bool member = r.is_voter(*nid) || r.is_learner(*nid);
    if (n.spec().desired_role() == storepb::MANAGER) {
      tidying_.insert(id);
      commit(
          "stale node " + id + " demoted",
          [id](NodeHost& via, const store::Store& s) -> std::optional<storepb::Transaction> {
            const storepb::NodeObject* n = s.find_node(id);
            if (!n || n->spec().desired_role() != storepb::MANAGER) return storepb::Transaction{};
            controlapi::NodeSpecChange change;
            change.role = storepb::WORKER;
            auto tx = controlapi::update_node(s, id, n->version(), change, via.now_ns());
            if (!tx.ok()) return storepb::Transaction{};  // the last manager: leave it
            return std::move(*tx);
          },
          50, [this, id] { tidying_.erase(id); });
    } else if (!member) {
      tidying_.insert(id);
      commit(
          "stale node " + id + " removed",
          [id](NodeHost&, const store::Store& s) -> std::optional<storepb::Transaction> {
            if (!s.find_node(id)) return storepb::Transaction{};
            auto tx = controlapi::remove_node(s, id, /*force=*/false, /*raft_member=*/false);
            if (!tx.ok()) return storepb::Transaction{};  // ready again, or a manager again: leave it
            return std::move(*tx);
          },
          50, [this, id] { tidying_.erase(id); });
    }
  }
}

NodeHost* ServicesCluster::node_host(NodeId host) {
  if (!raft_ || host == 0 || host > raft_->world().size()) return nullptr;
  return dynamic_cast<NodeHost*>(raft_->world().app(host));
}

const store::Store* ServicesCluster::store_of(NodeId host) {
  NodeHost* h = node_host(host);
  return h ? h->shoal_node().store() : nullptr;
}

NodeId ServicesCluster::node_of(NodeId host) const {
  auto it = node_of_.find(host);
  return it == node_of_.end() ? 0 : it->second;
}

void ServicesCluster::started(NodeId host, NodeHost& h) {
  World& w = raft_->world();
  const uint64_t life = w.incarnation(host);
  joining_.erase(host);
  node::Node& node = h.shoal_node();
  if (data_dir(host).created) {
    node.restart([this, host, life](Status s) {
      NodeHost* again = node_host(host);
      if (!again || raft_->world().incarnation(host) != life) return;
      const bool expired = s.code() == StatusCode::kFailedPrecondition && s.message().find("expired") != std::string::npos;
      if (s.code() == StatusCode::kNotFound || expired) {
        // Its init or join was cut short before its record was kept, or it was away longer than
        // its certificate lives: as an operator would, clear the data directory and start over.
        raft_->note(host, "node", host_name(host) + " cannot restart (" + s.message() + "): starting over");
        again->storage().wipe();
        raft_->checker().on_member_replaced(host);
        current_id_.erase(host);
        return started(host, *again);
      }
      if (!s.ok()) return raft_->note(host, "node", host_name(host) + " cannot restart: " + s.message());
      if (again->shoal_node().locked()) {
        raft_->note(host, "node", host_name(host) + " is locked until it is unlocked");
        raft_->world().after(options_.unlock_after, [this, host, life] { unlock(host, life); });
        return;
      }
      restarted(host);
    });
    return;
  }
  node_of_.erase(host);
  labelled_.erase(host);
  if (host == 1 && !founded_) {
    node.init([this, host](Result<node::InitResult> r) {
      if (!r.ok()) return raft_->note(host, "node", host_name(host) + " cannot init: " + r.status().message());
      raft_->note(host, "node", host_name(host) + " founded the cluster");
      founded_ = true;
      if (r->unlock_key) unlock_key_ = *r->unlock_key;  // the operator keeps it safe
      joined(host, r->node_id);
      create_services();
    });
    return;
  }
  w.after(milliseconds(100), [this, host, life] { join(host, life); });
}

void ServicesCluster::join(NodeId host, uint64_t life) {
  World& w = raft_->world();
  NodeHost* h = node_host(host);
  if (!h || w.incarnation(host) != life || node_of(host) != 0 || joining_.count(host)) return;
  auto retry = [this, host, life] { raft_->world().after(milliseconds(500), [this, host, life] { join(host, life); }); };
  // A token and a manager's address, as an operator reads them off a manager.
  NodeId via = raft_->leader();
  if (!store_of(via) || !store_of(via)->cluster()) via = 0;
  for (NodeId m = 1; via == 0 && m <= w.size(); ++m) {
    if (m != host && store_of(m) && store_of(m)->cluster()) via = m;
  }
  if (via == 0) return retry();
  const storepb::ClusterObject& c = *store_of(via)->cluster();
  const std::string token = host <= options_.managers ? c.manager_token() : c.worker_token();
  joining_.insert(host);
  h->shoal_node().join(token, sim_address(via), [this, host, life, via, retry](Result<node::JoinResult> r) {
    joining_.erase(host);
    if (raft_->world().incarnation(host) != life) return;
    if (!r.ok()) {
      raft_->note(host, "node", host_name(host) + " could not join through n" + std::to_string(via) + ": " +
                                    r.status().message());
      return retry();
    }
    raft_->note(host, "node", host_name(host) + " joined as a " + role_name(r->role));
    joined(host, r->node_id);
  });
}

void ServicesCluster::unlock(NodeId host, uint64_t life) {
  NodeHost* h = node_host(host);
  if (!h || raft_->world().incarnation(host) != life || !h->shoal_node().locked()) return;
  // The key the operator kept, and the newest one a running manager shows (`swarm unlock-key`).
  std::vector<std::string> keys = {unlock_key_};
  for (NodeId m = 1; m <= raft_->world().size(); ++m) {
    const store::Store* st = store_of(m);
    if (st && st->cluster() && st->cluster()->autolock()) keys.push_back(st->cluster()->unlock_key());
  }
  for (const std::string& text : keys) {
    auto key = node::parse_unlock_key(text);
    if (key.ok() && h->shoal_node().unlock(*key).ok()) {
      raft_->note(host, "node", host_name(host) + " unlocked");
      return restarted(host);
    }
  }
  // The founder crashed before its init printed the key: nobody ever had it.
  if (!founded_ && unlock_key_.empty() && keys.size() == 1) {
    raft_->checker().on_cluster_replaced();
    return start_over(host, "is locked and its init never reported the unlock key");
  }
  raft_->world().after(options_.unlock_after, [this, host, life] { unlock(host, life); });
}

// A host that restarted (or was unlocked) runs again: one that had not been heard of as joined
// (it crashed before its founding or join answer arrived) is now, and the services are made if
// that never happened.
void ServicesCluster::restarted(NodeId host) {
  NodeHost* h = node_host(host);
  if (!h || !h->shoal_node().running()) return;
  founded_ = true;  // it runs: a cluster exists
  if (node_of(host) != h->shoal_node().id() || !labelled_.count(host)) joined(host, h->shoal_node().id());
  if (!services_created_) create_services();
}

void ServicesCluster::joined(NodeId host, NodeId node) {
  node_of_[host] = node;
  // Its zone, as an operator labels a node (`node update --label-add zone=z1`).
  commit(
      host_name(host) + " labelled zone=" + zone_of(host),
      [this, host](NodeHost& via, const store::Store& st) -> std::optional<storepb::Transaction> {
        const storepb::NodeObject* n = st.find_node(node_id_text(node_of(host)));
        if (!n) return std::nullopt;  // not known to this manager yet
        if (n->spec().annotations().labels().count("zone")) return storepb::Transaction{};
        controlapi::NodeSpecChange change;
        change.labels = std::map<std::string, std::string>(n->spec().annotations().labels().begin(),
                                                           n->spec().annotations().labels().end());
        (*change.labels)["zone"] = zone_of(host);
        auto tx = controlapi::update_node(st, n->id(), n->version(), change, via.now_ns());
        if (!tx.ok()) return std::nullopt;
        return std::move(*tx);
      },
      1000, [this, host] { labelled_.insert(host); });
}

void ServicesCluster::start_over(NodeId host, const std::string& why) {
  raft_->note(host, "node", host_name(host) + " " + why + ": starting over");
  World& w = raft_->world();
  w.disk_loss(host);
  on_disk_loss(host);
  w.restart(host);
}

void ServicesCluster::on_disk_loss(NodeId host) {
  dirs_[host] = SimDataDir{};
  raft_->checker().on_member_replaced(host);
  current_id_.erase(host);
  node_of_.erase(host);
  labelled_.erase(host);
}

void ServicesCluster::create_services() {
  services_created_ = true;
  for (const SimService& s : options_.services) {
    storepb::ServiceSpec spec;
    spec.mutable_annotations()->set_name(s.name);
    if (s.global) {
      spec.mutable_global();
    } else {
      spec.mutable_replicated()->set_replicas(s.replicas);
    }
    auto* task = spec.mutable_task();
    task->mutable_container()->add_command("/bin/" + s.name);
    task->mutable_container()->set_stop_grace_period_ns(2'000'000'000);
    if (s.unhealthy > 0) task->mutable_container()->add_args("--sim-unhealthy-chance=" + std::to_string(s.unhealthy));
    if (s.health) {
      auto* h = task->mutable_container()->mutable_healthcheck();
      h->add_test("CMD");
      h->add_test("/bin/check");
      h->set_interval_ns(std::chrono::nanoseconds(s.health_interval).count());
      h->set_timeout_ns(std::chrono::nanoseconds(s.health_timeout).count());
      h->set_retries(s.health_retries);
      h->set_start_period_ns(std::chrono::nanoseconds(s.health_start_period).count());
    }
    task->mutable_restart()->set_delay_ns(std::chrono::nanoseconds(s.restart_delay).count());
    for (const auto& c : s.constraints) task->mutable_placement()->add_constraints(c);
    if (!s.spread.empty()) task->mutable_placement()->add_preferences()->set_spread(s.spread);
    task->mutable_placement()->set_max_replicas(s.max_per_node);
    for (auto* cfg : {spec.mutable_update_config(), spec.mutable_rollback_config()}) {
      cfg->set_parallelism(s.update_parallelism);
      cfg->set_delay_ns(std::chrono::nanoseconds(s.update_delay).count());
      cfg->set_monitor_ns(std::chrono::nanoseconds(s.update_monitor).count());
      cfg->set_order(s.update_start_first ? storepb::UpdateConfig::START_FIRST : storepb::UpdateConfig::STOP_FIRST);
    }
    spec.mutable_update_config()->set_failure_action(s.update_failure_action == "rollback" ? storepb::UpdateConfig::ROLLBACK
                                                     : s.update_failure_action == "continue"
                                                         ? storepb::UpdateConfig::CONTINUE
                                                         : storepb::UpdateConfig::PAUSE);
    commit(
        "service " + s.name + " created",
        [spec](NodeHost& via, const store::Store& st) -> std::optional<storepb::Transaction> {
          if (!st.cluster()) return std::nullopt;
          if (st.find_service(spec.annotations().name())) return storepb::Transaction{};  // created already
          auto created = controlapi::create_service(st, spec, via.now_ns(), via.crypto());
          if (!created.ok()) return std::nullopt;
          return std::move(created->tx);
        },
        1000);
  }
}

// ---- scenario actions ----------------------------------------------------------------------

void ServicesCluster::commit(std::string what, MakeTx make, int attempts, std::function<void()> committed,
                             std::function<void()> gave_up) {
  World& w = raft_->world();
  if (attempts <= 0) {
    if (gave_up) gave_up();
    return raft_->note(0, "services", what + ": gave up");
  }
  auto retry = [this, what, make, attempts, committed, gave_up] {
    raft_->world().after(milliseconds(200), [this, what, make, attempts, committed, gave_up] {
      commit(what, make, attempts - 1, committed, gave_up);
    });
  };
  // Ask the leader if there is one, else any running manager (it forwards or waits for one).
  NodeId target = raft_->leader();
  for (size_t i = 0; target == 0 && i < w.size(); ++i) {
    const NodeId m = 1 + (next_target_++ % w.size());
    if (store_of(m)) target = m;
  }
  if (target == 0) return retry();
  // The attempt ends once: answered, or — if the manager crashes with it (its callbacks die with
  // it) — given up on after longer than a forwarded write may take.
  auto ended = std::make_shared<bool>(false);
  auto once = [ended, retry] {
    if (*ended) return;
    *ended = true;
    retry();
  };
  w.after(std::chrono::seconds(7), once);
  w.after_on(target, Duration(0), [this, target, what, make, once, ended, committed] {
    NodeHost* h = node_host(target);
    if (!h || !h->shoal_node().manager() || !h->shoal_node().store()) return once();
    std::optional<storepb::Transaction> tx = make(*h, *h->shoal_node().store());
    if (!tx) return once();  // this manager has not caught up yet
    h->shoal_node().manager()->submit(std::move(*tx), [this, target, what, once, ended, committed](Status s, uint64_t index) {
      if (!s.ok()) return once();
      // A success after the attempt was given up on still happened (the retry may apply it again).
      *ended = true;
      raft_->note(target, "services", what + " (index " + std::to_string(index) + ")");
      if (committed) committed();
    });
  });
}

void ServicesCluster::scale(const std::string& service, uint64_t replicas) {
  commit(
      "service " + service + " scaled to " + std::to_string(replicas),
      [service, replicas](NodeHost& via, const store::Store& st) -> std::optional<storepb::Transaction> {
        const storepb::ServiceObject* svc = st.find_service(service);
        if (!svc) return std::nullopt;
        if (!svc->spec().has_replicated()) return storepb::Transaction{};
        storepb::ServiceSpec spec = svc->spec();
        spec.mutable_replicated()->set_replicas(replicas);
        auto tx = controlapi::update_service(st, svc->id(), svc->version(), std::move(spec), via.now_ns());
        if (!tx.ok()) return std::nullopt;
        return std::move(*tx);
      },
      100);
}

namespace {
// The N of a spec's "--version N" arguments (1: none, the service as founded).
uint64_t version_in(const storepb::ServiceSpec& spec) {
  const auto& args = spec.task().container().args();
  for (int i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--version") return std::strtoull(args[i + 1].c_str(), nullptr, 10);
  }
  return 1;
}
}  // namespace

void ServicesCluster::update(const std::string& service, Version kind) {
  const uint64_t version = ++versions_[service];
  std::vector<std::string> args = {"--version", std::to_string(version + 1)};
  if (kind == Version::kCrashes) args.push_back("--sim-fail");
  if (kind == Version::kUnhealthy) args.push_back("--sim-unhealthy");
  const bool failing = kind != Version::kWorks;
  // Whether this version committed (made by the attempt, or found as the spec or the previous
  // spec); not when a newer version came first and it never did (see below).
  auto applied = std::make_shared<bool>(false);
  // How it must end, judged by version number (Expected).
  unsettled_[service].insert(version + 1);
  auto settle = [this, service, mine = version + 1] { unsettled_[service].erase(mine); };
  auto committed = [this, service, args, failing, applied, settle, mine = version + 1] {
    settle();
    if (!*applied) return;
    Expected& e = expected_[service];
    if (!failing && mine > e.good_version) {
      e.good_version = mine;
      e.args = args;  // a failing version's rollback comes back to it
    }
    if (mine <= e.version) return;  // a newer version decides how the update ends
    e.version = mine;
    if (failing) {
      failing_.insert(service);
      e.state = storepb::UpdateStatus::ROLLBACK_COMPLETED;  // args stay those of the last good version
    } else {
      e.state = storepb::UpdateStatus::COMPLETED;
      failing_.erase(service);
    }
  };
  if (failing) failing_.insert(service);  // from the request on: its tasks may fail before it is known to be committed
  commit(
      "service " + service + " updated to version " + std::to_string(version + 1) +
          (kind == Version::kCrashes ? " (failing)" : kind == Version::kUnhealthy ? " (unhealthy)" : ""),
      [this, service, args, applied, mine = version + 1](NodeHost& via,
                                                         const store::Store& st) -> std::optional<storepb::Transaction> {
        const storepb::ServiceObject* svc = st.find_service(service);
        if (!svc) return std::nullopt;
        const std::set<uint64_t>& unsettled = unsettled_[service];
        if (!unsettled.empty() && *unsettled.begin() < mine) return std::nullopt;  // an earlier one goes first
        // Updates take effect in the order they were asked for, each once. This one may have
        // committed already, unbeknown to us (its leader died before answering), or a newer one
        // may have come first (this one's retries outlasted it): either way there is nothing to
        // send. Sent again it would make a version its own previous spec, or put a failing
        // version after a failing one, and roll back to what cannot run.
        const uint64_t current = version_in(svc->spec()), previous = version_in(svc->previous_spec());
        if (std::max(current, previous) >= mine) {
          // Committed if it is still there, as the spec or under a newer one whose rollback
          // returned to it.
          *applied = current == mine || previous == mine;
          return storepb::Transaction{};
        }
        storepb::ServiceSpec spec = svc->spec();
        auto* c = spec.mutable_task()->mutable_container();
        c->clear_args();
        for (const auto& arg : args) c->add_args(arg);
        auto tx = controlapi::update_service(st, svc->id(), svc->version(), std::move(spec), via.now_ns());
        if (!tx.ok()) return std::nullopt;
        *applied = true;
        return std::move(*tx);
      },
      100, committed, settle);
}

void ServicesCluster::check_update_bounds() {
  const NodeId leader = raft_->leader();
  const store::Store* leader_store = store_of(leader);
  if (!leader_store) return;
  const store::Store& st = *leader_store;
  // Nothing to look at again while neither the leader's store nor any runtime moved.
  uint64_t seen = leader * 1'000'003 + st.last_index();
  for (NodeId id = 1; id <= raft_->world().size(); ++id) {
    if (NodeHost* h = node_host(id)) seen = seen * 31 + h->runtime().events() + raft_->world().incarnation(id);
  }
  if (seen == bounds_seen_) return;
  bounds_seen_ = seen;
  // Per service id: tasks running in the runtimes, and of those the healthy ones (RUNNING in the
  // leader's store: an agent reports RUNNING only once a task's first health check has passed,
  // and FAILED once its checks fail).
  std::map<std::string, uint64_t> running, healthy;
  for (NodeId id = 1; id <= raft_->world().size(); ++id) {
    NodeHost* h = node_host(id);
    if (!h) continue;
    for (const auto& tid : h->runtime().running()) {
      const auto* task = st.find_task(tid);
      if (!task) continue;
      ++running[task->service_id()];
      if (task->status().state() == storepb::RUNNING) ++healthy[task->service_id()];
    }
  }
  for (const auto& [sid, svc] : st.services()) {
    if (!svc.spec().has_replicated() || !orchestrator::update_in_progress(svc.update_status())) continue;
    const auto& cfg = orchestrator::active_update_config(svc);
    const uint64_t replicas = svc.spec().replicated().replicas();
    const uint64_t p = cfg.parallelism() == 0 ? replicas : cfg.parallelism();
    const bool start_first = cfg.order() == storepb::UpdateConfig::START_FIRST;
    const uint64_t most = replicas + (start_first ? p : 0);
    const uint64_t least = replicas > p ? replicas - p : 0;
    const uint64_t n = running[sid], well = healthy[sid];
    const std::string name = svc.spec().annotations().name();
    // The lower bound is the updater's promise about the tasks it stops; once new tasks fail by
    // themselves (a failing version, and its rollback) they are down of their own accord.
    const bool failing = failing_.count(name) > 0;
    if (n > most && bound_reported_.insert(name + "/most").second) {
      raft_->checker().add("update-bounds", name + " runs " + std::to_string(n) + " tasks during its update, more than " +
                                                std::to_string(most) + (start_first ? " (start-first)" : " (stop-first)"));
    } else if (well < least && !failing && bound_reported_.insert(name + "/least").second) {
      raft_->checker().add("update-bounds", name + " has only " + std::to_string(well) + " healthy tasks (" +
                                                std::to_string(n) + " running) during its update, fewer than " +
                                                std::to_string(replicas) + " replicas less parallelism " + std::to_string(p));
    }
  }
}

void ServicesCluster::set_availability(NodeId host, storepb::NodeSpec::Availability availability) {
  commit(
      host_name(host) + " availability " + storepb::NodeSpec::Availability_Name(availability),
      [this, host, availability](NodeHost& via, const store::Store& st) -> std::optional<storepb::Transaction> {
        const storepb::NodeObject* n = node_of(host) ? st.find_node(node_id_text(node_of(host))) : nullptr;
        if (!n) return std::nullopt;
        controlapi::NodeSpecChange change;
        change.availability = availability;
        auto tx = controlapi::update_node(st, n->id(), n->version(), change, via.now_ns());
        if (!tx.ok()) return std::nullopt;
        return std::move(*tx);
      },
      100);
}

void ServicesCluster::set_role(NodeId host, storepb::NodeRole role) {
  commit(
      host_name(host) + (role == storepb::MANAGER ? " promoted" : " demoted"),
      [this, host, role](NodeHost& via, const store::Store& st) -> std::optional<storepb::Transaction> {
        const storepb::NodeObject* n = node_of(host) ? st.find_node(node_id_text(node_of(host))) : nullptr;
        if (!n) return std::nullopt;
        if (n->spec().desired_role() == role) return storepb::Transaction{};
        controlapi::NodeSpecChange change;
        change.role = role;
        auto tx = controlapi::update_node(st, n->id(), n->version(), change, via.now_ns());
        if (!tx.ok()) return storepb::Transaction{};  // the last manager stays one
        return std::move(*tx);
      },
      100);
}

void ServicesCluster::rotate_ca() {
  auto asked = std::make_shared<uint64_t>(0);  // the ForceRotate value this request wants
  commit(
      "root CA rotation",
      [asked](NodeHost& via, const store::Store& st) -> std::optional<storepb::Transaction> {
        const storepb::ClusterObject* c = st.cluster();
        if (!c) return std::nullopt;
        if (*asked == 0) *asked = c->ca_force_rotate() + 1;
        if (c->ca_force_rotate() >= *asked) return storepb::Transaction{};  // asked already
        controlapi::ClusterChange change;
        change.ca_force_rotate = *asked;
        auto tx = controlapi::update_cluster(st, c->version(), change, via.now_ns(), via.crypto());
        if (!tx.ok()) return std::nullopt;
        return std::move(*tx);
      },
      100);
}

void ServicesCluster::stop_task_faults() {
  options_.tasks.fail_start = options_.tasks.crash = options_.tasks.hang = 0;
  for (NodeId id = 1; id <= raft_->world().size(); ++id) {
    if (NodeHost* h = node_host(id)) h->runtime().set_faults_enabled(false);
  }
}

std::string ServicesCluster::unconverged() {
  const NodeId l = raft_->leader();
  const store::Store* leader_store = store_of(l);
  if (!leader_store) return "no leader";
  const store::Store& st = *leader_store;
  if (st.cluster() && st.cluster()->has_rotation()) {
    NodeHost* lh = node_host(l);
    for (const auto& [id, n] : st.nodes()) {
      if (!lh->crypto()
               .verify_certificate(n.description().certificate_pem(), {st.cluster()->rotation().new_cert_pem()},
                                   lh->now_ns() / 1'000'000'000)
               .ok()) {
        return "the root CA rotation waits for node " + id + " (" + n.hostname() + ", " +
               storepb::NodeObject::State_Name(n.state()) + ")";
      }
    }
    return "the root CA rotation is ending";
  }
  std::map<std::string, std::vector<std::string>> running;  // node id -> tasks its runtime runs
  for (NodeId id = 1; id <= raft_->world().size(); ++id) {
    NodeHost* h = node_host(id);
    if (!h) return host_name(id) + " is down";
    if (h->shoal_node().locked()) return host_name(id) + " is locked";
    if (!h->shoal_node().running()) return host_name(id) + " has not joined";
    if (!labelled_.count(id)) return host_name(id) + " is not labelled yet";
    const std::vector<std::string>& roots = h->shoal_node().trusted_roots();
    if (st.cluster() && (roots.size() != 1 || roots.front() != st.cluster()->root_ca_cert_pem())) {
      return host_name(id) + " trusts " + std::to_string(roots.size()) + " root(s), not the cluster's root alone";
    }
    if (const auto* n = st.find_node(node_id_text(h->shoal_node().id()));
        n && n->spec().desired_role() != h->shoal_node().record()->role()) {
      return host_name(id) + "'s certificate says " + role_name(store::from_store(h->shoal_node().record()->role())) +
             ", the cluster wants a " + role_name(store::from_store(n->spec().desired_role()));
    }
    running[node_id_text(h->shoal_node().id())] = h->runtime().running();
  }
  std::string reason = unconverged_reason(st, [&running](const std::string& nid) -> const std::vector<std::string>* {
    auto it = running.find(nid);
    return it == running.end() ? nullptr : &it->second;
  });
  if (!reason.empty()) return reason;
  if (st.services().size() < options_.services.size()) return "not every service is created yet";
  // Updates asked for must have ended as they should: completed (a failing one rolled back),
  // every live task on the expected version.
  for (const auto& [name, e] : expected_) {
    const storepb::ServiceObject* svc = st.find_service(name);
    if (!svc) continue;
    if (svc->update_status().state() != e.state) {
      return "service " + name + ": update " + storepb::UpdateStatus::State_Name(svc->update_status().state()) + " (\"" +
             svc->update_status().message() + "\"), expected " + storepb::UpdateStatus::State_Name(e.state);
    }
    for (const auto* t : st.tasks_of_service(svc->id())) {
      if (t->desired_state() > storepb::RUNNING) continue;
      const auto& args = t->spec().container().args();
      if (!std::equal(args.begin(), args.end(), e.args.begin(), e.args.end())) {
        auto join = [](const auto& list) {
          std::string out;
          for (const auto& a : list) out += (out.empty() ? "" : " ") + a;
          return out;
        };
        return "service " + name + ": task " + t->id() + " (slot " + std::to_string(t->slot()) + ", " +
               storepb::TaskState_Name(t->status().state()) + ") runs [" + join(args) + "], expected [" +
               join(e.args) + "]; the service's spec has [" + join(svc->spec().task().container().args()) +
               "], update " + storepb::UpdateStatus::State_Name(svc->update_status().state()) + " (\"" +
               svc->update_status().message() + "\"), service at index " + std::to_string(svc->version()) +
               ", spec version " + std::to_string(svc->spec_version()) + ", task made at index " +
               std::to_string(t->created_index());
      }
    }
  }
  return "";
}

}  // namespace shoal::sim
