#include "core/orchestrator/updater.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <limits>

#include "core/env/check.h"
#include "core/env/probe.h"
#include "core/orchestrator/restart_policy.h"
#include "core/store/task_name.h"

namespace shoal::orchestrator {

namespace {

using Tasks = std::vector<const storepb::TaskObject*>;
using State = storepb::UpdateStatus;

bool is_live(const storepb::TaskObject& t) { return t.desired_state() <= storepb::RUNNING; }

// The message's bytes with map entries in key order: equal bytes, equal specs. A pass compares
// every task's spec with the service's, and comparing bytes costs a fraction of
// MessageDifferencer's field-by-field walk through reflection.
std::string canonical_bytes(const google::protobuf::MessageLite& m) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    m.SerializeToCodedStream(&coded);
  }
  return out;
}

bool rolling_back(const storepb::UpdateStatus& s) {
  return s.state() == State::ROLLBACK_STARTED || s.state() == State::ROLLBACK_PAUSED;
}

// One slot: a replica number, or a node for a global service.
struct Slot {
  uint64_t number = 0;
  std::string node_id;
  Tasks history;  // oldest first
  const storepb::TaskObject* current = nullptr;  // the newest live task
};

class Planner {
 public:
  Planner(const storepb::ServiceObject& svc, const UpdateContext& ctx, const std::set<std::string>& touched)
      : svc_(svc),
        ctx_(ctx),
        touched_(touched),
        status_(svc.update_status()),
        cfg_(active_update_config(svc)),
        wanted_spec_(canonical_bytes(svc.spec().task())) {}

  UpdatePass plan(const Tasks& tasks) {
    group(tasks);
    std::vector<const Slot*> old_slots;
    size_t in_flight = 0, monitoring = 0, updated = 0;
    for (const auto& [key, slot] : slots_) {
      switch (classify(slot)) {
        case Kind::kOld: old_slots.push_back(&slot); break;
        case Kind::kInFlight: ++in_flight; break;
        case Kind::kMonitoring: ++monitoring; ++updated; break;
        case Kind::kDone: ++updated; break;
      }
    }
    const bool paused = status_.state() == State::PAUSED || status_.state() == State::ROLLBACK_PAUSED;
    if (paused) return std::move(out_);
    if (!update_in_progress(status_)) {
      if (old_slots.empty()) return std::move(out_);
      begin(State::UPDATING, "update in progress");  // a spec change the API did not announce
      note(LogLevel::kInfo, "update of {} started: its tasks run an older spec", name());
    }
    if (const storepb::TaskObject* failed = count_failures(tasks)) {
      if (exceeded()) {
        react(*failed);
        return finish();
      }
    }
    if (!old_slots.empty()) {
      start_batch(old_slots, in_flight, updated);
    } else if (in_flight == 0 && monitoring == 0) {
      const bool rb = rolling_back(status_);
      status_.set_state(rb ? State::ROLLBACK_COMPLETED : State::COMPLETED);
      status_.set_completed_at_ns(ctx_.now_ns);
      status_.set_message(rb ? "rollback completed" : "update completed");
      status_.set_next_batch_at_ns(0);
      note(LogLevel::kInfo, "{} of {} completed: {} slot(s) run the {} spec", rb ? "rollback" : "update", name(),
           updated, rb ? "previous" : "new");
    }
    return finish();
  }

 private:
  enum class Kind { kOld, kInFlight, kMonitoring, kDone };

  void group(const Tasks& tasks) {
    const bool global = svc_.spec().has_global();
    const uint64_t replicas = global ? 0 : svc_.spec().replicated().replicas();
    for (const auto* t : tasks) {
      if (!global && (t->slot() < 1 || t->slot() > replicas)) continue;  // being scaled away
      const std::string key = global ? t->node_id() : std::to_string(t->slot());
      if (global && key.empty()) continue;
      Slot& s = slots_[global ? key : pad(t->slot())];
      s.number = t->slot();
      s.node_id = t->node_id();
      s.history.push_back(t);
    }
    for (auto& [key, s] : slots_) {
      sort_by_age(s.history);
      for (const auto* t : s.history) {
        if (is_live(*t)) s.current = t;
      }
    }
  }
  static std::string pad(uint64_t n) {  // slots in numeric order
    std::string s = std::to_string(n);
    return std::string(20 - s.size(), '0') + s;
  }

  bool up_to_date(const storepb::TaskObject& t) {
    auto [it, fresh] = up_to_date_.try_emplace(&t, false);
    if (fresh) it->second = canonical_bytes(t.spec()) == wanted_spec_;
    return it->second;
  }

  int64_t seen(const std::map<std::string, int64_t>* m, const std::string& id) const {
    if (!m) return 0;
    auto it = m->find(id);
    return it == m->end() ? 0 : it->second;
  }

  Kind classify(const Slot& s) {
    if (!s.current) {
      // No live task: in flight if its last task is still stopping (a stop-first replacement)
      // or the reconciler has just made its successor; otherwise nothing will come (a slot the
      // restart policy gave up, a global service's drained node).
      const auto* last = s.history.empty() ? nullptr : s.history.back();
      const std::string key = svc_.spec().has_global() ? s.node_id : std::to_string(s.number);
      const bool filled = ctx_.filled && ctx_.filled->count(key);
      return filled || (last && !is_terminal(last->status().state())) ? Kind::kInFlight : Kind::kDone;
    }
    const auto& t = *s.current;
    // An out-of-date slot that may run two tasks at once (a start-first replacement, of an
    // update this one superseded, beside the older task it does not wait for) is in flight
    // until the older task ends: replacing it now could run three.
    if (!up_to_date(t)) {
      const bool two_at_once = t.wait_for().empty() && older_still_runs(s) && !older_up_to_date(s);
      return touched_.count(t.id()) || two_at_once ? Kind::kInFlight : Kind::kOld;
    }
    // Not running yet, or ended (the reconciler restarts it): in flight either way.
    if (t.status().state() != storepb::RUNNING) return Kind::kInFlight;
    // Start-first: until the old task beside it has ended, the slot runs two.
    if (older_still_runs(s)) return Kind::kInFlight;
    const int64_t since = seen(ctx_.seen_running, t.id());
    const int64_t from = since > 0 ? since : ctx_.now_ns;
    if (from + cfg_.monitor_ns() > ctx_.now_ns) {
      wake(from + cfg_.monitor_ns());
      return Kind::kMonitoring;
    }
    return Kind::kDone;
  }

  // An older live task of the slot already runs the spec wanted.
  bool older_up_to_date(const Slot& s) {
    return std::any_of(s.history.begin(), s.history.end(), [&](const storepb::TaskObject* t) {
      return t != s.current && is_live(*t) && !is_terminal(t->status().state()) && up_to_date(*t);
    });
  }

  // An older task of the slot has not ended yet, on a node that will report when it has (one on
  // a node that is down or gone is not waited for, as the reconciler does not wait for it).
  bool older_still_runs(const Slot& s) const {
    return std::any_of(s.history.begin(), s.history.end(), [&](const storepb::TaskObject* t) {
      if (t == s.current || is_terminal(t->status().state()) || t->node_id().empty()) return false;
      if (!ctx_.nodes) return true;
      auto it = ctx_.nodes->find(t->node_id());
      return it != ctx_.nodes->end() && it->second.state() != storepb::NodeObject::DOWN;
    });
  }

  // Counts new tasks that ended by themselves while monitored (or before they ever ran), each
  // once. Returns one of the failures counted now (nullptr if none).
  const storepb::TaskObject* count_failures(const Tasks& tasks) {
    const storepb::TaskObject* newest = nullptr;
    for (const auto* t : tasks) {
      if (!is_live(*t) || !is_terminal(t->status().state()) || !up_to_date(*t)) continue;
      const auto state = t->status().state();
      if (state == storepb::SHUTDOWN || state == storepb::ORPHANED) continue;  // stopped or lost, not failed
      if (ctx_.bugs.update_ignores_unhealthy && t->status().err().find("unhealthy") != std::string::npos) continue;
      if (std::find(status_.failed_tasks().begin(), status_.failed_tasks().end(), t->id()) !=
          status_.failed_tasks().end()) {
        continue;
      }
      const int64_t ran = seen(ctx_.seen_running, t->id());
      if (ran > 0 && ctx_.now_ns - ran >= cfg_.monitor_ns()) continue;  // it ran its monitor period
      status_.add_failed_tasks(t->id());
      newest = t;
    }
    return newest;
  }

  bool exceeded() const {
    const double total = static_cast<double>(std::max<size_t>(slots_.size(), 1));
    return static_cast<double>(status_.failed_tasks_size()) / total > cfg_.max_failure_ratio();
  }

  void react(const storepb::TaskObject& failed) {
    const std::string why = "failure or early termination of task " + failed.id();
    const bool rb = rolling_back(status_);
    // "task web.3 failed its health check", "task web.3 exited: task: non-zero exit (1)"
    const std::string& err = failed.status().err().empty() ? failed.status().message() : failed.status().err();
    const std::string what = "task " + store::task_name(failed) +
                             (err.find("unhealthy") != std::string::npos ? " failed its health check" : " ended: " + err);
    switch (cfg_.failure_action()) {
      case storepb::UpdateConfig::CONTINUE:
        note(LogLevel::kInfo, "{} of {} continues although {}", rb ? "rollback" : "update", name(), what);
        return;
      case storepb::UpdateConfig::ROLLBACK:
        if (!rb && svc_.has_previous_spec()) {
          SHOAL_PROBE("orchestrator.update_rolled_back");
          note(LogLevel::kInfo, "update of {} rolling back: {}", name(), what);
          return roll_back("update rolled back due to " + why);
        }
        [[fallthrough]];
      default:
        SHOAL_PROBE("orchestrator.update_paused");
        status_.set_state(rb ? State::ROLLBACK_PAUSED : State::PAUSED);
        status_.set_message(std::string(rb ? "rollback" : "update") + " paused due to " + why);
        note(LogLevel::kInfo, "{} of {} paused: {}", rb ? "rollback" : "update", name(), what);
    }
  }

  const std::string& name() const { return svc_.spec().annotations().name(); }

  template <typename... Args>
  void note(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
    add_note(out_.notes, ctx_.notes, level, "", format, std::forward<Args>(args)...);
  }

  void begin(State::State state, const std::string& message) {
    status_.set_state(state);
    status_.set_started_at_ns(ctx_.now_ns);
    status_.set_completed_at_ns(0);
    status_.set_message(message);
    status_.clear_failed_tasks();
    status_.set_next_batch_at_ns(0);
  }

  void roll_back(const std::string& message) {
    storepb::ServiceObject next = svc_;
    *next.mutable_spec() = svc_.previous_spec();
    *next.mutable_previous_spec() = svc_.spec();
    next.set_spec_version(svc_.spec_version() + 1);
    begin(State::ROLLBACK_STARTED, message);
    *next.mutable_update_status() = status_;
    push_service(std::move(next));
  }

  void start_batch(const std::vector<const Slot*>& old_slots, size_t in_flight, size_t updated) {
    const size_t window = cfg_.parallelism() == 0 || ctx_.bugs.update_ignores_parallelism
                              ? old_slots.size()
                              : static_cast<size_t>(cfg_.parallelism());
    size_t room = window > in_flight ? window - in_flight : 0;
    if (cfg_.delay_ns() > 0) {
      // Whole batches, `delay` apart: wait for the last batch to run, then for the delay.
      if (in_flight > 0) return;
      if (updated > 0 && status_.next_batch_at_ns() == 0) {
        status_.set_next_batch_at_ns(ctx_.now_ns + cfg_.delay_ns());
        wake(status_.next_batch_at_ns());
        return;
      }
      if (status_.next_batch_at_ns() > ctx_.now_ns) {
        wake(status_.next_batch_at_ns());
        return;
      }
      status_.set_next_batch_at_ns(0);
      room = window;
    }
    const bool start_first = cfg_.order() == storepb::UpdateConfig::START_FIRST;
    auto stop = [this](const storepb::TaskObject& t) {
      storepb::StoreAction a;
      a.set_kind(storepb::StoreAction::UPDATE);
      *a.mutable_task() = t;
      a.mutable_task()->set_desired_state(std::max(t.desired_state(), storepb::SHUTDOWN));
      out_.actions.push_back(std::move(a));
    };
    std::string replaced;  // the batch's task names, for one note
    const size_t promised = cfg_.parallelism() == 0 ? old_slots.size() : static_cast<size_t>(cfg_.parallelism());
    size_t started = 0;
    for (const Slot* s : old_slots) {
      if (room == 0) break;
      --room;
      // The updater's promise: no more than `parallelism` slots in flight by its own starts, so
      // no more than replicas + parallelism tasks live while a stop-first update runs.
      SHOAL_CHECK(in_flight + ++started <= promised, "updater: %s starts slot %zu beside %zu in flight, parallelism %zu",
                  name().c_str(), in_flight + started, in_flight, promised);
      if (ctx_.notes != LogLevel::kOff) replaced += (replaced.empty() ? "" : ", ") + store::task_name(*s->current);
      // An older live task of the slot already runs the spec wanted (a rollback while a
      // start-first update still ran the old task beside the new one): the newer one just goes.
      if (older_up_to_date(*s)) {
        stop(*s->current);
        continue;
      }
      storepb::StoreAction successor;
      successor.set_kind(storepb::StoreAction::CREATE);
      *successor.mutable_task() = ctx_.new_task(s->number, svc_.spec().has_global() ? s->current->node_id() : "");
      if (start_first) {
        // Only a running task serves the slot until the new one runs. Any other task the slot
        // still wants running (one superseded before it ever ran, one that ended and awaits its
        // restart) goes now, so a slot never holds more than the old task and the new one.
        for (const auto* t : s->history) {
          if (is_live(*t) && t->status().state() != storepb::RUNNING && !touched_.count(t->id())) stop(*t);
        }
      } else {
        // Stop-first: the old task goes, and its successor, made in the same commit, starts only
        // once every task of the slot still on a node has ended (wait_for), so the node that ran
        // the old task can start the new one the moment the old one exits, without a report, a
        // commit and a pass in between.
        stop(*s->current);
        if (!ctx_.bugs.update_starts_without_waiting) {
          for (const auto* t : s->history) {
            if (t->node_id().empty() || is_terminal(t->status().state())) continue;
            successor.mutable_task()->add_wait_for(t->id());
          }
        }
      }
      out_.actions.push_back(std::move(successor));
    }
    if (!replaced.empty()) {
      note(LogLevel::kInfo, "{} of {}: replacing {} ({} of {} slots done)", rolling_back(status_) ? "rollback" : "update",
           name(), replaced, updated, slots_.size());
    }
  }

  void wake(int64_t at) {
    if (at > 0 && (out_.wake_at_ns == 0 || at < out_.wake_at_ns)) out_.wake_at_ns = at;
  }

  void push_service(storepb::ServiceObject svc) {
    service_written_ = true;
    storepb::StoreAction a;
    a.set_kind(storepb::StoreAction::UPDATE);
    *a.mutable_service() = std::move(svc);
    out_.actions.push_back(std::move(a));
  }

  UpdatePass finish() {
    if (!service_written_ &&
        !google::protobuf::util::MessageDifferencer::Equals(status_, svc_.update_status())) {
      storepb::ServiceObject next = svc_;
      *next.mutable_update_status() = status_;
      push_service(std::move(next));
    }
    return std::move(out_);
  }

  const storepb::ServiceObject& svc_;
  const UpdateContext& ctx_;
  const std::set<std::string>& touched_;
  storepb::UpdateStatus status_;
  const storepb::UpdateConfig& cfg_;
  const std::string wanted_spec_;  // canonical_bytes of the service's task spec
  std::map<const storepb::TaskObject*, bool> up_to_date_;  // memo of up_to_date()
  std::map<std::string, Slot> slots_;
  UpdatePass out_;
  bool service_written_ = false;
};

}  // namespace

const storepb::UpdateConfig& active_update_config(const storepb::ServiceObject& service) {
  return rolling_back(service.update_status()) ? service.spec().rollback_config() : service.spec().update_config();
}

bool update_in_progress(const storepb::UpdateStatus& status) {
  return status.state() == State::UPDATING || status.state() == State::ROLLBACK_STARTED;
}

UpdatePass plan_update(const storepb::ServiceObject& service, const std::vector<const storepb::TaskObject*>& tasks,
                       const UpdateContext& ctx, const std::set<std::string>& touched) {
  return Planner(service, ctx, touched).plan(tasks);
}

}  // namespace shoal::orchestrator
