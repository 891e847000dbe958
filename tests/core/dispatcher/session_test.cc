// Dispatcher and agent together, on a hand-driven clock with an in-process Rpc: heartbeats mark
// nodes ready and down, tasks assigned in the store are run by the agent's runtime and their
// states reach the store, stops reach the runtime, and an agent finds the leader.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "core/agent/agent.h"
#include "core/ca/node_identity.h"
#include "core/dispatcher/dispatcher.h"
#include "tests/core/manual_env.h"
#include "tests/core/store_commit.h"

namespace shoal {
namespace {

using test::ManualClock;
using test::ManualTimers;
using test::NoDisk;
using test::NoTransport;

// Every node's Rpc on one in-process network: a call takes a millisecond each way; a call to a
// node that is down (or serves no such method) fails after its timeout, as a dead peer would.
class Network {
 public:
  explicit Network(ManualTimers& timers) : timers_(timers) {}
  class NodeRpc final : public Rpc {
   public:
    NodeRpc(Network& net, NodeId self) : net_(net), self_(self) {}
    void serve(std::string method, RpcAccess, Handler handler) override { net_.handlers_[{self_, method}] = std::move(handler); }
    void call(NodeId to, std::string method, std::string body, Duration timeout, Reply done) override {
      auto it = net_.handlers_.find({to, method});
      if (it == net_.handlers_.end() || net_.down_.count(to)) {
        net_.timers_.after(timeout, [done = std::move(done)] { done(Status::unavailable("no answer"), ""); });
        return;
      }
      PeerIdentity from{self_, NodeRole::kWorker, "c"};
      net_.timers_.after(std::chrono::milliseconds(1), [this, handler = it->second, from, body = std::move(body),
                                                         done = std::move(done)]() mutable {
        handler(&from, std::move(body), [this, done = std::move(done)](Status s, std::string reply) {
          net_.timers_.after(std::chrono::milliseconds(1),
                             [done, s, reply = std::move(reply)] { done(s, reply); });
        });
      });
    }

   private:
    Network& net_;
    NodeId self_;
  };
  std::set<NodeId> down_;

 private:
  ManualTimers& timers_;
  std::map<std::pair<NodeId, std::string>, Rpc::Handler> handlers_;
};

class FakeRuntime final : public Runtime {
 public:
  explicit FakeRuntime(ManualTimers& timers) : timers_(timers) {}
  void set_event_handler(std::function<void(const TaskEvent&)> h) override { handler_ = std::move(h); }
  Status start(const TaskRunSpec& spec) override {
    started.push_back(spec);
    running.insert(spec.task_id);
    TaskEvent e;
    e.task_id = spec.task_id;
    e.kind = TaskEvent::Kind::kStarted;
    e.pid = 4242;
    emit(e);
    return {};
  }
  void stop(const std::string& id) override {
    stops.push_back(id);
    if (slow_stop) return;  // the test ends it with exit()
    if (!running.erase(id)) return;
    TaskEvent e;
    e.task_id = id;
    e.kind = TaskEvent::Kind::kExited;
    e.signal = 15;
    e.stopped = true;
    emit(e);
  }
  void remove(const std::string& id) override { removed.push_back(id); }
  Result<std::string> logs(const std::string&, size_t) const override { return std::string(); }
  // Every check passes a millisecond later.
  Status check_health(const std::string& id, const HealthCheckSpec&,
                      std::function<void(const HealthCheckResult&)> done) override {
    if (!running.count(id)) return Status::failed_precondition("task " + id + " is not running");
    checks.push_back(id);
    timers_.after(std::chrono::milliseconds(1), [done = std::move(done)] { done(HealthCheckResult{}); });
    return {};
  }
  void exit(const std::string& id, int code) {
    running.erase(id);
    TaskEvent e;
    e.task_id = id;
    e.kind = TaskEvent::Kind::kExited;
    e.exit_code = code;
    emit(e);
  }

  std::vector<TaskRunSpec> started;
  std::vector<std::string> stops, removed, checks;
  std::set<std::string> running;
  bool slow_stop = false;  // a stopped task runs on until exit()

 private:
  void emit(TaskEvent e) {
    timers_.after(Duration::zero(), [this, e] { handler_(e); });
  }
  ManualTimers& timers_;
  std::function<void(const TaskEvent&)> handler_;
};

constexpr NodeId kManager = 0x1111;
constexpr NodeId kWorker = 0x2222;
constexpr NodeId kFollower = 0x3333;

class SessionTest : public ::testing::Test {
 protected:
  SessionTest()
      : timers_(clock_),
        rng_(3),
        env_{clock_, timers_, rng_, transport_, disk_, log_},
        net_(timers_),
        manager_rpc_(net_, kManager),
        follower_rpc_(net_, kFollower),
        worker_rpc_(net_, kWorker),
        runtime_(timers_) {
    add_node(kManager);
    add_node(kWorker);
    dispatcher_ = std::make_unique<dispatcher::Dispatcher>(env_, manager_rpc_, store_, [this] { return leader_; },
                                                           [this] { return leader_ ? kManager : 0; },
                                                           [this](storepb::Transaction tx, std::function<void(Status)> done) {
                                                             timers_.after(std::chrono::milliseconds(1),
                                                                           [this, tx, done] { done(commit(tx)); });
                                                           },
                                                           dispatcher::DispatcherOptions{});
    // A second manager that is not the leader: its dispatcher turns sessions away.
    follower_ = std::make_unique<dispatcher::Dispatcher>(env_, follower_rpc_, follower_store_, [] { return false; },
                                                         [this] { return follower_knows_leader_ ? kManager : 0; },
                                                         [](storepb::Transaction, std::function<void(Status)> done) {
                                                           done(Status::not_leader("no"));
                                                         },
                                                         dispatcher::DispatcherOptions{});
  }

  void start_agent(std::vector<NodeId> managers = {kManager}) {
    agent::AgentOptions opts;
    opts.hostname = "worker-host";
    opts.description.mutable_platform()->set_os("linux");
    opts.description.mutable_resources()->set_memory_bytes(1 << 30);
    agent_ = std::make_unique<agent::Agent>(env_, worker_rpc_, runtime_, [managers] { return managers; }, opts);
    agent_->start();
  }

  Status commit(const storepb::Transaction& tx) {
    return testing::commit_to_store(store_, index_, tx);
  }
  void commit_action(storepb::StoreAction a) {
    storepb::Transaction tx;
    tx.set_now_ns(clock_.wall_now_unix_ns());
    *tx.add_actions() = std::move(a);
    Status s = commit(tx);
    ASSERT_TRUE(s.ok()) << s.to_string();
  }
  void add_node(NodeId id) {
    storepb::StoreAction a;
    a.set_kind(storepb::StoreAction::CREATE);
    a.mutable_node()->set_id(ca::node_id_text(id));
    a.mutable_node()->set_state(storepb::NodeObject::UNKNOWN);
    commit_action(std::move(a));
  }
  // A task the scheduler has placed on the worker.
  void assign(const std::string& id, std::vector<std::string> command = {"/bin/sleep", "30"},
              const storepb::HealthConfig* health = nullptr) {
    commit_action(assignment(id, std::move(command), health));
  }
  storepb::StoreAction assignment(const std::string& id, std::vector<std::string> command = {"/bin/sleep", "30"},
                                  const storepb::HealthConfig* health = nullptr, NodeId node = kWorker) {
    storepb::StoreAction a;
    a.set_kind(storepb::StoreAction::CREATE);
    auto* t = a.mutable_task();
    t->set_id(id);
    t->set_service_id("svc");
    t->set_slot(1);
    t->set_node_id(ca::node_id_text(node));
    for (auto& c : command) t->mutable_spec()->mutable_container()->add_command(c);
    if (health != nullptr) *t->mutable_spec()->mutable_container()->mutable_healthcheck() = *health;
    t->set_desired_state(storepb::RUNNING);
    t->mutable_status()->set_state(storepb::ASSIGNED);
    return a;
  }
  // A stop-first update's step, in one commit: `old` is told to stop, `successor` (on the
  // worker) is made waiting for it.
  void replace(const std::string& old, const std::string& successor) {
    storepb::Transaction tx;
    tx.set_now_ns(clock_.wall_now_unix_ns());
    auto* stop = tx.add_actions();
    stop->set_kind(storepb::StoreAction::UPDATE);
    *stop->mutable_task() = *store_.find_task(old);
    stop->mutable_task()->set_desired_state(storepb::SHUTDOWN);
    storepb::StoreAction make = assignment(successor);
    make.mutable_task()->add_wait_for(old);
    *tx.add_actions() = std::move(make);
    Status s = commit(tx);
    ASSERT_TRUE(s.ok()) << s.to_string();
  }
  void set_status(const std::string& id, storepb::TaskState state) {
    storepb::StoreAction a;
    a.set_kind(storepb::StoreAction::UPDATE);
    *a.mutable_task() = *store_.find_task(id);
    a.mutable_task()->mutable_status()->set_state(state);
    commit_action(std::move(a));
  }
  // The worker in session; "elsewhere" runs on the manager's node (whose agent never reports) and
  // is replaced by "new" on the worker, waiting for it; half a second goes by.
  void replace_a_task_running_on_another_node() {
    start_agent();
    timers_.advance(std::chrono::milliseconds(50));
    commit_action(assignment("elsewhere", {"/bin/sleep", "30"}, nullptr, kManager));
    set_status("elsewhere", storepb::RUNNING);
    replace("elsewhere", "new");
    timers_.advance(std::chrono::milliseconds(500));
  }
  std::vector<std::string> started_ids() const {
    std::vector<std::string> ids;
    for (const auto& spec : runtime_.started) ids.push_back(spec.task_id);
    return ids;
  }
  void set_desired(const std::string& id, storepb::TaskState desired) {
    storepb::StoreAction a;
    a.set_kind(storepb::StoreAction::UPDATE);
    *a.mutable_task() = *store_.find_task(id);
    a.mutable_task()->set_desired_state(desired);
    commit_action(std::move(a));
  }
  const storepb::NodeObject& worker_node() { return *store_.find_node(ca::node_id_text(kWorker)); }
  storepb::TaskState state_of(const std::string& id) { return store_.find_task(id)->status().state(); }

  ManualClock clock_;
  ManualTimers timers_;
  Rng rng_;
  NoTransport transport_;
  NoDisk disk_;
  test::RecordingLogSink log_sink_;
  Log log_{clock_, log_sink_};
  Env env_;
  Network net_;
  Network::NodeRpc manager_rpc_, follower_rpc_, worker_rpc_;
  FakeRuntime runtime_;
  store::Store store_, follower_store_;
  uint64_t index_ = 0;
  bool leader_ = true;
  bool follower_knows_leader_ = false;
  std::unique_ptr<dispatcher::Dispatcher> dispatcher_, follower_;
  std::unique_ptr<agent::Agent> agent_;
};

TEST_F(SessionTest, AHeartbeatMarksTheNodeReadyWithItsDescription) {
  start_agent();
  timers_.advance(std::chrono::milliseconds(50));
  EXPECT_TRUE(agent_->in_session());
  EXPECT_EQ(worker_node().state(), storepb::NodeObject::READY);
  EXPECT_EQ(worker_node().hostname(), "worker-host");
  EXPECT_EQ(worker_node().description().platform().os(), "linux");
}

TEST_F(SessionTest, ASilentNodeIsMarkedDownWithinTheDeadlineAndReadyWhenItReturns) {
  start_agent();
  timers_.advance(std::chrono::seconds(5));
  ASSERT_EQ(worker_node().state(), storepb::NodeObject::READY) << "heartbeats keep it ready";
  agent_.reset();  // the worker dies
  // Its last heartbeat was at most one period (500 ms) before it died.
  timers_.advance(std::chrono::milliseconds(1400));
  EXPECT_EQ(worker_node().state(), storepb::NodeObject::READY) << "under 2 s of silence is not a death";
  timers_.advance(std::chrono::milliseconds(800));
  EXPECT_EQ(worker_node().state(), storepb::NodeObject::DOWN) << "2.2 s after it died";
  start_agent();
  timers_.advance(std::chrono::milliseconds(50));
  EXPECT_EQ(worker_node().state(), storepb::NodeObject::READY);
}

TEST_F(SessionTest, AnAssignedTaskRunsAndItsStatesReachTheStore) {
  start_agent();
  timers_.advance(std::chrono::milliseconds(50));
  assign("t1", {"/bin/echo", "hi"});
  timers_.advance(std::chrono::milliseconds(200));
  ASSERT_EQ(runtime_.started.size(), 1u);
  EXPECT_EQ(runtime_.started[0].argv, (std::vector<std::string>{"/bin/echo", "hi"}));
  EXPECT_EQ(state_of("t1"), storepb::RUNNING);
  EXPECT_EQ(store_.find_task("t1")->status().pid(), 4242);

  runtime_.exit("t1", 3);
  timers_.advance(std::chrono::milliseconds(200));
  EXPECT_EQ(state_of("t1"), storepb::FAILED);
  EXPECT_EQ(store_.find_task("t1")->status().err(), "task: non-zero exit (3)");
  EXPECT_EQ(store_.find_task("t1")->status().exit_code(), 3);
}

TEST_F(SessionTest, ADesiredShutdownStopsTheTaskAndItEndsShutDown) {
  start_agent();
  timers_.advance(std::chrono::milliseconds(50));
  assign("t1");
  timers_.advance(std::chrono::milliseconds(200));
  ASSERT_EQ(state_of("t1"), storepb::RUNNING);
  set_desired("t1", storepb::SHUTDOWN);
  timers_.advance(std::chrono::milliseconds(200));
  EXPECT_EQ(runtime_.stops, std::vector<std::string>{"t1"});
  EXPECT_EQ(state_of("t1"), storepb::SHUTDOWN);
  // Ended and told to stop: the dispatcher tells the agent to forget it.
  timers_.advance(std::chrono::milliseconds(200));
  EXPECT_EQ(agent_->known_tasks(), 0u);
}

TEST_F(SessionTest, ATaskWithAHealthcheckIsRunningInTheStoreOnceItsFirstCheckPasses) {
  start_agent();
  timers_.advance(std::chrono::milliseconds(50));
  storepb::HealthConfig health;
  health.add_test("CMD-SHELL");
  health.add_test("true");
  health.set_interval_ns(std::chrono::nanoseconds(std::chrono::seconds(1)).count());
  assign("t1", {"/bin/sleep", "30"}, &health);
  timers_.advance(std::chrono::milliseconds(200));
  EXPECT_EQ(state_of("t1"), storepb::STARTING) << "its process runs, but no check has passed yet";
  EXPECT_EQ(store_.find_task("t1")->status().pid(), 4242);
  timers_.advance(std::chrono::seconds(1));
  EXPECT_EQ(runtime_.checks, std::vector<std::string>{"t1"});
  EXPECT_EQ(state_of("t1"), storepb::RUNNING);
  EXPECT_EQ(store_.find_task("t1")->status().pid(), 4242);
}

TEST_F(SessionTest, ANodeCannotReportAnotherNodesTask) {
  start_agent();
  timers_.advance(std::chrono::milliseconds(50));
  storepb::StoreAction a;
  a.set_kind(storepb::StoreAction::CREATE);
  a.mutable_task()->set_id("theirs");
  a.mutable_task()->set_service_id("svc");
  a.mutable_task()->set_node_id(ca::node_id_text(kManager));
  a.mutable_task()->mutable_status()->set_state(storepb::ASSIGNED);
  commit_action(a);
  dispatcherpb::StatusReport report;
  auto* u = report.add_updates();
  u->set_task_id("theirs");
  u->mutable_status()->set_state(storepb::FAILED);
  Status answer = Status::unavailable("no answer yet");
  worker_rpc_.call(kManager, "dispatcher.report", report.SerializeAsString(), std::chrono::seconds(1),
                   [&](Status s, std::string) { answer = s; });
  timers_.advance(std::chrono::milliseconds(20));
  EXPECT_TRUE(answer.ok());
  EXPECT_EQ(state_of("theirs"), storepb::ASSIGNED) << "the report was dropped";
}

TEST_F(SessionTest, AnAgentMovesOnFromAManagerThatIsNotTheLeaderOrIsDead) {
  net_.down_.insert(0x4444);
  start_agent({kFollower, 0x4444, kManager});
  timers_.advance(std::chrono::seconds(3));
  EXPECT_TRUE(agent_->in_session());
  EXPECT_EQ(agent_->manager(), kManager);
  EXPECT_EQ(worker_node().state(), storepb::NodeObject::READY);
}

TEST_F(SessionTest, AManagerThatKnowsTheLeaderSendsTheAgentStraightThere) {
  follower_knows_leader_ = true;
  net_.down_.insert(0x4444);
  // Without the redirect the agent would try the dead manager next and wait out its timeout.
  start_agent({kFollower, 0x4444, kManager});
  timers_.advance(std::chrono::milliseconds(50));
  EXPECT_TRUE(agent_->in_session());
  EXPECT_EQ(agent_->manager(), kManager);
}

TEST_F(SessionTest, AStopFirstSuccessorStartsTheMomentItsOldTaskOnTheSameNodeEnds) {
  runtime_.slow_stop = true;
  start_agent();
  timers_.advance(std::chrono::milliseconds(50));
  assign("old");
  timers_.advance(std::chrono::milliseconds(200));
  ASSERT_EQ(state_of("old"), storepb::RUNNING);
  replace("old", "new");
  timers_.advance(std::chrono::milliseconds(500));
  EXPECT_EQ(runtime_.stops, std::vector<std::string>{"old"});
  EXPECT_EQ(started_ids(), std::vector<std::string>{"old"}) << "the new task waits while the old one runs";
  EXPECT_EQ(state_of("new"), storepb::ASSIGNED);
  runtime_.exit("old", 0);
  timers_.advance(Duration::zero());
  // Started at once, on the agent's own word: no report, commit or dispatch in between.
  EXPECT_EQ(started_ids(), (std::vector<std::string>{"old", "new"}));
  timers_.advance(std::chrono::milliseconds(200));
  EXPECT_EQ(state_of("old"), storepb::SHUTDOWN);
  EXPECT_EQ(state_of("new"), storepb::RUNNING);
}

TEST_F(SessionTest, ASuccessorWaitingForATaskOnAnotherNodeIsNotSentUntilThatTaskHasEnded) {
  replace_a_task_running_on_another_node();
  EXPECT_TRUE(runtime_.started.empty());
  EXPECT_EQ(agent_->known_tasks(), 0u) << "held back by the dispatcher";
  set_status("elsewhere", storepb::SHUTDOWN);  // that node's report
  timers_.advance(std::chrono::milliseconds(50));
  EXPECT_EQ(started_ids(), std::vector<std::string>{"new"});
}

TEST_F(SessionTest, ASuccessorIsNotHeldBackForATaskOnANodeThatIsDown) {
  replace_a_task_running_on_another_node();
  ASSERT_TRUE(runtime_.started.empty());
  storepb::StoreAction down;
  down.set_kind(storepb::StoreAction::UPDATE);
  *down.mutable_node() = *store_.find_node(ca::node_id_text(kManager));
  down.mutable_node()->set_state(storepb::NodeObject::DOWN);
  commit_action(std::move(down));
  timers_.advance(std::chrono::milliseconds(50));
  EXPECT_EQ(started_ids(), std::vector<std::string>{"new"}) << "its end would never be reported";
}

TEST_F(SessionTest, ANewLeaderGivesEveryNodeTimeToFindItBeforeMarkingItDown) {
  leader_ = false;
  timers_.advance(std::chrono::seconds(10));
  leader_ = true;  // no node has spoken to this dispatcher yet
  timers_.advance(std::chrono::milliseconds(2500));
  EXPECT_NE(worker_node().state(), storepb::NodeObject::DOWN) << "inside node_down_after + leader_grace";
  timers_.advance(std::chrono::milliseconds(800));
  EXPECT_EQ(worker_node().state(), storepb::NodeObject::DOWN);
}

}  // namespace
}  // namespace shoal
