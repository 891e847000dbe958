#include "core/orchestrator/restart_policy.h"

#include <algorithm>

namespace shoal::orchestrator {

namespace {

// When the managers learned that a task ended: the store's own stamp (the leader's clock when
// the report was committed), not the time in the report, which is the worker's clock and may be
// off by any amount. A task never stored (unit tests) has only the report's.
int64_t ended_at_ns(const storepb::TaskObject& t) {
  return t.updated_at_ns() != 0 ? t.updated_at_ns() : t.status().timestamp_ns();
}

}  // namespace

RestartDecision decide_restart(const storepb::RestartPolicy& policy, const storepb::TaskObject& ended,
                               const std::vector<const storepb::TaskObject*>& slot_history, int64_t now_ns,
                               int64_t seen_ended_ns) {
  const storepb::TaskState state = ended.status().state();
  switch (policy.condition()) {
    case storepb::RestartPolicy::NONE: return {};
    case storepb::RestartPolicy::ON_FAILURE:
      if (state == storepb::COMPLETE) return {};
      break;
    default: break;
  }
  if (policy.max_attempts() > 0) {
    uint64_t restarts = ended.attempt();
    if (policy.window_ns() > 0) {
      // Restarts inside the window: the ended tasks of this slot (this one included) that ended
      // within it, less the first failure, which was not a restart.
      uint64_t ended_in_window = 0;
      for (const auto* t : slot_history) {
        if (is_terminal(t->status().state()) && ended_at_ns(*t) >= now_ns - policy.window_ns()) {
          ++ended_in_window;
        }
      }
      restarts = ended_in_window > 0 ? ended_in_window - 1 : 0;
    }
    if (restarts >= policy.max_attempts()) return {};
  }
  // A manager whose clock is behind the one that recorded the end would otherwise wait the skew
  // on top of the delay: never longer than the delay after this leader first saw the end.
  int64_t ended_ns = ended_at_ns(ended);
  if (seen_ended_ns > 0 && seen_ended_ns < ended_ns) ended_ns = seen_ended_ns;
  const int64_t at = ended_ns + policy.delay_ns();
  if (at <= now_ns) return {RestartDecision::kNow, now_ns};
  return {RestartDecision::kLater, at};
}

void sort_by_age(std::vector<const storepb::TaskObject*>& tasks) {
  std::sort(tasks.begin(), tasks.end(), [](const auto* a, const auto* b) {
    if (a->created_index() != b->created_index()) return a->created_index() < b->created_index();
    if (a->created_at_ns() != b->created_at_ns()) return a->created_at_ns() < b->created_at_ns();
    if (a->attempt() != b->attempt()) return a->attempt() < b->attempt();
    return a->id() < b->id();
  });
}

}  // namespace shoal::orchestrator
