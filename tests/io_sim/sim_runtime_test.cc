// SimRuntime: tasks start after a while, stop when asked, and fail, crash or hang as the dice
// say; a node's crash takes its tasks with it; faults switched off call off drawn crashes.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <memory>
#include <vector>

#include "io_sim/world/sim_runtime.h"
#include "io_sim/world/world.h"

namespace shoal::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TaskFaults g_faults;

// Faults with the given changes to the defaults.
TaskFaults faults(const std::function<void(TaskFaults&)>& change) {
  TaskFaults f;
  change(f);
  return f;
}

class RuntimeApp final : public NodeApp {
 public:
  RuntimeApp(NodeId, Env& env) : runtime(env, g_faults) {
    runtime.set_event_handler([this](const TaskEvent& e) { events.push_back(e); });
  }
  SimRuntime runtime;
  std::vector<TaskEvent> events;
};

class SimRuntimeTest : public ::testing::Test {
 protected:
  void start_world(TaskFaults f) {
    g_faults = f;
    WorldOptions o;
    o.nodes = 1;
    o.seed = 3;
    world = std::make_unique<World>(o,
                                    [](NodeId id, Env& env) { return std::make_unique<RuntimeApp>(id, env); });
    world->start_all();
  }
  RuntimeApp& app() { return *static_cast<RuntimeApp*>(world->app(1)); }
  TaskRunSpec spec(const std::string& id) {
    TaskRunSpec s;
    s.task_id = id;
    s.argv = {"/bin/web"};
    s.stop_grace = seconds(2);
    return s;
  }
  std::unique_ptr<World> world;
};

TEST_F(SimRuntimeTest, ATaskStartsAfterItsDelayAndStopsWhenAsked) {
  start_world(faults([](TaskFaults& f) { f.start_min = f.start_max = milliseconds(100); }));
  ASSERT_TRUE(app().runtime.start(spec("t1")).ok());
  EXPECT_TRUE(app().events.empty()) << "events come later, on the node's loop";
  world->run_for(milliseconds(150));
  ASSERT_EQ(app().events.size(), 1u);
  EXPECT_EQ(app().events[0].kind, TaskEvent::Kind::kStarted);
  EXPECT_EQ(app().runtime.running(), std::vector<std::string>{"t1"});
  app().runtime.stop("t1");
  world->run_for(milliseconds(100));
  ASSERT_EQ(app().events.size(), 2u);
  EXPECT_EQ(app().events[1].kind, TaskEvent::Kind::kExited);
  EXPECT_TRUE(app().events[1].stopped);
  EXPECT_TRUE(app().runtime.running().empty());
}

TEST_F(SimRuntimeTest, BadStartsAreRefusedWithNoEvent) {
  start_world(TaskFaults{});
  TaskRunSpec empty = spec("t1");
  empty.argv.clear();
  EXPECT_FALSE(app().runtime.start(empty).ok());
  ASSERT_TRUE(app().runtime.start(spec("t2")).ok());
  EXPECT_FALSE(app().runtime.start(spec("t2")).ok()) << "an id in use";
  world->run_for(seconds(1));
  EXPECT_EQ(app().events.size(), 1u);
}

TEST_F(SimRuntimeTest, CertainFailuresCrashesAndHangsHappen) {
  start_world(faults([](TaskFaults& f) { f.fail_start = 1.0; }));
  ASSERT_TRUE(app().runtime.start(spec("f")).ok());
  world->run_for(seconds(1));
  ASSERT_EQ(app().events.size(), 1u);
  EXPECT_EQ(app().events[0].kind, TaskEvent::Kind::kFailedToStart);

  start_world(faults([](TaskFaults& f) {
    f.crash = 1.0;
    f.crash_min = f.crash_max = seconds(2);
  }));
  ASSERT_TRUE(app().runtime.start(spec("c")).ok());
  world->run_for(seconds(3));
  ASSERT_EQ(app().events.size(), 2u);
  EXPECT_EQ(app().events[1].kind, TaskEvent::Kind::kExited);
  EXPECT_EQ(app().events[1].exit_code, 1);
  EXPECT_FALSE(app().events[1].stopped);

  start_world(faults([](TaskFaults& f) { f.hang = 1.0; }));
  ASSERT_TRUE(app().runtime.start(spec("h")).ok());
  world->run_for(seconds(1));
  app().runtime.stop("h");
  world->run_for(milliseconds(1900));
  EXPECT_EQ(app().events.size(), 1u) << "a hung task ignores SIGTERM until its grace ends";
  world->run_for(milliseconds(200));
  ASSERT_EQ(app().events.size(), 2u);
  EXPECT_EQ(app().events[1].signal, 9);
}

TEST_F(SimRuntimeTest, TurningFaultsOffCallsOffADrawnCrash) {
  start_world(faults([](TaskFaults& f) {
    f.crash = 1.0;
    f.crash_min = f.crash_max = seconds(2);
  }));
  ASSERT_TRUE(app().runtime.start(spec("c")).ok());
  world->run_for(seconds(1));
  app().runtime.set_faults_enabled(false);
  world->run_for(seconds(5));
  EXPECT_EQ(app().events.size(), 1u);
  EXPECT_EQ(app().runtime.running(), std::vector<std::string>{"c"});
}

TEST_F(SimRuntimeTest, ARemovedRunningTaskIsStoppedThenForgotten) {
  start_world(TaskFaults{});
  ASSERT_TRUE(app().runtime.start(spec("t")).ok());
  world->run_for(seconds(1));
  app().runtime.remove("t");
  world->run_for(seconds(1));
  EXPECT_TRUE(app().runtime.running().empty());
  EXPECT_FALSE(app().runtime.logs("t", 100).ok()) << "forgotten once it exited";
}

TEST_F(SimRuntimeTest, ACrashedNodesTasksVanishWithIt) {
  start_world(TaskFaults{});
  ASSERT_TRUE(app().runtime.start(spec("t")).ok());
  world->run_for(seconds(1));
  world->crash(1);
  world->restart(1);
  EXPECT_TRUE(app().runtime.running().empty());
}

// Runs one check of `id` and returns its answer (none if it never came within 2 s).
std::optional<HealthCheckResult> check_once(World& world, SimRuntime& rt, const std::string& id,
                                            Duration timeout = milliseconds(500)) {
  std::optional<HealthCheckResult> got;
  HealthCheckSpec c;
  c.argv = {"/bin/check"};
  c.timeout = timeout;
  Status s = rt.check_health(id, c, [&](const HealthCheckResult& r) { got = r; });
  EXPECT_TRUE(s.ok()) << s.to_string();
  EXPECT_FALSE(got) << "answered on the node's timers, not inside check_health";
  world.run_for(seconds(2));
  return got;
}

TEST_F(SimRuntimeTest, HealthChecksPassUnlessTheTaskWasDrawnUnhealthy) {
  start_world(faults([](TaskFaults&) {}));
  ASSERT_TRUE(app().runtime.start(spec("t1")).ok());
  world->run_for(seconds(1));
  for (int i = 0; i < 5; ++i) {
    auto r = check_once(*world, app().runtime, "t1");
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->healthy());
  }
  start_world(faults([](TaskFaults& f) { f.unhealthy = 1; }));
  ASSERT_TRUE(app().runtime.start(spec("t1")).ok());
  world->run_for(seconds(1));
  int timeouts = 0;
  for (int i = 0; i < 40; ++i) {
    auto r = check_once(*world, app().runtime, "t1");
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->healthy());
    if (r->timed_out) ++timeouts;
    else EXPECT_EQ(r->exit_code, 1);
  }
  EXPECT_GT(timeouts, 0) << "some checks of an unhealthy task hang until their timeout";
  EXPECT_LT(timeouts, 40);
  // The liveness phase: every task is healthy again.
  app().runtime.set_faults_enabled(false);
  auto r = check_once(*world, app().runtime, "t1");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->healthy());
}

TEST_F(SimRuntimeTest, AHealthCheckNeedsARunningTaskAndOneAtATime) {
  start_world(faults([](TaskFaults& f) { f.start_min = f.start_max = milliseconds(100); }));
  HealthCheckSpec c;
  c.argv = {"/bin/check"};
  const auto never = [](const HealthCheckResult&) { ADD_FAILURE() << "no answer expected"; };
  EXPECT_EQ(app().runtime.check_health("t1", c, never).code(), StatusCode::kNotFound);
  ASSERT_TRUE(app().runtime.start(spec("t1")).ok());
  EXPECT_EQ(app().runtime.check_health("t1", c, never).code(), StatusCode::kFailedPrecondition)
      << "not started yet";
  world->run_for(milliseconds(150));
  EXPECT_FALSE(app().runtime.check_health("t1", HealthCheckSpec{}, never).ok()) << "nothing to run";
  int answers = 0;
  ASSERT_TRUE(app().runtime.check_health("t1", c, [&](const HealthCheckResult&) { ++answers; }).ok());
  EXPECT_EQ(app().runtime.check_health("t1", c, never).code(), StatusCode::kFailedPrecondition);
  world->run_for(milliseconds(100));
  EXPECT_EQ(answers, 1);
  app().runtime.stop("t1");
  EXPECT_FALSE(app().runtime.check_health("t1", c, never).ok()) << "a stopping task is not checked";
}

TEST_F(SimRuntimeTest, HealthVerdictsAreTheSameForTheSameSeed) {
  std::vector<std::vector<bool>> runs;
  for (int run = 0; run < 2; ++run) {
    start_world(faults([](TaskFaults& f) { f.unhealthy = 0.5; }));
    for (int i = 0; i < 8; ++i) ASSERT_TRUE(app().runtime.start(spec("t" + std::to_string(i))).ok());
    world->run_for(seconds(1));
    std::vector<bool> healthy;
    for (int i = 0; i < 8; ++i) healthy.push_back(check_once(*world, app().runtime, "t" + std::to_string(i))->healthy());
    runs.push_back(healthy);
  }
  EXPECT_EQ(runs[0], runs[1]);
  EXPECT_NE(std::count(runs[0].begin(), runs[0].end(), true), 0);
  EXPECT_NE(std::count(runs[0].begin(), runs[0].end(), false), 0);
}

}  // namespace
}  // namespace shoal::sim
