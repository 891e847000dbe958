#include "core/orchestrator/orchestrator.h"

#include <algorithm>
#include <set>

#include "core/env/check.h"
#include "core/env/probe.h"
#include "core/orchestrator/reconciler.h"
#include "core/orchestrator/restart_policy.h"
#include "core/orchestrator/updater.h"
#include "core/scheduler/scheduler.h"
#include "core/store/object_id.h"
#include "core/store/task_name.h"

namespace shoal::orchestrator {

Orchestrator::Orchestrator(Env& env, store::Store& store, IsLeader is_leader, Propose propose,
                           OrchestratorOptions options)
    : env_(env),
      store_(store),
      is_leader_(std::move(is_leader)),
      propose_(std::move(propose)),
      opts_(options),
      // Drawn from the node's stream, not derived from its seed: a restarted manager must not
      // make the ids of its previous life again.
      ids_(env.rng.next_u64()) {
  std::weak_ptr<bool> alive = alive_;
  // Configs, secrets and the cluster object do not move tasks; and only the leader acts (the
  // slow tick catches leadership gained).
  store_.on_change([this, alive](const storepb::StoreAction& a) {
    if (alive.expired() || !is_leader_()) return;
    switch (a.object_case()) {
      case storepb::StoreAction::kNode:
      case storepb::StoreAction::kService:
      case storepb::StoreAction::kTask:
      case storepb::StoreAction::kTaskStatus: request_pass(); break;
      default: break;
    }
  });
  tick_timer_ = env_.timers.after(opts_.tick, [this] { pass(); });
}

Orchestrator::~Orchestrator() {
  *alive_ = false;
  env_.timers.cancel(tick_timer_);
  if (wake_timer_) env_.timers.cancel(wake_timer_);
}

// Many changes arrive in one apply batch: one pass for all of them, right after.
void Orchestrator::request_pass() {
  if (pass_requested_) return;
  pass_requested_ = true;
  std::weak_ptr<bool> alive = alive_;
  env_.timers.after(Duration::zero(), [this, alive] {
    if (alive.expired() || !*alive.lock()) return;
    pass_requested_ = false;
    pass();
  });
}

void Orchestrator::pass() {
  if (tick_timer_) env_.timers.cancel(tick_timer_);
  tick_timer_ = env_.timers.after(opts_.tick, [this] { pass(); });
  if (!is_leader_()) {
    leading_ = false;
    return;
  }
  if (!leading_) {
    leading_ = true;
    for (const auto& [id, svc] : store_.services()) {
      if (update_in_progress(svc.update_status())) SHOAL_PROBE("orchestrator.update_resumed_by_new_leader");
    }
  }
  if (in_flight_) return;

  storepb::Transaction tx;
  tx.set_now_ns(env_.clock.wall_now_unix_ns());
  std::vector<Note> notes;
  const int64_t wake = reconcile_all(tx, notes);
  if (wake > 0) wake_at(wake);
  // In the same transaction: a task made now is placed in the commit that makes it (one commit
  // less between a slot's old task stopping and its new one starting).
  std::map<std::string, std::string> placed;
  schedule_pending(tx, placed, notes);
  if (tx.actions_size() == 0) return;

  in_flight_ = true;
  ++proposals_;
  std::weak_ptr<bool> alive = alive_;
  propose_(std::move(tx), [this, alive, notes = std::move(notes), placed = std::move(placed)](Status s) {
    if (alive.expired() || !*alive.lock()) return;
    in_flight_ = false;
    if (s.ok()) {
      log_notes(notes, placed);
      return request_pass();
    }
    // Refused (an agent's report or an API write raced us) or not committed (leadership lost):
    // read again shortly.
    SHOAL_PROBE("orchestrator.pass_refused");
    ++refused_;
    env_.timers.after(opts_.retry_after_failure, [this, alive] {
      if (!alive.expired() && *alive.lock()) pass();
    });
  });
}

void Orchestrator::log_notes(const std::vector<Note>& notes, const std::map<std::string, std::string>& placed) {
  for (const Note& n : notes) {
    auto it = n.successor.empty() ? placed.end() : placed.find(n.successor);
    if (it == placed.end()) {
      env_.log.write(n.level, "orchestrator", n.text);
    } else {
      env_.log.write(n.level, "orchestrator", n.text + "; its new task " + it->second);
    }
  }
}

int64_t Orchestrator::reconcile_all(storepb::Transaction& tx, std::vector<Note>& notes) {
  std::set<std::string> orphaned_services;
  std::map<std::string, int64_t> seen_ended, seen_running;
  auto first_seen = [&tx](const std::map<std::string, int64_t>& before, const std::string& id) {
    auto it = before.find(id);
    return it != before.end() ? it->second : tx.now_ns();
  };
  for (const auto& [id, task] : store_.tasks()) {
    if (!store_.services().count(task.service_id())) orphaned_services.insert(task.service_id());
    if (task.desired_state() > storepb::RUNNING) continue;
    if (is_terminal(task.status().state())) seen_ended[id] = first_seen(seen_ended_, id);
    if (task.status().state() == storepb::RUNNING) {
      seen_running[id] = first_seen(seen_running_, id);
    } else if (auto it = seen_running_.find(id); it != seen_running_.end()) {
      seen_running[id] = it->second;  // it ran, then ended: the updater asks how long it ran
    }
  }
  seen_ended_ = std::move(seen_ended);  // forgets tasks restarted or gone
  seen_running_ = std::move(seen_running);
  const LogLevel wanted = env_.log.enabled(LogLevel::kDebug)  ? LogLevel::kDebug
                         : env_.log.enabled(LogLevel::kInfo) ? LogLevel::kInfo
                                                             : LogLevel::kOff;
  const ReconcileContext ctx{store_.nodes(),  tx.now_ns(),    opts_.task_history_limit,
                             [this] { return store::object_id(ids_); },
                             opts_.bugs,      &seen_ended_,   &seen_running_, wanted};
  int64_t wake = 0;
  auto take = [&](Reconciliation r) {
    for (auto& a : r.actions) *tx.add_actions() = std::move(a);
    for (auto& n : r.notes) notes.push_back(std::move(n));
    if (r.wake_at_ns > 0 && (wake == 0 || r.wake_at_ns < wake)) wake = r.wake_at_ns;
  };
  for (const auto& [id, svc] : store_.services()) take(reconcile_service(svc, store_.tasks_of_service(id), ctx));
  for (const auto& id : orphaned_services) take(reconcile_removed_service(store_.tasks_of_service(id)));
  return wake;
}

void Orchestrator::schedule_pending(storepb::Transaction& tx, std::map<std::string, std::string>& placed,
                                    std::vector<Note>& notes) {
  const bool noting = env_.log.enabled(LogLevel::kInfo);
  // Tasks the reconciler's actions touch are left for the next pass (a second UPDATE of one task
  // in a transaction is refused: its version moved); the ones it creates are placed in their
  // CREATE actions.
  std::set<std::string> touched;
  std::vector<const storepb::TaskObject*> fresh;
  std::map<std::string, storepb::TaskObject*> created;
  for (auto& a : *tx.mutable_actions()) {
    if (a.has_task_status()) touched.insert(a.task_status().task_id());
    if (!a.has_task()) continue;
    touched.insert(a.task().id());
    if (a.kind() == storepb::StoreAction::CREATE) {
      fresh.push_back(&a.task());
      created[a.task().id()] = a.mutable_task();
    }
  }
  const scheduler::SchedulePlan plan = scheduler::schedule(store_.nodes(), store_.tasks(), fresh, touched);
  auto mark_assigned = [&tx](storepb::TaskObject& t, const std::string& node_id) {
    t.set_node_id(node_id);
    auto* st = t.mutable_status();
    st->set_state(storepb::ASSIGNED);
    st->set_timestamp_ns(tx.now_ns());
    st->set_message("scheduled");
    st->clear_err();
  };
  for (const auto& a : plan.assigned) {
    if (noting) {
      const auto* n = store_.find_node(a.node_id);
      placed[a.task_id] = "runs on node " + a.node_id + (n && !n->hostname().empty() ? " (" + n->hostname() + ")" : "");
    }
    if (auto it = created.find(a.task_id); it != created.end()) {
      mark_assigned(*it->second, a.node_id);
      continue;
    }
    storepb::StoreAction action;
    action.set_kind(storepb::StoreAction::UPDATE);
    *action.mutable_task() = *store_.find_task(a.task_id);
    mark_assigned(*action.mutable_task(), a.node_id);
    *tx.add_actions() = std::move(action);
  }
  // Tasks whose reason for waiting is new, by reason: one note each.
  std::map<std::string, std::vector<std::string>> newly_waiting;
  for (const auto& u : plan.unplaced) {
    if (noting) placed[u.task_id] = "waits: " + u.reason;
    if (auto it = created.find(u.task_id); it != created.end()) {
      it->second->mutable_status()->set_err(u.reason);
      if (noting) newly_waiting[u.reason].push_back(store::task_name(*it->second));
      continue;
    }
    const storepb::TaskObject* t = store_.find_task(u.task_id);
    if (t->status().err() == u.reason) continue;  // already says so: no write
    if (noting) newly_waiting[u.reason].push_back(store::task_name(*t));
    storepb::StoreAction action;
    action.set_kind(storepb::StoreAction::UPDATE);
    action.mutable_task_status()->set_task_id(u.task_id);
    storepb::TaskStatus* st = action.mutable_task_status()->mutable_status();
    *st = t->status();
    st->set_err(u.reason);
    *tx.add_actions() = std::move(action);
  }
  for (const auto& [reason, names] : newly_waiting) {
    std::string list;
    for (size_t i = 0; i < names.size() && i < 5; ++i) list += (i ? ", " : "") + names[i];
    if (names.size() > 5) list += " and " + std::to_string(names.size() - 5) + " more";
    add_note(notes, LogLevel::kInfo, LogLevel::kInfo, "", "{} pending: {}", list, reason);
  }
}

void Orchestrator::wake_at(int64_t at_ns) {
  if (wake_timer_ && wake_timer_at_ <= at_ns) return;
  if (wake_timer_) env_.timers.cancel(wake_timer_);
  wake_timer_at_ = at_ns;
  const int64_t delay = std::max<int64_t>(0, at_ns - env_.clock.wall_now_unix_ns());
  std::weak_ptr<bool> alive = alive_;
  wake_timer_ = env_.timers.after(Duration(delay), [this, alive] {
    if (alive.expired() || !*alive.lock()) return;
    wake_timer_ = 0;
    wake_timer_at_ = 0;
    pass();
  });
}

void Orchestrator::check_invariants() const {
  // A rule over the store: nothing new to see until it applies another entry.
  if (!is_leader_() || store_.last_index() == checked_index_) return;
  checked_index_ = store_.last_index();
  for (const auto& [id, svc] : store_.services()) {
    if (!svc.spec().has_replicated()) continue;
    const storepb::UpdateConfig& cfg = active_update_config(svc);
    const uint64_t replicas = svc.spec().replicated().replicas();
    const uint64_t parallelism = cfg.parallelism() == 0 ? replicas : cfg.parallelism();
    const bool start_first = cfg.order() == storepb::UpdateConfig::START_FIRST;
    uint64_t wanted = 0;
    for (const storepb::TaskObject* t : store_.tasks_of_service(id)) {
      if (t->slot() <= replicas && t->desired_state() <= storepb::RUNNING && !is_terminal(t->status().state())) ++wanted;
    }
    const uint64_t most = replicas + (start_first ? parallelism : 0);
    SHOAL_CHECK(wanted <= most, "orchestrator: %s has %lu tasks meant to run, more than %lu replicas%s",
                svc.spec().annotations().name().c_str(), wanted, replicas,
                start_first ? " + the parallelism of its start-first update" : "");
  }
}

}  // namespace shoal::orchestrator
