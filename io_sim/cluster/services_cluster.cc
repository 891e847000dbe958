#include "io_sim/cluster/services_cluster.h"

#include "core/ca/node_identity.h"
#include "core/orchestrator/updater.h"

#include <algorithm>

namespace shoal::sim {

namespace {

using std::chrono::milliseconds;

agent::AgentOptions agent_options(NodeId id) {
  agent::AgentOptions o;
  o.hostname = "n" + std::to_string(id);
  o.description.mutable_platform()->set_os("linux");
  o.description.mutable_platform()->set_architecture("x86_64");
  return o;
}

std::string zone_of(NodeId id) { return "z" + std::to_string(id % 3); }

}  // namespace

// ---- hosts ---------------------------------------------------------------------------------

TaskHost::TaskHost(NodeId id, Env& env, Rpc& rpc, const TaskFaults& faults, size_t managers)
    : runtime_(env, faults),
      agent_(env, rpc, runtime_,
             [managers] {
               std::vector<NodeId> ids;
               for (NodeId m = 1; m <= managers; ++m) ids.push_back(m);
               return ids;
             },
             agent_options(id)) {
  agent_.start();
}

ManagerHost::ManagerHost(NodeId id, Env& env, const raft::RaftNodeOptions& options, raft::RaftNodeEvents events,
                         ServicesCluster& cluster)
    : mux_(env.transport),
      wire_(mux_.rpc(), id, [&cluster](NodeId n) { return std::optional<PeerIdentity>(cluster.identity_of(n)); }, {}),
      rpc_(env.timers, env.rng, env.log, wire_, cluster.identity_of(id)),
      crypto_(env.rng.next_u64()),
      raft_env_{env.clock, env.timers, env.rng, mux_.raft(), env.disk, env.log},
      raft_(raft_env_, options, store_, std::move(events)),
      manager_(raft_env_, crypto_, rpc_, raft_, store_,
               [&] {
                 manager::ManagerOptions mo;
                 mo.self = id;
                 mo.orchestrator.bugs = cluster.options().bugs;
                 return mo;
               }()),
      tasks_(id, env, rpc_, cluster.options().tasks, cluster.options().managers) {
  cluster.checker().forget_manager(id);
}

ManagerHost::~ManagerHost() = default;

WorkerHost::WorkerHost(NodeId id, Env& env, ServicesCluster& cluster)
    : mux_(env.transport),
      wire_(mux_.rpc(), id, [&cluster](NodeId n) { return std::optional<PeerIdentity>(cluster.identity_of(n)); }, {}),
      rpc_(env.timers, env.rng, env.log, wire_, cluster.identity_of(id)),
      tasks_(id, env, rpc_, cluster.options().tasks, cluster.options().managers) {}

// ---- the cluster ---------------------------------------------------------------------------

ServicesCluster::ServicesCluster(ServicesOptions options) : options_(std::move(options)) {}

std::string ServicesCluster::node_id(NodeId id) { return ca::node_id_text(id); }

HostFactory ServicesCluster::host_factory() {
  return [this](NodeId id, Env& env, const raft::RaftNodeOptions& o,
                raft::RaftNodeEvents events) -> std::unique_ptr<NodeApp> {
    if (id <= options_.managers) return std::make_unique<ManagerHost>(id, env, o, std::move(events), *this);
    return std::make_unique<WorkerHost>(id, env, *this);
  };
}

void ServicesCluster::attach(RaftCluster& raft) {
  raft_ = &raft;
  checker_ = std::make_unique<ServicesChecker>(raft.checker(), [this](NodeId m) -> const store::Store* {
    ManagerHost* h = manager_host(m);
    return h ? &h->store() : nullptr;
  });
}

ManagerHost* ServicesCluster::manager_host(NodeId id) {
  return raft_ ? dynamic_cast<ManagerHost*>(raft_->world().app(id)) : nullptr;
}

TaskHost* ServicesCluster::task_host(NodeId id) {
  NodeApp* app = raft_ ? raft_->world().app(id) : nullptr;
  if (auto* m = dynamic_cast<ManagerHost*>(app)) return &m->tasks();
  if (auto* w = dynamic_cast<WorkerHost*>(app)) return &w->tasks();
  return nullptr;
}

void ServicesCluster::commit(std::string what, MakeTx make, int attempts, std::function<void()> committed) {
  World& w = raft_->world();
  if (attempts <= 0) return raft_->note(0, "services", what + ": gave up");
  auto retry = [this, what, make, attempts, committed] {
    raft_->world().after(milliseconds(200),
                         [this, what, make, attempts, committed] { commit(what, make, attempts - 1, committed); });
  };
  // Ask the leader if there is one, else any live manager (it forwards or waits for a leader).
  NodeId target = raft_->leader();
  for (size_t i = 0; target == 0 && i < options_.managers; ++i) {
    const NodeId m = 1 + (next_target_++ % options_.managers);
    if (manager_host(m)) target = m;
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
    ManagerHost* h = manager_host(target);
    if (!h) return once();
    std::optional<storepb::Transaction> tx = make(h->store());
    if (!tx) return once();  // this manager has not caught up yet
    h->manager().submit(std::move(*tx), [this, target, what, once, ended, committed](Status s, uint64_t index) {
      if (!s.ok()) return once();
      // A success after the attempt was given up on still happened (the retry may apply it again).
      *ended = true;
      raft_->note(target, "services", what + " (index " + std::to_string(index) + ")");
      if (committed) committed();
    });
  });
}

void ServicesCluster::found() {
  commit(
      "cluster founded",
      [this](const store::Store& st) -> std::optional<storepb::Transaction> {
        storepb::Transaction tx;
        if (st.cluster()) return tx;  // already founded: an empty transaction commits at once
        auto* c = tx.add_actions();
        c->set_kind(storepb::StoreAction::CREATE);
        c->mutable_cluster()->set_id("simcluster");
        c->mutable_cluster()->set_name("default");
        for (NodeId id = 1; id <= raft_->world().size(); ++id) {
          auto* a = tx.add_actions();
          a->set_kind(storepb::StoreAction::CREATE);
          auto* n = a->mutable_node();
          n->set_id(node_id(id));
          const storepb::NodeRole role = id <= options_.managers ? storepb::MANAGER : storepb::WORKER;
          n->mutable_spec()->set_desired_role(role);
          n->mutable_spec()->set_availability(storepb::NodeSpec::ACTIVE);
          (*n->mutable_spec()->mutable_annotations()->mutable_labels())["zone"] = zone_of(id);
          n->set_role(role);
          n->set_hostname("n" + std::to_string(id));
          n->set_state(storepb::NodeObject::UNKNOWN);
        }
        for (const SimService& s : options_.services) {
          auto* a = tx.add_actions();
          a->set_kind(storepb::StoreAction::CREATE);
          auto* svc = a->mutable_service();
          svc->set_id("svc-" + s.name);
          svc->set_spec_version(1);
          auto* spec = svc->mutable_spec();
          spec->mutable_annotations()->set_name(s.name);
          if (s.global) {
            spec->mutable_global();
          } else {
            spec->mutable_replicated()->set_replicas(s.replicas);
          }
          auto* task = spec->mutable_task();
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
          for (auto* cfg : {spec->mutable_update_config(), spec->mutable_rollback_config()}) {
            cfg->set_parallelism(s.update_parallelism);
            cfg->set_delay_ns(std::chrono::nanoseconds(s.update_delay).count());
            cfg->set_monitor_ns(std::chrono::nanoseconds(s.update_monitor).count());
            cfg->set_order(s.update_start_first ? storepb::UpdateConfig::START_FIRST : storepb::UpdateConfig::STOP_FIRST);
          }
          spec->mutable_update_config()->set_failure_action(
              s.update_failure_action == "rollback"   ? storepb::UpdateConfig::ROLLBACK
              : s.update_failure_action == "continue" ? storepb::UpdateConfig::CONTINUE
                                                      : storepb::UpdateConfig::PAUSE);
        }
        return tx;
      },
      1000);
}

void ServicesCluster::scale(const std::string& service, uint64_t replicas) {
  commit(
      "service " + service + " scaled to " + std::to_string(replicas),
      [service, replicas](const store::Store& st) -> std::optional<storepb::Transaction> {
        storepb::Transaction tx;
        const storepb::ServiceObject* svc = st.find_service(service);
        if (!svc) return std::nullopt;
        if (!svc->spec().has_replicated()) return tx;
        auto* a = tx.add_actions();
        a->set_kind(storepb::StoreAction::UPDATE);
        *a->mutable_service() = *svc;
        a->mutable_service()->mutable_spec()->mutable_replicated()->set_replicas(replicas);
        return tx;
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
  auto committed = [this, service, args, failing, applied, mine = version + 1] {
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
      [service, args, applied, mine = version + 1](const store::Store& st) -> std::optional<storepb::Transaction> {
        storepb::Transaction tx;
        const storepb::ServiceObject* svc = st.find_service(service);
        if (!svc) return std::nullopt;
        // Updates take effect in the order they were asked for, each once. This one may have
        // committed already, unbeknown to us (its leader died before answering), or a newer one
        // may have come first (this one's retries outlasted it): either way there is nothing to
        // send. Sent again it would make a version its own previous spec, or put a failing
        // version after a failing one, and roll back to what cannot run.
        const uint64_t current = version_in(svc->spec()), previous = version_in(svc->previous_spec());
        if (std::max(current, previous) >= mine) {
          // Committed if it is still there, as the spec or under a newer one (seed 95 of
          // services_unhealthy: it committed, a failing newer one followed before this retry
          // looked, and that one's rollback returned to it).
          *applied = current == mine || previous == mine;
          return tx;
        }
        *applied = true;
        auto* a = tx.add_actions();
        a->set_kind(storepb::StoreAction::UPDATE);
        storepb::ServiceObject next = *svc;
        *next.mutable_previous_spec() = svc->spec();
        auto* c = next.mutable_spec()->mutable_task()->mutable_container();
        c->clear_args();
        for (const auto& arg : args) c->add_args(arg);
        next.set_spec_version(svc->spec_version() + 1);
        // As the API does: a new spec (re)starts the update.
        auto* us = next.mutable_update_status();
        us->Clear();
        us->set_state(storepb::UpdateStatus::UPDATING);
        us->set_started_at_ns(tx.now_ns());
        us->set_message("update in progress");
        *a->mutable_service() = std::move(next);
        return tx;
      },
      100, committed);
}

void ServicesCluster::check_update_bounds() {
  const NodeId l = raft_->leader();
  ManagerHost* h = l ? manager_host(l) : nullptr;
  if (!h) return;
  const store::Store& st = h->store();
  // Per service id: tasks running in the runtimes, and of those the healthy ones (RUNNING in the
  // leader's store: an agent reports RUNNING only once a task's first health check has passed,
  // and FAILED once its checks fail).
  std::map<std::string, uint64_t> running, healthy;
  for (NodeId id = 1; id <= raft_->world().size(); ++id) {
    TaskHost* t = task_host(id);
    if (!t) continue;
    for (const auto& tid : t->runtime().running()) {
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

void ServicesCluster::set_availability(NodeId node, storepb::NodeSpec::Availability availability) {
  commit(
      "n" + std::to_string(node) + " availability " + storepb::NodeSpec::Availability_Name(availability),
      [node, availability](const store::Store& st) -> std::optional<storepb::Transaction> {
        storepb::Transaction tx;
        const storepb::NodeObject* n = st.find_node(node_id(node));
        if (!n) return std::nullopt;
        auto* a = tx.add_actions();
        a->set_kind(storepb::StoreAction::UPDATE);
        *a->mutable_node() = *n;
        a->mutable_node()->mutable_spec()->set_availability(availability);
        return tx;
      },
      100);
}

void ServicesCluster::stop_task_faults() {
  options_.tasks.fail_start = options_.tasks.crash = options_.tasks.hang = 0;
  for (NodeId id = 1; id <= raft_->world().size(); ++id) {
    if (TaskHost* h = task_host(id)) h->runtime().set_faults_enabled(false);
  }
}

std::string ServicesCluster::unconverged() {
  const NodeId l = raft_->leader();
  ManagerHost* h = l ? manager_host(l) : nullptr;
  if (!h) return "no leader";
  std::map<std::string, std::vector<std::string>> running;
  for (NodeId id = 1; id <= raft_->world().size(); ++id) {
    if (TaskHost* t = task_host(id)) running[node_id(id)] = t->runtime().running();
  }
  std::string reason = unconverged_reason(h->store(), [&running](const std::string& nid) -> const std::vector<std::string>* {
    auto it = running.find(nid);
    return it == running.end() ? nullptr : &it->second;
  });
  if (!reason.empty()) return reason;
  // Updates asked for must have ended as they should: completed (a failing one rolled back),
  // every live task on the expected version.
  for (const auto& [name, e] : expected_) {
    const storepb::ServiceObject* svc = h->store().find_service(name);
    if (!svc) continue;
    if (svc->update_status().state() != e.state) {
      return "service " + name + ": update " + storepb::UpdateStatus::State_Name(svc->update_status().state()) + " (\"" +
             svc->update_status().message() + "\"), expected " + storepb::UpdateStatus::State_Name(e.state);
    }
    for (const auto* t : h->store().tasks_of_service(svc->id())) {
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
