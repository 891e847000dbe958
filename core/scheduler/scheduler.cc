// The scheduler's one pass (the algorithm is in scheduler.h). Choices made here, where the header
// leaves room:
//   * Pending: status PENDING, no node, desired state at most RUNNING. A task occupies its node
//     (its reservations, max_replicas and the task counts) when it has a node, its desired state
//     is at most RUNNING and its status has not gone past RUNNING, whatever the node's own state:
//     a task on a down node still holds its place until the orchestrator ends it.
//   * Resources: a node's free CPU (memory) is its description's total minus the reservations of
//     the tasks occupying it. A task that reserves nothing of a kind always fits for that kind,
//     so a node reporting 0 (an agent that reports no resources) still takes such tasks; a task
//     that reserves some CPU (memory) needs at least that much free, so a node reporting 0 is
//     insufficient for it, as in Docker, where a reservation above what is available does not
//     fit. Negative numbers count as 0; sums saturate at INT64_MAX instead of overflowing.
//   * Spread: a preference's key is any constraint key (node.labels.NAME and engine.labels.NAME,
//     as swarmkit supports, and also node.id, node.hostname, ...); a key that is not one is
//     ignored, as swarmkit ignores descriptors it does not support. Preferences nest: the second
//     one compares groups by the tasks in its (first value, second value) group, as swarmkit's
//     tree does. Group counts include the tasks on every known node of the group, also nodes
//     the task cannot go to (the tasks are running there all the same). Nodes without the label
//     form one group of their own, apart from nodes whose label is empty.
//   * Reason: each node is counted once, under the first filter that ruled it out, and the parts
//     come in filter order (swarmkit sorts them by count instead). The wordings are swarmkit's,
//     except for resources, which say what was short, and max replicas, which also gives the
//     count:
//       "1 node not available for new tasks"              (not ready, or availability not active)
//       "scheduling constraints not satisfied on 2 nodes"
//       "1 node has insufficient CPU" / "2 nodes have insufficient memory" /
//       "1 node has insufficient CPU and memory"
//       "max replicas per node limit exceed on 1 node"
//     With no nodes at all: "no suitable node (no nodes in the cluster)". A task whose
//     constraints do not parse: "invalid constraint: <the parser's message>".
#include "core/scheduler/scheduler.h"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <tuple>

#include "core/env/check.h"
#include "core/scheduler/constraint.h"
#include "core/scheduler/internal/node_key.h"

namespace shoal::scheduler {

namespace {

using storepb::NodeObject;
using storepb::TaskObject;

bool pending_for_scheduler(const TaskObject& t) {
  return t.status().state() == storepb::PENDING && t.node_id().empty() && t.desired_state() <= storepb::RUNNING;
}

bool occupies(const TaskObject& t) {
  return !t.node_id().empty() && t.desired_state() <= storepb::RUNNING && t.status().state() <= storepb::RUNNING;
}

int64_t non_negative(int64_t v) { return v < 0 ? 0 : v; }

// Both arguments non-negative.
int64_t saturating_add(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) return std::numeric_limits<int64_t>::max();
  return sum;
}

// What the tasks on a node use: those in the store and those placed on it earlier in this pass.
struct NodeLoad {
  int64_t nano_cpus = 0;
  int64_t memory_bytes = 0;
  uint64_t tasks = 0;
  std::map<std::string, uint64_t> service_tasks;  // service id -> tasks of it

  void add(const TaskObject& t) {
    nano_cpus = saturating_add(nano_cpus, non_negative(t.spec().resources().reservations().nano_cpus()));
    memory_bytes = saturating_add(memory_bytes, non_negative(t.spec().resources().reservations().memory_bytes()));
    ++tasks;
    ++service_tasks[t.service_id()];
  }

  uint64_t of_service(const std::string& service_id) const {
    auto it = service_tasks.find(service_id);
    return it == service_tasks.end() ? 0 : it->second;
  }
};

// The outcome of the filters for one node, in filter order (the reason lists them in this order).
enum class Verdict { kFits, kNotAvailable, kConstraints, kCpu, kMemory, kCpuAndMemory, kMaxReplicas };

Verdict check(const NodeObject& node, const NodeLoad& load, const TaskObject& task,
              const std::vector<Constraint>& constraints) {
  if (node.state() != storepb::NodeObject::READY || node.spec().availability() != storepb::NodeSpec::ACTIVE) {
    return Verdict::kNotAvailable;
  }
  for (const Constraint& c : constraints) {
    if (!c.matches(node)) return Verdict::kConstraints;
  }
  const auto& want = task.spec().resources().reservations();
  const auto& total = node.description().resources();
  // Both operands in [0, INT64_MAX]: the difference cannot overflow.
  const int64_t free_cpus = non_negative(total.nano_cpus()) - load.nano_cpus;
  const int64_t free_memory = non_negative(total.memory_bytes()) - load.memory_bytes;
  const bool short_cpu = non_negative(want.nano_cpus()) > 0 && non_negative(want.nano_cpus()) > free_cpus;
  const bool short_memory = non_negative(want.memory_bytes()) > 0 && non_negative(want.memory_bytes()) > free_memory;
  if (short_cpu && short_memory) return Verdict::kCpuAndMemory;
  if (short_cpu) return Verdict::kCpu;
  if (short_memory) return Verdict::kMemory;
  const uint64_t max_replicas = task.spec().placement().max_replicas();
  if (max_replicas > 0 && load.of_service(task.service_id()) >= max_replicas) return Verdict::kMaxReplicas;
  return Verdict::kFits;
}

std::string nodes_text(uint64_t n) { return std::to_string(n) + (n == 1 ? " node" : " nodes"); }

std::string nodes_have(uint64_t n) { return nodes_text(n) + (n == 1 ? " has" : " have"); }

std::string explain(const std::map<Verdict, uint64_t>& ruled_out) {
  std::string parts;
  for (const auto& [verdict, n] : ruled_out) {
    std::string part;
    switch (verdict) {
      case Verdict::kFits: SHOAL_CHECK(false, "a node that fits was counted as ruled out"); break;
      case Verdict::kNotAvailable: part = nodes_text(n) + " not available for new tasks"; break;
      case Verdict::kConstraints: part = "scheduling constraints not satisfied on " + nodes_text(n); break;
      case Verdict::kCpu: part = nodes_have(n) + " insufficient CPU"; break;
      case Verdict::kMemory: part = nodes_have(n) + " insufficient memory"; break;
      case Verdict::kCpuAndMemory: part = nodes_have(n) + " insufficient CPU and memory"; break;
      case Verdict::kMaxReplicas: part = "max replicas per node limit exceed on " + nodes_text(n); break;
    }
    if (!parts.empty()) parts += "; ";
    parts += part;
  }
  return "no suitable node (" + parts + ")";
}

// A node's place in the spread tree: its value for each preference key, nullopt where it has
// no such label.
using Path = std::vector<std::optional<std::string>>;

// The group a path falls in at preference level `level` (0-based): its first level+1 values.
Path group_at(const Path& path, size_t level) {
  return Path(path.begin(), path.begin() + static_cast<std::ptrdiff_t>(level) + 1);
}

// The keys of the task's spread preferences that are known keys, in order.
std::vector<std::string> spread_keys(const TaskObject& task) {
  std::vector<std::string> keys;
  for (const auto& pref : task.spec().placement().preferences()) {
    Result<std::string> key = internal::canonical_key(pref.spread());
    if (key.ok()) keys.push_back(std::move(*key));
  }
  return keys;
}

// Places one task, given the nodes that passed the filters: the node whose (spread group counts,
// tasks of the service, tasks in all, id) is smallest.
const std::string& choose(const std::map<std::string, NodeObject>& nodes,
                          const std::map<std::string, NodeLoad>& loads, const TaskObject& task,
                          const std::vector<const std::string*>& eligible) {
  SHOAL_CHECK(!eligible.empty(), "choose() needs a node that passed the filters");
  const std::vector<std::string> keys = spread_keys(task);
  // paths[id]: the node's path; groups[l][group_at(path, l)]: tasks of the service in that group.
  std::map<std::string, Path> paths;
  std::vector<std::map<Path, uint64_t>> groups(keys.size());
  if (!keys.empty()) {
    for (const auto& [id, node] : nodes) {
      Path path;
      for (const std::string& key : keys) path.push_back(internal::node_value(node, key));
      const uint64_t here = loads.at(id).of_service(task.service_id());
      for (size_t l = 0; l < keys.size(); ++l) groups[l][group_at(path, l)] += here;
      paths.emplace(id, std::move(path));
    }
  }
  const std::string* best = nullptr;
  std::vector<uint64_t> best_rank;
  for (const std::string* id : eligible) {
    std::vector<uint64_t> rank;
    if (!keys.empty()) {
      const Path& path = paths.at(*id);
      for (size_t l = 0; l < keys.size(); ++l) {
        rank.push_back(groups[l].at(group_at(path, l)));
      }
    }
    const NodeLoad& load = loads.at(*id);
    rank.push_back(load.of_service(task.service_id()));
    rank.push_back(load.tasks);
    // `eligible` is in id order, so on equal ranks the first (lowest id) stays.
    if (best == nullptr || rank < best_rank) {
      best = id;
      best_rank = std::move(rank);
    }
  }
  return *best;
}

// Tasks of one service with the same placement and reservations ask the same of a node. Without spread preferences their choice among nodes is the smallest
// (tasks of the service, tasks in all, id) among the nodes passing the filters, so a group keeps
// its candidate nodes in a set ordered that way instead of looking at every node for every task:
// the nodes that pass the filters that do not depend on load (ready and active, constraints) are
// found once per group; a node that fails a filter that does (resources, max replicas) leaves the
// group's set for the rest of the pass, since loads only grow within a pass. A group re-keys a
// node lazily, when it reaches the front of its set with a key that has grown. The decisions are
// the same as checking every node for every task in task-id order (the property tests compare
// them with that model); a task with spread preferences takes that path.
class Pass {
 public:
  Pass(const std::map<std::string, NodeObject>& nodes, const std::map<std::string, TaskObject>& tasks)
      : nodes_(nodes) {
    for (const auto& [id, node] : nodes) loads_[id];
    for (const auto& [id, task] : tasks) {
      if (!occupies(task)) continue;
      auto it = loads_.find(task.node_id());
      if (it != loads_.end()) it->second.add(task);  // a task on a node we do not know uses nothing we count
    }
  }

  void schedule(const TaskObject& task) {
    Result<std::vector<Constraint>> constraints = parse_constraints(task.spec().placement().constraints());
    if (!constraints.ok()) {
      plan_.unplaced.push_back({task.id(), "invalid constraint: " + constraints.status().message()});
      return;
    }
    if (nodes_.empty()) {
      plan_.unplaced.push_back({task.id(), "no suitable node (no nodes in the cluster)"});
      return;
    }
    if (!spread_keys(task).empty()) return schedule_one_by_one(task, *constraints);
    Group& g = group_for(task, *constraints);
    while (!g.candidates.empty()) {
      const Key stored = *g.candidates.begin();
      g.candidates.erase(g.candidates.begin());
      const std::string& node_id = *std::get<2>(stored);  // points into nodes_
      if (const Key now = key(g, node_id); now != stored) {
        // Another group placed a task there since: its key has grown; put it back where it
        // belongs now and look at the smallest again.
        g.candidates.insert(now);
        continue;
      }
      if (check(nodes_.at(node_id), loads_.at(node_id), task, g.constraints) == Verdict::kFits) {
        place(task, node_id);
        g.candidates.insert(key(g, node_id));
        return;
      }
      // Fails a filter that depends on load: it stays out of this group for the pass.
    }
    plan_.unplaced.push_back({task.id(), reason(task, g.constraints)});
  }

  SchedulePlan take() { return std::move(plan_); }

 private:
  struct NodeIdLess {
    bool operator()(const std::tuple<uint64_t, uint64_t, const std::string*>& a,
                    const std::tuple<uint64_t, uint64_t, const std::string*>& b) const {
      if (std::get<0>(a) != std::get<0>(b)) return std::get<0>(a) < std::get<0>(b);
      if (std::get<1>(a) != std::get<1>(b)) return std::get<1>(a) < std::get<1>(b);
      return *std::get<2>(a) < *std::get<2>(b);
    }
  };
  using Key = std::tuple<uint64_t, uint64_t, const std::string*>;  // (of the service, in all, node id)
  struct Group {
    std::string service_id;
    std::vector<Constraint> constraints;
    std::set<Key, NodeIdLess> candidates;
  };

  Key key(const Group& g, const std::string& node_id) const {
    const NodeLoad& load = loads_.at(node_id);
    return {load.of_service(g.service_id), load.tasks, &nodes_.find(node_id)->first};
  }

  Group& group_for(const TaskObject& task, const std::vector<Constraint>& constraints) {
    // What the filters read of a task: its service (max replicas), placement and reservations.
    std::string what = task.service_id();
    what += '\0';
    what += task.spec().placement().SerializeAsString();
    what += '\0';
    what += task.spec().resources().reservations().SerializeAsString();
    auto [it, fresh] = groups_.try_emplace(std::move(what));
    Group& g = it->second;
    if (!fresh) return g;
    g.service_id = task.service_id();
    g.constraints = constraints;
    for (const auto& [id, node] : nodes_) {
      const Verdict v = check(node, loads_.at(id), task, constraints);
      if (v == Verdict::kNotAvailable || v == Verdict::kConstraints) continue;
      g.candidates.insert(key(g, id));
    }
    return g;
  }

  // Other groups see the node's new load when they next look at it (keys only grow within a
  // pass, so a stale key is never larger than the true one: the smallest fresh key is the min).
  void place(const TaskObject& task, const std::string& node_id) {
    plan_.assigned.push_back({task.id(), node_id});
    loads_.at(node_id).add(task);
  }

  // Why no node takes the task: every node counted under the first filter it fails.
  std::string reason(const TaskObject& task, const std::vector<Constraint>& constraints) const {
    std::map<Verdict, uint64_t> ruled_out;
    for (const auto& [node_id, node] : nodes_) ++ruled_out[check(node, loads_.at(node_id), task, constraints)];
    ruled_out.erase(Verdict::kFits);
    return explain(ruled_out);
  }

  void schedule_one_by_one(const TaskObject& task, const std::vector<Constraint>& constraints) {
    std::vector<const std::string*> eligible;
    for (const auto& [node_id, node] : nodes_) {
      if (check(node, loads_.at(node_id), task, constraints) == Verdict::kFits) eligible.push_back(&node_id);
    }
    if (eligible.empty()) {
      plan_.unplaced.push_back({task.id(), reason(task, constraints)});
      return;
    }
    place(task, choose(nodes_, loads_, task, eligible));
  }

  const std::map<std::string, NodeObject>& nodes_;
  std::map<std::string, NodeLoad> loads_;
  std::map<std::string, Group> groups_;  // by what the filters read of a task (group_for)
  SchedulePlan plan_;
};

}  // namespace

SchedulePlan schedule(const std::map<std::string, storepb::NodeObject>& nodes,
                      const std::map<std::string, storepb::TaskObject>& tasks) {
  return schedule(nodes, tasks, {}, {});
}

SchedulePlan schedule(const std::map<std::string, storepb::NodeObject>& nodes,
                      const std::map<std::string, storepb::TaskObject>& tasks,
                      const std::vector<const storepb::TaskObject*>& fresh, const std::set<std::string>& skip) {
  Pass pass(nodes, tasks);
  for (const auto& [task_id, task] : tasks) {
    if (pending_for_scheduler(task) && !skip.count(task_id)) pass.schedule(task);
  }
  for (const TaskObject* task : fresh) {
    if (pending_for_scheduler(*task)) pass.schedule(*task);
  }
  return pass.take();
}

}  // namespace shoal::scheduler
