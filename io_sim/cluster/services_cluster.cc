#include "io_sim/cluster/services_cluster.h"

#include "core/ca/node_identity.h"

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
      rpc_(env, mux_, id, [&cluster](NodeId n) { return cluster.role_of(n); }),
      crypto_(env.rng.next_u64()),
      raft_env_{env.clock, env.timers, env.rng, mux_.raft(), env.disk},
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
      rpc_(env, mux_, id, [&cluster](NodeId n) { return cluster.role_of(n); }),
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

void ServicesCluster::commit(std::string what, std::function<storepb::Transaction(const store::Store&)> make,
                             int attempts) {
  World& w = raft_->world();
  if (attempts <= 0) return raft_->note(0, "services", what + ": gave up");
  auto retry = [this, what, make, attempts] {
    raft_->world().after(milliseconds(200), [this, what, make, attempts] { commit(what, make, attempts - 1); });
  };
  // Ask the leader if there is one, else any live manager (it forwards or waits for a leader).
  NodeId target = raft_->leader();
  for (size_t i = 0; target == 0 && i < options_.managers; ++i) {
    const NodeId m = 1 + (next_target_++ % options_.managers);
    if (manager_host(m)) target = m;
  }
  if (target == 0) return retry();
  w.after_on(target, Duration(0), [this, target, what, make, retry] {
    ManagerHost* h = manager_host(target);
    if (!h) return retry();
    h->manager().submit(make(h->store()), [this, target, what, retry](Status s, uint64_t index) {
      if (!s.ok()) return retry();
      raft_->note(target, "services", what + " (index " + std::to_string(index) + ")");
    });
  });
}

void ServicesCluster::found() {
  commit(
      "cluster founded",
      [this](const store::Store& st) {
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
          const std::string role = id <= options_.managers ? "manager" : "worker";
          n->mutable_spec()->set_desired_role(role);
          n->mutable_spec()->set_availability("active");
          (*n->mutable_spec()->mutable_annotations()->mutable_labels())["zone"] = zone_of(id);
          n->set_role(role);
          n->set_hostname("n" + std::to_string(id));
          n->set_state("unknown");
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
          task->mutable_restart()->set_delay_ns(std::chrono::nanoseconds(s.restart_delay).count());
          for (const auto& c : s.constraints) task->mutable_placement()->add_constraints(c);
          if (!s.spread.empty()) task->mutable_placement()->add_preferences()->set_spread(s.spread);
          task->mutable_placement()->set_max_replicas(s.max_per_node);
        }
        return tx;
      },
      1000);
}

void ServicesCluster::scale(const std::string& service, uint64_t replicas) {
  commit(
      "service " + service + " scaled to " + std::to_string(replicas),
      [service, replicas](const store::Store& st) {
        storepb::Transaction tx;
        const storepb::ServiceObject* svc = st.find_service(service);
        if (!svc || !svc->spec().has_replicated()) return tx;
        auto* a = tx.add_actions();
        a->set_kind(storepb::StoreAction::UPDATE);
        *a->mutable_service() = *svc;
        a->mutable_service()->mutable_spec()->mutable_replicated()->set_replicas(replicas);
        return tx;
      },
      100);
}

void ServicesCluster::set_availability(NodeId node, const std::string& availability) {
  commit(
      "n" + std::to_string(node) + " availability " + availability,
      [node, availability](const store::Store& st) {
        storepb::Transaction tx;
        const storepb::NodeObject* n = st.find_node(node_id(node));
        if (!n) return tx;
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
  return unconverged_reason(h->store(), [&running](const std::string& nid) -> const std::vector<std::string>* {
    auto it = running.find(nid);
    return it == running.end() ? nullptr : &it->second;
  });
}

}  // namespace shoal::sim
