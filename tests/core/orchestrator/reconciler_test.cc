// The reconciler against a real Store: each test applies what reconcile_service proposes, as the
// leader would, and looks at the tasks that result.
#include "core/orchestrator/reconciler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "core/orchestrator/restart_policy.h"
#include "core/store/store.h"

namespace shoal::orchestrator {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

class ReconcilerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    add_node("n1");
    add_node("n2");
  }

  void commit(storepb::Transaction tx) {
    tx.set_now_ns(now_);
    raft::raftpb::Entry e;
    e.set_index(++index_);
    e.set_term(1);
    e.set_data(tx.SerializeAsString());
    store_.apply(e);
    Status s = store_.take_result(index_);
    ASSERT_TRUE(s.ok()) << s.to_string();
  }
  void commit(storepb::StoreAction a) {
    storepb::Transaction tx;
    *tx.add_actions() = std::move(a);
    commit(std::move(tx));
  }

  void add_node(const std::string& id, storepb::NodeObject::State state = storepb::NodeObject::READY,
                storepb::NodeSpec::Availability availability = storepb::NodeSpec::ACTIVE) {
    storepb::StoreAction a;
    const auto* existing = store_.find_node(id);
    a.set_kind(existing ? storepb::StoreAction::UPDATE : storepb::StoreAction::CREATE);
    storepb::NodeObject* n = a.mutable_node();
    if (existing) *n = *existing;
    n->set_id(id);
    n->set_hostname("host-" + id);
    n->set_role(storepb::WORKER);
    n->set_state(state);
    n->mutable_spec()->set_availability(availability);
    commit(std::move(a));
  }

  void create_service(uint64_t replicas, storepb::RestartPolicy restart = {}) {
    storepb::StoreAction a;
    a.set_kind(storepb::StoreAction::CREATE);
    auto* s = a.mutable_service();
    s->set_id("svc");
    s->set_spec_version(1);
    s->mutable_spec()->mutable_annotations()->set_name("web");
    s->mutable_spec()->mutable_task()->mutable_container()->add_command("/bin/true");
    *s->mutable_spec()->mutable_task()->mutable_restart() = restart;
    if (replicas == 0) {
      s->mutable_spec()->mutable_global();
    } else {
      s->mutable_spec()->mutable_replicated()->set_replicas(replicas);
    }
    commit(std::move(a));
  }

  void update_service(const std::function<void(storepb::ServiceObject&)>& change) {
    storepb::StoreAction a;
    a.set_kind(storepb::StoreAction::UPDATE);
    *a.mutable_service() = *store_.find_service("svc");
    change(*a.mutable_service());
    commit(std::move(a));
  }

  // One reconciliation pass, committed. Returns how many actions it proposed.
  size_t reconcile() {
    // As the orchestrator does: when each live task was first seen running (and kept once it ended).
    std::map<std::string, int64_t> running;
    for (const auto& [id, t] : store_.tasks()) {
      if (t.desired_state() > storepb::RUNNING) continue;
      auto it = seen_running_.find(id);
      if (t.status().state() == storepb::RUNNING) running[id] = it != seen_running_.end() ? it->second : now_;
      else if (it != seen_running_.end()) running[id] = it->second;
    }
    seen_running_ = std::move(running);
    ReconcileContext ctx{store_.nodes(), now_, 5, [this] { return "t" + std::to_string(++next_id_); }, {}, &seen_ended_,
                         &seen_running_};
    Reconciliation r = reconcile_service(*store_.find_service("svc"), store_.tasks_of_service("svc"), ctx);
    wake_at_ = r.wake_at_ns;
    if (r.actions.empty()) return 0;
    storepb::Transaction tx;
    for (auto& a : r.actions) *tx.add_actions() = std::move(a);
    commit(tx);
    return static_cast<size_t>(tx.actions_size());
  }

  // What an agent and the scheduler would do, compressed: the task is on `node` in `state`.
  void set_status(const std::string& task, storepb::TaskState state, const std::string& node = "") {
    storepb::TaskObject t = *store_.find_task(task);
    if (!node.empty()) t.set_node_id(node);
    t.mutable_status()->set_state(state);
    t.mutable_status()->set_timestamp_ns(now_);
    storepb::StoreAction a;
    a.set_kind(storepb::StoreAction::UPDATE);
    *a.mutable_task() = t;
    commit(std::move(a));
  }

  std::vector<const storepb::TaskObject*> live() const {
    std::vector<const storepb::TaskObject*> out;
    for (const auto* t : store_.tasks_of_service("svc")) {
      if (t->desired_state() <= storepb::RUNNING) out.push_back(t);
    }
    return out;
  }
  const storepb::TaskObject* live_in_slot(uint64_t slot) const {
    for (const auto* t : live()) {
      if (t->slot() == slot) return t;
    }
    return nullptr;
  }

  store::Store store_;
  uint64_t index_ = 0;
  int64_t now_ = 100 * kSecond;
  int next_id_ = 0;
  int64_t wake_at_ = 0;
  std::map<std::string, int64_t> seen_ended_;  // as the orchestrator keeps it
  std::map<std::string, int64_t> seen_running_;
};

TEST_F(ReconcilerTest, ReplicatedServiceGetsOnePendingTaskPerSlotAndThenIsStable) {
  create_service(3);
  EXPECT_EQ(reconcile(), 3u);
  ASSERT_EQ(live().size(), 3u);
  for (uint64_t slot = 1; slot <= 3; ++slot) {
    const auto* t = live_in_slot(slot);
    ASSERT_NE(t, nullptr) << "slot " << slot;
    EXPECT_EQ(t->status().state(), storepb::PENDING);
    EXPECT_EQ(t->desired_state(), storepb::RUNNING);
    EXPECT_EQ(t->service_name(), "web");
    EXPECT_EQ(t->spec().container().command(0), "/bin/true");
  }
  EXPECT_EQ(reconcile(), 0u) << "a converged service needs nothing";
}

TEST_F(ReconcilerTest, ScalingDownRemovesTheHighestSlotsAndScalingUpRefillsThem) {
  create_service(3);
  reconcile();
  set_status(live_in_slot(3)->id(), storepb::RUNNING, "n1");
  update_service([](auto& s) { s.mutable_spec()->mutable_replicated()->set_replicas(1); });
  reconcile();
  EXPECT_EQ(live().size(), 1u);
  EXPECT_NE(live_in_slot(1), nullptr);
  // Slot 2 never reached a node, so it is gone at once; slot 3 runs and is told to go away.
  EXPECT_EQ(store_.tasks_of_service("svc").size(), 2u);
  const auto* leaving = store_.find_task("t3");
  ASSERT_NE(leaving, nullptr);
  EXPECT_EQ(leaving->desired_state(), storepb::REMOVE);
  // Once its agent reports it shut down, it is deleted.
  set_status("t3", storepb::SHUTDOWN);
  reconcile();
  EXPECT_EQ(store_.find_task("t3"), nullptr);

  update_service([](auto& s) { s.mutable_spec()->mutable_replicated()->set_replicas(2); });
  reconcile();
  EXPECT_EQ(live().size(), 2u);
  EXPECT_NE(live_in_slot(2), nullptr);
}

TEST_F(ReconcilerTest, AFailedTaskIsRestartedInItsSlotAfterTheDelay) {
  storepb::RestartPolicy p;
  p.set_delay_ns(5 * kSecond);
  create_service(1, p);
  reconcile();
  set_status("t1", storepb::RUNNING, "n1");
  set_status("t1", storepb::FAILED);
  EXPECT_EQ(reconcile(), 0u) << "the delay has not passed";
  EXPECT_EQ(wake_at_, now_ + 5 * kSecond);
  now_ += 5 * kSecond;
  EXPECT_EQ(reconcile(), 2u);  // the old one shut down, a new one made
  const auto* t = live_in_slot(1);
  ASSERT_NE(t, nullptr);
  EXPECT_NE(t->id(), "t1");
  EXPECT_EQ(t->attempt(), 1u);
  EXPECT_EQ(store_.find_task("t1")->desired_state(), storepb::SHUTDOWN);
}

TEST_F(ReconcilerTest, OnFailureDoesNotRestartACompletedTaskAndTheSlotStaysEmpty) {
  storepb::RestartPolicy p;
  p.set_condition(storepb::RestartPolicy::ON_FAILURE);
  create_service(1, p);
  reconcile();
  set_status("t1", storepb::RUNNING, "n1");
  set_status("t1", storepb::COMPLETE);
  reconcile();
  EXPECT_TRUE(live().empty());
  EXPECT_EQ(store_.find_task("t1")->desired_state(), storepb::SHUTDOWN);
  EXPECT_EQ(reconcile(), 0u) << "a slot that gave up stays empty";
}

TEST_F(ReconcilerTest, MaxAttemptsStopsRestarting) {
  storepb::RestartPolicy p;
  p.set_max_attempts(2);
  create_service(1, p);
  reconcile();
  for (int i = 0; i < 5; ++i) {
    const auto* t = live_in_slot(1);
    if (!t) break;
    set_status(t->id(), storepb::FAILED, "n1");
    reconcile();
  }
  // The first task and two restarts: three tasks, all failed, none live.
  EXPECT_TRUE(live().empty());
  EXPECT_EQ(store_.tasks_of_service("svc").size(), 3u);
}

TEST_F(ReconcilerTest, MaxAttemptsWithAWindowCountsOnlyRecentFailures) {
  storepb::RestartPolicy p;
  p.set_max_attempts(1);
  p.set_window_ns(10 * kSecond);
  create_service(1, p);
  reconcile();
  set_status("t1", storepb::FAILED, "n1");
  reconcile();  // one restart: allowed
  ASSERT_NE(live_in_slot(1), nullptr);
  now_ += 60 * kSecond;  // the first failure leaves the window
  set_status(live_in_slot(1)->id(), storepb::FAILED, "n1");
  reconcile();
  EXPECT_NE(live_in_slot(1), nullptr) << "only one failure inside the window, so one more restart";
  set_status(live_in_slot(1)->id(), storepb::FAILED, "n1");
  reconcile();
  EXPECT_EQ(live_in_slot(1), nullptr) << "two failures inside the window: max attempts reached";
}

TEST_F(ReconcilerTest, TasksOnADownOrDrainedNodeAreReplacedAtOnceWithoutCountingAnAttempt) {
  storepb::RestartPolicy p;
  p.set_delay_ns(60 * kSecond);  // must not apply
  p.set_max_attempts(1);
  create_service(2, p);
  reconcile();
  set_status(live_in_slot(1)->id(), storepb::RUNNING, "n1");
  set_status(live_in_slot(2)->id(), storepb::RUNNING, "n2");
  add_node("n1", storepb::NodeObject::DOWN);
  add_node("n2", storepb::NodeObject::READY, storepb::NodeSpec::DRAIN);
  reconcile();
  ASSERT_EQ(live().size(), 2u);
  for (const auto* t : live()) {
    EXPECT_EQ(t->status().state(), storepb::PENDING) << "a fresh task for the scheduler";
    EXPECT_EQ(t->attempt(), 0u);
  }
  EXPECT_EQ(store_.find_task("t1")->desired_state(), storepb::SHUTDOWN);
  EXPECT_EQ(store_.find_task("t2")->desired_state(), storepb::SHUTDOWN);
}

TEST_F(ReconcilerTest, APausedNodeKeepsItsTasks) {
  create_service(1);
  reconcile();
  set_status("t1", storepb::RUNNING, "n1");
  add_node("n1", storepb::NodeObject::READY, storepb::NodeSpec::PAUSE);
  EXPECT_EQ(reconcile(), 0u);
  EXPECT_EQ(live_in_slot(1)->id(), "t1");
}

TEST_F(ReconcilerTest, ANewSpecReplacesTheTasksStopFirstAllAtOnceByDefault) {
  create_service(2);
  reconcile();
  set_status("t1", storepb::RUNNING, "n1");
  set_status("t2", storepb::RUNNING, "n2");
  update_service([](auto& s) {
    s.mutable_spec()->mutable_task()->mutable_container()->set_command(0, "/bin/false");
    s.set_spec_version(2);
  });
  reconcile();
  // Stop-first: the old tasks are shut down, and their successors made in the same commit,
  // each waiting for its slot's old task to end before it starts.
  EXPECT_EQ(store_.find_task("t1")->desired_state(), storepb::SHUTDOWN);
  EXPECT_EQ(store_.find_task("t2")->desired_state(), storepb::SHUTDOWN);
  EXPECT_EQ(store_.find_service("svc")->update_status().state(), storepb::UpdateStatus::UPDATING);
  ASSERT_EQ(live().size(), 2u);
  for (const auto* t : live()) {
    EXPECT_EQ(t->spec_version(), 2u);
    EXPECT_EQ(t->spec().container().command(0), "/bin/false");
    ASSERT_EQ(t->wait_for_size(), 1);
    EXPECT_EQ(t->wait_for(0), t->slot() == 1 ? "t1" : "t2");
  }
  EXPECT_EQ(reconcile(), 0u) << "nothing more while the old ones still run";
  set_status("t1", storepb::SHUTDOWN);
  set_status("t2", storepb::SHUTDOWN);
  for (const auto* t : live()) set_status(t->id(), storepb::RUNNING, t->slot() == 1 ? "n1" : "n2");
  reconcile();
  EXPECT_EQ(store_.find_service("svc")->update_status().state(), storepb::UpdateStatus::COMPLETED);
  EXPECT_EQ(store_.find_service("svc")->update_status().message(), "update completed");
}

TEST_F(ReconcilerTest, HistoryIsTrimmedToTheLimitPerSlot) {
  create_service(1);
  reconcile();
  for (int i = 0; i < 9; ++i) {
    set_status(live_in_slot(1)->id(), storepb::FAILED, "n1");
    reconcile();
  }
  EXPECT_EQ(store_.tasks_of_service("svc").size(), 5u);
  EXPECT_NE(live_in_slot(1), nullptr);
  EXPECT_EQ(store_.find_task("t1"), nullptr) << "the oldest went first";
}

TEST_F(ReconcilerTest, GlobalServiceFollowsNodesAsTheyJoinDrainAndLeave) {
  create_service(0);
  reconcile();
  ASSERT_EQ(live().size(), 2u);
  for (const auto* t : live()) EXPECT_EQ(t->status().state(), storepb::ASSIGNED);

  add_node("n3");
  reconcile();
  EXPECT_EQ(live().size(), 3u);

  add_node("n1", storepb::NodeObject::READY, storepb::NodeSpec::DRAIN);
  reconcile();
  ASSERT_EQ(live().size(), 2u);
  for (const auto* t : live()) EXPECT_NE(t->node_id(), "n1");

  // A down node keeps its task (it is that node's), and gets no second one.
  add_node("n2", storepb::NodeObject::DOWN);
  EXPECT_EQ(reconcile(), 0u);
}

// A node drained while its global task was failing (its agent restarted) must get a task again
// once it is active, rather than be left without one as if the restart policy had said no.
TEST_F(ReconcilerTest, ADrainedNodesGlobalTaskThatFailedOnItsWayOutIsReplacedOnceTheNodeIsActive) {
  create_service(0);
  reconcile();
  const std::string on_n1 = [&] {
    for (const auto* t : live()) if (t->node_id() == "n1") return t->id();
    return std::string();
  }();
  ASSERT_FALSE(on_n1.empty());
  set_status(on_n1, storepb::RUNNING);
  add_node("n1", storepb::NodeObject::READY, storepb::NodeSpec::DRAIN);
  reconcile();
  set_status(on_n1, storepb::FAILED);  // it failed rather than stopped cleanly
  EXPECT_EQ(reconcile(), 0u) << "a drained node gets no task";
  add_node("n1", storepb::NodeObject::READY, storepb::NodeSpec::ACTIVE);
  reconcile();
  bool n1_has_one = false;
  for (const auto* t : live()) n1_has_one = n1_has_one || t->node_id() == "n1";
  EXPECT_TRUE(n1_has_one) << "the node is active again and should run the global service";
}

// The restart delay runs from when the managers recorded the end, not from the worker's own
// clock in its report, which may be far off.
TEST_F(ReconcilerTest, TheRestartDelayIgnoresAWorkersClockThatIsAhead) {
  storepb::RestartPolicy p;
  p.set_delay_ns(5 * kSecond);
  create_service(1, p);
  reconcile();
  set_status("t1", storepb::RUNNING, "n1");
  storepb::StoreAction a;
  a.set_kind(storepb::StoreAction::UPDATE);
  a.mutable_task_status()->set_task_id("t1");
  a.mutable_task_status()->mutable_status()->set_state(storepb::FAILED);
  a.mutable_task_status()->mutable_status()->set_timestamp_ns(now_ + 3600 * kSecond);  // an hour ahead
  commit(std::move(a));
  EXPECT_EQ(reconcile(), 0u);
  EXPECT_EQ(wake_at_, now_ + 5 * kSecond);
  now_ += 5 * kSecond;
  EXPECT_EQ(reconcile(), 2u) << "restarted after the delay, not an hour later";
}

// A leader whose clock is behind the manager that recorded a task's end must not wait the
// clocks' difference on top of the delay.
TEST_F(ReconcilerTest, TheRestartDelayRunsAtMostFromWhenThisLeaderSawTheEnd) {
  storepb::RestartPolicy p;
  p.set_delay_ns(5 * kSecond);
  create_service(1, p);
  reconcile();
  set_status("t1", storepb::RUNNING, "n1");
  now_ += 20 * kSecond;  // the recording manager's clock: 20 s ahead of this leader's
  set_status("t1", storepb::FAILED);
  now_ -= 20 * kSecond;
  seen_ended_["t1"] = now_;
  EXPECT_EQ(reconcile(), 0u);
  EXPECT_EQ(wake_at_, now_ + 5 * kSecond);
  now_ += 5 * kSecond;
  EXPECT_EQ(reconcile(), 2u) << "restarted 5 s after this leader saw it end, not 25 s";
}

// ---- rolling updates (updater.h) ----

class UpdaterTest : public ReconcilerTest {
 protected:
  // n replicas, all running; then a new spec with the given update config.
  void running_then_update(uint64_t n, const std::function<void(storepb::UpdateConfig&)>& config,
                           const std::string& command = "/bin/new") {
    create_service(n);
    reconcile();
    for (const auto* t : live()) set_status(t->id(), storepb::RUNNING, t->slot() % 2 ? "n1" : "n2");
    reconcile();
    update_service([&](auto& s) {
      *s.mutable_previous_spec() = s.spec();
      s.mutable_spec()->mutable_task()->mutable_container()->set_command(0, command);
      config(*s.mutable_spec()->mutable_update_config());
      s.set_spec_version(s.spec_version() + 1);
    });
  }
  // Brings every task in a transitional state to where an agent would: stopping tasks stop,
  // then new tasks run (a stop-first successor once what it waits for has ended).
  void agents_act(storepb::TaskState new_tasks_reach = storepb::RUNNING) {
    for (const auto* t : store_.tasks_of_service("svc")) {
      if (!is_terminal(t->status().state()) && t->desired_state() > storepb::RUNNING) {
        set_status(t->id(), storepb::SHUTDOWN, t->node_id().empty() ? "n1" : "");
      }
    }
    for (const auto* t : store_.tasks_of_service("svc")) {
      if (t->desired_state() > storepb::RUNNING || t->status().state() >= storepb::RUNNING) continue;
      const bool waits = std::any_of(t->wait_for().begin(), t->wait_for().end(), [&](const std::string& id) {
        const auto* w = store_.find_task(id);
        return w && !is_terminal(w->status().state());
      });
      if (!waits) set_status(t->id(), new_tasks_reach, t->node_id().empty() ? (t->slot() % 2 ? "n1" : "n2") : "");
    }
  }
  size_t running_with(const std::string& command) const {
    size_t n = 0;
    for (const auto* t : live()) {
      n += t->status().state() == storepb::RUNNING && t->spec().container().command(0) == command;
    }
    return n;
  }
  const storepb::UpdateStatus& status() const { return store_.find_service("svc")->update_status(); }
};

TEST_F(UpdaterTest, ParallelismOneStopFirstReplacesOneSlotAtATimeNeverRunningMoreThanTheReplicas) {
  running_then_update(3, [](auto& c) { c.set_parallelism(1); });
  for (int step = 0; step < 20 && status().state() != storepb::UpdateStatus::COMPLETED; ++step) {
    reconcile();
    size_t running = 0, old_shut = 0;
    for (const auto* t : store_.tasks_of_service("svc")) {
      running += t->status().state() == storepb::RUNNING;
      old_shut += t->spec().container().command(0) == "/bin/true" && t->desired_state() == storepb::SHUTDOWN &&
                  !is_terminal(t->status().state());
    }
    EXPECT_LE(running, 3u);
    EXPECT_LE(old_shut, 1u) << "parallelism 1: one slot at a time";
    agents_act();
  }
  EXPECT_EQ(status().state(), storepb::UpdateStatus::COMPLETED);
  EXPECT_EQ(running_with("/bin/new"), 3u);
}

TEST_F(UpdaterTest, StartFirstRunsTheNewTaskBesideTheOldUntilItRuns) {
  running_then_update(2, [](auto& c) {
    c.set_parallelism(1);
    c.set_order(storepb::UpdateConfig::START_FIRST);
  });
  reconcile();
  EXPECT_EQ(live().size(), 3u) << "a new task beside the two old ones";
  EXPECT_EQ(running_with("/bin/true"), 2u);
  agents_act();  // the new one runs
  reconcile();
  EXPECT_EQ(running_with("/bin/true"), 1u) << "its old task goes once it runs";
  for (int step = 0; step < 10 && status().state() != storepb::UpdateStatus::COMPLETED; ++step) {
    agents_act();
    reconcile();
  }
  EXPECT_EQ(status().state(), storepb::UpdateStatus::COMPLETED);
  EXPECT_EQ(running_with("/bin/new"), 2u);
}

// A start-first update superseded by a newer one while a slot's new task is still starting
// must not leave three live tasks in the slot (services_unhealthy.yaml reaches this).
TEST_F(UpdaterTest, StartFirstSupersededBeforeItsNewTaskRanKeepsAtMostTwoLiveTasksInASlot) {
  running_then_update(1, [](auto& c) { c.set_order(storepb::UpdateConfig::START_FIRST); });
  reconcile();
  ASSERT_EQ(live().size(), 2u) << "the old task and the new one beside it";
  update_service([&](auto& s) {  // a newer spec before the new task runs
    *s.mutable_previous_spec() = s.spec();
    s.mutable_spec()->mutable_task()->mutable_container()->set_command(0, "/bin/newer");
    s.set_spec_version(s.spec_version() + 1);
  });
  reconcile();
  EXPECT_EQ(live().size(), 2u) << "the superseded new task goes; the old one serves until the newest runs";
  EXPECT_EQ(running_with("/bin/true"), 1u);
  for (int step = 0; step < 10 && status().state() != storepb::UpdateStatus::COMPLETED; ++step) {
    agents_act();
    now_ += kSecond;
    reconcile();
    EXPECT_LE(live().size(), 2u);
  }
  EXPECT_EQ(status().state(), storepb::UpdateStatus::COMPLETED);
  EXPECT_EQ(running_with("/bin/newer"), 1u);
}

// A rollback of a start-first update whose new task never ran keeps the old task, which already
// runs the spec rolled back to, rather than starting a copy of it.
TEST_F(UpdaterTest, ARollbackKeepsTheOldTaskThatStillRunsBesideAStartFirstNewOne) {
  running_then_update(1, [](auto& c) {
    c.set_order(storepb::UpdateConfig::START_FIRST);
    c.set_failure_action(storepb::UpdateConfig::ROLLBACK);
  });
  reconcile();
  ASSERT_EQ(live().size(), 2u);
  const std::string old_id = [&] {
    for (const auto* t : live()) if (t->spec().container().command(0) == "/bin/true") return t->id();
    return std::string();
  }();
  update_service([&](auto& s) {  // as `service rollback` does
    std::swap(*s.mutable_spec(), *s.mutable_previous_spec());
    s.set_spec_version(s.spec_version() + 1);
    s.mutable_update_status()->set_state(storepb::UpdateStatus::ROLLBACK_STARTED);
  });
  reconcile();
  ASSERT_EQ(live().size(), 1u) << "only the old task is left";
  EXPECT_EQ(live().front()->id(), old_id);
  for (int step = 0; step < 10 && status().state() != storepb::UpdateStatus::ROLLBACK_COMPLETED; ++step) {
    agents_act();
    now_ += kSecond;
    reconcile();
  }
  EXPECT_EQ(status().state(), storepb::UpdateStatus::ROLLBACK_COMPLETED);
  EXPECT_EQ(live().front()->id(), old_id);
}

// A start-first slot is not done when its new task runs, only when its old task has ended:
// otherwise, with tasks slow to exit (services_rolling_update.yaml's take up to 600 ms), the next
// slot's new task starts while the old one is still exiting, and replicas + parallelism + 1 run.
TEST_F(UpdaterTest, StartFirstKeepsASlotInFlightUntilItsOldTaskHasEnded) {
  running_then_update(2, [](auto& c) {
    c.set_parallelism(1);
    c.set_order(storepb::UpdateConfig::START_FIRST);
  });
  reconcile();
  ASSERT_EQ(live().size(), 3u);
  const storepb::TaskObject* fresh = nullptr;
  for (const auto* t : live()) {
    if (t->spec().container().command(0) == "/bin/new") fresh = t;
  }
  ASSERT_NE(fresh, nullptr);
  const uint64_t slot = fresh->slot();
  set_status(fresh->id(), storepb::RUNNING, "n1");
  auto new_tasks = [&] {
    size_t n = 0;
    for (const auto* t : live()) n += t->spec().container().command(0) == "/bin/new";
    return n;
  };
  reconcile();  // the slot's old task is told to stop; it is still exiting
  EXPECT_EQ(running_with("/bin/true"), 1u);
  EXPECT_EQ(new_tasks(), 1u) << "no second new task while the first slot's old task still runs";
  reconcile();
  EXPECT_EQ(new_tasks(), 1u);
  for (const auto* t : store_.tasks_of_service("svc")) {
    if (t->slot() == slot && t->desired_state() > storepb::RUNNING) set_status(t->id(), storepb::SHUTDOWN);
  }
  reconcile();
  EXPECT_EQ(new_tasks(), 2u) << "the next slot's turn once the old task has ended";
}

// A stop-first successor superseded before it started (a second update, or a rollback) is
// replaced by one that waits for every task of the slot that may still run.
TEST_F(UpdaterTest, ASupersededWaitingSuccessorsReplacementWaitsForTheWholeSlot) {
  running_then_update(1, [](auto&) {});
  reconcile();
  const storepb::TaskObject* first = live_in_slot(1);
  ASSERT_NE(first, nullptr);
  const std::string waiting = first->id();
  ASSERT_EQ(first->wait_for_size(), 1);
  const std::string old = first->wait_for(0);
  set_status(waiting, storepb::ASSIGNED, "n2");  // placed, held back: the old task still exits
  update_service([](auto& s) {
    s.mutable_spec()->mutable_task()->mutable_container()->set_command(0, "/bin/newer");
    s.set_spec_version(s.spec_version() + 1);
  });
  reconcile();
  EXPECT_EQ(store_.find_task(waiting)->desired_state(), storepb::SHUTDOWN);
  const storepb::TaskObject* next = live_in_slot(1);
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(next->spec().container().command(0), "/bin/newer");
  EXPECT_EQ(std::set<std::string>(next->wait_for().begin(), next->wait_for().end()),
            (std::set<std::string>{old, waiting}));
}

TEST_F(UpdaterTest, AWaitingSuccessorLostWithItsNodeIsReplacedByOneThatStillWaits) {
  running_then_update(1, [](auto&) {});
  reconcile();
  const storepb::TaskObject* first = live_in_slot(1);
  ASSERT_NE(first, nullptr);
  const std::string lost = first->id();
  const std::string old = first->wait_for(0);
  set_status(lost, storepb::ASSIGNED, store_.find_task(old)->node_id() == "n1" ? "n2" : "n1");
  add_node(store_.find_task(lost)->node_id(), storepb::NodeObject::DOWN);
  reconcile();
  const storepb::TaskObject* next = live_in_slot(1);
  ASSERT_NE(next, nullptr);
  EXPECT_NE(next->id(), lost);
  EXPECT_EQ(std::vector<std::string>(next->wait_for().begin(), next->wait_for().end()), std::vector<std::string>{old})
      << "the old task may still be exiting on its own node";
}

TEST_F(UpdaterTest, ANewTaskFailingWithinTheMonitorPausesTheUpdateAndSaysWhich) {
  running_then_update(3, [](auto& c) {
    c.set_parallelism(1);
    c.set_monitor_ns(5 * kSecond);
  });
  reconcile();  // slot 1's old task stops, its new task made
  agents_act(storepb::FAILED);
  reconcile();
  EXPECT_EQ(status().state(), storepb::UpdateStatus::PAUSED);
  EXPECT_NE(status().message().find("update paused due to failure or early termination of task"), std::string::npos)
      << status().message();
  EXPECT_EQ(status().failed_tasks_size(), 1);
  for (int step = 0; step < 5; ++step) {
    agents_act();
    reconcile();
  }
  EXPECT_EQ(running_with("/bin/true"), 2u) << "a paused update replaces nothing more";
}

TEST_F(UpdaterTest, FailureActionRollbackReturnsEverySlotToThePreviousSpec) {
  running_then_update(3, [](auto& c) {
    c.set_parallelism(1);
    c.set_monitor_ns(5 * kSecond);
    c.set_failure_action(storepb::UpdateConfig::ROLLBACK);
  });
  reconcile();
  agents_act();
  reconcile();
  agents_act(storepb::FAILED);
  reconcile();
  EXPECT_EQ(status().state(), storepb::UpdateStatus::ROLLBACK_STARTED);
  EXPECT_EQ(store_.find_service("svc")->spec().task().container().command(0), "/bin/true");
  for (int step = 0; step < 30 && status().state() != storepb::UpdateStatus::ROLLBACK_COMPLETED; ++step) {
    agents_act();
    now_ += kSecond;
    reconcile();
  }
  EXPECT_EQ(status().state(), storepb::UpdateStatus::ROLLBACK_COMPLETED);
  EXPECT_EQ(running_with("/bin/true"), 3u);
}

TEST_F(UpdaterTest, TheUpdateCompletesOnlyAfterTheLastTaskRanItsMonitorPeriod) {
  running_then_update(1, [](auto& c) { c.set_monitor_ns(5 * kSecond); });
  reconcile();
  agents_act();
  reconcile();
  agents_act();
  reconcile();
  EXPECT_EQ(status().state(), storepb::UpdateStatus::UPDATING);
  EXPECT_EQ(wake_at_, now_ + 5 * kSecond);
  now_ += 5 * kSecond;
  reconcile();
  EXPECT_EQ(status().state(), storepb::UpdateStatus::COMPLETED);
}

TEST_F(UpdaterTest, ADelaySeparatesTheBatches) {
  running_then_update(2, [](auto& c) {
    c.set_parallelism(1);
    c.set_delay_ns(10 * kSecond);
  });
  reconcile();  // batch 1: slot 1 stops
  agents_act();
  reconcile();  // its new task
  agents_act();
  reconcile();
  EXPECT_EQ(running_with("/bin/true"), 1u) << "slot 2 waits for the delay";
  EXPECT_EQ(wake_at_, now_ + 10 * kSecond);
  now_ += 10 * kSecond;
  reconcile();
  EXPECT_EQ(running_with("/bin/true"), 0u) << "then its turn comes";
}

TEST_F(ReconcilerTest, TasksOfARemovedServiceAreStoppedThenDeleted) {
  create_service(2);
  reconcile();
  set_status("t1", storepb::RUNNING, "n1");
  Reconciliation r = reconcile_removed_service(store_.tasks_of_service("svc"));
  ASSERT_EQ(r.actions.size(), 2u);
  storepb::Transaction tx;
  for (auto& a : r.actions) *tx.add_actions() = a;
  commit(tx);
  EXPECT_EQ(store_.find_task("t1")->desired_state(), storepb::REMOVE);
  EXPECT_EQ(store_.find_task("t2"), nullptr) << "never reached a node: deleted at once";
}

TEST(RestartPolicyTest, ConditionNoneNeverRestarts) {
  storepb::RestartPolicy p;
  p.set_condition(storepb::RestartPolicy::NONE);
  storepb::TaskObject t;
  t.mutable_status()->set_state(storepb::FAILED);
  EXPECT_EQ(decide_restart(p, t, {}, 0).kind, RestartDecision::kNever);
  p.set_condition(storepb::RestartPolicy::ANY);
  EXPECT_EQ(decide_restart(p, t, {}, 0).kind, RestartDecision::kNow);
}

}  // namespace
}  // namespace shoal::orchestrator
