#include "core/orchestrator/restart_policy.h"

namespace shoal::orchestrator {

RestartDecision decide_restart(const storepb::RestartPolicy& policy, const storepb::TaskObject& ended,
                               const std::vector<const storepb::TaskObject*>& slot_history, int64_t now_ns) {
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
        if (is_terminal(t->status().state()) && t->status().timestamp_ns() >= now_ns - policy.window_ns()) {
          ++ended_in_window;
        }
      }
      restarts = ended_in_window > 0 ? ended_in_window - 1 : 0;
    }
    if (restarts >= policy.max_attempts()) return {};
  }
  const int64_t at = ended.status().timestamp_ns() + policy.delay_ns();
  if (at <= now_ns) return {RestartDecision::kNow, now_ns};
  return {RestartDecision::kLater, at};
}

}  // namespace shoal::orchestrator
