// Reconciler: what must change in the store so that a service's tasks match its spec. Pure: it
// reads a service, its tasks and the nodes, and returns store actions; the manager's leader
// proposes them as one transaction and calls it again whenever the store or the clock moves.
//
// Replicated services have slots 1..replicas, each with at most one live task (desired state
// RUNNING) and a short history of ended ones. For each slot:
//   - no task yet (or the service's spec changed since the slot gave up): a new PENDING task;
//   - its task ended: the restart policy (restart_policy.h) says now, later (wake_at_ns), or
//     never (the old task's desired state becomes SHUTDOWN and the slot stays empty);
//   - its task's node is down, drained, gone, or no longer meets the constraints: the task is shut
//     down and a successor made at once (not counted as a restart attempt);
//   - its task runs an older spec: the updater's to replace (updater.h), in batches; the
//     reconciler keeps an older live task beside a newer one until the newer one runs
//     (start-first), and makes no successor for an empty slot while its last task is still
//     stopping on a live node. A task lost with its node, or orphaned, is replaced by one that
//     waits for what it waited for (TaskObject.wait_for: a stop-first successor).
// Slots above `replicas` are scaled down: their tasks' desired state becomes REMOVE. Global
// services have one "slot" per eligible node (not drained, not down, meeting the constraints);
// their tasks are made already ASSIGNED to their node. A task whose desired state is past
// RUNNING and that never reached a node is finished here (nobody else will report on it).
// Ended tasks with desired state REMOVE are deleted; each slot keeps at most
// `task_history_limit` tasks (Docker's default 5), deleting the oldest ended ones.
//
//   ReconcileContext ctx{store.nodes(), now_ns, 5, [&] { return new_id(); }};
//   Reconciliation r = reconcile_service(svc, store.tasks_of_service(svc.id()), ctx);
//   for (auto& a : r.actions) *tx.add_actions() = a;
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/api/store.pb.h"
#include "core/env/planted_bugs.h"
#include "core/orchestrator/note.h"

namespace shoal::orchestrator {

struct ReconcileContext {
  const std::map<std::string, storepb::NodeObject>& nodes;
  int64_t now_ns = 0;
  uint64_t task_history_limit = 5;
  std::function<std::string()> new_task_id;
  PlantedBugs bugs = {};  // test-only (core/env/planted_bugs.h)
  // When this leader first saw each ended-but-live task ended (its own wall clock), for restart
  // delays; null: unknown (restart_policy.h).
  const std::map<std::string, int64_t>* seen_ended = nullptr;
  // When this leader first saw each live task RUNNING, for the updater's monitor periods.
  const std::map<std::string, int64_t>* seen_running = nullptr;
  // Notes below this level are not made (kOff: none), so a quiet log costs no formatting.
  LogLevel notes = LogLevel::kOff;
};

struct Reconciliation {
  std::vector<storepb::StoreAction> actions;
  int64_t wake_at_ns = 0;  // > 0: call again at this time (a restart delay ends)
  std::vector<Note> notes;
};

Reconciliation reconcile_service(const storepb::ServiceObject& service,
                                 const std::vector<const storepb::TaskObject*>& tasks, const ReconcileContext& ctx);

// Tasks whose service is gone: desired state REMOVE, and deleted once ended (or at once if they
// never reached a node).
Reconciliation reconcile_removed_service(const std::vector<const storepb::TaskObject*>& tasks);

}  // namespace shoal::orchestrator
