// The control API's rules for nodes (core/controlapi/nodes.h): `node update` changes only what
// it is asked to, never demotes the last manager, and is made against a version the store
// checks; `node rm` refuses a manager and a node that is still up unless forced.
#include "core/controlapi/nodes.h"

#include <gtest/gtest.h>

#include "tests/core/controlapi/controlapi_test_util.h"

namespace shoal::controlapi {
namespace {

constexpr const char* kManager1 = "0000000000000001";
constexpr const char* kManager2 = "0000000000000002";
constexpr const char* kWorkerUp = "0000000000000003";
constexpr const char* kWorkerDown = "0000000000000004";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class ControlApiNodesTest : public ::testing::Test {
 protected:
  ControlApiNodesTest() {
    h.put_node(kManager1, "m1", storepb::MANAGER);
    h.put_node(kWorkerUp, "w1", storepb::WORKER);
    h.put_node(kWorkerDown, "w2", storepb::WORKER, storepb::NodeObject::DOWN);
  }
  const storepb::NodeObject& node(const char* id) { return *h.store.find_node(id); }
  // Updates against the node's current version and commits.
  Status update(const char* ref, const NodeSpecChange& change) {
    auto tx = update_node(h.store, ref, h.store.find_node(ref)->version(), change, h.now());
    if (!tx.ok()) return tx.status();
    return h.commit(*tx);
  }
  test::StoreHarness h;
};

TEST_F(ControlApiNodesTest, DemotingTheLastManagerIsRefusedAndChangesNothing) {
  const std::string before = h.state();
  NodeSpecChange demote;
  demote.role = storepb::WORKER;
  auto tx = update_node(h.store, kManager1, node(kManager1).version(), demote, h.now());
  ASSERT_FALSE(tx.ok());
  EXPECT_EQ(tx.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(tx.status().message(), "attempting to demote the last manager of the swarm");
  EXPECT_EQ(h.state(), before);
}

TEST_F(ControlApiNodesTest, OneOfTwoManagersMayBeDemotedButThenNotTheOther) {
  h.put_node(kManager2, "m2", storepb::MANAGER);
  NodeSpecChange demote;
  demote.role = storepb::WORKER;
  ASSERT_TRUE(update(kManager2, demote).ok());
  EXPECT_EQ(node(kManager2).spec().desired_role(), storepb::WORKER);
  EXPECT_EQ(node(kManager2).role(), storepb::MANAGER);  // its certificate changes later
  Status last = update(kManager1, demote);
  EXPECT_EQ(last.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(node(kManager1).spec().desired_role(), storepb::MANAGER);
}

TEST_F(ControlApiNodesTest, AWorkerIsPromotedByItsDesiredRole) {
  NodeSpecChange promote;
  promote.role = storepb::MANAGER;
  h.advance(std::chrono::seconds(3));
  ASSERT_TRUE(update("w1", promote).ok());  // by hostname
  EXPECT_EQ(node(kWorkerUp).spec().desired_role(), storepb::MANAGER);
  EXPECT_EQ(node(kWorkerUp).updated_at_ns(), h.now());
}

TEST_F(ControlApiNodesTest, AvailabilityNameAndLabelsChangeAndWhatIsUnsetStays) {
  NodeSpecChange first;
  first.name = "edge";
  first.labels = std::map<std::string, std::string>{{"zone", "east"}, {"disk", "ssd"}};
  ASSERT_TRUE(update(kWorkerUp, first).ok());

  NodeSpecChange drain;
  drain.availability = storepb::NodeSpec::DRAIN;
  ASSERT_TRUE(update(kWorkerUp, drain).ok());
  const storepb::NodeSpec& spec = node(kWorkerUp).spec();
  EXPECT_EQ(spec.availability(), storepb::NodeSpec::DRAIN);
  EXPECT_EQ(spec.annotations().name(), "edge");
  EXPECT_EQ(spec.annotations().labels().size(), 2u);
  EXPECT_EQ(spec.desired_role(), storepb::WORKER);

  // Labels are replaced whole, as `docker node update` sends them.
  NodeSpecChange relabel;
  relabel.labels = std::map<std::string, std::string>{{"zone", "west"}};
  ASSERT_TRUE(update(kWorkerUp, relabel).ok());
  const auto& labels = node(kWorkerUp).spec().annotations().labels();
  ASSERT_EQ(labels.size(), 1u);
  EXPECT_EQ(labels.at("zone"), "west");
  EXPECT_EQ(node(kWorkerUp).spec().availability(), storepb::NodeSpec::DRAIN);
}

TEST_F(ControlApiNodesTest, AnUpdateMadeAgainstAStaleVersionIsRefusedByTheStore) {
  const uint64_t read_at = node(kWorkerUp).version();
  NodeSpecChange pause;
  pause.availability = storepb::NodeSpec::PAUSE;
  ASSERT_TRUE(update(kWorkerUp, pause).ok());
  const storepb::NodeObject before = node(kWorkerUp);

  NodeSpecChange drain;
  drain.availability = storepb::NodeSpec::DRAIN;
  auto tx = update_node(h.store, kWorkerUp, read_at, drain, h.now());
  ASSERT_TRUE(tx.ok());  // the version is the store's to check
  Status s = h.commit(*tx);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(contains(s.message(), "update out of sequence")) << s.message();
  EXPECT_TRUE(test::same(node(kWorkerUp), before));
}

TEST_F(ControlApiNodesTest, UpdatingANodeThatIsNotThereIsNotFound) {
  NodeSpecChange drain;
  drain.availability = storepb::NodeSpec::DRAIN;
  auto tx = update_node(h.store, "ghost", 1, drain, h.now());
  ASSERT_FALSE(tx.ok());
  EXPECT_EQ(tx.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(tx.status().message(), "node ghost not found");
}

TEST_F(ControlApiNodesTest, AManagerIsNotRemovedUntilDemotedAndOutOfRaft) {
  const std::string before = h.state();
  auto manager = remove_node(h.store, kManager1, /*force=*/true, /*raft_member=*/true);
  ASSERT_FALSE(manager.ok());
  EXPECT_EQ(manager.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(manager.status().message(), "must be demoted to worker before removal"))
      << manager.status().message();
  EXPECT_TRUE(contains(manager.status().message(), kManager1));
  // Demoted in the store, but Raft still counts it as a member.
  auto member = remove_node(h.store, kWorkerDown, /*force=*/true, /*raft_member=*/true);
  ASSERT_FALSE(member.ok());
  EXPECT_EQ(member.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(h.state(), before);
}

TEST_F(ControlApiNodesTest, ANodeThatIsUpNeedsForceToBeRemoved) {
  const std::string before = h.state();
  auto up = remove_node(h.store, kWorkerUp, /*force=*/false, /*raft_member=*/false);
  ASSERT_FALSE(up.ok());
  EXPECT_EQ(up.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(up.status().message(), "is not down and can't be removed")) << up.status().message();
  EXPECT_TRUE(contains(up.status().message(), "--force")) << up.status().message();
  EXPECT_EQ(h.state(), before);

  auto forced = remove_node(h.store, kWorkerUp, /*force=*/true, /*raft_member=*/false);
  ASSERT_TRUE(forced.ok());
  ASSERT_TRUE(h.commit(*forced).ok());
  EXPECT_EQ(h.store.find_node(kWorkerUp), nullptr);
}

TEST_F(ControlApiNodesTest, ADownWorkerIsRemovedWithoutForce) {
  auto tx = remove_node(h.store, "w2", /*force=*/false, /*raft_member=*/false);
  ASSERT_TRUE(tx.ok()) << tx.status().message();
  ASSERT_TRUE(h.commit(*tx).ok());
  EXPECT_EQ(h.store.find_node(kWorkerDown), nullptr);
  EXPECT_EQ(h.store.nodes().size(), 2u);
  auto again = remove_node(h.store, "w2", false, false);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace shoal::controlapi
