// The client API's service, task and node routes against a real Store: the router dispatches
// requests to add_api_routes' handlers, whose writes go through a fake commit that applies the
// transaction to the store at the next index (as Raft would, without Raft), so each test checks
// both the HTTP answer and what was stored. No orchestrator runs: tests put tasks in themselves.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <tuple>

#include <nlohmann/json.hpp>

#include "core/ca/node_identity.h"
#include "io_real/api/router.h"
#include "io_real/daemon/api_routes.h"
#include "io_real/env/real_env.h"

namespace shoal::real {
namespace {

using nlohmann::json;

// Deterministic "random" bytes: ids and generated names repeat from run to run.
class CountingCrypto : public Crypto {
 public:
  void random_bytes(uint8_t* out, size_t n) override {
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(next_++ * 37 + 11);
  }
  Sha256Digest sha256(std::string_view) override { return {}; }
  std::string seal(const AeadKey&, std::string_view plaintext, std::string_view) override {
    return std::string(plaintext);
  }
  Result<std::string> unseal(const AeadKey&, std::string_view sealed, std::string_view) override {
    return std::string(sealed);
  }

 private:
  uint32_t next_ = 0;
};

struct Answer {
  int status = 0;
  json body;
};

class ServiceRoutesTest : public ::testing::Test {
 protected:
  ServiceRoutesTest() {
    ctx_.crypto = &crypto_;
    ctx_.clock = &clock_;
    ctx_.store = &store_;
    ctx_.submit = [this](storepb::Transaction tx, manager::Manager::Done done) {
      ++submits_;
      commit(std::move(tx));
      const uint64_t index = store_.last_index();
      done(store_.take_result(index), index);
    };
    add_api_routes(router_, ctx_);
    storepb::Transaction tx;
    auto* a = tx.add_actions();
    a->set_kind(storepb::StoreAction::CREATE);
    a->mutable_cluster()->set_id("cluster1");
    for (const auto& [id, host, zone] : {std::tuple{kNodeA, "alpha", "east"}, std::tuple{kNodeB, "beta", "west"}}) {
      auto* n = tx.add_actions();
      n->set_kind(storepb::StoreAction::CREATE);
      auto* node = n->mutable_node();
      node->set_id(id);
      node->set_hostname(host);
      node->set_role(storepb::WORKER);
      node->set_state(storepb::NodeObject::READY);
      node->mutable_spec()->set_desired_role(storepb::WORKER);
      node->mutable_spec()->set_availability(storepb::NodeSpec::ACTIVE);
      (*node->mutable_spec()->mutable_annotations()->mutable_labels())["zone"] = zone;
    }
    commit(std::move(tx));
    EXPECT_TRUE(store_.take_result(store_.last_index()).ok());
  }

  // Applies a transaction at the next raft index, as a commit would.
  void commit(storepb::Transaction tx) {
    tx.set_now_ns(now_ns_);
    raft::raftpb::Entry e;
    e.set_index(store_.last_index() + 1);
    e.set_term(1);
    e.set_data(tx.SerializeAsString());
    store_.apply(e);
  }

  Answer call(const std::string& method, const std::string& target, const std::optional<json>& body = std::nullopt) {
    auto parsed = real::parse_target(target);
    EXPECT_TRUE(parsed.ok()) << target;
    real::HttpRequest req{method, parsed->first, parsed->second, body ? body->dump() : std::string()};
    Answer a;
    bool answered = false;
    router_.dispatch(std::move(req), [&](real::HttpResponse r) {
      answered = true;
      a.status = r.status;
      a.body = r.body.empty() ? json() : json::parse(r.body);
    });
    EXPECT_TRUE(answered) << "the fake commit answers at once";
    return a;
  }

  static std::string message(const Answer& a) { return a.body.is_object() ? a.body.value("message", "") : ""; }

  static json spec(const std::string& name, uint64_t replicas = 2) {
    json s{{"TaskTemplate", {{"ContainerSpec", {{"Command", {"sleep", "100"}}}}}},
           {"Mode", {{"Replicated", {{"Replicas", replicas}}}}}};
    if (!name.empty()) s["Name"] = name;
    return s;
  }

  std::string create(const std::string& name, uint64_t replicas = 2) {
    const Answer a = call("POST", "/services/create", spec(name, replicas));
    EXPECT_EQ(a.status, 201) << a.body.dump();
    return a.body.value("ID", "");
  }

  // A task of `service` in `slot` on `node`, in `state`, as the orchestrator and agents would
  // leave it.
  std::string add_task(const std::string& service, uint64_t slot, const std::string& node, storepb::TaskState state,
                       storepb::TaskState desired = storepb::RUNNING, const std::string& err = "") {
    const std::string id = "task" + std::to_string(++tasks_made_) + "xxxxxxxxxxxxxxxxxxxx";
    storepb::Transaction tx;
    auto* a = tx.add_actions();
    a->set_kind(storepb::StoreAction::CREATE);
    auto* t = a->mutable_task();
    t->set_id(id);
    t->set_service_id(service);
    t->set_service_name(store_.find_service(service)->spec().annotations().name());
    t->set_slot(slot);
    t->set_node_id(node);
    t->set_desired_state(desired);
    t->mutable_status()->set_state(state);
    t->mutable_status()->set_err(err);
    *t->mutable_spec() = store_.find_service(service)->spec().task();
    t->set_spec_version(store_.find_service(service)->spec_version());
    commit(std::move(tx));
    EXPECT_TRUE(store_.take_result(store_.last_index()).ok());
    return id;
  }

  static std::vector<std::string> ids(const json& list) {
    std::vector<std::string> out;
    for (const auto& o : list) out.push_back(o["ID"].get<std::string>());
    return out;
  }

  static constexpr const char* kNodeA = "000000000000000a";
  static constexpr const char* kNodeB = "000000000000000b";
  CountingCrypto crypto_;
  real::SystemClock clock_;
  store::Store store_;
  ApiContext ctx_;
  real::Router router_;
  int64_t now_ns_ = 1'700'000'000'000'000'000;
  int submits_ = 0;
  int tasks_made_ = 0;
};

TEST_F(ServiceRoutesTest, CreateStoresTheSpecWithDefaultsAndAnId) {
  const Answer a = call("POST", "/services/create",
                        json{{"Name", "web"}, {"TaskTemplate", {{"ContainerSpec", {{"Command", {"sleep", "9"}}}}}}});
  ASSERT_EQ(a.status, 201) << a.body.dump();
  const std::string id = a.body["ID"].get<std::string>();
  EXPECT_EQ(id.size(), 25u);
  const auto* svc = store_.find_service("web");
  ASSERT_NE(svc, nullptr);
  EXPECT_EQ(svc->id(), id);
  EXPECT_EQ(svc->spec_version(), 1u);
  EXPECT_EQ(svc->spec().replicated().replicas(), 1u) << "Docker's default mode";
  EXPECT_EQ(svc->spec().task().restart().delay_ns(), 5'000'000'000);
  EXPECT_FALSE(svc->has_previous_spec());

  const Answer got = call("GET", "/services/" + id);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.body["ID"], id);
  EXPECT_EQ(got.body["Version"]["Index"], svc->version());
  EXPECT_EQ(got.body["CreatedAt"], "2023-11-14T22:13:20.000000000Z");
  EXPECT_EQ(got.body["Spec"]["Name"], "web");
  EXPECT_EQ(got.body["Spec"]["TaskTemplate"]["ContainerSpec"]["Command"], json::array({"sleep", "9"}));
  EXPECT_EQ(got.body["Spec"]["TaskTemplate"]["RestartPolicy"]["Condition"], "any");
  EXPECT_EQ(got.body["Spec"]["Mode"]["Replicated"]["Replicas"], 1);
  EXPECT_FALSE(got.body.contains("PreviousSpec"));
  EXPECT_FALSE(got.body.contains("ServiceStatus"));
}

TEST_F(ServiceRoutesTest, ServicesAreFoundByIdNameOrUniquePrefix) {
  const std::string web = create("web");
  const std::string api = create("api");
  ASSERT_NE(web.substr(0, 3), api.substr(0, 3)) << "the fake ids differ early";
  EXPECT_EQ(call("GET", "/services/web").body["ID"], web);
  EXPECT_EQ(call("GET", "/services/" + web.substr(0, 5)).body["ID"], web);
  EXPECT_EQ(call("GET", "/services/" + api).body["Spec"]["Name"], "api");

  const Answer missing = call("GET", "/services/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(message(missing), "service nope not found");

  // Two ids sharing a prefix: ambiguous.
  storepb::Transaction tx;
  auto* a = tx.add_actions();
  a->set_kind(storepb::StoreAction::CREATE);
  a->mutable_service()->set_id(web.substr(0, 5) + "zzzz");
  a->mutable_service()->mutable_spec()->mutable_annotations()->set_name("web2");
  a->mutable_service()->mutable_spec()->mutable_replicated()->set_replicas(1);
  commit(tx);
  const Answer ambiguous = call("GET", "/services/" + web.substr(0, 5));
  EXPECT_EQ(ambiguous.status, 400);
  EXPECT_EQ(message(ambiguous), "service " + web.substr(0, 5) + " is ambiguous (2 matches found)");
}

TEST_F(ServiceRoutesTest, CreateRefusesBadSpecsWithDockersStatus) {
  struct Case {
    json body;
    int status;
    std::string message;
  };
  json no_command = spec("web");
  no_command["TaskTemplate"]["ContainerSpec"].erase("Command");
  json bad_constraint = spec("web");
  bad_constraint["TaskTemplate"]["Placement"]["Constraints"] = {"node.role=manager"};
  json bad_condition = spec("web");
  bad_condition["TaskTemplate"]["RestartPolicy"]["Condition"] = "sometimes";
  const Case cases[] = {
      {no_command, 400, "ContainerSpec: a command must be provided (Command or Args): shoal runs processes, not images"},
      {spec("web.1"), 400, "name must be valid as a DNS name component"},
      {spec("-web"), 400, "name must be valid as a DNS name component"},
      {spec(std::string(64, 'w')), 400, "name must be 63 characters or fewer"},
      {bad_condition, 400, "invalid RestartCondition: \"sometimes\""},
      {json{{"Name", "web"}, {"Mode", "replicated"}}, 400, "Mode: expected an object, got string"},
  };
  for (const auto& c : cases) {
    const Answer a = call("POST", "/services/create", c.body);
    EXPECT_EQ(a.status, c.status) << c.body.dump();
    EXPECT_EQ(message(a), c.message) << c.body.dump();
  }
  const Answer constraint = call("POST", "/services/create", bad_constraint);
  EXPECT_EQ(constraint.status, 400);
  EXPECT_NE(message(constraint).find("node.role=manager"), std::string::npos) << message(constraint);
  EXPECT_EQ(call("POST", "/services/create", std::nullopt).status, 400) << "an empty body has no command";
  EXPECT_EQ(submits_, 0) << "nothing invalid reaches the store";
  EXPECT_TRUE(store_.services().empty());

  create("web");
  const Answer dup = call("POST", "/services/create", spec("web"));
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(message(dup).rfind("name conflicts with an existing object: service web exists", 0), 0u) << message(dup);
  EXPECT_EQ(store_.services().size(), 1u);
}

TEST_F(ServiceRoutesTest, CreateWithoutANameGetsAGeneratedOne) {
  const std::string id = create("");
  const auto* svc = store_.find_service(id);
  ASSERT_NE(svc, nullptr);
  const std::string& name = svc->spec().annotations().name();
  EXPECT_NE(name.find('_'), std::string::npos) << name;
  const std::string other = create("");
  EXPECT_NE(store_.find_service(other)->spec().annotations().name(), name) << "a taken name is not reused";
}

TEST_F(ServiceRoutesTest, UpdateIsVersionedKeepsThePreviousSpecAndReplacesTasksOnlyWhenTheTaskChanged) {
  const std::string id = create("web", 2);
  const uint64_t v1 = store_.find_service(id)->version();

  // Scaling: the task template is the same, so spec_version (and the tasks) stay.
  Answer a = call("POST", "/services/web/update?version=" + std::to_string(v1), spec("web", 5));
  ASSERT_EQ(a.status, 200) << a.body.dump();
  const auto* svc = store_.find_service(id);
  EXPECT_EQ(svc->spec().replicated().replicas(), 5u);
  EXPECT_EQ(svc->previous_spec().replicated().replicas(), 2u);
  EXPECT_EQ(svc->spec_version(), 1u);
  const uint64_t v2 = svc->version();
  EXPECT_GT(v2, v1);

  // A stale version: Docker's "update out of sequence", as a conflict.
  a = call("POST", "/services/web/update?version=" + std::to_string(v1), spec("web", 7));
  EXPECT_EQ(a.status, 409);
  EXPECT_EQ(message(a).rfind("update out of sequence", 0), 0u) << message(a);
  EXPECT_EQ(store_.find_service(id)->spec().replicated().replicas(), 5u);

  // A new command: a new spec_version, so the orchestrator replaces the tasks.
  json changed = spec("web", 5);
  changed["TaskTemplate"]["ContainerSpec"]["Command"] = {"sleep", "200"};
  a = call("POST", "/services/" + id + "/update?version=" + std::to_string(v2), changed);
  ASSERT_EQ(a.status, 200) << a.body.dump();
  svc = store_.find_service(id);
  EXPECT_EQ(svc->spec_version(), 2u);
  EXPECT_EQ(svc->previous_spec().task().container().command(1), "100");
  const Answer got = call("GET", "/services/web");
  EXPECT_EQ(got.body["PreviousSpec"]["TaskTemplate"]["ContainerSpec"]["Command"], json::array({"sleep", "100"}));

  const uint64_t v3 = svc->version();
  a = call("POST", "/services/web/update?version=" + std::to_string(v3), spec("www"));
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(message(a), "renaming services is not supported");
  json global = spec("web");
  global["Mode"] = {{"Global", json::object()}};
  a = call("POST", "/services/web/update?version=" + std::to_string(v3), global);
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(message(a), "service mode change is not allowed");
  EXPECT_EQ(call("POST", "/services/web/update", spec("web")).status, 400) << "version is required";
  EXPECT_EQ(call("POST", "/services/nope/update?version=1", spec("nope")).status, 404);
}

TEST_F(ServiceRoutesTest, ATaskChangeStartsAnUpdateAndRestartsAPausedOne) {
  const std::string id = create("web", 3);
  EXPECT_EQ(store_.find_service(id)->update_status().state(), storepb::UpdateStatus::NONE);
  EXPECT_FALSE(call("GET", "/services/web").body.contains("UpdateStatus"));

  // Scaling or a new update policy alone starts no update.
  json scaled = spec("web", 4);
  scaled["UpdateConfig"] = {{"Parallelism", 2}, {"Monitor", 500'000'000}};
  Answer a = call("POST", "/services/web/update?version=" + std::to_string(store_.find_service(id)->version()), scaled);
  ASSERT_EQ(a.status, 200) << a.body.dump();
  EXPECT_EQ(store_.find_service(id)->update_status().state(), storepb::UpdateStatus::NONE);
  EXPECT_EQ(store_.find_service(id)->spec().update_config().parallelism(), 2u);

  // The updater paused an earlier update: failures counted, a message.
  {
    storepb::Transaction tx;
    auto* act = tx.add_actions();
    act->set_kind(storepb::StoreAction::UPDATE);
    *act->mutable_service() = *store_.find_service(id);
    auto* u = act->mutable_service()->mutable_update_status();
    u->set_state(storepb::UpdateStatus::PAUSED);
    u->set_message("update paused due to failure or early termination of task x");
    u->add_failed_tasks("x");
    u->set_completed_at_ns(5);
    commit(std::move(tx));
    ASSERT_TRUE(store_.take_result(store_.last_index()).ok());
  }
  EXPECT_EQ(call("GET", "/services/web").body["UpdateStatus"]["State"], "paused");

  json changed = scaled;
  changed["TaskTemplate"]["ContainerSpec"]["Args"] = {"--new"};
  a = call("POST", "/services/web/update?version=" + std::to_string(store_.find_service(id)->version()), changed);
  ASSERT_EQ(a.status, 200) << a.body.dump();
  const auto* svc = store_.find_service(id);
  EXPECT_EQ(svc->spec_version(), 2u);
  EXPECT_EQ(svc->update_status().state(), storepb::UpdateStatus::UPDATING);
  EXPECT_EQ(svc->update_status().message(), "update in progress");
  EXPECT_GT(svc->update_status().started_at_ns(), 0);
  EXPECT_EQ(svc->update_status().completed_at_ns(), 0);
  EXPECT_EQ(svc->update_status().failed_tasks_size(), 0) << "failures of the paused update are forgotten";
  const json status = call("GET", "/services/web").body["UpdateStatus"];
  EXPECT_EQ(status["State"], "updating");
  EXPECT_EQ(status["Message"], "update in progress");
  EXPECT_TRUE(status.contains("StartedAt"));

  // A bad policy is refused whole: nothing changes.
  const uint64_t before = store_.find_service(id)->version();
  for (const json& bad : {json{{"UpdateConfig", {{"FailureAction", "explode"}}}},
                          json{{"RollbackConfig", {{"MaxFailureRatio", 3}}}},
                          json{{"UpdateConfig", {{"Monitor", -1}}}},
                          json{{"TaskTemplate", {{"ContainerSpec", {{"Healthcheck", {{"Test", {"EXEC", "x"}}}}}}}}}}) {
    json body = changed;
    body.merge_patch(bad);
    a = call("POST", "/services/web/update?version=" + std::to_string(before), body);
    EXPECT_EQ(a.status, 400) << bad;
    EXPECT_FALSE(message(a).empty());
  }
  EXPECT_EQ(store_.find_service(id)->version(), before);
}

TEST_F(ServiceRoutesTest, RollbackPreviousSwapsTheSpecsAndStartsARollback) {
  const std::string id = create("web", 2);
  const uint64_t v1 = store_.find_service(id)->version();
  Answer a = call("POST", "/services/web/update?rollback=previous&version=" + std::to_string(v1), spec("web"));
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(message(a), "service web does not have a previous spec");
  EXPECT_EQ(store_.find_service(id)->version(), v1);

  json changed = spec("web", 2);
  changed["TaskTemplate"]["ContainerSpec"]["Command"] = {"sleep", "200"};
  ASSERT_EQ(call("POST", "/services/web/update?version=" + std::to_string(v1), changed).status, 200);
  const uint64_t v2 = store_.find_service(id)->version();

  a = call("POST", "/services/web/update?rollback=later&version=" + std::to_string(v2));
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(message(a), "invalid rollback value \"later\": the only one is \"previous\"");
  a = call("POST", "/services/web/update?rollback=previous&version=" + std::to_string(v1));
  EXPECT_EQ(a.status, 409) << "the version check holds for a rollback too";
  EXPECT_EQ(store_.find_service(id)->version(), v2);

  // The body (docker's CLI sends the current spec) is not read.
  a = call("POST", "/services/web/update?rollback=previous&version=" + std::to_string(v2), changed);
  ASSERT_EQ(a.status, 200) << a.body.dump();
  const auto* svc = store_.find_service(id);
  EXPECT_EQ(svc->spec().task().container().command(1), "100");
  EXPECT_EQ(svc->previous_spec().task().container().command(1), "200");
  EXPECT_EQ(svc->spec_version(), 3u);
  EXPECT_EQ(svc->update_status().state(), storepb::UpdateStatus::ROLLBACK_STARTED);
  EXPECT_EQ(svc->update_status().message(), "manually requested rollback");
  EXPECT_EQ(call("GET", "/services/web").body["UpdateStatus"]["State"], "rollback_started");

  // Rolling back again returns to the newer spec.
  a = call("POST", "/services/web/update?rollback=previous&version=" + std::to_string(svc->version()));
  ASSERT_EQ(a.status, 200) << a.body.dump();
  EXPECT_EQ(store_.find_service(id)->spec().task().container().command(1), "200");
}

TEST_F(ServiceRoutesTest, DeleteRemovesTheService) {
  const std::string id = create("web");
  EXPECT_EQ(call("DELETE", "/services/web").status, 200);
  EXPECT_EQ(store_.find_service(id), nullptr);
  EXPECT_EQ(call("GET", "/services/" + id).status, 404);
  EXPECT_EQ(call("DELETE", "/services/web").status, 404);
}

TEST_F(ServiceRoutesTest, ListFiltersAndStatus) {
  const std::string web = create("web", 3);
  const std::string api = create("api", 1);
  json global = spec("agent");
  global["Mode"] = {{"Global", json::object()}};
  global["Labels"] = {{"tier", "infra"}};
  const std::string agent = call("POST", "/services/create", global).body["ID"].get<std::string>();

  auto list = [&](const std::string& query) {
    const Answer a = call("GET", "/services" + query);
    EXPECT_EQ(a.status, 200) << query << " " << a.body.dump();
    auto out = ids(a.body);
    std::sort(out.begin(), out.end());
    return out;
  };
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_EQ(list(""), sorted({web, api, agent}));
  EXPECT_EQ(list("?filters=" + real::percent_encode(R"({"name":["we"]})")), sorted({web})) << "names match by prefix";
  EXPECT_EQ(list("?filters=" + real::percent_encode(R"({"name":{"api":true}})")), sorted({api})) << "the older form";
  EXPECT_EQ(list("?filters=" + real::percent_encode(R"({"id":[")" + agent.substr(0, 4) + R"("]})")), sorted({agent}));
  EXPECT_EQ(list("?filters=" + real::percent_encode(R"({"mode":["replicated"]})")), sorted({web, api}));
  EXPECT_EQ(list("?filters=" + real::percent_encode(R"({"label":["tier=infra"]})")), sorted({agent}));
  EXPECT_EQ(list("?filters=" + real::percent_encode(R"({"label":["tier"],"name":["web"]})")), sorted({}));
  const Answer bad = call("GET", "/services?filters=" + real::percent_encode(R"({"colour":["red"]})"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(message(bad), "invalid filter 'colour'");
  EXPECT_EQ(call("GET", "/services?filters=notjson").status, 400);

  add_task(web, 1, kNodeA, storepb::RUNNING);
  add_task(web, 2, kNodeB, storepb::RUNNING);
  add_task(web, 3, "", storepb::PENDING);
  add_task(web, 3, kNodeA, storepb::COMPLETE, storepb::SHUTDOWN);
  add_task(agent, 0, kNodeA, storepb::RUNNING);
  add_task(agent, 0, kNodeB, storepb::STARTING);
  const Answer with_status = call("GET", "/services?status=true");
  ASSERT_EQ(with_status.status, 200);
  std::map<std::string, json> by_id;
  for (const auto& s : with_status.body) by_id[s["ID"].get<std::string>()] = s["ServiceStatus"];
  EXPECT_EQ(by_id[web], json::parse(R"({"RunningTasks": 2, "DesiredTasks": 3, "CompletedTasks": 1})"));
  EXPECT_EQ(by_id[api], json::parse(R"({"RunningTasks": 0, "DesiredTasks": 1, "CompletedTasks": 0})"));
  EXPECT_EQ(by_id[agent], json::parse(R"({"RunningTasks": 1, "DesiredTasks": 2, "CompletedTasks": 0})"));
}

TEST_F(ServiceRoutesTest, TasksListedWithDockersFilters) {
  const std::string web = create("web", 2);
  const std::string api = create("api", 1);
  const std::string w1 = add_task(web, 1, kNodeA, storepb::RUNNING);
  const std::string w2 = add_task(web, 2, "", storepb::PENDING, storepb::RUNNING, "no suitable node (2 nodes)");
  const std::string w1_old = add_task(web, 1, kNodeB, storepb::FAILED, storepb::SHUTDOWN);
  const std::string a1 = add_task(api, 1, kNodeB, storepb::RUNNING);

  auto list = [&](const std::string& filters) {
    const Answer a = call("GET", "/tasks?filters=" + real::percent_encode(filters));
    EXPECT_EQ(a.status, 200) << filters << " " << a.body.dump();
    return ids(a.body);
  };
  EXPECT_EQ(ids(call("GET", "/tasks").body), (std::vector<std::string>{w1, w2, w1_old, a1}));
  EXPECT_EQ(list(R"({"service":["web"]})"), (std::vector<std::string>{w1, w2, w1_old})) << "a service by name";
  EXPECT_EQ(list(R"({"service":[")" + api + R"("]})"), (std::vector<std::string>{a1}));
  EXPECT_EQ(list(R"({"service":["web"],"desired-state":["running"]})"), (std::vector<std::string>{w1, w2}));
  EXPECT_EQ(list(R"({"node":["beta"]})"), (std::vector<std::string>{w1_old, a1})) << "a node by hostname";
  EXPECT_EQ(list(R"({"node":[")" + std::string(kNodeA) + R"("]})"), (std::vector<std::string>{w1}));
  EXPECT_EQ(list(R"({"name":["web.1"]})"), (std::vector<std::string>{w1, w1_old}));
  EXPECT_EQ(list(R"({"id":[")" + w2.substr(0, 5) + R"("]})"), (std::vector<std::string>{w2}));
  EXPECT_EQ(list(R"({"desired-state":["shutdown","running"],"service":["api"]})"), (std::vector<std::string>{a1}));

  // _up-to-date (docker's progress uses it): tasks made from the service's current spec.
  EXPECT_EQ(list(R"({"_up-to-date":["true"]})"), (std::vector<std::string>{w1, w2, w1_old, a1}));
  json changed = spec("web", 2);
  changed["TaskTemplate"]["ContainerSpec"]["Command"] = {"sleep", "5"};
  ASSERT_EQ(call("POST", "/services/web/update?version=" + std::to_string(store_.find_service(web)->version()), changed)
                .status,
            200);
  EXPECT_EQ(list(R"({"_up-to-date":["true"]})"), (std::vector<std::string>{a1}));
  // Rolled back to the spec they run: up to date again, though their spec_version is older.
  ASSERT_EQ(call("POST", "/services/web/update?rollback=previous&version=" +
                             std::to_string(store_.find_service(web)->version()))
                .status,
            200);
  EXPECT_EQ(list(R"({"_up-to-date":["true"]})"), (std::vector<std::string>{w1, w2, w1_old, a1}));

  Answer a = call("GET", "/tasks?filters=" + real::percent_encode(R"({"service":["nope"]})"));
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(message(a), "service nope not found");
  a = call("GET", "/tasks?filters=" + real::percent_encode(R"({"desired-state":["sleeping"]})"));
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(message(a), "Invalid desired-state filter: 'sleeping'");

  const Answer one = call("GET", "/tasks/" + w2);
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(one.body["ServiceID"], web);
  EXPECT_EQ(one.body["Slot"], 2);
  EXPECT_EQ(one.body["DesiredState"], "running");
  EXPECT_EQ(one.body["Status"]["State"], "pending");
  EXPECT_EQ(one.body["Status"]["Err"], "no suitable node (2 nodes)");
  EXPECT_FALSE(one.body.contains("NodeID"));
  EXPECT_EQ(one.body["Spec"]["ContainerSpec"]["Command"], json::array({"sleep", "100"}));
  EXPECT_EQ(call("GET", "/tasks/" + w1.substr(0, 4)).status, 400) << "every test task id starts with 'task'";
  EXPECT_EQ(call("GET", "/tasks/nope").status, 404);
}

TEST_F(ServiceRoutesTest, NodeUpdateSetsAvailabilityAndLabelsAndNodesShowTheirDescription) {
  storepb::NodeObject n = *store_.find_node(kNodeA);
  n.mutable_description()->mutable_platform()->set_os("linux");
  n.mutable_description()->mutable_platform()->set_architecture("aarch64");
  n.mutable_description()->mutable_resources()->set_nano_cpus(4'000'000'000);
  n.mutable_description()->mutable_resources()->set_memory_bytes(8LL << 30);
  (*n.mutable_description()->mutable_engine_labels())["disk"] = "ssd";
  storepb::Transaction tx;
  auto* a = tx.add_actions();
  a->set_kind(storepb::StoreAction::UPDATE);
  *a->mutable_node() = n;
  commit(tx);

  Answer got = call("GET", "/nodes/alpha");
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.body["Description"]["Platform"], json::parse(R"({"OS": "linux", "Architecture": "aarch64"})"));
  EXPECT_EQ(got.body["Description"]["Resources"], json::parse(R"({"NanoCPUs": 4000000000, "MemoryBytes": 8589934592})"));
  EXPECT_EQ(got.body["Description"]["Engine"]["Labels"], json::parse(R"({"disk": "ssd"})"));
  EXPECT_EQ(call("GET", "/nodes/beta").body["Description"]["Platform"]["Architecture"], "x86_64")
      << "a node that reported nothing yet";

  const std::string version = std::to_string(store_.find_node(kNodeA)->version());
  const Answer up = call("POST", "/nodes/" + std::string(kNodeA) + "/update?version=" + version,
                         json{{"Role", "worker"}, {"Availability", "drain"}, {"Labels", {{"rack", "r1"}}}});
  ASSERT_EQ(up.status, 200) << up.body.dump();
  const auto* stored = store_.find_node(kNodeA);
  EXPECT_EQ(stored->spec().availability(), storepb::NodeSpec::DRAIN);
  ASSERT_EQ(stored->spec().annotations().labels().size(), 1u) << "Labels replace the node's labels";
  EXPECT_EQ(stored->spec().annotations().labels().at("rack"), "r1");
  EXPECT_EQ(stored->description().resources().nano_cpus(), 4'000'000'000) << "the description is kept";

  const Answer bad = call("POST", "/nodes/" + std::string(kNodeA) + "/update?version=" +
                                      std::to_string(stored->version()),
                          json{{"Availability", "asleep"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(message(bad), "invalid availability 'asleep'");
}

TEST_F(ServiceRoutesTest, ANodeWithoutAStoreIsNotAManager) {
  ctx_.store = nullptr;
  for (const char* target : {"/services", "/tasks", "/services/web", "/tasks/x"}) {
    const Answer a = call("GET", target);
    EXPECT_EQ(a.status, 503) << target;
    EXPECT_EQ(message(a).rfind("This node is not a swarm manager.", 0), 0u) << target;
  }
  EXPECT_EQ(call("POST", "/services/create", spec("web")).status, 503);
  EXPECT_EQ(submits_, 0);
}

// ---- logs ----

// The answer to a logs request as text, and what the route asked of the nodes.
struct LogsAnswer {
  int status = 0;
  std::string content_type;
  std::string body;
};

class LogRoutesTest : public ServiceRoutesTest {
 protected:
  LogRoutesTest() {
    ctx_.task_logs = [this](const storepb::NodeObject& node, const agentpb::LogsRequest& req, Rpc::Reply done) {
      asked_.push_back(node.hostname() + " " + req.task_id() + " max=" + std::to_string(req.max_bytes()) +
                       " tail=" + std::to_string(req.tail_lines()));
      auto it = node_answers_.find(req.task_id());
      if (it == node_answers_.end()) return done(Status::not_found("no such task here"), "");
      if (!it->second.ok()) return done(it->second.status(), "");
      agentpb::LogsResponse resp;
      resp.set_data(*it->second);
      done({}, resp.SerializeAsString());
    };
  }

  LogsAnswer get(const std::string& target) {
    auto parsed = real::parse_target(target);
    EXPECT_TRUE(parsed.ok()) << target;
    LogsAnswer a;
    router_.dispatch({"GET", parsed->first, parsed->second, ""}, [&](real::HttpResponse r) {
      a.status = r.status;
      a.content_type = r.content_type;
      a.body = r.body;
    });
    return a;
  }

  void set_node_state(const char* id, storepb::NodeObject::State state) {
    storepb::Transaction tx;
    auto* a = tx.add_actions();
    a->set_kind(storepb::StoreAction::UPDATE);
    *a->mutable_node() = *store_.find_node(id);
    a->mutable_node()->set_state(state);
    commit(std::move(tx));
    ASSERT_TRUE(store_.take_result(store_.last_index()).ok());
  }

  std::map<std::string, Result<std::string>> node_answers_;  // task id -> what its node answers
  std::vector<std::string> asked_;
};

TEST_F(LogRoutesTest, AServicesLogsComeFromEachTasksNodeWithDockersPrefix) {
  const std::string web = create("web", 10);
  const std::string t1 = add_task(web, 1, kNodeA, storepb::RUNNING);
  const std::string t10 = add_task(web, 10, kNodeB, storepb::RUNNING);
  add_task(web, 2, "", storepb::PENDING);  // never reached a node: not asked
  node_answers_.emplace(t1, std::string("hello from 1\nbye\n"));
  node_answers_.emplace(t10, std::string("ten, unfinished"));
  const LogsAnswer a = get("/services/web/logs?stdout=1&stderr=1");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(a.body,
            "web.1." + t1.substr(0, 12) + "@alpha     | hello from 1\n"
            "web.1." + t1.substr(0, 12) + "@alpha     | bye\n"
            "web.10." + t10.substr(0, 12) + "@beta    | ten, unfinished\n");
  EXPECT_EQ(asked_, (std::vector<std::string>{"alpha " + t1 + " max=1048576 tail=0",
                                              "beta " + t10 + " max=1048576 tail=0"}));
}

TEST_F(LogRoutesTest, TailAndOneTask) {
  const std::string web = create("web", 1);
  const std::string t1 = add_task(web, 1, kNodeA, storepb::RUNNING);
  node_answers_.emplace(t1, std::string("last\n"));
  LogsAnswer a = get("/tasks/" + t1.substr(0, 8) + "/logs?stdout=true&stderr=1&tail=3");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.body, "web.1." + t1.substr(0, 12) + "@alpha    | last\n");
  EXPECT_EQ(asked_, (std::vector<std::string>{"alpha " + t1 + " max=1048576 tail=3"}));
  a = get("/services/web/logs?stdout=1&tail=0");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "") << "tail=0: no lines, and no node asked";
  EXPECT_EQ(asked_.size(), 1u);
  EXPECT_EQ(get("/services/web/logs?stderr=1&tail=all").status, 200);
  EXPECT_EQ(asked_.back(), "alpha " + t1 + " max=1048576 tail=0");
}

TEST_F(LogRoutesTest, NodesThatAreDownGoneOrSilentGetAWarningAndTheRestAreAnswered) {
  const std::string web = create("web", 4);
  const std::string up = add_task(web, 1, kNodeA, storepb::RUNNING);
  const std::string down = add_task(web, 2, kNodeB, storepb::RUNNING);
  const std::string gone = add_task(web, 3, "00000000000000ff", storepb::RUNNING);
  const std::string forgotten = add_task(web, 4, kNodeA, storepb::COMPLETE);
  const std::string silent = add_task(web, 1, kNodeA, storepb::FAILED);  // an earlier attempt of slot 1
  set_node_state(kNodeB, storepb::NodeObject::DOWN);
  node_answers_.emplace(up, std::string("up\n"));
  node_answers_.emplace(silent, Status::deadline_exceeded("no answer within 3s"));
  // `forgotten` has no answer: its node says not found, which is no warning (it ended long ago).
  const LogsAnswer a = get("/services/web/logs?stdout=1&stderr=1");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.body, "web.1." + up.substr(0, 12) + "@alpha    | up\n"
                    "warning: no logs from 1 task (node 00000000000000ff is gone): web.3." + gone.substr(0, 12) +
                        "@00000000000000ff\n"
                    "warning: no logs from 1 task (node alpha: no answer within 3s): web.1." + silent.substr(0, 12) +
                        "@alpha\n"
                    "warning: no logs from 1 task (node beta is down): web.2." + down.substr(0, 12) + "@beta\n");
  EXPECT_EQ(asked_.size(), 3u) << "the down and gone nodes are not asked";
  (void)forgotten;
}

TEST_F(LogRoutesTest, BadQueriesAndUnknownNamesAreRefused) {
  create("web", 1);
  struct Case {
    const char* target;
    int status;
    const char* message;
  };
  for (const Case& c : {
           Case{"/services/web/logs", 400, "Bad parameters: you must choose at least one stream"},
           Case{"/services/web/logs?stdout=0&stderr=false", 400, "Bad parameters: you must choose at least one stream"},
           Case{"/services/web/logs?stdout=1&follow=1", 400,
                "follow is not supported: shoal returns the logs kept so far and ends"},
           Case{"/services/web/logs?stdout=1&timestamps=1", 400,
                "timestamps are not supported: the process runtime does not record when a line was written"},
           Case{"/services/web/logs?stdout=1&tail=-1", 400,
                "invalid tail value \"-1\": want \"all\" or a non-negative number of lines"},
           Case{"/services/nope/logs?stdout=1", 404, "service nope not found"},
           Case{"/tasks/nope/logs?stdout=1", 404, "task nope not found"},
       }) {
    const LogsAnswer a = get(c.target);
    EXPECT_EQ(a.status, c.status) << c.target;
    EXPECT_EQ(json::parse(a.body, nullptr, false).value("message", ""), c.message) << c.target;
  }
  EXPECT_TRUE(asked_.empty());
  ctx_.task_logs = nullptr;
  EXPECT_EQ(get("/services/web/logs?stdout=1").status, 503);
}

}  // namespace
}  // namespace shoal::real
