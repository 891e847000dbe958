// The control API's rules for configs and secrets (core/controlapi/objects.h): a create needs a
// name and keeps the labels; the store then holds Docker's size limits and unique names; a
// remove finds the object by id or name.
#include "core/controlapi/objects.h"

#include <gtest/gtest.h>

#include "tests/core/controlapi/controlapi_test_util.h"

namespace shoal::controlapi {
namespace {

storepb::Annotations named(const std::string& name) {
  storepb::Annotations a;
  a.set_name(name);
  return a;
}

class ControlApiObjectsTest : public ::testing::Test {
 protected:
  test::StoreHarness h;
};

TEST_F(ControlApiObjectsTest, AConfigIsStoredWithItsDataLabelsAndTheClocksTime) {
  storepb::Annotations spec = named("nginx.conf");
  (*spec.mutable_labels())["app"] = "web";
  auto created = create_config(spec, "worker_processes 1;", h.now(), h.crypto);
  ASSERT_TRUE(created.ok()) << created.status().message();
  ASSERT_TRUE(h.commit(created->tx).ok());
  const storepb::ConfigObject* c = h.store.find_config("nginx.conf");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->id(), created->id);
  EXPECT_EQ(created->id.size(), 25u);
  EXPECT_EQ(h.store.find_config(created->id), c);
  EXPECT_EQ(c->data(), "worker_processes 1;");
  EXPECT_EQ(c->spec().labels().at("app"), "web");
  EXPECT_EQ(c->created_at_ns(), h.now());
}

TEST_F(ControlApiObjectsTest, ANameIsRequired) {
  auto config = create_config(named(""), "x", h.now(), h.crypto);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(config.status().message(), "config name is required");
  auto secret = create_secret(named(""), "x", h.now(), h.crypto);
  ASSERT_FALSE(secret.ok());
  EXPECT_EQ(secret.status().message(), "secret name is required");
}

TEST_F(ControlApiObjectsTest, ATakenNameIsRefusedAndTheFirstObjectKeepsItsData) {
  auto first = create_secret(named("db-password"), "hunter2", h.now(), h.crypto);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(h.commit(first->tx).ok());
  auto second = create_secret(named("db-password"), "swordfish", h.now(), h.crypto);
  ASSERT_TRUE(second.ok());  // the store holds the names
  Status s = h.commit(second->tx);
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(s.message().find("secret with name 'db-password' already exists (id " + first->id + ")"),
            std::string::npos)
      << s.message();
  ASSERT_EQ(h.store.secrets().size(), 1u);
  EXPECT_EQ(h.store.find_secret("db-password")->data(), "hunter2");
  // A config may share a secret's name: they are different kinds.
  auto config = create_config(named("db-password"), "x", h.now(), h.crypto);
  ASSERT_TRUE(config.ok());
  EXPECT_TRUE(h.commit(config->tx).ok());
}

TEST_F(ControlApiObjectsTest, DockersSizeLimitsHold) {
  auto at_limit = create_config(named("big"), std::string(store::kMaxConfigBytes, 'a'), h.now(), h.crypto);
  ASSERT_TRUE(at_limit.ok());
  EXPECT_TRUE(h.commit(at_limit->tx).ok());

  auto config = create_config(named("bigger"), std::string(store::kMaxConfigBytes + 1, 'a'), h.now(), h.crypto);
  ASSERT_TRUE(config.ok());
  Status c = h.commit(config->tx);
  EXPECT_EQ(c.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.message().find("at most 1000 KiB"), std::string::npos) << c.message();
  EXPECT_EQ(h.store.find_config("bigger"), nullptr);

  auto secret = create_secret(named("key"), std::string(store::kMaxSecretBytes + 1, 's'), h.now(), h.crypto);
  ASSERT_TRUE(secret.ok());
  Status s = h.commit(secret->tx);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("at most 500 KiB"), std::string::npos) << s.message();
  EXPECT_TRUE(h.store.secrets().empty());
  EXPECT_EQ(h.store.configs().size(), 1u);

  auto secret_at_limit = create_secret(named("key"), std::string(store::kMaxSecretBytes, 's'), h.now(), h.crypto);
  ASSERT_TRUE(secret_at_limit.ok());
  EXPECT_TRUE(h.commit(secret_at_limit->tx).ok());
}

TEST_F(ControlApiObjectsTest, RemoveFindsByIdOrName) {
  auto a = create_config(named("a"), "1", h.now(), h.crypto);
  auto b = create_secret(named("b"), "2", h.now(), h.crypto);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(h.commit(a->tx).ok());
  ASSERT_TRUE(h.commit(b->tx).ok());

  auto rm_a = remove_config(h.store, "a");
  ASSERT_TRUE(rm_a.ok());
  ASSERT_TRUE(h.commit(*rm_a).ok());
  EXPECT_TRUE(h.store.configs().empty());
  auto rm_b = remove_secret(h.store, b->id);
  ASSERT_TRUE(rm_b.ok());
  ASSERT_TRUE(h.commit(*rm_b).ok());
  EXPECT_TRUE(h.store.secrets().empty());
}

TEST_F(ControlApiObjectsTest, RemovingWhatIsNotThereIsNotFound) {
  auto config = remove_config(h.store, "nope");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(config.status().message(), "config nope not found");
  auto secret = remove_secret(h.store, "nope");
  ASSERT_FALSE(secret.ok());
  EXPECT_EQ(secret.status().message(), "secret nope not found");
}

}  // namespace
}  // namespace shoal::controlapi
