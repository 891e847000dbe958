#include "io_real/api/http_types.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace shoal::real {
namespace {

TEST(ParseTarget, SplitsPathAndQuery) {
  auto t = parse_target("/nodes/abc/update?version=7&force=true");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->first, "/nodes/abc/update");
  EXPECT_EQ(t->second.size(), 2u);
  EXPECT_EQ(t->second.at("version"), "7");
  EXPECT_EQ(t->second.at("force"), "true");
}

TEST(ParseTarget, StripsADockerVersionPrefixLikeDockerd) {
  for (const char* target : {"/v1.41/nodes", "/v1.24/nodes", "/v2/nodes", "/v1.41.0/nodes"}) {
    auto t = parse_target(target);
    ASSERT_TRUE(t.ok()) << target;
    EXPECT_EQ(t->first, "/nodes") << target;
  }
  auto root = parse_target("/v1.41");
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->first, "/");
  // Not version segments: /version is a route of its own, /v/ and /vx.1/ are ordinary paths.
  EXPECT_EQ(parse_target("/version")->first, "/version");
  EXPECT_EQ(parse_target("/v1.41/version")->first, "/version");
  EXPECT_EQ(parse_target("/v/nodes")->first, "/v/nodes");
  EXPECT_EQ(parse_target("/vx.1/nodes")->first, "/vx.1/nodes");
  EXPECT_EQ(parse_target("/v1x/nodes")->first, "/v1x/nodes");
  // Only the first segment is a version prefix.
  EXPECT_EQ(parse_target("/nodes/v1.41")->first, "/nodes/v1.41");
}

TEST(ParseTarget, PercentDecodesPathAndQuery) {
  auto t = parse_target("/configs/my%20config?filters=%7B%22name%22%3A%5B%22a%22%5D%7D&label=a+b&x=%2B");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->first, "/configs/my config");
  EXPECT_EQ(t->second.at("filters"), R"({"name":["a"]})");
  EXPECT_EQ(t->second.at("label"), "a b") << "'+' is a space in a query";
  EXPECT_EQ(t->second.at("x"), "+");
  EXPECT_EQ(parse_target("/a+b")->first, "/a+b") << "'+' is itself in a path";
}

TEST(ParseTarget, QueryEdgeCases) {
  auto t = parse_target("/nodes?force&&version=1&version=2&=v&empty=");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->second.at("force"), "");
  EXPECT_EQ(t->second.at("version"), "1") << "the first value wins, as Go's Values.Get";
  EXPECT_EQ(t->second.at(""), "v");
  EXPECT_EQ(t->second.at("empty"), "");
  auto no_query = parse_target("/nodes?");
  ASSERT_TRUE(no_query.ok());
  EXPECT_TRUE(no_query->second.empty());
  EXPECT_EQ(parse_target("/a?b=c?d")->second.at("b"), "c?d");
}

TEST(ParseTarget, RefusesBadTargetsWithClearErrors) {
  auto empty = parse_target("");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);

  auto absolute = parse_target("http://localhost/nodes");
  ASSERT_FALSE(absolute.ok());
  EXPECT_NE(absolute.status().message().find("must start with '/'"), std::string::npos);

  for (const char* bad : {"/nodes%", "/nodes%4", "/nodes%zz", "/nodes?x=%g0", "/nodes?%=1"}) {
    auto t = parse_target(bad);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_NE(t.status().message().find("percent-encoding"), std::string::npos) << t.status().message();
  }
  auto nul = parse_target("/nodes%00x");
  ASSERT_FALSE(nul.ok());
  EXPECT_NE(nul.status().message().find("control character"), std::string::npos);
  EXPECT_NE(nul.status().message().find("\\x00"), std::string::npos) << "shown escaped, not raw";
  EXPECT_FALSE(parse_target("/a%0Ab").ok());
}

TEST(PercentEncoding, RoundTrips) {
  const std::string raw = "a b/c?d=e&f%g+h~_.-\xff";
  const std::string enc = percent_encode(raw);
  EXPECT_EQ(enc.find_first_of(" /?=&%+\xff") == std::string::npos || enc.find('%') != std::string::npos, true);
  EXPECT_EQ(enc.find(' '), std::string::npos);
  EXPECT_EQ(enc.find('/'), std::string::npos);
  auto back = percent_decode(enc, /*plus_is_space=*/true);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, raw);
}

TEST(Responses, ErrorsHaveDockersShape) {
  const HttpResponse r = error_response(404, "node x not found");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(nlohmann::json::parse(r.body), (nlohmann::json{{"message", "node x not found"}}));
  const HttpResponse j = json_response(201, nlohmann::json{{"ID", "abc"}});
  EXPECT_EQ(j.status, 201);
  EXPECT_EQ(nlohmann::json::parse(j.body).at("ID"), "abc");
  // Invalid UTF-8 from a handler is replaced, never thrown.
  const HttpResponse bad = error_response(500, "bad \xff byte");
  EXPECT_TRUE(nlohmann::json::accept(bad.body));
  EXPECT_TRUE(empty_response(204).body.empty());
}

}  // namespace
}  // namespace shoal::real
