#include "core/orchestrator/reconciler.h"

#include <algorithm>
#include <set>

#include "core/orchestrator/restart_policy.h"
#include "core/orchestrator/updater.h"
#include "core/scheduler/constraint.h"

namespace shoal::orchestrator {
namespace {

using Tasks = std::vector<const storepb::TaskObject*>;

bool is_live(const storepb::TaskObject& t) { return t.desired_state() <= storepb::RUNNING; }

bool meets_constraints(const storepb::TaskSpec& spec, const storepb::NodeObject& node) {
  auto constraints = scheduler::parse_constraints(spec.placement().constraints());
  if (!constraints.ok()) return false;
  return std::all_of(constraints->begin(), constraints->end(), [&](const auto& c) { return c.matches(node); });
}

// One pass over one service: collects actions, at most one per task.
class Pass {
 public:
  Pass(const storepb::ServiceObject& svc, const ReconcileContext& ctx) : svc_(svc), ctx_(ctx) {}

  Reconciliation take() { return std::move(out_); }

  // Drives one slot (a replica number, or a node for a global service) toward one live task.
  // `node_id` is set for global services; `may_create` is false when a global service's node
  // takes no new tasks.
  void slot(uint64_t slot, const std::string& node_id, Tasks history, bool may_create) {
    sort_by_age(history);
    std::vector<const storepb::TaskObject*> live;
    for (const auto* t : history) {
      if (is_live(*t)) live.push_back(t);
    }
    const storepb::TaskObject* current = live.empty() ? nullptr : live.back();
    // Older live tasks go once the newest runs; until then they keep running beside it (a
    // start-first update, updater.h).
    const bool newest_started = current && current->status().state() >= storepb::RUNNING;
    for (size_t i = 0; i + 1 < live.size(); ++i) {
      if (newest_started) shut_down(*live[i], storepb::SHUTDOWN, "replaced by a newer task");
    }
    bool created = false;
    if (current) {
      created = drive_live_task(*current, slot, node_id, history);
    } else if (may_create && !gave_up(history) && !predecessor_stopping(history)) {
      create(slot, node_id, 0);
      created = true;
    }
    trim_history(history, created);
  }

  // The updater (updater.h) plans the service's rolling update on what is left.
  void update(const std::vector<const storepb::TaskObject*>& tasks) {
    UpdateContext uctx;
    uctx.now_ns = ctx_.now_ns;
    uctx.seen_running = ctx_.seen_running;
    uctx.filled = &filled_;
    uctx.nodes = &ctx_.nodes;
    uctx.bugs = ctx_.bugs;
    uctx.new_task = [this](uint64_t slot, const std::string& node_id) {
      storepb::TaskObject t = make_task(slot, node_id, 0);
      touched_.insert(t.id());
      return t;
    };
    UpdatePass u = plan_update(svc_, tasks, uctx, touched_);
    for (auto& a : u.actions) out_.actions.push_back(std::move(a));
    if (u.wake_at_ns > 0 && (out_.wake_at_ns == 0 || u.wake_at_ns < out_.wake_at_ns)) out_.wake_at_ns = u.wake_at_ns;
  }

  // Tasks that must go: their slot is above the replica count, their node is gone, or their
  // service is. Live ones get desired state REMOVE; ended ones are deleted.
  void retire(const storepb::TaskObject& t) {
    if (is_live(t)) {
      shut_down(t, storepb::REMOVE, "removed");
    } else if (is_terminal(t.status().state()) || t.node_id().empty()) {
      remove(t);
    }
  }

 private:
  // A live task: keep it, replace it, or restart its slot. Returns whether a task was created.
  bool drive_live_task(const storepb::TaskObject& t, uint64_t slot, const std::string& node_id,
                       const Tasks& history) {
    const bool global = !node_id.empty();
    if (node_lost(t) && !ctx_.bugs.keep_tasks_on_lost_nodes) {
      if (!ctx_.bugs.replace_without_shutdown || global) {
        shut_down(t, storepb::SHUTDOWN, global ? "node no longer eligible" : "node unavailable; task rescheduled");
      }
      if (global) return false;
      create(slot, node_id, t.attempt(), &t);
      return true;
    }
    if (t.status().state() == storepb::ORPHANED) {
      // Lost with its node's agent (agent.h): replaced at once, like a task on a lost node.
      shut_down(t, storepb::SHUTDOWN, "task lost; rescheduled");
      create(slot, node_id, t.attempt(), &t);
      return true;
    }
    if (is_terminal(t.status().state())) {
      int64_t seen = 0;
      if (ctx_.seen_ended) {
        auto it = ctx_.seen_ended->find(t.id());
        if (it != ctx_.seen_ended->end()) seen = it->second;
      }
      const RestartDecision d = decide_restart(svc_.spec().task().restart(), t, history, ctx_.now_ns, seen);
      switch (d.kind) {
        case RestartDecision::kNow:
          shut_down(t, storepb::SHUTDOWN, "restarted");
          create(slot, node_id, t.attempt() + 1);
          return true;
        case RestartDecision::kLater:
          if (out_.wake_at_ns == 0 || d.at_ns < out_.wake_at_ns) out_.wake_at_ns = d.at_ns;
          return false;
        case RestartDecision::kNever:
          shut_down(t, storepb::SHUTDOWN, "not restarted (restart policy)", /*not_restarted=*/true);
          return false;
      }
    }
    return false;  // an older spec's task is the updater's to replace (updater.h)
  }

  // The slot's last task was shut down and has not stopped yet, on a node that will report
  // when it has: its successor waits, so the slot never runs both at once. (A task on
  // a node that is down, drained or gone is not waited for.)
  bool predecessor_stopping(const Tasks& history) const {
    if (history.empty()) return false;
    const auto* last = history.back();
    if (is_terminal(last->status().state()) || last->node_id().empty()) return false;
    auto it = ctx_.nodes.find(last->node_id());
    if (it == ctx_.nodes.end()) return false;
    return it->second.state() != storepb::NodeObject::DOWN && it->second.spec().availability() != storepb::NodeSpec::DRAIN;
  }

  // The node a task was placed on can no longer keep it. For a global service a down node keeps
  // its task (it is that node's task); a replicated task is moved elsewhere.
  bool node_lost(const storepb::TaskObject& t) const {
    if (t.node_id().empty()) return false;
    auto it = ctx_.nodes.find(t.node_id());
    if (it == ctx_.nodes.end()) return true;
    const storepb::NodeObject& n = it->second;
    if (n.spec().availability() == storepb::NodeSpec::DRAIN) return true;
    if (svc_.spec().has_replicated() && n.state() == storepb::NodeObject::DOWN && !is_terminal(t.status().state())) return true;
    return !meets_constraints(svc_.spec().task(), n);
  }

  // The slot's last task ended and its restart policy said never, under the current spec. A
  // task stopped for another reason (its node was drained, say) gave nothing up, even if it
  // failed on its way out: its slot gets a new task once it can.
  bool gave_up(const Tasks& history) const {
    if (history.empty()) return false;
    const auto* last = history.back();
    return last->not_restarted() && last->spec_version() == svc_.spec_version();
  }

  void trim_history(const Tasks& history, bool created) {
    size_t kept = history.size() + (created ? 1 : 0);
    for (const auto* t : history) {  // oldest first
      if (touched_.count(t->id()) || is_live(*t) || !is_terminal(t->status().state())) continue;
      if (t->desired_state() == storepb::REMOVE || kept > ctx_.task_history_limit) {
        remove(*t);
        --kept;
      }
    }
  }

  void shut_down(const storepb::TaskObject& t, storepb::TaskState desired, const std::string& why,
                 bool not_restarted = false) {
    if (!touched_.insert(t.id()).second) return;
    storepb::StoreAction a;
    a.set_kind(storepb::StoreAction::UPDATE);
    storepb::TaskObject* copy = a.mutable_task();
    *copy = t;
    copy->set_desired_state(std::max(t.desired_state(), desired));
    if (not_restarted) copy->set_not_restarted(true);
    if (t.node_id().empty() && !is_terminal(t.status().state())) {
      // Never reached a node, so no agent will report its end: finish it here.
      if (desired == storepb::REMOVE) {
        a.set_kind(storepb::StoreAction::REMOVE);
      } else {
        auto* st = copy->mutable_status();
        st->set_state(storepb::SHUTDOWN);
        st->set_timestamp_ns(ctx_.now_ns);
        st->set_message(why);
      }
    }
    out_.actions.push_back(std::move(a));
  }

  void remove(const storepb::TaskObject& t) {
    if (!touched_.insert(t.id()).second) return;
    storepb::StoreAction a;
    a.set_kind(storepb::StoreAction::REMOVE);
    *a.mutable_task() = t;
    out_.actions.push_back(std::move(a));
  }

  // `replaces`: a lost task whose successor waits for what it waited for (a stop-first
  // update's old task may still be stopping elsewhere).
  void create(uint64_t slot, const std::string& node_id, uint64_t attempt,
              const storepb::TaskObject* replaces = nullptr) {
    storepb::StoreAction a;
    a.set_kind(storepb::StoreAction::CREATE);
    *a.mutable_task() = make_task(slot, node_id, attempt);
    if (replaces) *a.mutable_task()->mutable_wait_for() = replaces->wait_for();
    touched_.insert(a.task().id());
    filled_.insert(node_id.empty() ? std::to_string(slot) : node_id);
    out_.actions.push_back(std::move(a));
  }

  storepb::TaskObject make_task(uint64_t slot, const std::string& node_id, uint64_t attempt) {
    storepb::TaskObject task;
    storepb::TaskObject* t = &task;
    t->set_id(ctx_.new_task_id());
    t->set_service_id(svc_.id());
    t->set_service_name(svc_.spec().annotations().name());
    t->set_slot(slot);
    t->set_node_id(node_id);
    *t->mutable_spec() = svc_.spec().task();
    t->set_spec_version(svc_.spec_version());
    t->set_desired_state(storepb::RUNNING);
    t->set_attempt(attempt);
    auto* st = t->mutable_status();
    st->set_timestamp_ns(ctx_.now_ns);
    if (node_id.empty()) {
      st->set_state(storepb::PENDING);
      st->set_message("pending task scheduling");
    } else {
      st->set_state(storepb::ASSIGNED);
      st->set_message("assigned to its node (global service)");
    }
    return task;
  }

  const storepb::ServiceObject& svc_;
  const ReconcileContext& ctx_;
  Reconciliation out_;
  std::set<std::string> touched_;
  std::set<std::string> filled_;  // slots given a task in this pass (updater.h's keys)
};

bool takes_new_global_task(const storepb::ServiceObject& svc, const storepb::NodeObject& n) {
  return n.spec().availability() != storepb::NodeSpec::DRAIN && n.state() != storepb::NodeObject::DOWN && meets_constraints(svc.spec().task(), n);
}

}  // namespace

Reconciliation reconcile_service(const storepb::ServiceObject& svc, const std::vector<const storepb::TaskObject*>& tasks,
                                 const ReconcileContext& ctx) {
  Pass pass(svc, ctx);
  if (svc.spec().has_global()) {
    std::map<std::string, Tasks> by_node;
    for (const auto* t : tasks) by_node[t->node_id()].push_back(t);
    for (const auto& [node_id, node] : ctx.nodes) {
      Tasks history = by_node.count(node_id) ? by_node[node_id] : Tasks{};
      pass.slot(0, node_id, history, takes_new_global_task(svc, node));
      by_node.erase(node_id);
    }
    for (const auto& [node_id, gone] : by_node) {  // nodes no longer in the cluster
      for (const auto* t : gone) pass.retire(*t);
    }
    pass.update(tasks);
    return pass.take();
  }
  const uint64_t replicas = svc.spec().replicated().replicas();
  std::map<uint64_t, Tasks> by_slot;
  for (const auto* t : tasks) by_slot[t->slot()].push_back(t);
  for (uint64_t slot = 1; slot <= replicas; ++slot) {
    Tasks history = by_slot.count(slot) ? by_slot[slot] : Tasks{};
    pass.slot(slot, "", history, true);
  }
  for (const auto& [slot, history] : by_slot) {
    if (slot >= 1 && slot <= replicas) continue;
    for (const auto* t : history) pass.retire(*t);
  }
  pass.update(tasks);
  return pass.take();
}

Reconciliation reconcile_removed_service(const std::vector<const storepb::TaskObject*>& tasks) {
  static const std::map<std::string, storepb::NodeObject> kNoNodes;
  storepb::ServiceObject none;
  ReconcileContext ctx{kNoNodes, 0, 0, [] { return std::string(); }};
  Pass pass(none, ctx);
  for (const auto* t : tasks) pass.retire(*t);
  return pass.take();
}

}  // namespace shoal::orchestrator
