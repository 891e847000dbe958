#include "core/orchestrator/reconciler.h"

#include <algorithm>
#include <set>

#include "core/orchestrator/restart_policy.h"
#include "core/orchestrator/updater.h"
#include "core/scheduler/constraint.h"
#include "core/store/task_name.h"

namespace shoal::orchestrator {
namespace {

using Tasks = std::vector<const storepb::TaskObject*>;

bool is_live(const storepb::TaskObject& t) { return t.desired_state() <= storepb::RUNNING; }

bool meets_constraints(const storepb::TaskSpec& spec, const storepb::NodeObject& node) {
  auto constraints = scheduler::parse_constraints(spec.placement().constraints());
  if (!constraints.ok()) return false;
  return std::all_of(constraints->begin(), constraints->end(), [&](const auto& c) { return c.matches(node); });
}

// "node <id> (<hostname>)", for notes.
std::string node_label(const std::map<std::string, storepb::NodeObject>& nodes, const std::string& id) {
  auto it = nodes.find(id);
  if (it == nodes.end() || it->second.hostname().empty()) return "node " + id;
  return "node " + id + " (" + it->second.hostname() + ")";
}

// How a task ended, in words: "failed: task: non-zero exit (1)", "completed", ...
std::string how_it_ended(const storepb::TaskStatus& st) {
  const std::string& detail = st.err().empty() ? st.message() : st.err();
  switch (st.state()) {
    case storepb::COMPLETE: return "completed";
    case storepb::SHUTDOWN: return "was shut down";
    case storepb::REJECTED: return "was rejected: " + detail;
    default: return "failed: " + detail;
  }
}

// Slot numbers as ranges: "1-3, 5".
std::string slot_ranges(const std::vector<uint64_t>& slots) {
  std::string out;
  for (size_t i = 0; i < slots.size();) {
    size_t j = i;
    while (j + 1 < slots.size() && slots[j + 1] == slots[j] + 1) ++j;
    if (!out.empty()) out += ", ";
    out += std::to_string(slots[i]);
    if (j > i) out += "-" + std::to_string(slots[j]);
    i = j + 1;
  }
  return out;
}

// One pass over one service: collects actions, at most one per task.
class Pass {
 public:
  Pass(const storepb::ServiceObject& svc, const ReconcileContext& ctx) : svc_(svc), ctx_(ctx) {}

  Reconciliation take() {
    const std::string& name = svc_.spec().annotations().name();
    if (!fresh_slots_.empty()) {
      add_note(out_.notes, ctx_.notes, LogLevel::kInfo, "", "service {}: new tasks for slots {}", name,
               slot_ranges(fresh_slots_));
    }
    if (fresh_nodes_ > 0) {
      add_note(out_.notes, ctx_.notes, LogLevel::kInfo, "", "service {}: new tasks on {} node(s)", name, fresh_nodes_);
    }
    if (retired_ > 0) {
      add_note(out_.notes, ctx_.notes, LogLevel::kInfo, "", "service {}: {} task(s) removed (scaled down or removed)",
               name.empty() ? std::string("(removed)") : name, retired_);
    }
    return std::move(out_);
  }

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
      if (node_id.empty()) {
        fresh_slots_.push_back(slot);
      } else {
        ++fresh_nodes_;
      }
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
    uctx.notes = ctx_.notes;
    UpdatePass u = plan_update(svc_, tasks, uctx, touched_);
    for (auto& a : u.actions) out_.actions.push_back(std::move(a));
    for (auto& n : u.notes) out_.notes.push_back(std::move(n));
    if (u.wake_at_ns > 0 && (out_.wake_at_ns == 0 || u.wake_at_ns < out_.wake_at_ns)) out_.wake_at_ns = u.wake_at_ns;
  }

  // Tasks that must go: their slot is above the replica count, their node is gone, or their
  // service is. Live ones get desired state REMOVE; ended ones are deleted.
  void retire(const storepb::TaskObject& t) {
    if (is_live(t)) {
      if (!touched_.count(t.id())) ++retired_;
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
    if (const char* why = lost_reason(t); why && !ctx_.bugs.keep_tasks_on_lost_nodes) {
      if (!ctx_.bugs.replace_without_shutdown || global) {
        shut_down(t, storepb::SHUTDOWN, global ? "node no longer eligible" : "node unavailable; task rescheduled");
      }
      if (global) {
        add_note(out_.notes, ctx_.notes, LogLevel::kInfo, "", "task {} shut down: {} {}", store::task_name(t),
                 node_label(ctx_.nodes, t.node_id()), why);
        return false;
      }
      const std::string successor = create(slot, node_id, t.attempt(), &t);
      add_note(out_.notes, ctx_.notes, LogLevel::kInfo, successor, "task {} moved off {}: the node {}",
               store::task_name(t), node_label(ctx_.nodes, t.node_id()), why);
      return true;
    }
    if (t.status().state() == storepb::ORPHANED) {
      // Lost with its node's agent (agent.h): replaced at once, like a task on a lost node.
      shut_down(t, storepb::SHUTDOWN, "task lost; rescheduled");
      const std::string successor = create(slot, node_id, t.attempt(), &t);
      add_note(out_.notes, ctx_.notes, LogLevel::kInfo, successor, "task {} replaced: its agent on {} lost it",
               store::task_name(t), node_label(ctx_.nodes, t.node_id()));
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
        case RestartDecision::kNow: {
          shut_down(t, storepb::SHUTDOWN, "restarted");
          const std::string successor = create(slot, node_id, t.attempt() + 1);
          add_note(out_.notes, ctx_.notes, LogLevel::kInfo, successor, "task {} restarted (attempt {}): it {}",
                   store::task_name(t), t.attempt() + 1, how_it_ended(t.status()));
          return true;
        }
        case RestartDecision::kLater:
          if (out_.wake_at_ns == 0 || d.at_ns < out_.wake_at_ns) out_.wake_at_ns = d.at_ns;
          return false;
        case RestartDecision::kNever:
          shut_down(t, storepb::SHUTDOWN, "not restarted (restart policy)", /*not_restarted=*/true);
          add_note(out_.notes, ctx_.notes, LogLevel::kInfo, "", "task {} not restarted: it {}, and its restart policy says no more",
                   store::task_name(t), how_it_ended(t.status()));
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

  // Why the node a task was placed on can no longer keep it, completing "the node ..."; null if
  // it can. For a global service a down node keeps its task (it is that node's task); a
  // replicated task is moved elsewhere.
  const char* lost_reason(const storepb::TaskObject& t) const {
    if (t.node_id().empty()) return nullptr;
    auto it = ctx_.nodes.find(t.node_id());
    if (it == ctx_.nodes.end()) return "left the cluster";
    const storepb::NodeObject& n = it->second;
    if (n.spec().availability() == storepb::NodeSpec::DRAIN) return "is drained";
    if (svc_.spec().has_replicated() && n.state() == storepb::NodeObject::DOWN && !is_terminal(t.status().state())) {
      return "is down";
    }
    if (!meets_constraints(svc_.spec().task(), n)) return "no longer meets the service's constraints";
    return nullptr;
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
  // Returns the new task's id.
  std::string create(uint64_t slot, const std::string& node_id, uint64_t attempt,
                     const storepb::TaskObject* replaces = nullptr) {
    storepb::StoreAction a;
    a.set_kind(storepb::StoreAction::CREATE);
    *a.mutable_task() = make_task(slot, node_id, attempt);
    if (replaces) *a.mutable_task()->mutable_wait_for() = replaces->wait_for();
    std::string id = a.task().id();
    touched_.insert(id);
    filled_.insert(node_id.empty() ? std::to_string(slot) : node_id);
    out_.actions.push_back(std::move(a));
    return id;
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
  std::vector<uint64_t> fresh_slots_;  // empty slots given their task in this pass, for one note
  size_t fresh_nodes_ = 0;             // likewise, a global service's nodes
  size_t retired_ = 0;                 // live tasks removed in this pass
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
