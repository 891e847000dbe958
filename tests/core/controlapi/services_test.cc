// The control API's rules for services (core/controlapi/services.h): what create, update,
// rollback and remove make of a request against the store as it is, and the precise error that
// refuses one. Every transaction is committed to a real Store to see what it does there.
#include "core/controlapi/services.h"

#include <gtest/gtest.h>

#include "core/controlapi/resolve.h"
#include "core/controlapi/service_spec.h"
#include "tests/core/controlapi/controlapi_test_util.h"

namespace shoal::controlapi {
namespace {

using test::service_spec;
using test::same;
using std::chrono::seconds;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class ControlApiServicesTest : public ::testing::Test {
 protected:
  // Creates and commits a service; its id.
  std::string create(const storepb::ServiceSpec& spec) {
    auto created = create_service(h.store, spec, h.now(), h.crypto);
    EXPECT_TRUE(created.ok()) << created.status().message();
    if (!created.ok()) return "";
    Status s = h.commit(created->tx);
    EXPECT_TRUE(s.ok()) << s.message();
    return created->id;
  }
  // Updates and commits; the refusal if there is one.
  Status update(std::string_view ref, const storepb::ServiceSpec& spec) {
    auto svc = resolve_service(h.store, ref);
    auto tx = update_service(h.store, ref, svc.ok() ? (*svc)->version() : 0, spec, h.now());
    if (!tx.ok()) return tx.status();
    return h.commit(*tx);
  }
  const storepb::ServiceObject& service(const std::string& ref) {
    const storepb::ServiceObject* svc = h.store.find_service(ref);
    EXPECT_NE(svc, nullptr) << ref;
    static const storepb::ServiceObject kNone;
    return svc ? *svc : kNone;
  }

  test::StoreHarness h;
};

TEST_F(ControlApiServicesTest, CreateStoresTheSpecAtSpecVersionOneWithTheClocksTime) {
  const std::string id = create(service_spec("web", {"/bin/sleep", "60"}, 3));
  const storepb::ServiceObject& svc = service("web");
  EXPECT_EQ(svc.id(), id);
  EXPECT_EQ(id.size(), 25u);  // Docker's 25 base36 digits
  EXPECT_EQ(h.store.find_service(id), &svc);
  EXPECT_EQ(svc.spec_version(), 1u);
  EXPECT_EQ(svc.spec().replicated().replicas(), 3u);
  EXPECT_EQ(svc.created_at_ns(), h.now());
  EXPECT_FALSE(svc.has_previous_spec());
  EXPECT_EQ(svc.update_status().state(), storepb::UpdateStatus::NONE);
}

TEST_F(ControlApiServicesTest, ASpecWithoutANameGetsADockerStyleName) {
  auto created = create_service(h.store, service_spec(""), h.now(), h.crypto);
  ASSERT_TRUE(created.ok()) << created.status().message();
  const std::string& name = created->tx.actions(0).service().spec().annotations().name();
  EXPECT_TRUE(valid_service_name(name)) << name;
  EXPECT_NE(name.find('_'), std::string::npos) << name;  // adjective_scientist
  ASSERT_TRUE(h.commit(created->tx).ok());
  EXPECT_EQ(service(name).id(), created->id);
}

TEST_F(ControlApiServicesTest, CreatingATakenNameIsRefusedAndChangesNothing) {
  const std::string id = create(service_spec("web"));
  const std::string before = h.state();
  auto again = create_service(h.store, service_spec("web", {"/bin/true"}), h.now(), h.crypto);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(contains(again.status().message(), "name conflicts with an existing object")) << again.status().message();
  EXPECT_TRUE(contains(again.status().message(), "service web exists (" + id + ")")) << again.status().message();
  EXPECT_EQ(h.state(), before);
}

TEST_F(ControlApiServicesTest, CreatingAnInvalidSpecIsRefusedWithTheValidatorsError) {
  auto created = create_service(h.store, service_spec("web", {}), h.now(), h.crypto);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(created.status().message(), "a command must be provided")) << created.status().message();
  EXPECT_TRUE(h.store.services().empty());
}

TEST_F(ControlApiServicesTest, AnUpdateMadeAgainstAStaleVersionIsRefusedAndChangesNothing) {
  create(service_spec("web", {"/bin/sleep", "60"}));
  const uint64_t read_at = service("web").version();
  ASSERT_TRUE(update("web", service_spec("web", {"/bin/sleep", "61"})).ok());  // someone else's update
  const uint64_t now_at = service("web").version();
  ASSERT_GT(now_at, read_at);
  const std::string before = h.state();

  auto stale = update_service(h.store, "web", read_at, service_spec("web", {"/bin/sleep", "62"}), h.now());
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.status().code(), StatusCode::kFailedPrecondition);
  const std::string m = stale.status().message();
  EXPECT_TRUE(contains(m, "update out of sequence")) << m;
  EXPECT_TRUE(contains(m, "service web is at version " + std::to_string(now_at))) << m;
  EXPECT_TRUE(contains(m, "made against " + std::to_string(read_at))) << m;
  EXPECT_TRUE(contains(m, "read it again and retry")) << m;
  EXPECT_EQ(h.state(), before);
}

TEST_F(ControlApiServicesTest, ChangingTheTaskRaisesSpecVersionKeepsThePreviousSpecAndStartsAnUpdate) {
  const storepb::ServiceSpec first = service_spec("web", {"/bin/sleep", "60"});
  create(first);
  const int64_t created_at = service("web").created_at_ns();
  h.advance(seconds(5));
  const storepb::ServiceSpec second = service_spec("web", {"/bin/sleep", "120"});
  ASSERT_TRUE(update("web", second).ok());

  const storepb::ServiceObject& svc = service("web");
  EXPECT_EQ(svc.spec_version(), 2u);
  EXPECT_TRUE(same(svc.spec(), second));
  EXPECT_TRUE(same(svc.previous_spec(), first));
  EXPECT_EQ(svc.update_status().state(), storepb::UpdateStatus::UPDATING);
  EXPECT_EQ(svc.update_status().started_at_ns(), h.now());
  EXPECT_EQ(svc.update_status().message(), "update in progress");
  EXPECT_EQ(svc.created_at_ns(), created_at);
  EXPECT_EQ(svc.updated_at_ns(), h.now());
}

// Scaling changes no task: nothing to roll out, so no new spec version and no update, but the
// spec before it is still kept for a rollback.
TEST_F(ControlApiServicesTest, ScalingKeepsSpecVersionAndStartsNoUpdate) {
  const storepb::ServiceSpec first = service_spec("web", {"/bin/sleep", "60"}, 1);
  create(first);
  ASSERT_TRUE(update("web", service_spec("web", {"/bin/sleep", "60"}, 5)).ok());
  const storepb::ServiceObject& svc = service("web");
  EXPECT_EQ(svc.spec().replicated().replicas(), 5u);
  EXPECT_EQ(svc.spec_version(), 1u);
  EXPECT_EQ(svc.update_status().state(), storepb::UpdateStatus::NONE);
  EXPECT_TRUE(same(svc.previous_spec(), first));
}

TEST_F(ControlApiServicesTest, ANewTaskSpecRestartsAPausedUpdateFromScratch) {
  create(service_spec("web", {"/bin/sleep", "60"}));
  ASSERT_TRUE(update("web", service_spec("web", {"/bin/sleep", "61"})).ok());
  // The updater paused it after a failure.
  storepb::ServiceObject paused = service("web");
  paused.mutable_update_status()->set_state(storepb::UpdateStatus::PAUSED);
  paused.mutable_update_status()->add_failed_tasks("t1");
  h.put(storepb::StoreAction::UPDATE, [&](storepb::StoreAction& a) { *a.mutable_service() = paused; });
  h.advance(seconds(1));

  ASSERT_TRUE(update("web", service_spec("web", {"/bin/sleep", "62"})).ok());
  const storepb::UpdateStatus& u = service("web").update_status();
  EXPECT_EQ(u.state(), storepb::UpdateStatus::UPDATING);
  EXPECT_EQ(u.failed_tasks_size(), 0);
  EXPECT_EQ(u.started_at_ns(), h.now());
  EXPECT_EQ(service("web").spec_version(), 3u);
}

TEST_F(ControlApiServicesTest, AnUpdateCannotRenameNorChangeTheModeNorBreakTheSpec) {
  create(service_spec("web"));
  const std::string before = h.state();
  const uint64_t v = service("web").version();

  auto renamed = update_service(h.store, "web", v, service_spec("api"), h.now());
  ASSERT_FALSE(renamed.ok());
  EXPECT_EQ(renamed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(renamed.status().message(), "renaming services is not supported");

  storepb::ServiceSpec global = service_spec("web");
  global.mutable_global();
  auto mode = update_service(h.store, "web", v, global, h.now());
  ASSERT_FALSE(mode.ok());
  EXPECT_EQ(mode.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(mode.status().message(), "service mode change is not allowed");

  storepb::ServiceSpec bad = service_spec("web");
  bad.mutable_replicated()->set_replicas(kMaxReplicas + 1);
  auto invalid = update_service(h.store, "web", v, bad, h.now());
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(invalid.status().message(), "Replicas")) << invalid.status().message();

  EXPECT_EQ(h.state(), before);
}

TEST_F(ControlApiServicesTest, UpdatingAServiceThatIsNotThereIsNotFound) {
  auto tx = update_service(h.store, "ghost", 1, service_spec("ghost"), h.now());
  ASSERT_FALSE(tx.ok());
  EXPECT_EQ(tx.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(tx.status().message(), "service ghost not found");
}

TEST_F(ControlApiServicesTest, AnUpdateFindsTheServiceByAUniqueIdPrefix) {
  const std::string id = create(service_spec("web", {"/bin/sleep", "60"}));
  ASSERT_TRUE(update(id.substr(0, 6), service_spec("web", {"/bin/sleep", "61"})).ok());
  EXPECT_EQ(service("web").spec().task().container().command(1), "61");
}

TEST_F(ControlApiServicesTest, RollbackBringsThePreviousSpecBackAndStartsARollback) {
  const storepb::ServiceSpec first = service_spec("web", {"/bin/sleep", "60"});
  const storepb::ServiceSpec second = service_spec("web", {"/bin/sleep", "120"});
  create(first);
  ASSERT_TRUE(update("web", second).ok());
  h.advance(seconds(30));

  auto tx = rollback_service(h.store, "web", service("web").version(), h.now());
  ASSERT_TRUE(tx.ok()) << tx.status().message();
  ASSERT_TRUE(h.commit(*tx).ok());
  const storepb::ServiceObject& svc = service("web");
  EXPECT_TRUE(same(svc.spec(), first));
  EXPECT_TRUE(same(svc.previous_spec(), second));
  EXPECT_EQ(svc.spec_version(), 3u);
  EXPECT_EQ(svc.update_status().state(), storepb::UpdateStatus::ROLLBACK_STARTED);
  EXPECT_EQ(svc.update_status().message(), "manually requested rollback");
  EXPECT_EQ(svc.update_status().started_at_ns(), h.now());

  // Rolling back a rollback goes forward again.
  auto again = rollback_service(h.store, "web", svc.version(), h.now());
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(h.commit(*again).ok());
  EXPECT_TRUE(same(service("web").spec(), second));
  EXPECT_EQ(service("web").spec_version(), 4u);
}

TEST_F(ControlApiServicesTest, RollbackWithoutAPreviousSpecIsRefusedAndChangesNothing) {
  create(service_spec("web"));
  const std::string before = h.state();
  auto tx = rollback_service(h.store, "web", service("web").version(), h.now());
  ASSERT_FALSE(tx.ok());
  EXPECT_EQ(tx.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(tx.status().message(), "service web does not have a previous spec");
  EXPECT_EQ(h.state(), before);
}

TEST_F(ControlApiServicesTest, RollbackAgainstAStaleVersionIsRefused) {
  create(service_spec("web", {"/bin/sleep", "60"}));
  const uint64_t read_at = service("web").version();
  ASSERT_TRUE(update("web", service_spec("web", {"/bin/sleep", "61"})).ok());
  const std::string before = h.state();
  auto tx = rollback_service(h.store, "web", read_at, h.now());
  ASSERT_FALSE(tx.ok());
  EXPECT_EQ(tx.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(contains(tx.status().message(), "update out of sequence")) << tx.status().message();
  EXPECT_EQ(h.state(), before);
}

TEST_F(ControlApiServicesTest, RemoveTakesTheServiceOutByNameOrId) {
  create(service_spec("web"));
  const std::string api = create(service_spec("api"));
  auto by_name = remove_service(h.store, "web");
  ASSERT_TRUE(by_name.ok());
  ASSERT_TRUE(h.commit(*by_name).ok());
  EXPECT_EQ(h.store.find_service("web"), nullptr);
  auto by_id = remove_service(h.store, api);
  ASSERT_TRUE(by_id.ok());
  ASSERT_TRUE(h.commit(*by_id).ok());
  EXPECT_TRUE(h.store.services().empty());

  auto gone = remove_service(h.store, "web");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(gone.status().message(), "service web not found");
}

// Two removals made from the same read: the second finds nothing left to remove.
TEST_F(ControlApiServicesTest, ARemovalCommittedAfterAnotherIsRefusedByTheStore) {
  create(service_spec("web"));
  auto first = remove_service(h.store, "web");
  auto second = remove_service(h.store, "web");
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_TRUE(h.commit(*first).ok());
  Status s = h.commit(*second);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
}

// A name freed by a removal can be taken again, by a new service with a new id.
TEST_F(ControlApiServicesTest, ARemovedServicesNameCanBeReused) {
  const std::string old_id = create(service_spec("web"));
  auto rm = remove_service(h.store, "web");
  ASSERT_TRUE(rm.ok());
  ASSERT_TRUE(h.commit(*rm).ok());
  const std::string new_id = create(service_spec("web"));
  EXPECT_NE(new_id, old_id);
  EXPECT_EQ(service("web").id(), new_id);
}

}  // namespace
}  // namespace shoal::controlapi
