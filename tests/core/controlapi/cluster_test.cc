// The control API's rules for the cluster object (core/controlapi/cluster.h): token rotation,
// autolock and its unlock key, the node certificates' lifetime and a root CA rotation asked
// for, each change made against the cluster's version and leaving the rest as it was.
#include "core/controlapi/cluster.h"

#include <gtest/gtest.h>

#include "core/ca/join_tokens.h"
#include "core/node/unlock_key.h"
#include "tests/core/controlapi/controlapi_test_util.h"

namespace shoal::controlapi {
namespace {

class ControlApiClusterTest : public ::testing::Test {
 protected:
  void found() {
    auto tokens = ca::JoinTokens::generate(h.crypto.sha256("root CA"), h.crypto);
    h.put(storepb::StoreAction::CREATE, [&](storepb::StoreAction& a) {
      storepb::ClusterObject* c = a.mutable_cluster();
      c->set_id("cluster-1");
      c->set_name("default");
      c->set_node_cert_expiry_s(90 * 24 * 3600);
      c->set_manager_token(tokens.token(NodeRole::kManager));
      c->set_worker_token(tokens.token(NodeRole::kWorker));
    });
  }
  const storepb::ClusterObject& cluster() { return *h.store.cluster(); }
  // Applies `change` against the cluster's current version and commits it.
  Status change(const ClusterChange& c) {
    auto tx = update_cluster(h.store, cluster().version(), c, h.now(), h.crypto);
    if (!tx.ok()) return tx.status();
    return h.commit(*tx);
  }
  test::StoreHarness h;
};

TEST_F(ControlApiClusterTest, BeforeTheFoundingThereIsNothingToUpdate) {
  auto tx = update_cluster(h.store, 0, ClusterChange{}, h.now(), h.crypto);
  ASSERT_FALSE(tx.ok());
  EXPECT_EQ(tx.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(tx.status().message().find("not caught up"), std::string::npos) << tx.status().message();
}

TEST_F(ControlApiClusterTest, RotatingOneRolesTokenLeavesTheOther) {
  found();
  const storepb::ClusterObject before = cluster();
  ClusterChange rotate;
  rotate.rotate_worker_token = true;
  ASSERT_TRUE(change(rotate).ok());
  EXPECT_NE(cluster().worker_token(), before.worker_token());
  EXPECT_EQ(cluster().manager_token(), before.manager_token());
  // The new token admits a worker, the old one nothing.
  auto tokens = ca::JoinTokens::from_tokens(cluster().manager_token(), cluster().worker_token());
  ASSERT_TRUE(tokens.ok());
  EXPECT_TRUE(tokens->admit(cluster().worker_token()).ok());
  EXPECT_FALSE(tokens->admit(before.worker_token()).ok());

  ClusterChange manager;
  manager.rotate_manager_token = true;
  const std::string worker = cluster().worker_token();
  ASSERT_TRUE(change(manager).ok());
  EXPECT_NE(cluster().manager_token(), before.manager_token());
  EXPECT_EQ(cluster().worker_token(), worker);
}

TEST_F(ControlApiClusterTest, AutolockOnMakesAnUnlockKeyThatOnlyARotationReplaces) {
  found();
  ClusterChange on;
  on.autolock = true;
  ASSERT_TRUE(change(on).ok());
  EXPECT_TRUE(cluster().autolock());
  const std::string key = cluster().unlock_key();
  ASSERT_TRUE(node::parse_unlock_key(key).ok()) << key;

  ASSERT_TRUE(change(on).ok());  // already on: the same key
  EXPECT_EQ(cluster().unlock_key(), key);

  ClusterChange rotate;
  rotate.rotate_unlock_key = true;
  ASSERT_TRUE(change(rotate).ok());
  EXPECT_NE(cluster().unlock_key(), key);
  EXPECT_TRUE(node::parse_unlock_key(cluster().unlock_key()).ok());

  ClusterChange off;
  off.autolock = false;
  ASSERT_TRUE(change(off).ok());
  EXPECT_FALSE(cluster().autolock());
  EXPECT_EQ(cluster().unlock_key(), "");
}

TEST_F(ControlApiClusterTest, RotatingTheUnlockKeyWithoutAutolockMakesNone) {
  found();
  ClusterChange rotate;
  rotate.rotate_unlock_key = true;
  ASSERT_TRUE(change(rotate).ok());
  EXPECT_FALSE(cluster().autolock());
  EXPECT_EQ(cluster().unlock_key(), "");
}

TEST_F(ControlApiClusterTest, NodeCertificatesLiveAtLeastAMinute) {
  found();
  const std::string before = h.state();
  ClusterChange too_short;
  too_short.node_cert_expiry_ns = 59'999'999'999;
  auto tx = update_cluster(h.store, cluster().version(), too_short, h.now(), h.crypto);
  ASSERT_FALSE(tx.ok());
  EXPECT_EQ(tx.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(tx.status().message(), "NodeCertExpiry must be at least 1 minute");
  EXPECT_EQ(h.state(), before);

  ClusterChange minute;
  minute.node_cert_expiry_ns = 60'000'000'000;
  ASSERT_TRUE(change(minute).ok());
  EXPECT_EQ(cluster().node_cert_expiry_s(), 60);
}

TEST_F(ControlApiClusterTest, ForceRotateAsksForARootRotationAndNothingElseMoves) {
  found();
  const storepb::ClusterObject before = cluster();
  h.advance(std::chrono::seconds(9));
  ClusterChange rotate;
  rotate.ca_force_rotate = 1;
  ASSERT_TRUE(change(rotate).ok());
  EXPECT_EQ(cluster().ca_force_rotate(), 1u);
  EXPECT_EQ(cluster().manager_token(), before.manager_token());
  EXPECT_EQ(cluster().worker_token(), before.worker_token());
  EXPECT_EQ(cluster().node_cert_expiry_s(), before.node_cert_expiry_s());
  EXPECT_EQ(cluster().updated_at_ns(), h.now());
  EXPECT_EQ(cluster().created_at_ns(), before.created_at_ns());
}

TEST_F(ControlApiClusterTest, AChangeMadeAgainstAStaleVersionIsRefusedByTheStore) {
  found();
  const uint64_t read_at = cluster().version();
  ClusterChange rotate;
  rotate.rotate_worker_token = true;
  ASSERT_TRUE(change(rotate).ok());
  const storepb::ClusterObject before = cluster();

  ClusterChange on;
  on.autolock = true;
  auto tx = update_cluster(h.store, read_at, on, h.now(), h.crypto);
  ASSERT_TRUE(tx.ok());  // the version is the store's to check
  Status s = h.commit(*tx);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("update out of sequence"), std::string::npos) << s.message();
  EXPECT_TRUE(test::same(cluster(), before));
}

}  // namespace
}  // namespace shoal::controlapi
