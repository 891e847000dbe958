#include "io_real/api/router.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>

namespace shoal::real {
namespace {

// A handler that answers with the route's name and its parameters.
Handler named(std::string name) {
  return [name](const HttpRequest&, const PathParams& params, Responder respond) {
    nlohmann::json j{{"route", name}, {"params", params}};
    respond(json_response(200, j));
  };
}

struct Answer {
  std::optional<HttpResponse> response;
  int calls = 0;
  Responder responder() {
    return [this](HttpResponse r) {
      ++calls;
      response = std::move(r);
    };
  }
  nlohmann::json json() const { return nlohmann::json::parse(response->body); }
};

HttpRequest request(std::string method, std::string path) {
  HttpRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  return r;
}

Router swarm_like_router() {
  Router r;
  r.add("GET", "/nodes", named("node_list"));
  r.add("GET", "/nodes/{id}", named("node_inspect"));
  r.add("DELETE", "/nodes/{id}", named("node_remove"));
  r.add("POST", "/nodes/{id}/update", named("node_update"));
  r.add("GET", "/configs/{id}", named("config_inspect"));
  r.add("POST", "/configs/create", named("config_create"));
  r.add("GET", "/", named("root"));
  return r;
}

TEST(Router, MatchesLiteralsAndParameters) {
  const Router r = swarm_like_router();
  Answer a;
  r.dispatch(request("GET", "/nodes/abc123"), a.responder());
  ASSERT_EQ(a.calls, 1);
  EXPECT_EQ(a.json()["route"], "node_inspect");
  EXPECT_EQ(a.json()["params"]["id"], "abc123");

  Answer u;
  r.dispatch(request("POST", "/nodes/n1/update"), u.responder());
  EXPECT_EQ(u.json()["route"], "node_update");
  EXPECT_EQ(u.json()["params"]["id"], "n1");

  Answer root;
  r.dispatch(request("GET", "/"), root.responder());
  EXPECT_EQ(root.json()["route"], "root");
}

TEST(Router, PrefersTheMoreLiteralPatternThenFallsBackByMethod) {
  const Router r = swarm_like_router();
  Answer create;
  r.dispatch(request("POST", "/configs/create"), create.responder());
  EXPECT_EQ(create.json()["route"], "config_create");
  // GET /configs/create is an inspect of a config named "create", as in dockerd.
  Answer inspect;
  r.dispatch(request("GET", "/configs/create"), inspect.responder());
  EXPECT_EQ(inspect.json()["route"], "config_inspect");
  EXPECT_EQ(inspect.json()["params"]["id"], "create");
}

TEST(Router, UnknownPathIs404PageNotFound) {
  const Router r = swarm_like_router();
  for (const char* path : {"/services", "/nodes/a/b/c", "/nodes/", "/nodes//update", "", "nodes"}) {
    Answer a;
    r.dispatch(request("GET", path), a.responder());
    ASSERT_EQ(a.calls, 1) << path;
    EXPECT_EQ(a.response->status, 404) << path;
    EXPECT_EQ(a.json(), (nlohmann::json{{"message", "page not found"}})) << path;
  }
}

TEST(Router, KnownPathWrongMethodIs405NamingTheAllowedMethods) {
  const Router r = swarm_like_router();
  Answer a;
  r.dispatch(request("PUT", "/nodes/abc"), a.responder());
  EXPECT_EQ(a.response->status, 405);
  const std::string msg = a.json()["message"];
  EXPECT_NE(msg.find("GET"), std::string::npos) << msg;
  EXPECT_NE(msg.find("DELETE"), std::string::npos) << msg;
  Answer b;
  r.dispatch(request("get", "/nodes"), b.responder());
  EXPECT_EQ(b.response->status, 405) << "methods are case-sensitive, as in HTTP";
}

TEST(Router, HandlerMayAnswerLater) {
  Router r;
  Responder saved;
  r.add("POST", "/swarm/update", [&](const HttpRequest&, const PathParams&, Responder respond) {
    saved = std::move(respond);  // e.g. after a Raft commit
  });
  Answer a;
  r.dispatch(request("POST", "/swarm/update"), a.responder());
  EXPECT_EQ(a.calls, 0);
  saved(empty_response(200));
  EXPECT_EQ(a.calls, 1);
  EXPECT_EQ(a.response->status, 200);
}

TEST(Router, AThrowingHandlerIsAnsweredOnce) {
  Router r;
  r.add("POST", "/json", [](const HttpRequest& req, const PathParams&, Responder) {
    const auto j = nlohmann::json::parse(req.body);  // throws on a bad body
    (void)j;
  });
  r.add("GET", "/boom", [](const HttpRequest&, const PathParams&, Responder) {
    throw std::runtime_error("boom");
  });
  r.add("GET", "/late-boom", [](const HttpRequest&, const PathParams&, Responder respond) {
    respond(empty_response(204));
    throw std::runtime_error("after answering");
  });
  HttpRequest bad_json = request("POST", "/json");
  bad_json.body = "{not json";
  Answer a;
  r.dispatch(bad_json, a.responder());
  EXPECT_EQ(a.response->status, 400);
  EXPECT_NE(a.json()["message"].get<std::string>().find("bad JSON"), std::string::npos);
  Answer b;
  r.dispatch(request("GET", "/boom"), b.responder());
  EXPECT_EQ(b.response->status, 500);
  Answer c;
  r.dispatch(request("GET", "/late-boom"), c.responder());
  EXPECT_EQ(c.calls, 1);
  EXPECT_EQ(c.response->status, 204);
}

TEST(RouterDeathTest, MalformedOrDuplicatePatternsAreProgrammerErrors) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH({ Router r; r.add("GET", "nodes", named("x")); }, "must start with");
  EXPECT_DEATH({ Router r; r.add("GET", "/nodes/{}", named("x")); }, "bad parameter");
  EXPECT_DEATH({ Router r; r.add("GET", "/nodes/x{id}", named("x")); }, "whole segment");
  EXPECT_DEATH(
      {
        Router r;
        r.add("GET", "/nodes", named("x"));
        r.add("GET", "/nodes", named("y"));
      },
      "added twice");
}

}  // namespace
}  // namespace shoal::real
