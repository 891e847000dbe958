#include "core/store/store.h"

#include <gtest/gtest.h>

namespace shoal::store {
namespace {

raft::raftpb::Entry entry(uint64_t index, const storepb::Transaction& tx) {
  raft::raftpb::Entry e;
  e.set_index(index);
  e.set_term(1);
  e.set_data(tx.SerializeAsString());
  return e;
}

storepb::Transaction create_config(const std::string& id, const std::string& name, std::string data = "x") {
  storepb::Transaction tx;
  tx.set_now_ns(1000);
  auto* a = tx.add_actions();
  a->set_kind(storepb::StoreAction::CREATE);
  a->mutable_config()->set_id(id);
  a->mutable_config()->mutable_spec()->set_name(name);
  a->mutable_config()->set_data(std::move(data));
  return tx;
}

TEST(StoreTest, CreateSetsVersionAndTimesAndIsFoundByIdOrName) {
  Store s;
  s.apply(entry(5, create_config("c1", "web")));
  ASSERT_TRUE(s.take_result(5).ok());
  const auto* c = s.find_config("web");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->id(), "c1");
  EXPECT_EQ(c->version(), 5u);
  EXPECT_EQ(c->created_at_ns(), 1000);
  EXPECT_EQ(s.find_config("c1"), c);
  EXPECT_EQ(s.find_config("nope"), nullptr);
}

TEST(StoreTest, DuplicateNameFailsAndChangesNothing) {
  Store s;
  s.apply(entry(1, create_config("c1", "web")));
  // One transaction with a fresh config and a duplicate name: neither applies.
  storepb::Transaction tx = create_config("c2", "api");
  *tx.add_actions() = create_config("c3", "web").actions(0);
  s.apply(entry(2, tx));
  Status r = s.take_result(2);
  EXPECT_EQ(r.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(r.message().find("web"), std::string::npos);
  EXPECT_EQ(s.configs().size(), 1u);
  EXPECT_EQ(s.find_config("api"), nullptr);
}

TEST(StoreTest, StaleVersionUpdateIsRefused) {
  Store s;
  s.apply(entry(1, create_config("c1", "web")));
  storepb::Transaction up;
  auto* a = up.add_actions();
  a->set_kind(storepb::StoreAction::UPDATE);
  *a->mutable_config() = *s.find_config("c1");
  a->mutable_config()->set_data("new");
  a->mutable_config()->set_version(0);  // stale
  s.apply(entry(2, up));
  EXPECT_EQ(s.take_result(2).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.find_config("c1")->data(), "x");
  a->mutable_config()->set_version(1);
  s.apply(entry(3, up));
  EXPECT_TRUE(s.take_result(3).ok());
  EXPECT_EQ(s.find_config("c1")->data(), "new");
  EXPECT_EQ(s.find_config("c1")->version(), 3u);
}

TEST(StoreTest, SizeLimitsAreDockers) {
  Store s;
  s.apply(entry(1, create_config("c1", "big", std::string(kMaxConfigBytes + 1, 'a'))));
  EXPECT_EQ(s.take_result(1).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(s.configs().empty());
}

TEST(StoreTest, MalformedEntryIsRecordedNotApplied) {
  Store s;
  raft::raftpb::Entry e;
  e.set_index(1);
  e.set_data("\xff\xff garbage");
  s.apply(e);
  EXPECT_EQ(s.take_result(1).code(), StatusCode::kCorruption);
  EXPECT_EQ(s.last_index(), 1u);
}

TEST(StoreTest, SnapshotRoundTripsEverything) {
  Store s;
  s.apply(entry(1, create_config("c1", "web")));
  storepb::Transaction tx;
  auto* a = tx.add_actions();
  a->mutable_cluster()->set_id("cluster-x");
  a->mutable_cluster()->set_worker_token("w");
  auto* n = tx.add_actions();
  n->mutable_node()->set_id("0000000000000001");
  n->mutable_node()->set_role(storepb::MANAGER);
  s.apply(entry(2, tx));
  Store t;
  t.restore(s.snapshot());
  ASSERT_NE(t.cluster(), nullptr);
  EXPECT_EQ(t.cluster()->id(), "cluster-x");
  EXPECT_EQ(t.last_index(), 2u);
  EXPECT_NE(t.find_config("web"), nullptr);
  EXPECT_NE(t.find_node("0000000000000001"), nullptr);
}

TEST(StoreTest, WhenAppliedRunsOnceTheIndexIsReached) {
  Store s;
  int ran = 0;
  s.when_applied(2, [&] { ++ran; });
  s.apply(entry(1, create_config("c1", "a")));
  EXPECT_EQ(ran, 0);
  s.apply(entry(2, create_config("c2", "b")));
  EXPECT_EQ(ran, 1);
  s.when_applied(1, [&] { ++ran; });  // already applied: at once
  EXPECT_EQ(ran, 2);
}

TEST(StoreTest, WatchersSeeEachAppliedAction) {
  Store s;
  std::vector<std::string> seen;
  s.on_change([&](const storepb::StoreAction& a) { seen.push_back(a.config().id()); });
  s.apply(entry(1, create_config("c1", "a")));
  s.apply(entry(2, create_config("c2", "a")));  // refused: no watcher call
  EXPECT_EQ(seen, std::vector<std::string>{"c1"});
}

}  // namespace
}  // namespace shoal::store

namespace shoal::store {
namespace {

// The hand-written snapshot must be exactly a StoreSnapshot.
TEST(StoreTest, SnapshotParsesAsAStoreSnapshotMessage) {
  Store s;
  s.apply(entry(1, create_config("c1", "web")));
  s.apply(entry(2, create_config("c2", "api")));
  storepb::StoreSnapshot parsed;
  ASSERT_TRUE(parsed.ParseFromString(s.snapshot()));
  EXPECT_EQ(parsed.configs_size(), 2);
  EXPECT_EQ(parsed.last_index(), 2u);
  EXPECT_FALSE(parsed.has_cluster());
  EXPECT_EQ(parsed.configs(1).spec().name(), "api");  // in id order: c1, c2
}

}  // namespace
}  // namespace shoal::store
