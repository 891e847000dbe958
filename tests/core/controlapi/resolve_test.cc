// Finding an object as Docker's API does (core/controlapi/resolve.h): an exact id or name
// first, else a unique id prefix; an ambiguous prefix and a miss are refused in Docker's words.
#include "core/controlapi/resolve.h"

#include <gtest/gtest.h>

#include "tests/core/controlapi/controlapi_test_util.h"

namespace shoal::controlapi {
namespace {

class ControlApiResolveTest : public ::testing::Test {
 protected:
  ControlApiResolveTest() {
    h.put_service("abc111", "web");
    h.put_service("abc222", "api");
    h.put_service("xyz999", "abc");  // a name that is also a prefix of two ids
  }
  test::StoreHarness h;
};

TEST_F(ControlApiResolveTest, AServiceIsFoundByExactIdNameOrUniquePrefix) {
  auto by_id = resolve_service(h.store, "abc111");
  ASSERT_TRUE(by_id.ok());
  EXPECT_EQ((*by_id)->id(), "abc111");
  auto by_name = resolve_service(h.store, "api");
  ASSERT_TRUE(by_name.ok());
  EXPECT_EQ((*by_name)->id(), "abc222");
  auto by_prefix = resolve_service(h.store, "abc2");
  ASSERT_TRUE(by_prefix.ok());
  EXPECT_EQ((*by_prefix)->id(), "abc222");
  auto short_prefix = resolve_service(h.store, "x");
  ASSERT_TRUE(short_prefix.ok());
  EXPECT_EQ((*short_prefix)->id(), "xyz999");
}

TEST_F(ControlApiResolveTest, AnAmbiguousPrefixIsRefusedWithTheNumberOfMatches) {
  auto r = resolve_service(h.store, "abc1");  // unique
  ASSERT_TRUE(r.ok());
  h.put_service("abc123", "db");
  auto ambiguous = resolve_service(h.store, "abc1");
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_EQ(ambiguous.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ambiguous.status().message(), "service abc1 is ambiguous (2 matches found)");
}

// The empty string prefixes every id: it is refused, not taken for the one service there is.
TEST(ControlApiResolve, AnEmptyReferenceNamesNothingEvenWithOneObject) {
  test::StoreHarness h;
  h.put_service("abc111", "web");
  auto r = resolve_service(h.store, "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "service name or id is empty");
  EXPECT_FALSE(resolve_node(h.store, "").ok());
  EXPECT_FALSE(resolve_task(h.store, "").ok());
}

// "abc" prefixes two ids, but it is a service's name: the exact match wins.
TEST_F(ControlApiResolveTest, AnExactNameWinsOverAPrefixOfOtherIds) {
  auto r = resolve_service(h.store, "abc");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)->id(), "xyz999");
}

TEST_F(ControlApiResolveTest, AnExactIdWinsOverLongerIdsItPrefixes) {
  h.put_service("abc", "short");
  auto r = resolve_service(h.store, "abc");  // now both an id and another service's name
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->id(), "abc");
}

TEST_F(ControlApiResolveTest, AMissIsNotFoundInDockersWords) {
  auto r = resolve_service(h.store, "nope");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(), "service nope not found");
  // A name is matched whole, never by its prefix.
  auto name_prefix = resolve_service(h.store, "we");
  ASSERT_FALSE(name_prefix.ok());
  EXPECT_EQ(name_prefix.status().code(), StatusCode::kNotFound);
}

TEST_F(ControlApiResolveTest, TasksAreFoundByIdOrUniquePrefix) {
  for (const char* id : {"task-aa1", "task-aa2", "task-bb1"}) {
    h.put(storepb::StoreAction::CREATE, [&](storepb::StoreAction& a) {
      a.mutable_task()->set_id(id);
      a.mutable_task()->set_service_id("abc111");
    });
  }
  auto exact = resolve_task(h.store, "task-aa1");
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ((*exact)->id(), "task-aa1");
  auto prefix = resolve_task(h.store, "task-b");
  ASSERT_TRUE(prefix.ok());
  EXPECT_EQ((*prefix)->id(), "task-bb1");
  auto ambiguous = resolve_task(h.store, "task-aa");
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_EQ(ambiguous.status().message(), "task task-aa is ambiguous (2 matches found)");
  auto missing = resolve_task(h.store, "task-cc");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "task task-cc not found");
}

TEST_F(ControlApiResolveTest, NodesAreFoundByIdHostnameNameOrUniquePrefix) {
  h.put_node("00000000000000a1", "host-a", storepb::MANAGER);
  h.put_node("00000000000000b2", "host-b", storepb::WORKER);
  h.put(storepb::StoreAction::UPDATE, [&](storepb::StoreAction& a) {
    *a.mutable_node() = *h.store.find_node("00000000000000b2");
    a.mutable_node()->mutable_spec()->mutable_annotations()->set_name("builder");
  });
  auto by_host = resolve_node(h.store, "host-a");
  ASSERT_TRUE(by_host.ok());
  EXPECT_EQ((*by_host)->id(), "00000000000000a1");
  auto by_name = resolve_node(h.store, "builder");
  ASSERT_TRUE(by_name.ok());
  EXPECT_EQ((*by_name)->id(), "00000000000000b2");
  auto by_prefix = resolve_node(h.store, "00000000000000b");
  ASSERT_TRUE(by_prefix.ok());
  EXPECT_EQ((*by_prefix)->hostname(), "host-b");
  auto ambiguous = resolve_node(h.store, "0000");
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_EQ(ambiguous.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ambiguous.status().message(), "node 0000 is ambiguous (2 matches found)");
  auto missing = resolve_node(h.store, "host-c");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "node host-c not found");
}

}  // namespace
}  // namespace shoal::controlapi
