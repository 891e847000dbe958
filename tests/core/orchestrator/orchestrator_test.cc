// The orchestrator's loop with a hand-driven clock: proposals are committed into a real Store
// (as Raft would, after a step of the loop), and the test watches services converge: tasks made,
// scheduled onto nodes, restarted after their delay, nothing done while not the leader.
#include "core/orchestrator/orchestrator.h"

#include <gtest/gtest.h>

#include <map>

#include "tests/core/manual_env.h"
#include "tests/core/store_commit.h"

namespace shoal::orchestrator {
namespace {

using test::ManualClock;
using test::ManualTimers;
using test::NoDisk;
using test::NoTransport;

class OrchestratorTest : public ::testing::Test {
 protected:
  OrchestratorTest()
      : timers_(clock_),
        rng_(7),
        env_{clock_, timers_, rng_, transport_, disk_, log_},
        orchestrator_(env_, store_, [this] { return leader_; },
                      [this](storepb::Transaction tx, std::function<void(Status)> done) {
                        // Committed a millisecond later, as Raft would.
                        timers_.after(std::chrono::milliseconds(1), [this, tx = std::move(tx), done = std::move(done)] {
                          done(commit(tx));
                        });
                      },
                      {}) {}

  Status commit(const storepb::Transaction& tx) {
    return testing::commit_to_store(store_, index_, tx);
  }
  void commit_action(storepb::StoreAction a) {
    storepb::Transaction tx;
    tx.set_now_ns(clock_.wall_now_unix_ns());
    *tx.add_actions() = std::move(a);
    ASSERT_TRUE(commit(tx).ok());
  }

  void add_node(const std::string& id, int64_t memory = 1 << 30) {
    storepb::StoreAction a;
    a.set_kind(storepb::StoreAction::CREATE);
    auto* n = a.mutable_node();
    n->set_id(id);
    n->set_hostname("host-" + id);
    n->set_role(storepb::WORKER);
    n->set_state(storepb::NodeObject::READY);
    n->mutable_spec()->set_availability(storepb::NodeSpec::ACTIVE);
    n->mutable_description()->mutable_resources()->set_memory_bytes(memory);
    n->mutable_description()->mutable_resources()->set_nano_cpus(2'000'000'000);
    commit_action(std::move(a));
  }

  void create_service(uint64_t replicas, int64_t reserve_memory = 0, int64_t restart_delay_ns = 0) {
    storepb::StoreAction a;
    a.set_kind(storepb::StoreAction::CREATE);
    auto* s = a.mutable_service();
    s->set_id("svc");
    s->set_spec_version(1);
    s->mutable_spec()->mutable_annotations()->set_name("web");
    s->mutable_spec()->mutable_replicated()->set_replicas(replicas);
    s->mutable_spec()->mutable_task()->mutable_resources()->mutable_reservations()->set_memory_bytes(reserve_memory);
    s->mutable_spec()->mutable_task()->mutable_restart()->set_delay_ns(restart_delay_ns);
    commit_action(std::move(a));
  }

  // What an agent would report.
  void report(const std::string& task, storepb::TaskState state) {
    storepb::StoreAction a;
    a.set_kind(storepb::StoreAction::UPDATE);
    a.mutable_task_status()->set_task_id(task);
    a.mutable_task_status()->mutable_status()->set_state(state);
    a.mutable_task_status()->mutable_status()->set_timestamp_ns(clock_.wall_now_unix_ns());
    commit_action(std::move(a));
  }

  std::map<std::string, int> live_tasks_per_node() const {
    std::map<std::string, int> out;
    for (const auto& [id, t] : store_.tasks()) {
      if (t.desired_state() <= storepb::RUNNING) ++out[t.node_id()];
    }
    return out;
  }

  ManualClock clock_;
  ManualTimers timers_;
  Rng rng_;
  NoTransport transport_;
  NoDisk disk_;
  test::RecordingLogSink log_sink_;
  Log log_{clock_, log_sink_};
  Env env_;
  store::Store store_;
  bool leader_ = true;
  uint64_t index_ = 0;
  Orchestrator orchestrator_;
};

TEST_F(OrchestratorTest, AServiceIsSpreadOverTheNodesWithinMilliseconds) {
  add_node("n1");
  add_node("n2");
  create_service(4);
  timers_.advance(std::chrono::milliseconds(10));
  auto per_node = live_tasks_per_node();
  EXPECT_EQ(per_node["n1"], 2);
  EXPECT_EQ(per_node["n2"], 2);
  EXPECT_EQ(per_node[""], 0) << "nothing left pending";
  for (const auto& [id, t] : store_.tasks()) {
    EXPECT_EQ(t.status().state(), storepb::ASSIGNED);
    EXPECT_EQ(id.size(), 25u) << "Docker-shaped task ids";
  }
  const uint64_t proposals = orchestrator_.proposals();
  timers_.advance(std::chrono::seconds(5));
  EXPECT_EQ(orchestrator_.proposals(), proposals) << "a converged cluster writes nothing";
}

TEST_F(OrchestratorTest, ATaskIsPlacedInTheCommitThatMakesIt) {
  add_node("n1");
  create_service(3);
  timers_.advance(std::chrono::milliseconds(1));  // the first pass's transaction commits
  EXPECT_EQ(orchestrator_.proposals(), 1u);
  ASSERT_EQ(store_.tasks().size(), 3u);
  for (const auto& [id, t] : store_.tasks()) {
    EXPECT_EQ(t.node_id(), "n1");
    EXPECT_EQ(t.status().state(), storepb::ASSIGNED);
  }
}

// A pending task the reconciler changes in a pass is left to the next pass by the scheduler: two
// updates of one task in a transaction would have it refused whole.
TEST_F(OrchestratorTest, APendingTaskTheReconcilerStopsIsNotAlsoPlacedInTheSamePass) {
  add_node("n1", 100);
  create_service(2, 1 << 20);
  timers_.advance(std::chrono::milliseconds(10));
  ASSERT_EQ(store_.tasks().size(), 2u);
  // Scaled to 1 and a node with room, in one step: slot 2's task goes, slot 1's is placed.
  storepb::StoreAction scale;
  scale.set_kind(storepb::StoreAction::UPDATE);
  *scale.mutable_service() = *store_.find_service("svc");
  scale.mutable_service()->mutable_spec()->mutable_replicated()->set_replicas(1);
  commit_action(std::move(scale));
  add_node("n2");
  timers_.advance(std::chrono::milliseconds(10));
  EXPECT_EQ(orchestrator_.refused(), 0u);
  for (const auto& [id, t] : store_.tasks()) {
    if (t.slot() == 1) {
      EXPECT_EQ(t.node_id(), "n2");
      EXPECT_EQ(t.status().state(), storepb::ASSIGNED);
    } else {
      EXPECT_GT(t.desired_state(), storepb::RUNNING);
      EXPECT_TRUE(t.node_id().empty());
    }
  }
}

TEST_F(OrchestratorTest, ATaskThatFitsNowhereStaysPendingWithAReason) {
  add_node("n1", 100);
  create_service(1, 1 << 20);
  timers_.advance(std::chrono::milliseconds(10));
  ASSERT_EQ(store_.tasks().size(), 1u);
  const auto& t = store_.tasks().begin()->second;
  EXPECT_EQ(t.status().state(), storepb::PENDING);
  EXPECT_NE(t.status().err().find("no suitable node"), std::string::npos) << t.status().err();
  const uint64_t proposals = orchestrator_.proposals();
  timers_.advance(std::chrono::seconds(3));
  EXPECT_EQ(orchestrator_.proposals(), proposals) << "the reason is written once, not on every pass";

  add_node("n2");  // a node with room arrives: the task is placed
  timers_.advance(std::chrono::milliseconds(10));
  EXPECT_EQ(store_.tasks().begin()->second.node_id(), "n2");
}

TEST_F(OrchestratorTest, AFailedTaskIsReplacedAfterTheRestartDelayOnTheTimer) {
  add_node("n1");
  create_service(1, 0, 2'000'000'000);
  timers_.advance(std::chrono::milliseconds(10));
  const std::string first = store_.tasks().begin()->first;
  report(first, storepb::RUNNING);
  report(first, storepb::FAILED);
  timers_.advance(std::chrono::milliseconds(1900));
  EXPECT_EQ(store_.tasks().size(), 1u) << "still inside the restart delay";
  timers_.advance(std::chrono::milliseconds(150));
  ASSERT_EQ(store_.tasks().size(), 2u);
  for (const auto& [id, t] : store_.tasks()) {
    if (id == first) continue;
    EXPECT_EQ(t.status().state(), storepb::ASSIGNED);
    EXPECT_EQ(t.node_id(), "n1");
  }
}

TEST_F(OrchestratorTest, OnlyTheLeaderActsAndANewLeaderCarriesOnFromTheStore) {
  leader_ = false;
  add_node("n1");
  create_service(2);
  timers_.advance(std::chrono::seconds(3));
  EXPECT_TRUE(store_.tasks().empty());
  EXPECT_EQ(orchestrator_.proposals(), 0u);
  leader_ = true;  // the slow tick notices
  timers_.advance(std::chrono::milliseconds(1100));
  EXPECT_EQ(live_tasks_per_node()["n1"], 2);
}

}  // namespace
}  // namespace shoal::orchestrator
