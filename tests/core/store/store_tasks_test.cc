// Services and tasks in the Store: names, indexes by service and node, forward-only states,
// agents' status reports, snapshots.
#include <gtest/gtest.h>

#include "core/store/store.h"

namespace shoal::store {
namespace {

raft::raftpb::Entry entry(uint64_t index, const storepb::Transaction& tx) {
  raft::raftpb::Entry e;
  e.set_index(index);
  e.set_term(1);
  e.set_data(tx.SerializeAsString());
  return e;
}

storepb::Transaction one(storepb::StoreAction a) {
  storepb::Transaction tx;
  tx.set_now_ns(1000);
  *tx.add_actions() = std::move(a);
  return tx;
}

storepb::StoreAction create_service(const std::string& id, const std::string& name, uint64_t replicas = 1) {
  storepb::StoreAction a;
  a.set_kind(storepb::StoreAction::CREATE);
  auto* s = a.mutable_service();
  s->set_id(id);
  s->mutable_spec()->mutable_annotations()->set_name(name);
  s->mutable_spec()->mutable_replicated()->set_replicas(replicas);
  return a;
}

storepb::StoreAction create_task(const std::string& id, const std::string& service, uint64_t slot,
                                 const std::string& node = "") {
  storepb::StoreAction a;
  a.set_kind(storepb::StoreAction::CREATE);
  auto* t = a.mutable_task();
  t->set_id(id);
  t->set_service_id(service);
  t->set_slot(slot);
  t->set_node_id(node);
  t->set_desired_state(storepb::RUNNING);
  t->mutable_status()->set_state(storepb::PENDING);
  return a;
}

storepb::StoreAction update_task(storepb::TaskObject t) {
  storepb::StoreAction a;
  a.set_kind(storepb::StoreAction::UPDATE);
  *a.mutable_task() = std::move(t);
  return a;
}

storepb::StoreAction report(const std::string& task, storepb::TaskState state, const std::string& message = "") {
  storepb::StoreAction a;
  a.set_kind(storepb::StoreAction::UPDATE);
  a.mutable_task_status()->set_task_id(task);
  a.mutable_task_status()->mutable_status()->set_state(state);
  a.mutable_task_status()->mutable_status()->set_message(message);
  return a;
}

TEST(StoreTasksTest, ServiceNamesAreUniqueAndFoundByIdOrName) {
  Store s;
  s.apply(entry(1, one(create_service("s1", "web"))));
  ASSERT_TRUE(s.take_result(1).ok());
  EXPECT_EQ(s.find_service("web")->id(), "s1");
  EXPECT_EQ(s.find_service("s1")->spec().annotations().name(), "web");
  s.apply(entry(2, one(create_service("s2", "web"))));
  EXPECT_EQ(s.take_result(2).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(s.services().size(), 1u);
}

TEST(StoreTasksTest, AServiceCannotBeRenamed) {
  Store s;
  s.apply(entry(1, one(create_service("s1", "web"))));
  storepb::StoreAction up;
  up.set_kind(storepb::StoreAction::UPDATE);
  *up.mutable_service() = *s.find_service("s1");
  up.mutable_service()->mutable_spec()->mutable_annotations()->set_name("api");
  s.apply(entry(2, one(up)));
  EXPECT_EQ(s.take_result(2).code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.find_service("web"), nullptr);
  EXPECT_EQ(s.find_service("api"), nullptr);
}

TEST(StoreTasksTest, TasksAreIndexedByServiceAndNodeAndFollowAMove) {
  Store s;
  s.apply(entry(1, one(create_service("s1", "web", 2))));
  storepb::Transaction tx = one(create_task("t1", "s1", 1));
  *tx.add_actions() = create_task("t2", "s1", 2, "n1");
  s.apply(entry(2, tx));
  ASSERT_TRUE(s.take_result(2).ok());
  ASSERT_EQ(s.tasks_of_service("s1").size(), 2u);
  EXPECT_EQ(s.tasks_of_service("s1")[0]->id(), "t1");
  ASSERT_EQ(s.tasks_on_node("n1").size(), 1u);
  EXPECT_TRUE(s.tasks_on_node("n2").empty());

  // The scheduler assigns t1 to n2.
  storepb::TaskObject t1 = *s.find_task("t1");
  t1.set_node_id("n2");
  t1.mutable_status()->set_state(storepb::ASSIGNED);
  s.apply(entry(3, one(update_task(t1))));
  ASSERT_TRUE(s.take_result(3).ok());
  ASSERT_EQ(s.tasks_on_node("n2").size(), 1u);
  EXPECT_EQ(s.tasks_on_node("n2")[0]->id(), "t1");
  EXPECT_EQ(s.find_task("t1")->version(), 3u);

  storepb::StoreAction rm;
  rm.set_kind(storepb::StoreAction::REMOVE);
  *rm.mutable_task() = *s.find_task("t2");
  s.apply(entry(4, one(rm)));
  ASSERT_TRUE(s.take_result(4).ok());
  EXPECT_TRUE(s.tasks_on_node("n1").empty());
  EXPECT_EQ(s.tasks_of_service("s1").size(), 1u);
}

TEST(StoreTasksTest, TaskStatesNeverMoveBackwardsThroughAnUpdate) {
  Store s;
  s.apply(entry(1, one(create_task("t1", "s1", 1, "n1"))));
  storepb::TaskObject t = *s.find_task("t1");
  t.mutable_status()->set_state(storepb::RUNNING);
  s.apply(entry(2, one(update_task(t))));
  ASSERT_TRUE(s.take_result(2).ok());

  storepb::TaskObject back = *s.find_task("t1");
  back.mutable_status()->set_state(storepb::ASSIGNED);
  s.apply(entry(3, one(update_task(back))));
  EXPECT_EQ(s.take_result(3).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.find_task("t1")->status().state(), storepb::RUNNING);

  storepb::TaskObject shut = *s.find_task("t1");
  shut.set_desired_state(storepb::SHUTDOWN);
  s.apply(entry(4, one(update_task(shut))));
  ASSERT_TRUE(s.take_result(4).ok());
  storepb::TaskObject again = *s.find_task("t1");
  again.set_desired_state(storepb::RUNNING);
  s.apply(entry(5, one(update_task(again))));
  EXPECT_EQ(s.take_result(5).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.find_task("t1")->desired_state(), storepb::SHUTDOWN);
}

TEST(StoreTasksTest, ATaskCannotChangeServiceOrSlot) {
  Store s;
  s.apply(entry(1, one(create_task("t1", "s1", 1))));
  storepb::TaskObject t = *s.find_task("t1");
  t.set_slot(2);
  s.apply(entry(2, one(update_task(t))));
  EXPECT_EQ(s.take_result(2).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.find_task("t1")->slot(), 1u);
}

TEST(StoreTasksTest, StatusReportsMoveForwardAndStaleOrOrphanReportsChangeNothing) {
  Store s;
  s.apply(entry(1, one(create_task("t1", "s1", 1, "n1"))));
  // A batch: a report for t1, one for a task that no longer exists, then a stale one for t1.
  storepb::Transaction tx = one(report("t1", storepb::RUNNING, "started"));
  *tx.add_actions() = report("gone", storepb::RUNNING);
  *tx.add_actions() = report("t1", storepb::STARTING, "late");
  s.apply(entry(2, tx));
  ASSERT_TRUE(s.take_result(2).ok());
  const auto* t = s.find_task("t1");
  EXPECT_EQ(t->status().state(), storepb::RUNNING);
  EXPECT_EQ(t->status().message(), "started");
  EXPECT_EQ(t->version(), 2u);
  EXPECT_EQ(s.find_task("gone"), nullptr);

  s.apply(entry(3, one(report("t1", storepb::FAILED, "task: non-zero exit (1)"))));
  EXPECT_EQ(s.find_task("t1")->status().state(), storepb::FAILED);
  EXPECT_EQ(s.find_task("t1")->version(), 3u);
}

TEST(StoreTasksTest, AStatusCanOnlyBeUpdated) {
  Store s;
  storepb::StoreAction a = report("t1", storepb::RUNNING);
  a.set_kind(storepb::StoreAction::CREATE);
  s.apply(entry(1, one(a)));
  EXPECT_EQ(s.take_result(1).code(), StatusCode::kInvalidArgument);
}

TEST(StoreTasksTest, SnapshotCarriesServicesTasksAndTheirIndexes) {
  Store s;
  s.apply(entry(1, one(create_service("s1", "web", 2))));
  storepb::Transaction tx = one(create_task("t1", "s1", 1, "n1"));
  *tx.add_actions() = create_task("t2", "s1", 2, "n2");
  s.apply(entry(2, tx));

  Store copy;
  copy.restore(s.snapshot());
  EXPECT_EQ(copy.find_service("web")->id(), "s1");
  EXPECT_EQ(copy.tasks().size(), 2u);
  EXPECT_EQ(copy.tasks_of_service("s1").size(), 2u);
  ASSERT_EQ(copy.tasks_on_node("n2").size(), 1u);
  EXPECT_EQ(copy.tasks_on_node("n2")[0]->id(), "t2");
  // The restored name index refuses a duplicate as the original does.
  copy.apply(entry(3, one(create_service("s9", "web"))));
  EXPECT_EQ(copy.take_result(3).code(), StatusCode::kAlreadyExists);
}

}  // namespace
}  // namespace shoal::store
