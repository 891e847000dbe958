// Property tests of the scheduler against a simple model.
//
// A run draws a cluster (nodes in every state and availability, with roles, a zone label and
// resources), tasks already on nodes (running, starting, finished, of two services, some on a node
// that is gone) and pending tasks (constraints, an occasional malformed one, reservations,
// max_replicas, a spread preference), schedules once, and checks the plan with a model written
// apart from the scheduler:
//   * every pending task is decided exactly once, nothing else is, and both lists are in task-id
//     order;
//   * replayed in task-id order, every assignment passes every filter given what was placed
//     before it, and every task left unplaced (with valid constraints) indeed fits nowhere, its
//     reason counting every node once;
//   * a task without preferences goes to a node with the fewest tasks of its service, and among
//     those the fewest tasks in all.
// Two more properties: identical tasks of one service, unconstrained, end up with per-node counts
// that differ by at most 1 over the nodes that take tasks; and spread over a label keeps the
// groups (and the nodes within each group) within 1 of each other.
// A companion test plants wrong plans and expects the checker to report each of them, and another
// makes sure the drawn worlds do exercise both outcomes.
#include <gtest/gtest.h>
// rapidcheck's gtest glue needs gtest declared first.
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/scheduler/constraint.h"
#include "core/scheduler/scheduler.h"

namespace shoal::scheduler {
namespace {

constexpr int64_t kHalfCpu = 500'000'000;
constexpr int64_t kGiB = int64_t{1} << 30;

struct World {
  std::map<std::string, storepb::NodeObject> nodes;
  std::map<std::string, storepb::TaskObject> tasks;
};

// draw(lo, hi): an integer in [lo, hi).
using Draw = std::function<int(int, int)>;

template <typename T>
const T& pick(const Draw& draw, const std::vector<T>& from) {
  return from[static_cast<size_t>(draw(0, static_cast<int>(from.size())))];
}

World draw_world(const Draw& draw) {
  World w;
  const int node_count = draw(0, 7);
  std::vector<std::string> node_ids;
  for (int i = 0; i < node_count; ++i) {
    storepb::NodeObject n;
    n.set_id("n" + std::to_string(i));
    using State = storepb::NodeObject;
    using Spec = storepb::NodeSpec;
    n.set_state(pick<State::State>(draw, {State::READY, State::READY, State::READY, State::READY, State::DOWN, State::UNKNOWN}));
    n.mutable_spec()->set_availability(
        pick<Spec::Availability>(draw, {Spec::ACTIVE, Spec::ACTIVE, Spec::ACTIVE, Spec::ACTIVE, Spec::PAUSE, Spec::DRAIN}));
    n.set_role(pick<storepb::NodeRole>(draw, {storepb::WORKER, storepb::MANAGER}));
    n.mutable_description()->mutable_platform()->set_os("linux");
    const std::string zone = pick<std::string>(draw, {"", "a", "b"});
    if (!zone.empty()) (*n.mutable_spec()->mutable_annotations()->mutable_labels())["zone"] = zone;
    n.mutable_description()->mutable_resources()->set_nano_cpus(draw(0, 9) * kHalfCpu);
    n.mutable_description()->mutable_resources()->set_memory_bytes(draw(0, 9) * kGiB);
    node_ids.push_back(n.id());
    w.nodes.emplace(n.id(), std::move(n));
  }
  std::vector<std::string> homes = node_ids;
  homes.push_back("gone");
  const int existing = draw(0, 9);
  for (int i = 0; i < existing; ++i) {
    storepb::TaskObject t;
    t.set_id("e" + std::to_string(i));
    t.set_service_id(pick<std::string>(draw, {"s1", "s2"}));
    t.set_node_id(pick(draw, homes));
    t.set_desired_state(pick<storepb::TaskState>(draw, {storepb::RUNNING, storepb::RUNNING, storepb::SHUTDOWN}));
    t.mutable_status()->set_state(
        pick<storepb::TaskState>(draw, {storepb::ASSIGNED, storepb::RUNNING, storepb::RUNNING, storepb::COMPLETE, storepb::FAILED}));
    t.mutable_spec()->mutable_resources()->mutable_reservations()->set_nano_cpus(draw(0, 4) * kHalfCpu);
    t.mutable_spec()->mutable_resources()->mutable_reservations()->set_memory_bytes(draw(0, 3) * kGiB);
    w.tasks.emplace(t.id(), std::move(t));
  }
  const std::vector<std::string> constraints = {
      "node.role==manager", "node.role!=manager", "node.labels.zone==a", "node.labels.zone!=b",
      "node.platform.os==linux", "node.platform.os!=linux", "node.labels.zone=a" /* malformed */};
  const int pending = draw(0, 13);
  for (int i = 0; i < pending; ++i) {
    storepb::TaskObject t;
    t.set_id("p" + std::to_string(10 + i));
    t.set_service_id(pick<std::string>(draw, {"s1", "s2"}));
    t.set_desired_state(storepb::RUNNING);
    t.mutable_status()->set_state(storepb::PENDING);
    auto* placement = t.mutable_spec()->mutable_placement();
    const int n_constraints = pick<int>(draw, {0, 0, 0, 1, 1, 2});
    for (int k = 0; k < n_constraints; ++k) {
      // The malformed one only rarely.
      const std::string& c = pick(draw, constraints);
      if (c.find("==") == std::string::npos && c.find("!=") == std::string::npos && draw(0, 4) != 0) continue;
      placement->add_constraints(c);
    }
    placement->set_max_replicas(static_cast<uint64_t>(pick<int>(draw, {0, 0, 1, 2})));
    if (draw(0, 3) == 0) placement->add_preferences()->set_spread("node.labels.zone");
    t.mutable_spec()->mutable_resources()->mutable_reservations()->set_nano_cpus(draw(0, 4) * kHalfCpu);
    t.mutable_spec()->mutable_resources()->mutable_reservations()->set_memory_bytes(draw(0, 3) * kGiB);
    w.tasks.emplace(t.id(), std::move(t));
  }
  return w;
}

// ---- the model ----

bool model_pending(const storepb::TaskObject& t) {
  return t.status().state() == storepb::PENDING && t.node_id().empty() && t.desired_state() <= storepb::RUNNING;
}

bool model_occupies(const storepb::TaskObject& t) {
  return !t.node_id().empty() && t.desired_state() <= storepb::RUNNING && t.status().state() <= storepb::RUNNING;
}

struct ModelNode {
  int64_t cpu = 0;
  int64_t memory = 0;
  std::map<std::string, int> per_service;
  int total = 0;
};

using Model = std::map<std::string, ModelNode>;

Model model_of(const World& w) {
  Model m;
  for (const auto& [id, n] : w.nodes) m[id];
  for (const auto& [id, t] : w.tasks) {
    if (!model_occupies(t) || !m.count(t.node_id())) continue;
    ModelNode& mn = m[t.node_id()];
    mn.cpu += t.spec().resources().reservations().nano_cpus();
    mn.memory += t.spec().resources().reservations().memory_bytes();
    ++mn.per_service[t.service_id()];
    ++mn.total;
  }
  return m;
}

void model_add(Model& m, const std::string& node_id, const storepb::TaskObject& t) {
  ModelNode& mn = m[node_id];
  mn.cpu += t.spec().resources().reservations().nano_cpus();
  mn.memory += t.spec().resources().reservations().memory_bytes();
  ++mn.per_service[t.service_id()];
  ++mn.total;
}

// Why `t` cannot go to `n` now, or "" when it can.
std::string model_refusal(const storepb::NodeObject& n, const ModelNode& mn, const storepb::TaskObject& t,
                          const std::vector<Constraint>& constraints) {
  if (n.state() != storepb::NodeObject::READY) return "node is " + storepb::NodeObject::State_Name(n.state());
  if (n.spec().availability() != storepb::NodeSpec::ACTIVE) {
    return "node is " + storepb::NodeSpec::Availability_Name(n.spec().availability());
  }
  for (const auto& c : constraints) {
    if (!c.matches(n)) return "constraint " + c.key + " " + c.value;
  }
  const auto& want = t.spec().resources().reservations();
  const auto& has = n.description().resources();
  if (want.nano_cpus() > 0 && mn.cpu + want.nano_cpus() > has.nano_cpus()) return "CPU";
  if (want.memory_bytes() > 0 && mn.memory + want.memory_bytes() > has.memory_bytes()) return "memory";
  const uint64_t max = t.spec().placement().max_replicas();
  auto it = mn.per_service.find(t.service_id());
  const int here = it == mn.per_service.end() ? 0 : it->second;
  if (max > 0 && static_cast<uint64_t>(here) >= max) return "max replicas";
  return "";
}

// The sum of the numbers in a reason's parentheses.
int counted_nodes(const std::string& reason) {
  int sum = 0;
  int cur = -1;
  for (char ch : reason) {
    if (ch >= '0' && ch <= '9') {
      cur = (cur < 0 ? 0 : cur * 10) + (ch - '0');
    } else if (cur >= 0) {
      sum += cur;
      cur = -1;
    }
  }
  return sum;
}

std::vector<std::string> check_plan(const World& w, const SchedulePlan& plan) {
  std::vector<std::string> v;
  std::map<std::string, std::optional<std::string>> decided;  // task -> node, or nullopt: unplaced
  std::map<std::string, std::string> why;
  auto note = [&](const std::string& task_id, std::optional<std::string> node) {
    if (decided.count(task_id)) v.push_back(task_id + " decided twice");
    decided[task_id] = std::move(node);
  };
  for (size_t i = 0; i < plan.assigned.size(); ++i) {
    if (i > 0 && !(plan.assigned[i - 1].task_id < plan.assigned[i].task_id)) v.push_back("assignments out of order");
    note(plan.assigned[i].task_id, plan.assigned[i].node_id);
  }
  for (size_t i = 0; i < plan.unplaced.size(); ++i) {
    if (i > 0 && !(plan.unplaced[i - 1].task_id < plan.unplaced[i].task_id)) v.push_back("unplaced out of order");
    note(plan.unplaced[i].task_id, std::nullopt);
    why[plan.unplaced[i].task_id] = plan.unplaced[i].reason;
  }
  for (const auto& [id, t] : w.tasks) {
    if (model_pending(t) && !decided.count(id)) v.push_back(id + " is pending but not decided");
    if (!model_pending(t) && decided.count(id)) v.push_back(id + " is not pending but was decided");
  }
  Model m = model_of(w);
  for (const auto& [task_id, node] : decided) {
    auto tit = w.tasks.find(task_id);
    if (tit == w.tasks.end()) {
      v.push_back(task_id + " is no task");
      continue;
    }
    const storepb::TaskObject& t = tit->second;
    Result<std::vector<Constraint>> cs = parse_constraints(t.spec().placement().constraints());
    if (!cs.ok()) {
      if (node) v.push_back(task_id + " has a malformed constraint but was placed on " + *node);
      else if (why[task_id].rfind("invalid constraint: ", 0) != 0) v.push_back(task_id + ": reason " + why[task_id]);
      continue;
    }
    if (node) {
      auto nit = w.nodes.find(*node);
      if (nit == w.nodes.end()) {
        v.push_back(task_id + " placed on unknown node " + *node);
        continue;
      }
      const std::string refusal = model_refusal(nit->second, m[*node], t, *cs);
      if (!refusal.empty()) v.push_back(task_id + " placed on " + *node + " despite " + refusal);
      if (t.spec().placement().preferences().empty()) {
        // Tie-breaks: no eligible node has fewer tasks of the service, or as many and fewer in all.
        const ModelNode& chosen = m[*node];
        auto svc = [&](const ModelNode& mn) {
          auto it = mn.per_service.find(t.service_id());
          return it == mn.per_service.end() ? 0 : it->second;
        };
        for (const auto& [other_id, other] : w.nodes) {
          if (!model_refusal(other, m[other_id], t, *cs).empty()) continue;
          const ModelNode& o = m[other_id];
          if (svc(o) < svc(chosen) || (svc(o) == svc(chosen) && o.total < chosen.total) ||
              (svc(o) == svc(chosen) && o.total == chosen.total && other_id < *node)) {
            v.push_back(task_id + " placed on " + *node + " though " + other_id + " ranks lower");
          }
        }
      }
      model_add(m, *node, t);
    } else {
      for (const auto& [node_id, n] : w.nodes) {
        if (model_refusal(n, m[node_id], t, *cs).empty()) v.push_back(task_id + " unplaced but fits on " + node_id);
      }
      const std::string& reason = why[task_id];
      if (reason.rfind("no suitable node (", 0) != 0) v.push_back(task_id + ": reason " + reason);
      if (w.nodes.empty() ? reason != "no suitable node (no nodes in the cluster)"
                          : counted_nodes(reason) != static_cast<int>(w.nodes.size())) {
        v.push_back(task_id + ": reason does not count every node once: " + reason);
      }
    }
  }
  return v;
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += s + "\n";
  return out;
}

// Generators whose range does not shrink with rapidcheck's size ramp.
int full_range(int lo, int hi) { return *rc::gen::resize(100, rc::gen::inRange(lo, hi)); }

RC_GTEST_PROP(SchedulerProperty, EveryDecisionAgreesWithTheModel, ()) {
  const World w = draw_world(full_range);
  const SchedulePlan plan = schedule(w.nodes, w.tasks);
  RC_CLASSIFY(!plan.assigned.empty(), "some placed");
  RC_CLASSIFY(!plan.unplaced.empty(), "some unplaced");
  const auto v = check_plan(w, plan);
  if (!v.empty()) RC_FAIL(joined(v));
}

RC_GTEST_PROP(SchedulerProperty, IdenticalTasksSpreadEvenly, ()) {
  World w;
  const int node_count = full_range(1, 8);
  for (int i = 0; i < node_count; ++i) {
    storepb::NodeObject n;
    n.set_id("n" + std::to_string(i));
    n.set_state(full_range(0, 5) == 0 ? storepb::NodeObject::DOWN : storepb::NodeObject::READY);
    n.mutable_spec()->set_availability(full_range(0, 5) == 0 ? storepb::NodeSpec::DRAIN : storepb::NodeSpec::ACTIVE);
    w.nodes.emplace(n.id(), std::move(n));
  }
  // Other services' tasks change the totals, not the balance of this service.
  const int others = full_range(0, 10);
  for (int i = 0; i < others; ++i) {
    storepb::TaskObject t;
    t.set_id("o" + std::to_string(i));
    t.set_service_id("other");
    t.set_node_id("n" + std::to_string(full_range(0, node_count)));
    t.set_desired_state(storepb::RUNNING);
    t.mutable_status()->set_state(storepb::RUNNING);
    w.tasks.emplace(t.id(), std::move(t));
  }
  const int count = full_range(0, 30);
  for (int i = 0; i < count; ++i) {
    storepb::TaskObject t;
    t.set_id("t" + std::to_string(100 + i));
    t.set_service_id("web");
    t.set_desired_state(storepb::RUNNING);
    t.mutable_status()->set_state(storepb::PENDING);
    w.tasks.emplace(t.id(), std::move(t));
  }
  const SchedulePlan plan = schedule(w.nodes, w.tasks);
  std::map<std::string, int> per_node;
  for (const auto& [id, n] : w.nodes) {
    if (n.state() == storepb::NodeObject::READY && n.spec().availability() == storepb::NodeSpec::ACTIVE) per_node[id] = 0;
  }
  for (const auto& a : plan.assigned) {
    RC_ASSERT(per_node.count(a.node_id) == 1u);
    ++per_node[a.node_id];
  }
  if (per_node.empty()) {
    RC_ASSERT(plan.unplaced.size() == static_cast<size_t>(count));
  } else {
    RC_ASSERT(plan.assigned.size() == static_cast<size_t>(count));
    const auto [lo, hi] = std::minmax_element(per_node.begin(), per_node.end(),
                                              [](const auto& a, const auto& b) { return a.second < b.second; });
    RC_ASSERT(hi->second - lo->second <= 1);
  }
}

RC_GTEST_PROP(SchedulerProperty, SpreadKeepsGroupsAndTheirNodesWithinOne, ()) {
  World w;
  const int node_count = full_range(1, 8);
  std::map<std::string, std::string> zone_of;  // node -> zone ("-": no label)
  for (int i = 0; i < node_count; ++i) {
    storepb::NodeObject n;
    n.set_id("n" + std::to_string(i));
    n.set_state(storepb::NodeObject::READY);
    n.mutable_spec()->set_availability(storepb::NodeSpec::ACTIVE);
    const std::string zone = std::vector<std::string>{"-", "a", "b", "c"}[static_cast<size_t>(full_range(0, 4))];
    if (zone != "-") (*n.mutable_spec()->mutable_annotations()->mutable_labels())["zone"] = zone;
    zone_of[n.id()] = zone;
    w.nodes.emplace(n.id(), std::move(n));
  }
  const int count = full_range(0, 30);
  for (int i = 0; i < count; ++i) {
    storepb::TaskObject t;
    t.set_id("t" + std::to_string(100 + i));
    t.set_service_id("web");
    t.set_desired_state(storepb::RUNNING);
    t.mutable_status()->set_state(storepb::PENDING);
    t.mutable_spec()->mutable_placement()->add_preferences()->set_spread("node.labels.zone");
    w.tasks.emplace(t.id(), std::move(t));
  }
  const SchedulePlan plan = schedule(w.nodes, w.tasks);
  RC_ASSERT(plan.assigned.size() == static_cast<size_t>(count));
  std::map<std::string, int> per_zone;
  std::map<std::string, int> per_node;
  for (const auto& [id, zone] : zone_of) {
    per_zone[zone];
    per_node[id];
  }
  for (const auto& a : plan.assigned) {
    ++per_zone[zone_of.at(a.node_id)];
    ++per_node[a.node_id];
  }
  auto spread_of = [](const std::map<std::string, int>& m) {
    int lo = INT32_MAX, hi = 0;
    for (const auto& [k, n] : m) {
      lo = std::min(lo, n);
      hi = std::max(hi, n);
    }
    return hi - lo;
  };
  RC_ASSERT(spread_of(per_zone) <= 1);
  for (const auto& [zone, n] : per_zone) {
    std::map<std::string, int> in_zone;
    for (const auto& [id, z] : zone_of) {
      if (z == zone) in_zone[id] = per_node[id];
    }
    RC_ASSERT(spread_of(in_zone) <= 1);
  }
}

// ---- the checker can fail, and the drawn worlds are not vacuous ----

World small_world() {
  World w;
  auto node = [&](const std::string& id, storepb::NodeObject::State state, int64_t cpus) {
    storepb::NodeObject n;
    n.set_id(id);
    n.set_state(state);
    n.mutable_spec()->set_availability(storepb::NodeSpec::ACTIVE);
    n.mutable_description()->mutable_resources()->set_nano_cpus(cpus);
    n.mutable_description()->mutable_resources()->set_memory_bytes(kGiB);
    w.nodes.emplace(id, std::move(n));
  };
  node("n1", storepb::NodeObject::READY, 2 * kHalfCpu);
  node("n2", storepb::NodeObject::DOWN, 8 * kHalfCpu);
  node("n3", storepb::NodeObject::READY, 2 * kHalfCpu);
  for (const char* id : {"p1", "p2", "p3"}) {
    storepb::TaskObject t;
    t.set_id(id);
    t.set_service_id("s1");
    t.set_desired_state(storepb::RUNNING);
    t.mutable_status()->set_state(storepb::PENDING);
    t.mutable_spec()->mutable_resources()->mutable_reservations()->set_nano_cpus(2 * kHalfCpu);
    w.tasks.emplace(id, std::move(t));
  }
  return w;
}

TEST(SchedulerProperty, CheckerAcceptsTheRealPlanOfASmallWorld) {
  const World w = small_world();
  const SchedulePlan plan = schedule(w.nodes, w.tasks);
  EXPECT_TRUE(check_plan(w, plan).empty()) << joined(check_plan(w, plan));
  ASSERT_EQ(plan.assigned.size(), 2u);
  ASSERT_EQ(plan.unplaced.size(), 1u);
  EXPECT_EQ(plan.unplaced[0].reason, "no suitable node (1 node not available for new tasks; 2 nodes have insufficient CPU)");
}

TEST(SchedulerProperty, CheckerCatchesPlantedWrongPlans) {
  const World w = small_world();
  const SchedulePlan good = schedule(w.nodes, w.tasks);
  ASSERT_EQ(good.assigned.size(), 2u);

  SchedulePlan on_down = good;
  on_down.unplaced.clear();
  on_down.assigned.push_back({"p3", "n2"});
  EXPECT_FALSE(check_plan(w, on_down).empty()) << "a task on a down node";

  SchedulePlan overfull = good;
  overfull.unplaced.clear();
  overfull.assigned.push_back({"p3", "n1"});
  EXPECT_FALSE(check_plan(w, overfull).empty()) << "a node over its CPU";

  SchedulePlan forgotten = good;
  forgotten.unplaced.clear();
  EXPECT_FALSE(check_plan(w, forgotten).empty()) << "a pending task not decided";

  SchedulePlan twice = good;
  twice.unplaced.push_back({"p1", "no suitable node (3 nodes have insufficient CPU)"});
  EXPECT_FALSE(check_plan(w, twice).empty()) << "a task decided twice";

  SchedulePlan lazy = good;
  lazy.assigned.pop_back();
  lazy.unplaced.insert(lazy.unplaced.begin(), {good.assigned.back().task_id, "no suitable node (3 nodes have insufficient CPU)"});
  EXPECT_FALSE(check_plan(w, lazy).empty()) << "a task left unplaced though it fits";

  SchedulePlan miscounted = good;
  miscounted.unplaced[0].reason = "no suitable node (2 nodes have insufficient CPU)";
  EXPECT_FALSE(check_plan(w, miscounted).empty()) << "a reason that forgets a node";

  SchedulePlan unbalanced;
  unbalanced.assigned = {{"p1", "n3"}, {"p2", "n1"}};
  unbalanced.unplaced = good.unplaced;
  EXPECT_FALSE(check_plan(w, unbalanced).empty()) << "a tie broken towards the higher node id";
}

TEST(SchedulerProperty, DrawnWorldsPlaceAndLeaveTasksUnplaced) {
  std::mt19937 rng(7);  // the test's own draws; the scheduler sees none of it
  const Draw draw = [&](int lo, int hi) { return lo + static_cast<int>(rng() % static_cast<unsigned>(hi - lo)); };
  int with_assigned = 0, with_unplaced = 0, with_invalid = 0, with_both_decisions = 0;
  for (int run = 0; run < 300; ++run) {
    const World w = draw_world(draw);
    const SchedulePlan plan = schedule(w.nodes, w.tasks);
    const auto v = check_plan(w, plan);
    ASSERT_TRUE(v.empty()) << joined(v);
    with_assigned += plan.assigned.empty() ? 0 : 1;
    with_unplaced += plan.unplaced.empty() ? 0 : 1;
    with_both_decisions += (!plan.assigned.empty() && !plan.unplaced.empty()) ? 1 : 0;
    for (const auto& u : plan.unplaced) {
      if (u.reason.rfind("invalid constraint", 0) == 0) {
        ++with_invalid;
        break;
      }
    }
  }
  EXPECT_GT(with_assigned, 100);
  EXPECT_GT(with_unplaced, 100);
  EXPECT_GT(with_both_decisions, 50);
  EXPECT_GT(with_invalid, 5);
}

}  // namespace
}  // namespace shoal::scheduler
