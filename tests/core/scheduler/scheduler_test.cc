// The scheduler: which tasks it considers, each filter, each tie-break, spread, max_replicas,
// resource accounting (also for tasks placed earlier in the same pass), the exact reason texts
// and determinism.
#include "core/scheduler/scheduler.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace shoal::scheduler {
namespace {

constexpr int64_t kCpu = 1'000'000'000;
constexpr int64_t kGiB = int64_t{1} << 30;

// A cluster in the making: nodes and tasks as the store holds them.
struct Cluster {
  std::map<std::string, storepb::NodeObject> nodes;
  std::map<std::string, storepb::TaskObject> tasks;

  // A ready, active worker with 4 CPUs and 8 GiB.
  storepb::NodeObject& node(const std::string& id) {
    storepb::NodeObject& n = nodes[id];
    n.set_id(id);
    n.set_hostname("host-" + id);
    n.set_role(storepb::WORKER);
    n.set_state(storepb::NodeObject::READY);
    n.mutable_spec()->set_availability(storepb::NodeSpec::ACTIVE);
    n.mutable_description()->mutable_platform()->set_os("linux");
    n.mutable_description()->mutable_platform()->set_architecture("x86_64");
    n.mutable_description()->mutable_resources()->set_nano_cpus(4 * kCpu);
    n.mutable_description()->mutable_resources()->set_memory_bytes(8 * kGiB);
    return n;
  }

  // A task waiting for the scheduler.
  storepb::TaskObject& pending(const std::string& id, const std::string& service = "svc") {
    storepb::TaskObject& t = tasks[id];
    t.set_id(id);
    t.set_service_id(service);
    t.set_desired_state(storepb::RUNNING);
    t.mutable_status()->set_state(storepb::PENDING);
    return t;
  }

  // A task running on `node_id`.
  storepb::TaskObject& running(const std::string& id, const std::string& service, const std::string& node_id) {
    storepb::TaskObject& t = pending(id, service);
    t.set_node_id(node_id);
    t.mutable_status()->set_state(storepb::RUNNING);
    return t;
  }

  SchedulePlan run() const { return schedule(nodes, tasks); }
};

void set_label(storepb::NodeObject& n, const std::string& name, const std::string& value) {
  (*n.mutable_spec()->mutable_annotations()->mutable_labels())[name] = value;
}

storepb::TaskObject& reserve(storepb::TaskObject& t, int64_t nano_cpus, int64_t memory_bytes) {
  t.mutable_spec()->mutable_resources()->mutable_reservations()->set_nano_cpus(nano_cpus);
  t.mutable_spec()->mutable_resources()->mutable_reservations()->set_memory_bytes(memory_bytes);
  return t;
}

void spread(storepb::TaskObject& t, const std::string& key) {
  t.mutable_spec()->mutable_placement()->add_preferences()->set_spread(key);
}

std::map<std::string, std::string> placed(const SchedulePlan& plan) {
  std::map<std::string, std::string> out;
  for (const auto& a : plan.assigned) out[a.task_id] = a.node_id;
  return out;
}

std::map<std::string, std::string> reasons(const SchedulePlan& plan) {
  std::map<std::string, std::string> out;
  for (const auto& u : plan.unplaced) out[u.task_id] = u.reason;
  return out;
}

using Placed = std::map<std::string, std::string>;

// ---- which tasks are scheduled ----

TEST(Scheduler, PlacesAPendingTask) {
  Cluster c;
  c.node("n1");
  c.pending("t1");
  SchedulePlan plan = c.run();
  EXPECT_EQ(placed(plan), (Placed{{"t1", "n1"}}));
  EXPECT_TRUE(plan.unplaced.empty());
}

TEST(Scheduler, LeavesAloneTasksThatAreNotPending) {
  Cluster c;
  c.node("n1");
  c.running("running", "svc", "n1");
  c.pending("new").mutable_status()->set_state(storepb::NEW);
  c.pending("assigned").mutable_status()->set_state(storepb::ASSIGNED);
  c.pending("has-node").set_node_id("n1");  // a global service's task: its node is set at creation
  c.pending("to-shut-down").set_desired_state(storepb::SHUTDOWN);
  c.pending("to-remove").set_desired_state(storepb::REMOVE);
  c.pending("failed").mutable_status()->set_state(storepb::FAILED);
  SchedulePlan plan = c.run();
  EXPECT_TRUE(plan.assigned.empty());
  EXPECT_TRUE(plan.unplaced.empty());
}

TEST(Scheduler, DesiredStatesBelowRunningAreStillScheduled) {
  Cluster c;
  c.node("n1");
  c.pending("t1").set_desired_state(storepb::READY);
  EXPECT_EQ(placed(c.run()), (Placed{{"t1", "n1"}}));
}

TEST(Scheduler, TasksAreTakenInIdOrder) {
  // Room for one task only: the lower task id gets it, whatever order the tasks were added in.
  Cluster c;
  c.node("n1").mutable_description()->mutable_resources()->set_nano_cpus(1 * kCpu);
  reserve(c.pending("t2"), kCpu, 0);
  reserve(c.pending("t1"), kCpu, 0);
  SchedulePlan plan = c.run();
  EXPECT_EQ(placed(plan), (Placed{{"t1", "n1"}}));
  EXPECT_EQ(reasons(plan), (Placed{{"t2", "no suitable node (1 node has insufficient CPU)"}}));
  ASSERT_EQ(plan.assigned.size(), 1u);
}

// ---- filters: readiness and availability ----

TEST(Scheduler, OnlyReadyActiveNodesTakeTasks) {
  Cluster c;
  c.node("a-down").set_state(storepb::NodeObject::DOWN);
  c.node("b-unknown").set_state(storepb::NodeObject::UNKNOWN);
  c.node("c-paused").mutable_spec()->set_availability(storepb::NodeSpec::PAUSE);
  c.node("d-drained").mutable_spec()->set_availability(storepb::NodeSpec::DRAIN);
  c.node("e-ok");
  c.pending("t1");
  c.pending("t2");
  EXPECT_EQ(placed(c.run()), (Placed{{"t1", "e-ok"}, {"t2", "e-ok"}}));
}

TEST(Scheduler, DownNodeIsNotAvailable) {
  Cluster c;
  c.node("n1").set_state(storepb::NodeObject::DOWN);
  c.pending("t1");
  EXPECT_EQ(reasons(c.run()), (Placed{{"t1", "no suitable node (1 node not available for new tasks)"}}));
}

TEST(Scheduler, UnknownStateNodeIsNotAvailable) {
  Cluster c;
  c.node("n1").set_state(storepb::NodeObject::UNKNOWN);
  c.pending("t1");
  EXPECT_EQ(reasons(c.run()), (Placed{{"t1", "no suitable node (1 node not available for new tasks)"}}));
}

TEST(Scheduler, PausedAndDrainedNodesAreNotAvailable) {
  Cluster c;
  c.node("n1").mutable_spec()->set_availability(storepb::NodeSpec::PAUSE);
  c.node("n2").mutable_spec()->set_availability(storepb::NodeSpec::DRAIN);
  c.pending("t1");
  EXPECT_EQ(reasons(c.run()), (Placed{{"t1", "no suitable node (2 nodes not available for new tasks)"}}));
}

// ---- filters: constraints ----

TEST(Scheduler, ConstraintsChooseTheNode) {
  Cluster c;
  c.node("n1");
  c.node("n2").set_role(storepb::MANAGER);
  set_label(c.node("n3"), "zone", "east");
  c.pending("to-manager").mutable_spec()->mutable_placement()->add_constraints("node.role==manager");
  c.pending("to-east").mutable_spec()->mutable_placement()->add_constraints("node.labels.zone == east");
  auto& both = c.pending("to-nowhere");
  both.mutable_spec()->mutable_placement()->add_constraints("node.role==manager");
  both.mutable_spec()->mutable_placement()->add_constraints("node.labels.zone==east");
  SchedulePlan plan = c.run();
  EXPECT_EQ(placed(plan), (Placed{{"to-east", "n3"}, {"to-manager", "n2"}}));
  EXPECT_EQ(reasons(plan),
            (Placed{{"to-nowhere", "no suitable node (scheduling constraints not satisfied on 3 nodes)"}}));
}

TEST(Scheduler, ConstraintNotSatisfiedOnOneNode) {
  Cluster c;
  c.node("n1");
  c.pending("t1").mutable_spec()->mutable_placement()->add_constraints("node.role==manager");
  EXPECT_EQ(reasons(c.run()), (Placed{{"t1", "no suitable node (scheduling constraints not satisfied on 1 node)"}}));
}

TEST(Scheduler, InvalidConstraintLeavesTheTaskPendingWithTheParsersMessage) {
  Cluster c;
  c.node("n1");
  c.pending("t1").mutable_spec()->mutable_placement()->add_constraints("node.role=manager");
  c.pending("t2");
  SchedulePlan plan = c.run();
  EXPECT_EQ(placed(plan), (Placed{{"t2", "n1"}}));
  EXPECT_EQ(reasons(plan), (Placed{{"t1", "invalid constraint: constraint \"node.role=manager\": no operator "
                                          "(expected KEY==VALUE or KEY!=VALUE)"}}));
}

TEST(Scheduler, InvalidConstraintIsReportedEvenWithoutNodes) {
  Cluster c;
  c.pending("t1").mutable_spec()->mutable_placement()->add_constraints("node.zone==east");
  const auto r = reasons(c.run());
  ASSERT_EQ(r.count("t1"), 1u);
  EXPECT_EQ(r.at("t1").rfind("invalid constraint: constraint \"node.zone==east\": unknown key", 0), 0u) << r.at("t1");
}

// ---- filters: resources ----

TEST(Scheduler, InsufficientCpu) {
  Cluster c;
  c.node("n1");
  reserve(c.pending("t1"), 5 * kCpu, 0);
  EXPECT_EQ(reasons(c.run()), (Placed{{"t1", "no suitable node (1 node has insufficient CPU)"}}));
}

TEST(Scheduler, InsufficientMemoryOnTwoNodes) {
  Cluster c;
  c.node("n1");
  c.node("n2");
  reserve(c.pending("t1"), 0, 9 * kGiB);
  EXPECT_EQ(reasons(c.run()), (Placed{{"t1", "no suitable node (2 nodes have insufficient memory)"}}));
}

TEST(Scheduler, InsufficientCpuAndMemory) {
  Cluster c;
  c.node("n1");
  reserve(c.pending("t1"), 5 * kCpu, 9 * kGiB);
  EXPECT_EQ(reasons(c.run()), (Placed{{"t1", "no suitable node (1 node has insufficient CPU and memory)"}}));
}

TEST(Scheduler, AReservationEqualToWhatIsFreeFits) {
  Cluster c;
  c.node("n1");
  reserve(c.pending("t1"), 4 * kCpu, 8 * kGiB);
  EXPECT_EQ(placed(c.run()), (Placed{{"t1", "n1"}}));
}

TEST(Scheduler, ReservationsOfTasksOnTheNodeAreSubtracted) {
  Cluster c;
  c.node("n1");
  c.node("n2");
  reserve(c.running("r1", "other", "n1"), 3 * kCpu, 0);
  reserve(c.running("r2", "other", "n2"), 0, 7 * kGiB);
  reserve(c.pending("t1"), 2 * kCpu, 2 * kGiB);
  EXPECT_EQ(reasons(c.run()), (Placed{{"t1", "no suitable node (1 node has insufficient CPU; "
                                             "1 node has insufficient memory)"}}));
}

TEST(Scheduler, FinishedTasksFreeTheirReservations) {
  Cluster c;
  c.node("n1");
  reserve(c.running("done", "other", "n1"), 4 * kCpu, 8 * kGiB).mutable_status()->set_state(storepb::COMPLETE);
  reserve(c.running("failed", "other", "n1"), 4 * kCpu, 8 * kGiB).mutable_status()->set_state(storepb::FAILED);
  reserve(c.running("stopping", "other", "n1"), 4 * kCpu, 8 * kGiB).set_desired_state(storepb::SHUTDOWN);
  reserve(c.pending("t1"), 4 * kCpu, 8 * kGiB);
  EXPECT_EQ(placed(c.run()), (Placed{{"t1", "n1"}}));
}

TEST(Scheduler, TasksNotYetRunningHoldTheirReservations) {
  Cluster c;
  c.node("n1");
  reserve(c.running("starting", "other", "n1"), 3 * kCpu, 0).mutable_status()->set_state(storepb::ASSIGNED);
  reserve(c.pending("t1"), 2 * kCpu, 0);
  EXPECT_EQ(reasons(c.run()), (Placed{{"t1", "no suitable node (1 node has insufficient CPU)"}}));
}

TEST(Scheduler, TasksPlacedEarlierInThePassCount) {
  Cluster c;
  c.node("n1").mutable_description()->mutable_resources()->set_nano_cpus(2 * kCpu);
  reserve(c.pending("t1"), kCpu, kGiB);
  reserve(c.pending("t2"), kCpu, kGiB);
  reserve(c.pending("t3"), kCpu, kGiB);
  SchedulePlan plan = c.run();
  EXPECT_EQ(placed(plan), (Placed{{"t1", "n1"}, {"t2", "n1"}}));
  EXPECT_EQ(reasons(plan), (Placed{{"t3", "no suitable node (1 node has insufficient CPU)"}}));
}

TEST(Scheduler, NodeReportingNoResourcesTakesOnlyTasksThatReserveNothing) {
  Cluster c;
  c.node("n1").mutable_description()->clear_resources();
  c.pending("free");
  reserve(c.pending("needs-cpu"), 1, 0);
  reserve(c.pending("needs-memory"), 0, 1);
  SchedulePlan plan = c.run();
  EXPECT_EQ(placed(plan), (Placed{{"free", "n1"}}));
  EXPECT_EQ(reasons(plan), (Placed{{"needs-cpu", "no suitable node (1 node has insufficient CPU)"},
                                   {"needs-memory", "no suitable node (1 node has insufficient memory)"}}));
}

TEST(Scheduler, TaskOnAnUnknownNodeIsIgnored) {
  Cluster c;
  c.node("n1");
  reserve(c.running("elsewhere", "svc", "gone"), 4 * kCpu, 8 * kGiB);
  reserve(c.pending("t1"), 4 * kCpu, 8 * kGiB);
  EXPECT_EQ(placed(c.run()), (Placed{{"t1", "n1"}}));
}

TEST(Scheduler, HugeReservationsDoNotOverflow) {
  Cluster c;
  c.node("n1").mutable_description()->mutable_resources()->set_nano_cpus(INT64_MAX);
  reserve(c.running("r1", "other", "n1"), INT64_MAX, 0);
  reserve(c.running("r2", "other", "n1"), INT64_MAX, 0);
  reserve(c.pending("t1"), 1, 0);
  EXPECT_EQ(reasons(c.run()), (Placed{{"t1", "no suitable node (1 node has insufficient CPU)"}}));
}

// ---- filters: max replicas ----

TEST(Scheduler, MaxReplicasPerNode) {
  Cluster c;
  c.node("n1");
  c.node("n2");
  for (const char* id : {"t1", "t2", "t3"}) c.pending(id).mutable_spec()->mutable_placement()->set_max_replicas(1);
  SchedulePlan plan = c.run();
  EXPECT_EQ(placed(plan), (Placed{{"t1", "n1"}, {"t2", "n2"}}));
  EXPECT_EQ(reasons(plan), (Placed{{"t3", "no suitable node (max replicas per node limit exceed on 2 nodes)"}}));
}

TEST(Scheduler, MaxReplicasCountsRunningTasksOfTheServiceOnly) {
  Cluster c;
  c.node("n1");
  c.running("mine", "svc", "n1");
  c.running("other", "other", "n1");
  c.running("mine-done", "svc", "n1").mutable_status()->set_state(storepb::SHUTDOWN);
  auto& t = c.pending("t1");
  t.mutable_spec()->mutable_placement()->set_max_replicas(2);
  EXPECT_EQ(placed(c.run()), (Placed{{"t1", "n1"}}));

  c.running("mine-2", "svc", "n1");
  EXPECT_EQ(reasons(c.run()), (Placed{{"t1", "no suitable node (max replicas per node limit exceed on 1 node)"}}));
}

// ---- reasons ----

TEST(Scheduler, ReasonCountsEachNodeUnderItsFirstFailingFilterInFilterOrder) {
  Cluster c;
  c.node("down").set_state(storepb::NodeObject::DOWN);
  auto& down_small = c.node("down-small");  // a worker, short of CPU too: counted as not available
  down_small.set_state(storepb::NodeObject::DOWN);
  down_small.mutable_description()->mutable_resources()->set_nano_cpus(0);
  c.node("drained").mutable_spec()->set_availability(storepb::NodeSpec::DRAIN);
  c.node("worker");                                 // fails the constraint
  c.node("worker2");
  auto& cpu = c.node("small-cpu");
  cpu.set_role(storepb::MANAGER);
  cpu.mutable_description()->mutable_resources()->set_nano_cpus(kCpu);
  auto& mem = c.node("small-mem");
  mem.set_role(storepb::MANAGER);
  mem.mutable_description()->mutable_resources()->set_memory_bytes(kGiB);
  auto& both = c.node("small-both");
  both.set_role(storepb::MANAGER);
  both.mutable_description()->mutable_resources()->set_nano_cpus(kCpu);
  both.mutable_description()->mutable_resources()->set_memory_bytes(kGiB);
  c.node("full").set_role(storepb::MANAGER);
  c.running("r1", "svc", "full");

  auto& t = c.pending("t1");
  t.mutable_spec()->mutable_placement()->add_constraints("node.role==manager");
  t.mutable_spec()->mutable_placement()->set_max_replicas(1);
  reserve(t, 2 * kCpu, 2 * kGiB);
  EXPECT_EQ(reasons(c.run()),
            (Placed{{"t1", "no suitable node (3 nodes not available for new tasks; "
                           "scheduling constraints not satisfied on 2 nodes; "
                           "1 node has insufficient CPU; 1 node has insufficient memory; "
                           "1 node has insufficient CPU and memory; "
                           "max replicas per node limit exceed on 1 node)"}}));
}

TEST(Scheduler, ReasonOfTheIssue) {
  Cluster c;
  c.node("n1").mutable_spec()->set_availability(storepb::NodeSpec::DRAIN);
  c.node("n2").set_state(storepb::NodeObject::DOWN);
  c.node("n3");
  reserve(c.pending("t1"), 0, 16 * kGiB);
  EXPECT_EQ(reasons(c.run()),
            (Placed{{"t1", "no suitable node (2 nodes not available for new tasks; 1 node has insufficient memory)"}}));
}

TEST(Scheduler, NoNodesAtAll) {
  Cluster c;
  c.pending("t1");
  SchedulePlan plan = c.run();
  EXPECT_TRUE(plan.assigned.empty());
  EXPECT_EQ(reasons(plan), (Placed{{"t1", "no suitable node (no nodes in the cluster)"}}));
}

// ---- tie-breaks ----

TEST(Scheduler, FewestTasksOfTheServiceWins) {
  Cluster c;
  c.node("n1");
  c.node("n2");
  c.running("r1", "svc", "n1");
  c.running("r2", "other", "n2");
  c.running("r3", "other", "n2");
  c.pending("t1");
  EXPECT_EQ(placed(c.run()), (Placed{{"t1", "n2"}}));
}

TEST(Scheduler, ThenFewestTasksInAll) {
  Cluster c;
  c.node("n1");
  c.node("n2");
  c.running("r1", "other", "n1");
  c.pending("t1");
  EXPECT_EQ(placed(c.run()), (Placed{{"t1", "n2"}}));
}

TEST(Scheduler, ThenLowestNodeId) {
  Cluster c;
  c.node("n2");
  c.node("n1");
  c.node("n3");
  c.pending("t1");
  EXPECT_EQ(placed(c.run()), (Placed{{"t1", "n1"}}));
}

TEST(Scheduler, FinishedTasksDoNotCountForTieBreaks) {
  Cluster c;
  c.node("n1");
  c.node("n2");
  c.running("r1", "other", "n2");
  c.running("done1", "svc", "n1").mutable_status()->set_state(storepb::COMPLETE);
  c.running("done2", "other", "n1").mutable_status()->set_state(storepb::FAILED);
  c.pending("t1");
  EXPECT_EQ(placed(c.run()), (Placed{{"t1", "n1"}}));
}

TEST(Scheduler, ABatchIsSpreadOverNodes) {
  Cluster c;
  c.node("n1");
  c.node("n2");
  c.node("n3");
  for (const char* id : {"t1", "t2", "t3", "t4", "t5"}) c.pending(id);
  EXPECT_EQ(placed(c.run()), (Placed{{"t1", "n1"}, {"t2", "n2"}, {"t3", "n3"}, {"t4", "n1"}, {"t5", "n2"}}));
}

TEST(Scheduler, TwoServicesInOnePassBalanceTotals) {
  Cluster c;
  c.node("n1");
  c.node("n2");
  c.pending("a1", "a");
  c.pending("b1", "b");
  // b1: both nodes have no task of b; n1 already holds a1 (placed earlier in the pass).
  EXPECT_EQ(placed(c.run()), (Placed{{"a1", "n1"}, {"b1", "n2"}}));
}

// ---- spread ----

TEST(Scheduler, SpreadOverALabel) {
  Cluster c;
  set_label(c.node("n1"), "zone", "east");
  set_label(c.node("n2"), "zone", "east");
  set_label(c.node("n3"), "zone", "west");
  for (const char* id : {"t1", "t2", "t3", "t4"}) spread(c.pending(id), "node.labels.zone");
  // Without the preference: n1, n2, n3, n1.
  EXPECT_EQ(placed(c.run()), (Placed{{"t1", "n1"}, {"t2", "n3"}, {"t3", "n2"}, {"t4", "n3"}}));
}

TEST(Scheduler, SpreadCountsRunningTasksOfTheServiceInTheGroup) {
  Cluster c;
  set_label(c.node("n1"), "zone", "east");
  set_label(c.node("n2"), "zone", "east");
  set_label(c.node("n3"), "zone", "west");
  set_label(c.node("n4"), "zone", "west");
  c.running("r1", "svc", "n3");
  c.running("r2", "other", "n1");
  c.running("r3", "other", "n2");
  spread(c.pending("t1"), "node.labels.zone");
  // Per node, n4 has the fewest tasks; but west already runs one task of svc.
  EXPECT_EQ(placed(c.run()), (Placed{{"t1", "n1"}}));
}

TEST(Scheduler, SpreadCountsTasksOnNodesTheTaskCannotUse) {
  Cluster c;
  set_label(c.node("n1"), "zone", "east");
  set_label(c.node("n2"), "zone", "east");
  set_label(c.node("n3"), "zone", "west");
  c.node("n2").mutable_spec()->set_availability(storepb::NodeSpec::DRAIN);
  c.running("r1", "svc", "n2");
  spread(c.pending("t1"), "node.labels.zone");
  EXPECT_EQ(placed(c.run()), (Placed{{"t1", "n3"}}));
}

TEST(Scheduler, NodesWithoutTheLabelFormOneGroup) {
  Cluster c;
  set_label(c.node("n1"), "zone", "east");
  set_label(c.node("n2"), "zone", "east");
  c.node("n3");
  c.node("n4");
  for (const char* id : {"t1", "t2", "t3", "t4"}) spread(c.pending(id), "node.labels.zone");
  // t3: east and the unlabelled group hold one task each; n2 and n4 hold none; n2 has the lower id.
  // (Were each unlabelled node a group of its own, t3 would go to n4.)
  EXPECT_EQ(placed(c.run()), (Placed{{"t1", "n1"}, {"t2", "n3"}, {"t3", "n2"}, {"t4", "n4"}}));
}

TEST(Scheduler, AnEmptyLabelIsAValueOfItsOwn) {
  Cluster c;
  set_label(c.node("n1"), "zone", "");
  set_label(c.node("n2"), "zone", "");
  c.node("n3");
  spread(c.pending("t1"), "node.labels.zone");
  spread(c.pending("t2"), "node.labels.zone");
  // Were "" and "no label" one group, t2 would go to n2.
  EXPECT_EQ(placed(c.run()), (Placed{{"t1", "n1"}, {"t2", "n3"}}));
}

TEST(Scheduler, SpreadOverEngineLabels) {
  Cluster c;
  (*c.node("n1").mutable_description()->mutable_engine_labels())["rack"] = "r1";
  (*c.node("n2").mutable_description()->mutable_engine_labels())["rack"] = "r1";
  (*c.node("n3").mutable_description()->mutable_engine_labels())["rack"] = "r2";
  spread(c.pending("t1"), "engine.labels.rack");
  spread(c.pending("t2"), "engine.labels.rack");
  EXPECT_EQ(placed(c.run()), (Placed{{"t1", "n1"}, {"t2", "n3"}}));
}

TEST(Scheduler, NestedPreferencesCountWithinTheirParentGroup) {
  Cluster c;
  auto label = [&](const std::string& id, const std::string& zone, const std::string& rack) {
    auto& n = c.node(id);
    set_label(n, "zone", zone);
    set_label(n, "rack", rack);
  };
  label("n1", "east", "r1");
  label("n2", "east", "r2");
  label("n3", "west", "r2");
  label("n4", "west", "r3");
  c.running("r-n1", "svc", "n1");
  c.running("r-n3", "svc", "n3");
  auto& t = c.pending("t1");
  spread(t, "node.labels.zone");
  spread(t, "node.labels.rack");
  // Zones tie (1 each). Within their zones, (east, r2) and (west, r3) are empty; n2 has the lower
  // id. (Counting racks over the whole cluster, r2 would hold one task and t1 would go to n4.)
  EXPECT_EQ(placed(c.run()), (Placed{{"t1", "n2"}}));
}

TEST(Scheduler, AnUnsupportedSpreadKeyIsIgnored) {
  Cluster c;
  set_label(c.node("n1"), "zone", "east");
  set_label(c.node("n2"), "zone", "east");
  set_label(c.node("n3"), "zone", "west");
  for (const char* id : {"t1", "t2", "t3"}) spread(c.pending(id), "node.lables.zone");
  EXPECT_EQ(placed(c.run()), (Placed{{"t1", "n1"}, {"t2", "n2"}, {"t3", "n3"}}));
}

TEST(Scheduler, SpreadComesAfterTheFilters) {
  Cluster c;
  set_label(c.node("n1"), "zone", "east");
  set_label(c.node("n2"), "zone", "west");
  c.node("n2").mutable_spec()->set_availability(storepb::NodeSpec::PAUSE);
  spread(c.pending("t1"), "node.labels.zone");
  spread(c.pending("t2"), "node.labels.zone");
  EXPECT_EQ(placed(c.run()), (Placed{{"t1", "n1"}, {"t2", "n1"}}));
}

// ---- determinism ----

TEST(Scheduler, SameInputSamePlan) {
  Cluster c;
  for (int i = 0; i < 6; ++i) {
    auto& n = c.node("n" + std::to_string(i));
    set_label(n, "zone", i % 2 ? "east" : "west");
  }
  c.node("n5").set_state(storepb::NodeObject::DOWN);
  for (int i = 0; i < 20; ++i) {
    auto& t = c.pending("t" + std::to_string(100 + i), i % 3 ? "web" : "db");
    reserve(t, kCpu / 2, kGiB);
    if (i % 3 == 0) spread(t, "node.labels.zone");
  }
  const SchedulePlan first = c.run();
  const SchedulePlan second = c.run();
  ASSERT_EQ(first.assigned.size(), second.assigned.size());
  ASSERT_EQ(first.unplaced.size(), second.unplaced.size());
  for (size_t i = 0; i < first.assigned.size(); ++i) {
    EXPECT_EQ(first.assigned[i].task_id, second.assigned[i].task_id);
    EXPECT_EQ(first.assigned[i].node_id, second.assigned[i].node_id);
  }
  for (size_t i = 0; i < first.unplaced.size(); ++i) {
    EXPECT_EQ(first.unplaced[i].task_id, second.unplaced[i].task_id);
    EXPECT_EQ(first.unplaced[i].reason, second.unplaced[i].reason);
  }
  // 5 usable nodes with 4 CPUs each hold 40 half-CPU tasks: all 20 fit, in task-id order.
  ASSERT_EQ(first.assigned.size(), 20u);
  for (size_t i = 1; i < first.assigned.size(); ++i) {
    EXPECT_LT(first.assigned[i - 1].task_id, first.assigned[i].task_id);
  }
}

}  // namespace
}  // namespace shoal::scheduler
