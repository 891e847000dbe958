// The agent's health checks (Docker's HEALTHCHECK), on a hand-driven clock: a scripted manager
// assigns one task and records what the agent reports; a fake runtime starts it at once and
// answers each check a few milliseconds later with the verdict the test sets.
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <set>

#include "core/agent/agent.h"
#include "tests/core/manual_env.h"

namespace shoal {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using test::ManualClock;
using test::ManualTimers;
using test::NoDisk;
using test::NoTransport;

constexpr NodeId kManager = 1;

int64_t ns(Duration d) { return d.count(); }

// The leader's dispatcher, reduced to a script: a session for every heartbeat, the test's tasks
// in the first assignments answer (later polls wait, as a long poll does), and every report kept.
class ScriptedManager final : public Rpc {
 public:
  explicit ScriptedManager(ManualTimers& timers) : timers_(&timers) {}
  void serve(std::string, RpcAccess, Handler) override {}
  void call(NodeId, std::string method, std::string body, Duration, Reply done) override {
    std::string reply;
    if (method == "dispatcher.heartbeat") {
      dispatcherpb::HeartbeatResponse r;
      r.set_session_id("s1");
      r.set_period_ms(500);
      r.set_poll_waiting(true);
      reply = r.SerializeAsString();
    } else if (method == "dispatcher.assignments") {
      if (answered_) {
        waiting_.push_back(std::move(done));  // a long poll
        return;
      }
      answered_ = true;
      dispatcherpb::AssignmentsResponse r;
      r.set_sequence(1);
      r.set_full(true);
      for (const auto& t : tasks) *r.add_tasks() = t;
      reply = r.SerializeAsString();
    } else if (method == "dispatcher.report") {
      dispatcherpb::StatusReport r;
      EXPECT_TRUE(r.ParseFromString(body));
      for (const auto& u : r.updates()) {
        reported[u.task_id()] = u.status();
        states[u.task_id()].push_back(u.status().state());
      }
      reply = dispatcherpb::StatusReportResponse().SerializeAsString();
    }
    timers_->after(milliseconds(1), [done = std::move(done), reply] { done({}, reply); });
  }

  // Forgets everything, for a second run in one test.
  void reset() {
    tasks.clear();
    reported.clear();
    states.clear();
    answered_ = false;
    waiting_.clear();
  }

  std::vector<storepb::TaskObject> tasks;
  std::map<std::string, storepb::TaskStatus> reported;               // the latest per task
  std::map<std::string, std::vector<storepb::TaskState>> states;     // every state reported

 private:
  ManualTimers* timers_;
  bool answered_ = false;
  std::vector<Reply> waiting_;
};

class HealthRuntime final : public Runtime {
 public:
  explicit HealthRuntime(ManualTimers& timers) : timers_(timers) {}
  void set_event_handler(std::function<void(const TaskEvent&)> h) override { handler_ = std::move(h); }
  Status start(const TaskRunSpec& spec) override {
    running.insert(spec.task_id);
    TaskEvent e;
    e.task_id = spec.task_id;
    e.kind = TaskEvent::Kind::kStarted;
    e.pid = 77;
    emit(e);
    return {};
  }
  void stop(const std::string& id) override {
    stops.push_back(id);
    if (!running.erase(id)) return;
    TaskEvent e;
    e.task_id = id;
    e.kind = TaskEvent::Kind::kExited;
    e.signal = 15;
    e.stopped = true;
    emit(e);
  }
  void remove(const std::string&) override {}
  Result<std::string> logs(const std::string&, size_t) const override { return std::string(); }
  void exit(const std::string& id, int code) {
    running.erase(id);
    TaskEvent e;
    e.task_id = id;
    e.kind = TaskEvent::Kind::kExited;
    e.exit_code = code;
    emit(e);
  }
  Status check_health(const std::string& id, const HealthCheckSpec& check,
                      std::function<void(const HealthCheckResult&)> done) override {
    if (!running.count(id)) return Status::failed_precondition("not running");
    checks.push_back(check);
    check_times.push_back(now());
    HealthCheckResult r;
    if (!verdicts.empty()) {
      r = verdicts.front();
      verdicts.pop_front();
    } else {
      r = always;
    }
    timers_.after(r.timed_out ? check.timeout : milliseconds(5), [done = std::move(done), r] { done(r); });
    return {};
  }

  static HealthCheckResult healthy() { return {}; }
  static HealthCheckResult unhealthy() {
    HealthCheckResult r;
    r.exit_code = 1;
    return r;
  }
  static HealthCheckResult timeout() {
    HealthCheckResult r;
    r.timed_out = true;
    r.exit_code = -1;
    return r;
  }

  std::set<std::string> running;
  std::vector<std::string> stops;
  std::vector<HealthCheckSpec> checks;
  std::vector<Duration> check_times;     // since the test began
  std::deque<HealthCheckResult> verdicts;  // the next checks' answers, in order...
  HealthCheckResult always;                // ...then this
  std::function<Duration()> now;

 private:
  void emit(TaskEvent e) {
    timers_.after(Duration::zero(), [this, e] { handler_(e); });
  }
  ManualTimers& timers_;
  std::function<void(const TaskEvent&)> handler_;
};

class AgentHealthTest : public ::testing::Test {
 protected:
  AgentHealthTest() : timers_(clock_), rng_(1), env_{clock_, timers_, rng_, transport_, disk_, log_}, rpc_(timers_), runtime_(timers_) {
    runtime_.now = [this] { return clock_.now; };
  }

  // Assigns "t1" with the healthcheck and starts the agent; the task's process runs ~10 ms later.
  void run_task(const storepb::HealthConfig* health) {
    storepb::TaskObject t;
    t.set_id("t1");
    t.set_service_id("svc");
    t.set_slot(1);
    t.set_desired_state(storepb::RUNNING);
    t.mutable_status()->set_state(storepb::ASSIGNED);
    auto* c = t.mutable_spec()->mutable_container();
    c->add_command("/bin/web");
    c->add_env("GREETING=hi");
    if (health != nullptr) *c->mutable_healthcheck() = *health;
    rpc_.tasks.push_back(t);
    agent_.reset();
    agent::AgentOptions opts;
    opts.hostname = "w1";
    agent_ = std::make_unique<agent::Agent>(env_, rpc_, runtime_, [] { return std::vector<NodeId>{kManager}; }, opts);
    agent_->start();
    timers_.advance(milliseconds(20));
    ASSERT_EQ(runtime_.running.count("t1"), 1u) << "the task's process runs";
  }
  static storepb::HealthConfig health(std::vector<std::string> test, Duration interval, uint64_t retries = 0,
                                      Duration start_period = Duration::zero(), Duration timeout = Duration::zero()) {
    storepb::HealthConfig h;
    for (auto& w : test) h.add_test(w);
    h.set_interval_ns(ns(interval));
    h.set_retries(retries);
    h.set_start_period_ns(ns(start_period));
    h.set_timeout_ns(ns(timeout));
    return h;
  }
  storepb::TaskState state() { return rpc_.reported["t1"].state(); }
  // Past the next check (interval `every`) and its report.
  void after_check(Duration every) { timers_.advance(every + milliseconds(60)); }

  ManualClock clock_;
  ManualTimers timers_;
  Rng rng_;
  NoTransport transport_;
  NoDisk disk_;
  test::RecordingLogSink log_sink_;
  Log log_{clock_, log_sink_};
  Env env_;
  ScriptedManager rpc_;
  HealthRuntime runtime_;
  std::unique_ptr<agent::Agent> agent_;
};

TEST_F(AgentHealthTest, WithoutAHealthcheckATaskIsRunningOnceItsProcessRuns) {
  run_task(nullptr);
  timers_.advance(milliseconds(100));
  EXPECT_EQ(state(), storepb::RUNNING);
  timers_.advance(seconds(120));
  EXPECT_TRUE(runtime_.checks.empty());
}

TEST_F(AgentHealthTest, NoneAnEmptyTestOrAnUnknownKindMeanNoChecks) {
  for (const auto& test : std::vector<std::vector<std::string>>{{"NONE"}, {}, {"SHELL", "true"}}) {
    SCOPED_TRACE(test.empty() ? "(empty)" : test[0]);
    rpc_.reset();
    runtime_.running.clear();
    runtime_.checks.clear();
    const auto h = health(test, seconds(1));
    run_task(&h);
    timers_.advance(milliseconds(100));
    EXPECT_EQ(state(), storepb::RUNNING);
    timers_.advance(seconds(10));
    EXPECT_TRUE(runtime_.checks.empty());
    EXPECT_EQ(state(), storepb::RUNNING);
  }
}

TEST_F(AgentHealthTest, AHealthyTaskIsStartingUntilItsFirstCheckPassesThenRunning) {
  const auto h = health({"CMD", "/bin/check", "--quick"}, seconds(2));
  run_task(&h);
  timers_.advance(milliseconds(100));
  EXPECT_EQ(state(), storepb::STARTING);
  EXPECT_EQ(rpc_.reported["t1"].pid(), 77) << "the pid is reported while it starts";
  timers_.advance(milliseconds(1800));
  EXPECT_TRUE(runtime_.checks.empty()) << "the first check comes one interval after the start";
  EXPECT_EQ(state(), storepb::STARTING);
  timers_.advance(milliseconds(200));
  ASSERT_EQ(runtime_.checks.size(), 1u);
  EXPECT_EQ(runtime_.checks[0].argv, (std::vector<std::string>{"/bin/check", "--quick"}));
  EXPECT_EQ(runtime_.checks[0].timeout, seconds(30)) << "Docker's default timeout";
  timers_.advance(milliseconds(100));
  EXPECT_EQ(state(), storepb::RUNNING);
  EXPECT_EQ(rpc_.reported["t1"].pid(), 77);
  timers_.advance(seconds(10));
  EXPECT_EQ(runtime_.checks.size(), 6u) << "a check every interval";
  EXPECT_EQ(state(), storepb::RUNNING);
  EXPECT_TRUE(runtime_.stops.empty());
}

TEST_F(AgentHealthTest, ZeroValuesAreDockersDefaults) {
  const auto h = health({"CMD-SHELL", "curl -f http://localhost/ || exit 1"}, Duration::zero());
  run_task(&h);
  runtime_.always = HealthRuntime::unhealthy();
  timers_.advance(seconds(29));
  EXPECT_TRUE(runtime_.checks.empty()) << "the default interval is 30 s";
  timers_.advance(seconds(1));
  ASSERT_EQ(runtime_.checks.size(), 1u);
  EXPECT_EQ(runtime_.checks[0].argv,
            (std::vector<std::string>{"/bin/sh", "-c", "curl -f http://localhost/ || exit 1"}));
  EXPECT_EQ(runtime_.checks[0].timeout, seconds(30));
  timers_.advance(seconds(31));
  EXPECT_EQ(state(), storepb::STARTING) << "three failures in all make it unhealthy, not two";
  timers_.advance(seconds(30));
  EXPECT_EQ(state(), storepb::FAILED);
}

TEST_F(AgentHealthTest, RetriesFailuresInARowMakeItFailedAndStopIt) {
  const auto h = health({"CMD", "/bin/check"}, seconds(1), 3);
  run_task(&h);
  after_check(seconds(1));
  ASSERT_EQ(state(), storepb::RUNNING);
  runtime_.always = HealthRuntime::unhealthy();
  after_check(seconds(1));
  after_check(seconds(1));
  EXPECT_EQ(state(), storepb::RUNNING) << "two failures of three";
  EXPECT_TRUE(runtime_.stops.empty());
  after_check(seconds(1));
  EXPECT_EQ(state(), storepb::FAILED);
  EXPECT_EQ(rpc_.reported["t1"].message(), "task: unhealthy container");
  EXPECT_EQ(rpc_.reported["t1"].err(), "task: unhealthy container");
  EXPECT_EQ(runtime_.stops, std::vector<std::string>{"t1"}) << "its process is stopped";
  const size_t checks = runtime_.checks.size();
  EXPECT_EQ(checks, 4u);
  timers_.advance(seconds(10));
  EXPECT_EQ(runtime_.checks.size(), checks) << "no checks once it has failed";
  EXPECT_EQ(state(), storepb::FAILED) << "the stop's exit keeps the reason";
}

TEST_F(AgentHealthTest, APassingCheckResetsTheStreak) {
  const auto h = health({"CMD", "/bin/check"}, seconds(1), 3);
  run_task(&h);
  using R = HealthRuntime;
  runtime_.verdicts = {R::healthy(), R::unhealthy(), R::unhealthy(), R::healthy(), R::unhealthy(), R::unhealthy()};
  runtime_.always = R::healthy();
  timers_.advance(seconds(10));
  EXPECT_EQ(state(), storepb::RUNNING);
  EXPECT_TRUE(runtime_.stops.empty());
}

TEST_F(AgentHealthTest, ATaskNeverHealthyFailsToo) {
  const auto h = health({"CMD", "/bin/check"}, seconds(1), 2);
  run_task(&h);
  runtime_.always = HealthRuntime::unhealthy();
  after_check(seconds(1));
  EXPECT_EQ(state(), storepb::STARTING) << "a failure before it was ever healthy keeps it starting";
  after_check(seconds(1));
  EXPECT_EQ(state(), storepb::FAILED);
  EXPECT_EQ(rpc_.reported["t1"].err(), "task: unhealthy container");
  EXPECT_EQ(rpc_.states["t1"].end()[-2], storepb::STARTING) << "never reported running";
}

TEST_F(AgentHealthTest, FailuresInTheStartPeriodDoNotCount) {
  const auto h = health({"CMD", "/bin/check"}, seconds(1), 1, seconds(5));
  run_task(&h);
  runtime_.always = HealthRuntime::unhealthy();
  timers_.advance(milliseconds(4900));
  EXPECT_EQ(runtime_.checks.size(), 4u);
  EXPECT_EQ(state(), storepb::STARTING) << "four failures, all in the start period";
  // The fifth check begins 5 s after the start: out of the start period, and one retry.
  after_check(milliseconds(100));
  EXPECT_EQ(state(), storepb::FAILED);
}

TEST_F(AgentHealthTest, ATaskHealthyWithinItsStartPeriodIsRunningAndThenEveryFailureCounts) {
  const auto h = health({"CMD", "/bin/check"}, seconds(1), 1, seconds(60));
  run_task(&h);
  using R = HealthRuntime;
  runtime_.verdicts = {R::unhealthy(), R::unhealthy(), R::healthy()};
  timers_.advance(milliseconds(3100));
  EXPECT_EQ(state(), storepb::RUNNING);
  runtime_.always = R::unhealthy();
  after_check(seconds(1));
  EXPECT_EQ(state(), storepb::FAILED) << "once healthy, the start period no longer shields it (Docker)";
}

TEST_F(AgentHealthTest, ATimeoutCountsAsAFailure) {
  const auto h = health({"CMD", "/bin/check"}, seconds(1), 2, Duration::zero(), milliseconds(300));
  run_task(&h);
  runtime_.always = HealthRuntime::timeout();
  after_check(seconds(1));
  ASSERT_EQ(runtime_.checks.size(), 1u);
  EXPECT_EQ(runtime_.checks[0].timeout, milliseconds(300));
  timers_.advance(milliseconds(300));
  EXPECT_EQ(state(), storepb::STARTING);
  timers_.advance(seconds(2));
  EXPECT_EQ(state(), storepb::FAILED);
  EXPECT_EQ(rpc_.reported["t1"].err(), "task: unhealthy container");
}

TEST_F(AgentHealthTest, ACheckWithNothingToRunAlwaysFails) {
  for (const auto& test : std::vector<std::vector<std::string>>{{"CMD"}, {"CMD-SHELL"}, {"CMD", ""}}) {
    SCOPED_TRACE(test.size() > 1 ? "CMD with an empty program" : test[0]);
    rpc_.reset();
    runtime_.running.clear();
    runtime_.checks.clear();
    runtime_.stops.clear();
    const auto h = health(test, seconds(1), 1);
    run_task(&h);
    after_check(seconds(1));
    EXPECT_TRUE(runtime_.checks.empty()) << "nothing is asked of the runtime";
    EXPECT_EQ(state(), storepb::FAILED);
    EXPECT_EQ(runtime_.stops, std::vector<std::string>{"t1"});
  }
}

TEST_F(AgentHealthTest, AnExitEndsTheChecks) {
  const auto h = health({"CMD", "/bin/check"}, seconds(1));
  run_task(&h);
  after_check(seconds(1));
  ASSERT_EQ(state(), storepb::RUNNING);
  runtime_.exit("t1", 0);
  timers_.advance(milliseconds(100));
  EXPECT_EQ(state(), storepb::COMPLETE);
  const size_t checks = runtime_.checks.size();
  timers_.advance(seconds(5));
  EXPECT_EQ(runtime_.checks.size(), checks);
}

TEST_F(AgentHealthTest, AnAnswerAfterTheTaskEndedOrTheAgentIsGoneIsIgnored) {
  const auto h = health({"CMD", "/bin/check"}, seconds(1), 1, Duration::zero(), milliseconds(500));
  run_task(&h);
  runtime_.always = HealthRuntime::timeout();
  timers_.advance(milliseconds(1100));
  ASSERT_EQ(runtime_.checks.size(), 1u) << "a check is running (it will time out)";
  runtime_.exit("t1", 0);
  timers_.advance(seconds(1));
  EXPECT_EQ(state(), storepb::COMPLETE) << "its exit, not the late timeout, decides";
  EXPECT_TRUE(runtime_.stops.empty());

  rpc_.reset();
  runtime_.running.clear();
  runtime_.checks.clear();
  run_task(&h);
  timers_.advance(milliseconds(1100));
  ASSERT_EQ(runtime_.checks.size(), 1u);
  agent_.reset();
  timers_.advance(seconds(5));  // the answer comes to nobody
  EXPECT_EQ(runtime_.checks.size(), 1u);
}

}  // namespace
}  // namespace shoal
