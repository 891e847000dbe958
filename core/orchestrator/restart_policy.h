// Restart policy: whether, and when, a slot whose task has ended gets a new task. Docker's
// meaning (`--restart-condition`, `--restart-delay`, `--restart-max-attempts`,
// `--restart-window`):
//   - condition any: always; on-failure: unless it completed (exit 0); none: never;
//   - the new task starts no sooner than `delay` after the old one ended: after the end the
//     managers recorded, or — if that is later, as when managers' clocks disagree — after the
//     deciding leader first saw it ended (`seen_ended_ns`, 0: unknown);
//   - at most `max_attempts` restarts (0: no limit). Without a window, restarts are counted by
//     the ended task's `attempt`; with a window, only tasks of the slot that ended within the
//     window before now count.
// A task lost with its node (node down or drained, or ORPHANED: its agent restarted without it)
// is not an ending of the task's own making: it is replaced at once, whatever the condition, and
// does not count as an attempt.
//
//   RestartDecision d = decide_restart(policy, ended, slot_history, now_ns, seen_ended_ns);
//   if (d.kind == RestartDecision::kNow) ... create the successor
#pragma once

#include <cstdint>
#include <vector>

#include "core/api/store.pb.h"

namespace shoal::orchestrator {

struct RestartDecision {
  enum Kind { kNever, kNow, kLater };
  Kind kind = kNever;
  int64_t at_ns = 0;  // kLater: when the delay has passed
};

// Docker's default delay when a policy leaves it at 0 is 5 s; the API layer fills that in, so
// here 0 means no delay.
RestartDecision decide_restart(const storepb::RestartPolicy& policy, const storepb::TaskObject& ended,
                               const std::vector<const storepb::TaskObject*>& slot_history, int64_t now_ns,
                               int64_t seen_ended_ns = 0);

// Oldest first: a slot's tasks in the order they were made (raft order: the wall clocks of
// different leaders can disagree), then by creation time, attempt and id.
void sort_by_age(std::vector<const storepb::TaskObject*>& tasks);

// True for states a task never leaves: it has stopped, one way or another.
inline bool is_terminal(storepb::TaskState s) { return s > storepb::RUNNING; }

}  // namespace shoal::orchestrator
