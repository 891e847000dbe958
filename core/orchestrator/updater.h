// Updater: the rolling update (or rollback) of one service, one pass at a time. Pure, like the
// reconciler (reconciler.h), which calls it after driving every slot.
//
// When a service's task spec changes its spec_version rises, and the slots whose live task runs
// an older spec are replaced in batches of the update config's parallelism (0: all at once):
//   stop-first   the old task is shut down and the slot's new task made in the same commit,
//                waiting for the old one (TaskObject.wait_for): it starts only once the old one
//                has ended, so no more than `replicas` tasks run;
//   start-first  the new task is made beside the old; the reconciler shuts the old one down
//                once the new one runs, and the slot stays in flight until the old one has
//                ended, so no more than `replicas + parallelism` run.
// With no delay a new slot starts whenever one in the batch window finishes; with a delay,
// whole batches, each `delay` after the previous one was running. Every new task is monitored
// for `monitor` after it starts running: one that ends by itself in that time (or never runs)
// is a failure, counted once (UpdateStatus.failed_tasks). When failures exceed
// max_failure_ratio of the tasks the update pauses, rolls back (the previous spec, under the
// rollback config) or continues, as configured. Its progress lives in the service's
// UpdateStatus, in the replicated store, so a new leader carries on where the old one was; what
// a leader keeps only in memory (when it saw each task start running) is re-learnt
// conservatively: a task it never saw start is monitored from when it first sees it running.
//
//   UpdatePass u = plan_update(svc, tasks, ctx, touched);
//   for (auto& a : u.actions) *tx.add_actions() = a;
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/api/store.pb.h"
#include "core/env/planted_bugs.h"
#include "core/orchestrator/note.h"

namespace shoal::orchestrator {

struct UpdateContext {
  int64_t now_ns = 0;
  // When this leader first saw each task RUNNING (its wall clock); tasks missing: not seen yet.
  const std::map<std::string, int64_t>* seen_running = nullptr;
  // Makes a new task for a slot (replicated) or a node (global), as the reconciler would.
  std::function<storepb::TaskObject(uint64_t slot, const std::string& node_id)> new_task;
  // Slots the reconciler made a task for in this pass: replicated "<slot>", global "<node id>".
  const std::set<std::string>* filled = nullptr;
  // The cluster's nodes, by id: a slot's old task on a node that is down or gone is not waited for.
  const std::map<std::string, storepb::NodeObject>* nodes = nullptr;
  PlantedBugs bugs;  // test-only (core/env/planted_bugs.h)
  LogLevel notes = LogLevel::kOff;  // as ReconcileContext::notes
};

struct UpdatePass {
  std::vector<storepb::StoreAction> actions;
  int64_t wake_at_ns = 0;  // > 0: call again then (a monitor period or a batch delay ends)
  std::vector<Note> notes;
};

// `touched`: tasks the reconciler already acted on in this pass (the updater leaves them be).
UpdatePass plan_update(const storepb::ServiceObject& service, const std::vector<const storepb::TaskObject*>& tasks,
                       const UpdateContext& ctx, const std::set<std::string>& touched);

// The update or rollback config in force for the service's current update.
const storepb::UpdateConfig& active_update_config(const storepb::ServiceObject& service);

// True while an update or rollback is replacing tasks (not paused, not completed).
bool update_in_progress(const storepb::UpdateStatus& status);

}  // namespace shoal::orchestrator
