// Scheduler: decides which node each pending task runs on. Pure: it reads nodes and tasks and
// returns decisions; the manager's leader turns them into one store transaction.
//
// For each pending task (status PENDING, no node, desired state RUNNING), in task-id order:
//   1. filters, each of which can rule a node out: the node is ready; its availability is
//      active; it meets every constraint of the task's placement; it has the CPU and memory the
//      task reserves left over (totals from its description, minus the reservations of the tasks
//      already on it that are not finished); it runs fewer than max_replicas tasks of the service;
//   2. among the nodes left: spread over each placement preference in turn (the label value with
//      the fewest tasks of the service wins; nodes without the label form one group of their own),
//      then the fewest tasks of the service, then the fewest tasks in all, then the lowest node id.
// Decisions made earlier in the same pass count as if they were already in the store, so one pass
// spreads a batch of new tasks as evenly as placing them one by one would.
//
// A task that fits nowhere stays pending with a reason a person can act on, worded like Docker's:
//   "no suitable node (2 nodes not available for new tasks; 1 node has insufficient memory)"
//
//   SchedulePlan plan = schedule(store.nodes(), store.tasks());
//   for (auto& d : plan.assigned) ...   // task d.task_id -> node d.node_id
//   for (auto& u : plan.unplaced) ...   // task u.task_id stays pending because u.reason
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/api/store.pb.h"

namespace shoal::scheduler {

struct Assignment {
  std::string task_id;
  std::string node_id;
};

struct Unplaced {
  std::string task_id;
  std::string reason;  // "no suitable node (...)"
};

struct SchedulePlan {
  std::vector<Assignment> assigned;
  std::vector<Unplaced> unplaced;
};

SchedulePlan schedule(const std::map<std::string, storepb::NodeObject>& nodes,
                      const std::map<std::string, storepb::TaskObject>& tasks);

// The same, for a caller that is writing a transaction of its own at the time (the orchestrator's
// pass): the store's pending tasks except those in `skip` (the transaction changes them already,
// so they wait for the next pass), then `fresh`, pending tasks the transaction creates (not in the
// store yet), in the order given. Lets a new task be placed in the commit that makes it.
SchedulePlan schedule(const std::map<std::string, storepb::NodeObject>& nodes,
                      const std::map<std::string, storepb::TaskObject>& tasks,
                      const std::vector<const storepb::TaskObject*>& fresh, const std::set<std::string>& skip);

}  // namespace shoal::scheduler
