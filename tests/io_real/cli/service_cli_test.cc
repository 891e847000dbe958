// `shoal service ...` and `shoal node update` end to end: run_cli against a fake daemon
// (HttpServer + Router on a unix socket in /tmp) that keeps services, tasks and nodes as Docker
// Engine API JSON and records every request, so each test checks what the command prints and
// exactly what it sent. GET /tasks can follow a script (one answer per poll, the last one
// repeating) to drive the convergence progress of create and scale.
#include <utility>  // before Asio (Boost 1.74 with GCC 12 in C++20)

#include "io_real/cli/cli.h"

#include <gtest/gtest.h>

#include <sstream>

#include <nlohmann/json.hpp>

#include "io_real/api/router.h"
#include "io_real/cli/format.h"
#include "tests/io_real/cli/recording_server.h"

namespace shoal::real {
namespace {

using test::RecordingServer;
using test::Sent;

using real::HttpRequest;
using real::PathParams;
using real::Responder;
using nlohmann::json;

constexpr const char* kWebId = "wwwwwwwwwwww1111111111111";
constexpr const char* kAgentId = "aaaaaaaaaaaa2222222222222";
constexpr const char* kNewId = "nnnnnnnnnnnn3333333333333";
constexpr const char* kNodeA = "000000000000000a";
constexpr const char* kNodeB = "000000000000000b";

json web_service() {
  return json::parse(R"({
    "ID": "wwwwwwwwwwww1111111111111", "Version": {"Index": 10},
    "CreatedAt": "2024-05-01T12:00:00.000000000Z", "UpdatedAt": "2024-05-01T12:00:00.000000000Z",
    "Spec": {"Name": "web", "Labels": {"team": "a"},
             "TaskTemplate": {"ContainerSpec": {"Command": ["sleep", "100"], "Env": ["A=1"], "Dir": "/srv",
                                                "StopGracePeriod": 10000000000},
                              "Resources": {"Limits": {"MemoryBytes": 1073741824},
                                            "Reservations": {"NanoCPUs": 500000000, "MemoryBytes": 67108864}},
                              "RestartPolicy": {"Condition": "on-failure", "Delay": 5000000000, "MaxAttempts": 3,
                                                "Window": 60000000000},
                              "Placement": {"Constraints": ["node.role==worker"],
                                            "Preferences": [{"Spread": {"SpreadDescriptor": "node.labels.zone"}}],
                                            "MaxReplicas": 2},
                              "ForceUpdate": 0, "Runtime": "container"},
             "Mode": {"Replicated": {"Replicas": 3}}, "EndpointSpec": {"Mode": "vip"}},
    "Endpoint": {"Spec": {"Mode": "vip"}},
    "ServiceStatus": {"RunningTasks": 2, "DesiredTasks": 3, "CompletedTasks": 0}})");
}

json agent_service() {
  return json::parse(R"({
    "ID": "aaaaaaaaaaaa2222222222222", "Version": {"Index": 11},
    "Spec": {"Name": "agent", "Labels": {},
             "TaskTemplate": {"ContainerSpec": {"Command": ["agent"], "Args": ["--verbose"]}},
             "Mode": {"Global": {}}},
    "ServiceStatus": {"RunningTasks": 2, "DesiredTasks": 2, "CompletedTasks": 0}})");
}

json make_task(const std::string& id, const std::string& service, int slot, const std::string& node,
               const std::string& desired, const std::string& state, const std::string& at,
               const std::string& created, const std::string& err = "") {
  json t{{"ID", id},
         {"Version", {{"Index", 20}}},
         {"CreatedAt", created},
         {"UpdatedAt", at},
         {"Spec", {{"ContainerSpec", {{"Command", {"sleep", "100"}}}}}},
         {"ServiceID", service},
         {"Slot", slot},
         {"DesiredState", desired},
         {"Status", {{"Timestamp", at}, {"State", state}, {"Message", ""}}}};
  if (!node.empty()) t["NodeID"] = node;
  if (!err.empty()) t["Status"]["Err"] = err;
  return t;
}

// A task of the service being created, for progress scripts.
json progress_task(int slot, const std::string& state, const std::string& err = "", const std::string& node = "") {
  return make_task("task" + std::to_string(slot) + state, kNewId, slot, node, "running", state,
                   "2024-05-01T13:59:59.000000000Z", "2024-05-01T13:59:58.000000000Z", err);
}

class FakeDaemon {
 public:
  FakeDaemon() {
    services = json::array({web_service(), agent_service()});
    nodes = json::array();
    for (const auto& [id, host] : {std::pair{kNodeA, "alpha"}, std::pair{kNodeB, "beta"}}) {
      nodes.push_back({{"ID", id},
                       {"Version", {{"Index", 12}}},
                       {"Spec", {{"Labels", {{"zone", "a"}, {"old", "x"}}}, {"Role", "worker"}, {"Availability", "active"}}},
                       {"Description", {{"Hostname", host}}},
                       {"Status", {{"State", "ready"}}}});
    }
    add_routes();
    server_.start();
  }
  std::string host() const { return server_.host(); }
  std::vector<Sent> sent() { return server_.sent(); }
  std::vector<std::string> lines() { return server_.lines(); }
  size_t count(const std::string& method, const std::string& path) { return server_.count(method, path); }

  // State the routes read and write; touch only while no command runs.
  json services;
  json nodes;
  json tasks = json::array();
  std::vector<json> task_script;  // answers to successive GET /tasks; the last one repeats
  std::string logs_text;          // the answer to GET /services/{id}/logs and /tasks/{id}/logs
  // UpdateStatus of the service in successive GET /services/{id}; the last one repeats.
  std::vector<json> update_status_script;

 private:
  json* find_service(const std::string& ref) {
    for (auto& s : services) {
      const std::string id = s["ID"];
      if (id == ref || s["Spec"]["Name"] == ref || id.rfind(ref, 0) == 0) return &s;
    }
    return nullptr;
  }

  void add_routes() {
    server_.router().add("POST", "/services/create", [this](const HttpRequest& req, const PathParams&, Responder respond) {
      json spec = json::parse(req.body);
      if (spec.value("Name", "") == "taken") {
        return respond(real::error_response(409, "name conflicts with an existing object: service taken exists"));
      }
      if (!spec.contains("Name")) spec["Name"] = "quirky_lovelace";
      if (spec["Mode"].contains("Replicated") && !spec["Mode"]["Replicated"].contains("Replicas")) {
        spec["Mode"]["Replicated"]["Replicas"] = 1;  // the daemon's default
      }
      services.push_back({{"ID", kNewId}, {"Version", {{"Index", 30}}}, {"Spec", spec}});
      respond(real::json_response(201, {{"ID", kNewId}}));
    });
    server_.router().add("GET", "/services", [this](const HttpRequest&, const PathParams&, Responder respond) {
      respond(real::json_response(200, services));
    });
    server_.router().add("GET", "/services/{id}", [this](const HttpRequest&, const PathParams& p, Responder respond) {
      if (json* s = find_service(p.at("id"))) {
        if (!update_status_script.empty()) {
          const size_t i = std::min(status_polls_++, update_status_script.size() - 1);
          (*s)["UpdateStatus"] = update_status_script[i];
        }
        return respond(real::json_response(200, *s));
      }
      respond(real::error_response(404, "service " + p.at("id") + " not found"));
    });
    server_.router().add("POST", "/services/{id}/update", [this](const HttpRequest& req, const PathParams& p, Responder respond) {
      json* s = find_service(p.at("id"));
      if (!s) return respond(real::error_response(404, "service " + p.at("id") + " not found"));
      if (req.query.at("version") != std::to_string((*s)["Version"]["Index"].get<int>())) {
        return respond(real::error_response(409, "update out of sequence"));
      }
      if (req.query.count("rollback")) {
        if (!s->contains("PreviousSpec")) return respond(real::error_response(400, "service web does not have a previous spec"));
        std::swap((*s)["Spec"], (*s)["PreviousSpec"]);
      } else {
        (*s)["PreviousSpec"] = (*s)["Spec"];
        (*s)["Spec"] = json::parse(req.body);
      }
      (*s)["Version"]["Index"] = (*s)["Version"]["Index"].get<int>() + 1;
      respond(real::json_response(200, json::object()));
    });
    server_.router().add("DELETE", "/services/{id}", [this](const HttpRequest&, const PathParams& p, Responder respond) {
      if (!find_service(p.at("id"))) return respond(real::error_response(404, "service " + p.at("id") + " not found"));
      respond(real::empty_response(200));
    });
    server_.router().add("GET", "/tasks", [this](const HttpRequest&, const PathParams&, Responder respond) {
      if (task_script.empty()) return respond(real::json_response(200, tasks));
      const size_t i = std::min(polls_++, task_script.size() - 1);
      respond(real::json_response(200, task_script[i]));
    });
    server_.router().add("GET", "/tasks/{id}", [this](const HttpRequest&, const PathParams& p, Responder respond) {
      for (const auto& t : tasks) {
        if (t["ID"] == p.at("id")) return respond(real::json_response(200, t));
      }
      respond(real::error_response(404, "task " + p.at("id") + " not found"));
    });
    for (const char* path : {"/services/{id}/logs", "/tasks/{id}/logs"}) {
      server_.router().add("GET", path, [this](const HttpRequest& req, const PathParams&, Responder respond) {
        if (req.query.count("follow")) return respond(real::error_response(400, "follow is not supported"));
        respond({200, "text/plain; charset=utf-8", logs_text});
      });
    }
    server_.router().add("GET", "/nodes", [this](const HttpRequest&, const PathParams&, Responder respond) {
      respond(real::json_response(200, nodes));
    });
    server_.router().add("GET", "/nodes/{id}", [this](const HttpRequest&, const PathParams& p, Responder respond) {
      for (const auto& n : nodes) {
        if (n["ID"] == p.at("id")) return respond(real::json_response(200, n));
      }
      respond(real::error_response(404, "node " + p.at("id") + " not found"));
    });
    server_.router().add("POST", "/nodes/{id}/update", [this](const HttpRequest& req, const PathParams& p, Responder respond) {
      for (auto& n : nodes) {
        if (n["ID"] != p.at("id")) continue;
        if (req.query.at("version") != "12") return respond(real::error_response(409, "update out of sequence"));
        n["Spec"] = json::parse(req.body);
        return respond(real::empty_response(200));
      }
      respond(real::error_response(404, "node " + p.at("id") + " not found"));
    });
  }

  size_t polls_ = 0;
  size_t status_polls_ = 0;
  // Last, so it stops (and no handler runs) before the state above is destroyed.
  RecordingServer server_{"service-cli-test"};
};

struct CliRun {
  int code = -1;
  std::string out, err;
};

class ServiceCliTest : public ::testing::Test {
 protected:
  FakeDaemon daemon;
  int pauses = 0;

  CliRun shoal(std::vector<std::string> args) {
    args.insert(args.begin(), {"shoal", "-H", daemon.host()});
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    std::ostringstream out, err;
    std::istringstream in;
    const int64_t now = *parse_rfc3339("2024-05-01T14:00:00Z");
    CliIo io{out, err, in, false, [now] { return now; }, [this](Duration d) {
               EXPECT_EQ(d, std::chrono::milliseconds(200));
               ++pauses;
             }};
    CliRun r;
    r.code = run_cli(static_cast<int>(argv.size()), argv.data(), io, std::nullopt);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  std::string tasks_target(const std::string& service_id) {
    return "GET /tasks?filters={\"desired-state\":[\"running\"],\"service\":[\"" + service_id + "\"]}";
  }
};

// ---- create ----

TEST_F(ServiceCliTest, CreateSendsDockersSpecForEveryFlag) {
  const CliRun r = shoal({"service", "create", "--name", "web2", "--replicas", "2", "--constraint", "node.role==worker",
                          "--constraint", "node.labels.zone!=east", "--placement-pref", "spread=node.labels.zone",
                          "--reserve-cpu", "0.5", "--reserve-memory", "64M", "--limit-cpu", "2", "--limit-memory", "1G",
                          "--restart-condition", "on-failure", "--restart-delay", "2s", "--restart-max-attempts", "3",
                          "--restart-window", "1m", "--env", "A=1", "-e", "B=2", "--workdir", "/srv", "--label",
                          "team=a", "--max-replicas", "2", "--stop-grace-period", "3s", "-d", "sleep", "100", "--x"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, std::string(kNewId) + "\n");
  const auto sent = daemon.sent();
  ASSERT_EQ(sent.size(), 1u) << "--detach: no waiting";
  EXPECT_EQ(sent[0].line(), "POST /services/create");
  EXPECT_EQ(sent[0].body, json::parse(R"({
    "Name": "web2", "Labels": {"team": "a"},
    "TaskTemplate": {
      "ContainerSpec": {"Command": ["sleep", "100", "--x"], "Env": ["A=1", "B=2"], "Dir": "/srv",
                        "StopGracePeriod": 3000000000},
      "Resources": {"Limits": {"NanoCPUs": 2000000000, "MemoryBytes": 1073741824},
                    "Reservations": {"NanoCPUs": 500000000, "MemoryBytes": 67108864}},
      "RestartPolicy": {"Condition": "on-failure", "Delay": 2000000000, "MaxAttempts": 3, "Window": 60000000000},
      "Placement": {"Constraints": ["node.role==worker", "node.labels.zone!=east"],
                    "Preferences": [{"Spread": {"SpreadDescriptor": "node.labels.zone"}}], "MaxReplicas": 2}},
    "Mode": {"Replicated": {"Replicas": 2}}})"))
      << sent[0].body.dump(2);
}

TEST_F(ServiceCliTest, CreateLeavesDefaultsToTheDaemonAndTakesTheCommandVerbatim) {
  CliRun r = shoal({"service", "create", "-d", "ls", "-la"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(daemon.sent().back().body, json::parse(R"({
    "Labels": {}, "Mode": {"Replicated": {}},
    "TaskTemplate": {"ContainerSpec": {"Command": ["ls", "-la"]},
                     "Resources": {"Limits": {}, "Reservations": {}}, "Placement": {}}})"))
      << "no Name (the daemon makes one), no RestartPolicy, no Replicas; a COMMAND named like a subcommand";

  // Flags end at COMMAND, so a flag name after it belongs to the command; one value per repeated
  // flag, so the command is not taken for more constraints.
  r = shoal({"service", "create", "-d", "--mode", "global", "--constraint", "node.role==worker", "run", "--name", "x"});
  ASSERT_EQ(r.code, 0) << r.err;
  json body = daemon.sent().back().body;
  EXPECT_FALSE(body.contains("Name"));
  EXPECT_EQ(body["Mode"], json::parse(R"({"Global": {}})"));
  EXPECT_EQ(body["TaskTemplate"]["Placement"]["Constraints"], json::array({"node.role==worker"}));
  EXPECT_EQ(body["TaskTemplate"]["ContainerSpec"]["Command"], json::array({"run", "--name", "x"}));

  r = shoal({"service", "create", "-d", "--name", "g", "--", "-weird", "--flag"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(daemon.sent().back().body["TaskTemplate"]["ContainerSpec"]["Command"], json::array({"-weird", "--flag"}))
      << "after --, everything is the command";
}

TEST_F(ServiceCliTest, CreateRefusesBadFlagsBeforeSendingAnything) {
  struct Case {
    std::vector<std::string> args;
    std::string err;
  };
  const Case cases[] = {
      {{"--name", "web"}, "\"shoal service create\" requires a COMMAND to run\n"},
      {{"--mode", "global", "--replicas", "2", "sleep", "1"},
       "replicas can only be used with replicated or replicated-job mode\n"},
      {{"--mode", "global", "--max-replicas", "2", "sleep", "1"},
       "replicas-max-per-node can only be used with replicated or replicated-job mode\n"},
      {{"--mode", "daemon", "sleep", "1"}, "Unknown mode: daemon, only replicated and global supported\n"},
      {{"--reserve-memory", "lots", "sleep", "1"},
       "invalid argument \"lots\" for \"--reserve-memory\" flag: invalid size: 'lots'\n"},
      {{"--limit-cpu", "0.0000000001", "sleep", "1"},
       "invalid argument \"0.0000000001\" for \"--limit-cpu\" flag: value is too precise\n"},
      {{"--replicas", "-1", "sleep", "1"},
       "invalid argument \"-1\" for \"--replicas\" flag: not a non-negative integer\n"},
      {{"--restart-delay", "soon", "sleep", "1"}, ""},
      {{"--placement-pref", "pack=node.labels.zone", "sleep", "1"},
       "invalid argument \"pack=node.labels.zone\" for \"--placement-pref\" flag: unsupported placement preference "
       "pack (only spread is supported)\n"},
      {{"--timeout", "0s", "sleep", "1"}, "invalid argument \"0s\" for \"--timeout\" flag: must be positive\n"},
      {{"--bogus", "sleep", "1"}, ""},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args{"service", "create"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    const CliRun r = shoal(args);
    EXPECT_EQ(r.code, 1) << args[2];
    if (!c.err.empty()) {
      EXPECT_EQ(r.err, c.err);
    }
    EXPECT_FALSE(r.err.empty());
    EXPECT_EQ(r.out, "");
  }
  EXPECT_TRUE(daemon.sent().empty());

  const CliRun taken = shoal({"service", "create", "--name", "taken", "sleep", "1"});
  EXPECT_EQ(taken.code, 1);
  EXPECT_EQ(taken.err, "Error response from daemon: name conflicts with an existing object: service taken exists\n");
}

TEST_F(ServiceCliTest, CreateShowsProgressUntilEveryTaskRuns) {
  const std::string no_node = "no suitable node (no nodes in the cluster)";
  daemon.task_script = {
      json::array(),
      json::array({progress_task(1, "pending", no_node), progress_task(2, "assigned")}),
      json::array({progress_task(1, "pending", no_node), progress_task(2, "running")}),
      json::array({progress_task(1, "running"), progress_task(2, "running")}),
  };
  const CliRun r = shoal({"service", "create", "--name", "web2", "--replicas", "2", "sleep", "100"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, std::string(kNewId) + "\n" +
                       "overall progress: 0 out of 2 tasks\n"
                       "1/2: pending\n"
                       "1/2: no suitable node (no nodes in the cluster)\n"
                       "2/2: assigned\n"
                       "overall progress: 1 out of 2 tasks\n"
                       "2/2: running\n"
                       "overall progress: 2 out of 2 tasks\n"
                       "1/2: running\n"
                       "verify: Service converged\n");
  EXPECT_EQ(daemon.count("GET", "/tasks"), 4u);
  EXPECT_EQ(pauses, 3) << "200 ms between polls";
  const auto lines = daemon.lines();
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines[1], "GET /services/" + std::string(kNewId));
  EXPECT_EQ(lines[2], tasks_target(kNewId));
}

TEST_F(ServiceCliTest, CreateQuietWaitsWithoutProgressAndGlobalWaitsForTasks) {
  daemon.task_script = {
      json::array(),
      json::array({progress_task(0, "running", "", kNodeA), progress_task(0, "starting", "", kNodeB)}),
      json::array({progress_task(0, "running", "", kNodeA), progress_task(0, "running", "", kNodeB)}),
  };
  CliRun r = shoal({"service", "create", "-q", "--mode", "global", "--name", "g", "agent"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, std::string(kNewId) + "\n");
  EXPECT_EQ(daemon.count("GET", "/tasks"), 3u) << "a global service with no task yet is not converged";
}

TEST_F(ServiceCliTest, CreateGlobalProgressNamesNodes) {
  daemon.task_script = {
      json::array({progress_task(0, "running", "", kNodeA), progress_task(0, "starting", "", kNodeB)}),
      json::array({progress_task(0, "running", "", kNodeA), progress_task(0, "running", "", kNodeB)}),
  };
  const CliRun r = shoal({"service", "create", "--mode", "global", "--name", "g", "agent"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, std::string(kNewId) + "\n" +
                       "overall progress: 1 out of 2 tasks\n"
                       "000000000000000a: running\n"
                       "000000000000000b: starting\n"
                       "overall progress: 2 out of 2 tasks\n"
                       "000000000000000b: running\n"
                       "verify: Service converged\n");
}

TEST_F(ServiceCliTest, CreateGivesUpAfterTheTimeoutAndSaysSo) {
  daemon.task_script = {json::array({progress_task(1, "pending", "no suitable node (1 node has insufficient memory)")})};
  const CliRun r = shoal({"service", "create", "--name", "web2", "--timeout", "1s", "--reserve-memory", "1P", "sleep", "1"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, std::string(kNewId) + "\n" +
                       "overall progress: 0 out of 1 tasks\n"
                       "1/1: pending\n"
                       "1/1: no suitable node (1 node has insufficient memory)\n")
      << "the error is shown once";
  EXPECT_EQ(r.err,
            "timeout: service web2 has not converged after 1s (0 of 1 tasks running); it keeps converging in the "
            "background: see `shoal service ps web2`\n");
  EXPECT_EQ(daemon.count("GET", "/tasks"), 5u) << "1s of 200 ms polls";
}

// ---- ls, ps, inspect ----

TEST_F(ServiceCliTest, LsShowsModeReplicasAndCommand) {
  CliRun r = shoal({"service", "ls"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "ID             NAME      MODE         REPLICAS               COMMAND\n"
            "aaaaaaaaaaaa   agent     global       2/2                    agent --verbose\n"
            "wwwwwwwwwwww   web       replicated   2/3 (max 2 per node)   sleep 100\n");
  EXPECT_EQ(daemon.lines(), (std::vector<std::string>{"GET /services?status=true"}));

  r = shoal({"service", "ls", "-q", "--filter", "name=web", "-f", "mode=replicated"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "aaaaaaaaaaaa\nwwwwwwwwwwww\n") << "the fake daemon does not filter";
  EXPECT_EQ(daemon.lines().back(),
            "GET /services?filters={\"mode\":[\"replicated\"],\"name\":[\"web\"]}&status=true");

  r = shoal({"service", "ls", "--filter", "nameweb"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "bad format of filter (expected name=value): nameweb\n");
}

TEST_F(ServiceCliTest, PsListsTasksWithHistoryHostnamesAndStates) {
  daemon.tasks = json::array({
      make_task("t2bbbbbbbbbbbbbbbbbbbbbbb", kWebId, 2, "", "running", "pending", "2024-05-01T13:58:00.000000000Z",
                "2024-05-01T13:58:00.000000000Z", "no suitable node (1 node not available for new tasks)"),
      make_task("t1oldooooooooooooooooooooo", kWebId, 1, kNodeB, "shutdown", "failed", "2024-05-01T13:59:49.000000000Z",
                "2024-05-01T13:00:00.000000000Z", "task: non-zero exit (1)"),
      make_task("t1aaaaaaaaaaaaaaaaaaaaaaa", kWebId, 1, kNodeA, "running", "running", "2024-05-01T13:59:55.000000000Z",
                "2024-05-01T13:59:50.000000000Z"),
      make_task("t10aaaaaaaaaaaaaaaaaaaaaa", kWebId, 10, "ffffffffffffffff", "running", "running",
                "2024-05-01T12:00:00.000000000Z", "2024-05-01T12:00:00.000000000Z"),
  });
  CliRun r = shoal({"service", "ps", "web"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "ID             NAME        COMMAND     NODE               DESIRED STATE   CURRENT STATE           ERROR\n"
            "t1aaaaaaaaaa   web.1       sleep 100   alpha              Running         Running 5 seconds ago\n"
            "t1oldooooooo    \\_ web.1   sleep 100   beta               Shutdown        Failed 11 seconds ago   \"task: non-zero exit (1)\"\n"
            "t2bbbbbbbbbb   web.2       sleep 100                      Running         Pending 2 minutes ago   \"no suitable node (1 node not …\"\n"
            "t10aaaaaaaaa   web.10      sleep 100   ffffffffffffffff   Running         Running 2 hours ago\n")
      << "errors cut to 29 characters and an ellipsis, as docker's";
  EXPECT_EQ(daemon.lines(), (std::vector<std::string>{"GET /services/web",
                                                      "GET /tasks?filters={\"service\":[\"" + std::string(kWebId) + "\"]}",
                                                      "GET /nodes"}));

  r = shoal({"service", "ps", "--no-trunc", "-q", "--filter", "desired-state=running", "web"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "t1aaaaaaaaaaaaaaaaaaaaaaa\nt1oldooooooooooooooooooooo\nt2bbbbbbbbbbbbbbbbbbbbbbb\nt10aaaaaaaaaaaaaaaaaaaaaa\n");
  EXPECT_EQ(daemon.lines().back(), "GET /tasks?filters={\"desired-state\":[\"running\"],\"service\":[\"" +
                                       std::string(kWebId) + "\"]}")
      << "-q needs no node names";

  r = shoal({"service", "ps", "--no-trunc", "web"});
  EXPECT_NE(r.out.find("\"no suitable node (1 node not available for new tasks)\""), std::string::npos) << r.out;

  r = shoal({"service", "ps", "nope", "web"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "Error: No such service: nope\n");
  EXPECT_NE(r.out.find("web.10"), std::string::npos) << "the services found are listed";
  r = shoal({"service", "ps", "nope"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
}

TEST_F(ServiceCliTest, InspectPrintsJsonOrPretty) {
  CliRun r = shoal({"service", "inspect", "web", "nope"});
  EXPECT_EQ(r.code, 1);
  const json printed = json::parse(r.out);
  ASSERT_TRUE(printed.is_array());
  ASSERT_EQ(printed.size(), 1u);
  EXPECT_EQ(printed[0], web_service());
  EXPECT_EQ(r.err, "Error: No such service: nope\n");

  r = shoal({"service", "inspect", "--pretty", "web"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "ID:\t\twwwwwwwwwwww1111111111111\n"
            "Name:\t\tweb\n"
            "Labels:\n"
            " team=a\n"
            "Service Mode:\tReplicated\n"
            " Replicas:\t3\n"
            "Placement:\n"
            " Constraints:\t[node.role==worker]\n"
            " Preferences:\t[spread=node.labels.zone]\n"
            " Max Replicas Per Node:\t2\n"
            "RestartPolicy:\n"
            " Condition:\ton-failure\n"
            " Delay:\t\t5s\n"
            " MaxAttempts:\t3\n"
            " Window:\t1m0s\n"
            "ContainerSpec:\n"
            " Command:\tsleep 100\n"
            " Env:\t\tA=1\n"
            " Dir:\t\t/srv\n"
            " StopGracePeriod:\t10s\n"
            "Resources:\n"
            " Reservations:\n"
            "  CPU:\t\t0.5\n"
            "  Memory:\t64MiB\n"
            " Limits:\n"
            "  Memory:\t1GiB\n"
            "Endpoint Mode:\tvip\n");

  r = shoal({"service", "inspect", "--pretty", "agent"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Service Mode:\tGlobal\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" Command:\tagent\n Args:\t\t--verbose\n"), std::string::npos) << r.out;
}

// ---- scale, rm ----

TEST_F(ServiceCliTest, ScaleUpdatesReplicasAtTheServicesVersion) {
  const CliRun r = shoal({"service", "scale", "-d", "web=5", "agent=2", "nope=1"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "web scaled to 5\n");
  EXPECT_EQ(r.err,
            "agent: scale can only be used with replicated or replicated-job mode\n"
            "Error: No such service: nope\n");
  const auto sent = daemon.sent();
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(sent[0].line(), "GET /services/web");
  EXPECT_EQ(sent[1].line(), "POST /services/" + std::string(kWebId) + "/update?version=10");
  json expected = web_service()["Spec"];
  expected["Mode"]["Replicated"]["Replicas"] = 5;
  EXPECT_EQ(sent[1].body, expected) << "the whole Spec goes back, only Replicas changed";
  EXPECT_EQ(sent[2].line(), "GET /services/agent");
  EXPECT_EQ(sent[3].line(), "GET /services/nope");
}

TEST_F(ServiceCliTest, ScaleWaitsForConvergenceUnlessDetached) {
  daemon.task_script = {json::array({make_task("x1", kWebId, 1, kNodeA, "running", "running", "2024-05-01T13:59:59Z",
                                               "2024-05-01T13:59:59Z")})};
  const CliRun r = shoal({"service", "scale", "web=1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "web scaled to 1\noverall progress: 1 out of 1 tasks\n1/1: running\nverify: Service converged\n");
  EXPECT_EQ(daemon.lines().back(), tasks_target(kWebId));
}

// ---- update, rollback ----

std::string updated_tasks_target(const std::string& service_id) {
  return "GET /tasks?filters={\"_up-to-date\":[\"true\"],\"desired-state\":[\"running\"],\"service\":[\"" + service_id +
         "\"]}";
}

json web_task(int slot, const std::string& state) {
  return make_task("u" + std::to_string(slot) + state, kWebId, slot, kNodeA, "running", state,
                   "2024-05-01T13:59:59Z", "2024-05-01T13:59:59Z");
}

TEST_F(ServiceCliTest, UpdateSendsTheCurrentSpecChangedByEveryFlag) {
  const CliRun r = shoal({"service", "update", "-d", "--args", "serve '80 81'", "--env-add", "A=2", "--env-add", "C=3",
                          "--env-rm", "B", "--replicas", "4", "--constraint-add", "node.labels.zone==a",
                          "--constraint-rm", "node.role==worker", "--placement-pref-rm", "spread=node.labels.zone",
                          "--placement-pref-add", "spread=node.labels.rack", "--reserve-cpu", "1", "--limit-cpu", "2",
                          "--restart-condition", "any", "--restart-delay", "1s", "--restart-max-attempts", "0",
                          "--restart-window", "2m", "--force", "--update-parallelism", "2", "--update-delay", "1s",
                          "--update-failure-action", "rollback", "--update-monitor", "500ms",
                          "--update-max-failure-ratio", "0.5", "--update-order", "start-first",
                          "--rollback-parallelism", "0", "--rollback-delay", "0s", "--rollback-failure-action",
                          "continue", "--rollback-monitor", "1s", "--rollback-max-failure-ratio", "1",
                          "--rollback-order", "stop-first", "--health-cmd", "test -e /tmp/ok", "--health-interval",
                          "2s", "--health-timeout", "1s", "--health-retries", "2", "--health-start-period", "3s",
                          "web"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "web\n");
  const auto sent = daemon.sent();
  ASSERT_EQ(sent.size(), 2u) << "--detach: no waiting";
  EXPECT_EQ(sent[0].line(), "GET /services/web");
  EXPECT_EQ(sent[1].line(), "POST /services/" + std::string(kWebId) + "/update?version=10");
  json expected = web_service()["Spec"];
  expected.merge_patch(json::parse(R"({
    "TaskTemplate": {
      "ContainerSpec": {"Args": ["serve", "80 81"], "Env": ["A=2", "C=3"],
                        "Healthcheck": {"Test": ["CMD-SHELL", "test -e /tmp/ok"], "Interval": 2000000000,
                                        "Timeout": 1000000000, "Retries": 2, "StartPeriod": 3000000000}},
      "Resources": {"Limits": {"NanoCPUs": 2000000000}, "Reservations": {"NanoCPUs": 1000000000}},
      "RestartPolicy": {"Condition": "any", "Delay": 1000000000, "MaxAttempts": 0, "Window": 120000000000},
      "Placement": {"Constraints": ["node.labels.zone==a"],
                    "Preferences": [{"Spread": {"SpreadDescriptor": "node.labels.rack"}}]},
      "ForceUpdate": 1},
    "Mode": {"Replicated": {"Replicas": 4}},
    "UpdateConfig": {"Parallelism": 2, "Delay": 1000000000, "FailureAction": "rollback", "Monitor": 500000000,
                     "MaxFailureRatio": 0.5, "Order": "start-first"},
    "RollbackConfig": {"Parallelism": 0, "Delay": 0, "FailureAction": "continue", "Monitor": 1000000000,
                       "MaxFailureRatio": 1.0, "Order": "stop-first"}})"));
  EXPECT_EQ(sent[1].body, expected) << sent[1].body.dump(2);
}

TEST_F(ServiceCliTest, UpdateWithoutFlagsSendsTheSpecUnchangedAndNoHealthcheckDisablesIt) {
  CliRun r = shoal({"service", "update", "-d", "web"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(daemon.sent().back().body, web_service()["Spec"]);
  r = shoal({"service", "update", "-d", "--no-healthcheck", "--env-rm", "A", "--force", "web"});
  ASSERT_EQ(r.code, 0) << r.err;
  const json body = daemon.sent().back().body;
  EXPECT_EQ(body["TaskTemplate"]["ContainerSpec"]["Healthcheck"], json::parse(R"({"Test": ["NONE"]})"));
  EXPECT_FALSE(body["TaskTemplate"]["ContainerSpec"].contains("Env"));
  EXPECT_EQ(body["TaskTemplate"]["ForceUpdate"], 1);
  r = shoal({"service", "update", "-d", "--force", "web"});
  EXPECT_EQ(daemon.sent().back().body["TaskTemplate"]["ForceUpdate"], 2) << "each --force raises it again";
}

TEST_F(ServiceCliTest, UpdateRefusesBadFlagsBeforeSendingAnUpdate) {
  struct Case {
    std::vector<std::string> args;
    std::string err;
  };
  const Case cases[] = {
      {{"--update-failure-action", "explode", "web"},
       "invalid argument \"explode\" for \"--update-failure-action\" flag: must be \"pause\", \"continue\" or "
       "\"rollback\"\n"},
      {{"--rollback-failure-action", "rollback", "web"},
       "invalid argument \"rollback\" for \"--rollback-failure-action\" flag: must be \"pause\" or \"continue\"\n"},
      {{"--update-order", "random", "web"},
       "invalid argument \"random\" for \"--update-order\" flag: must be \"start-first\" or \"stop-first\"\n"},
      {{"--rollback-order", "first", "web"},
       "invalid argument \"first\" for \"--rollback-order\" flag: must be \"start-first\" or \"stop-first\"\n"},
      {{"--update-max-failure-ratio", "2", "web"},
       "invalid argument \"2\" for \"--update-max-failure-ratio\" flag: must be between 0 and 1\n"},
      {{"--rollback-max-failure-ratio", "half", "web"},
       "invalid argument \"half\" for \"--rollback-max-failure-ratio\" flag: not a number\n"},
      {{"--update-parallelism", "-1", "web"},
       "invalid argument \"-1\" for \"--update-parallelism\" flag: not a non-negative integer\n"},
      {{"--update-delay", "soon", "web"}, ""},
      {{"--update-monitor", "1 s", "web"}, ""},
      {{"--rollback-delay", "x", "web"}, ""},
      {{"--health-interval", "often", "web"}, ""},
      {{"--health-retries", "many", "web"},
       "invalid argument \"many\" for \"--health-retries\" flag: not a non-negative integer\n"},
      {{"--no-healthcheck", "--health-cmd", "true", "web"}, "--no-healthcheck conflicts with --health-* options\n"},
      {{"--args", "'unterminated", "web"}, ""},
      {{"--rollback", "--replicas", "2", "web"}, "other flags may not be combined with --rollback\n"},
      {{"--replicas", "2", "agent"}, "replicas can only be used with replicated or replicated-job mode\n"},
      {{"--placement-pref-add", "pack=x", "web"}, ""},
      {{"--timeout", "0s", "web"}, "invalid argument \"0s\" for \"--timeout\" flag: must be positive\n"},
      {{"nope"}, "Error: No such service: nope\n"},
      {{}, ""},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args{"service", "update"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    const CliRun r = shoal(args);
    EXPECT_EQ(r.code, 1) << args.back();
    if (!c.err.empty()) {
      EXPECT_EQ(r.err, c.err);
    }
    EXPECT_FALSE(r.err.empty());
    EXPECT_EQ(r.out, "");
  }
  EXPECT_EQ(daemon.count("POST", "/services/" + std::string(kWebId) + "/update"), 0u);
}

TEST_F(ServiceCliTest, CreateSendsUpdatePoliciesAndHealthcheck) {
  const CliRun r = shoal({"service", "create", "-d", "--name", "h", "--update-parallelism", "3", "--update-order",
                          "start-first", "--rollback-monitor", "2s", "--health-cmd", "curl -f localhost",
                          "--health-retries", "5", "sleep", "100"});
  ASSERT_EQ(r.code, 0) << r.err;
  const json body = daemon.sent().back().body;
  EXPECT_EQ(body["UpdateConfig"], json::parse(R"({"Parallelism": 3, "Order": "start-first"})"))
      << "only what was given: the daemon fills in the rest";
  EXPECT_EQ(body["RollbackConfig"], json::parse(R"({"Monitor": 2000000000})"));
  EXPECT_EQ(body["TaskTemplate"]["ContainerSpec"]["Healthcheck"],
            json::parse(R"({"Test": ["CMD-SHELL", "curl -f localhost"], "Retries": 5})"));
  const CliRun plain = shoal({"service", "create", "-d", "sleep", "1"});
  ASSERT_EQ(plain.code, 0);
  EXPECT_FALSE(daemon.sent().back().body.contains("UpdateConfig"));
  EXPECT_FALSE(daemon.sent().back().body["TaskTemplate"]["ContainerSpec"].contains("Healthcheck"));
}

TEST_F(ServiceCliTest, RollbackAsksForThePreviousSpec) {
  daemon.services[0]["PreviousSpec"] = web_service()["Spec"];
  CliRun r = shoal({"service", "rollback", "-d", "web"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "web\n");
  EXPECT_EQ(daemon.sent().back().line(), "POST /services/" + std::string(kWebId) + "/update?rollback=previous&version=10");
  r = shoal({"service", "update", "--rollback", "-d", "web"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(daemon.sent().back().line(), "POST /services/" + std::string(kWebId) + "/update?rollback=previous&version=11");
  r = shoal({"service", "rollback", "agent"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "Error response from daemon: service web does not have a previous spec\n");
}

TEST_F(ServiceCliTest, UpdateShowsProgressOfTasksOfTheNewSpecUntilTheUpdateCompletes) {
  daemon.update_status_script = {json::parse(R"({"State": "updating", "Message": "update in progress"})"),
                                 json::parse(R"({"State": "updating", "Message": "update in progress"})"),
                                 json::parse(R"({"State": "updating", "Message": "update in progress"})"),
                                 json::parse(R"({"State": "completed", "Message": "update completed"})")};
  daemon.task_script = {
      json::array({web_task(1, "starting")}),
      json::array({web_task(1, "running"), web_task(2, "running"), web_task(3, "running")}),
  };
  const CliRun r = shoal({"service", "update", "--args", "x", "web"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "web\n"
            "overall progress: 0 out of 3 tasks\n"
            "1/3: starting\n"
            "overall progress: 3 out of 3 tasks\n"
            "1/3: running\n"
            "2/3: running\n"
            "3/3: running\n"
            "verify: Service converged\n")
      << "every task runs, but converged only once the update completed (its monitor period)";
  EXPECT_EQ(daemon.count("GET", "/tasks"), 3u);
  EXPECT_EQ(daemon.lines().back(), updated_tasks_target(kWebId));
}

TEST_F(ServiceCliTest, APausedUpdateSaysWhyAndFails) {
  // One answer per GET /services/web: the update's own, the wait's first, then one per poll.
  daemon.update_status_script = {
      json::parse(R"({"State": "updating", "Message": "update in progress"})"),
      json::parse(R"({"State": "updating", "Message": "update in progress"})"),
      json::parse(R"({"State": "paused", "Message": "update paused due to failure or early termination of task t9"})")};
  daemon.task_script = {json::array({web_task(1, "starting")}), json::array({web_task(1, "failed")})};
  const CliRun r = shoal({"service", "update", "--args", "x", "web"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "web\noverall progress: 0 out of 3 tasks\n1/3: starting\n1/3: failed\n");
  EXPECT_EQ(r.err, "service update paused: update paused due to failure or early termination of task t9\n");
}

TEST_F(ServiceCliTest, AnUpdateRolledBackWaitsForTheRollbackThenFails) {
  const std::string why = "update rolled back due to failure or early termination of task t9";
  daemon.update_status_script = {
      json::parse(R"({"State": "updating", "Message": "update in progress"})"),
      json::parse(R"({"State": "updating", "Message": "update in progress"})"),
      json{{"State", "rollback_started"}, {"Message", why}},
      json{{"State", "rollback_started"}, {"Message", why}},
      json::parse(R"({"State": "rollback_completed", "Message": "rollback completed"})")};
  daemon.task_script = {json::array({web_task(1, "failed")}), json::array({web_task(1, "running")}),
                        json::array({web_task(1, "running"), web_task(2, "running"), web_task(3, "running")})};
  const CliRun r = shoal({"service", "update", "--args", "x", "web"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out,
            "web\n"
            "overall progress: 0 out of 3 tasks\n"
            "1/3: failed\n"
            "rollback: " + why + "\n"
            "overall progress: rolling back update: 1 out of 3 tasks\n"
            "1/3: running\n"
            "overall progress: rolling back update: 3 out of 3 tasks\n"
            "2/3: running\n"
            "3/3: running\n"
            "verify: Service converged\n");
  EXPECT_EQ(r.err, "service rolled back: " + why + "\n");
}

TEST_F(ServiceCliTest, ServiceRollbackShowsTheRollbackAndSucceeds) {
  daemon.services[0]["PreviousSpec"] = web_service()["Spec"];
  daemon.update_status_script = {
      json::parse(R"({"State": "rollback_started", "Message": "manually requested rollback"})"),
      json::parse(R"({"State": "rollback_started", "Message": "manually requested rollback"})"),
      json::parse(R"({"State": "rollback_completed", "Message": "rollback completed"})")};
  daemon.task_script = {json::array({web_task(1, "running"), web_task(2, "running"), web_task(3, "running")})};
  const CliRun r = shoal({"service", "rollback", "web"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "web\n"
            "rollback: manually requested rollback\n"
            "overall progress: rolling back update: 3 out of 3 tasks\n"
            "1/3: running\n"
            "2/3: running\n"
            "3/3: running\n"
            "verify: Service converged\n");
}

TEST_F(ServiceCliTest, InspectPrettyShowsTheUpdateStatusAndPolicies) {
  json& web = daemon.services[0];
  web["UpdateStatus"] = json::parse(R"({"State": "paused", "StartedAt": "2024-05-01T13:58:00Z",
                                        "Message": "update paused due to failure or early termination of task t9"})");
  web["Spec"]["UpdateConfig"] = json::parse(R"({"Parallelism": 2, "Delay": 10000000000, "FailureAction": "pause",
                                                "Monitor": 5000000000, "MaxFailureRatio": 0.2, "Order": "start-first"})");
  web["Spec"]["RollbackConfig"] = json::parse(R"({"Parallelism": 1, "Delay": 0, "FailureAction": "continue",
                                                  "Monitor": 0, "MaxFailureRatio": 0, "Order": "stop-first"})");
  web["Spec"]["TaskTemplate"]["ContainerSpec"]["Healthcheck"] =
      json::parse(R"({"Test": ["CMD-SHELL", "true"], "Interval": 1000000000, "Retries": 3})");
  const CliRun r = shoal({"service", "inspect", "--pretty", "web"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* part : {" Replicas:\t3\n"
                           "UpdateStatus:\n"
                           " State:\t\tpaused\n"
                           " Started:\t2 minutes ago\n"
                           " Message:\tupdate paused due to failure or early termination of task t9\n"
                           "Placement:\n",
                           " Window:\t1m0s\n"
                           "UpdateConfig:\n"
                           " Parallelism:\t2\n"
                           " Delay:\t\t10s\n"
                           " On failure:\tpause\n"
                           " Monitoring Period: 5s\n"
                           " Max failure ratio: 0.2\n"
                           " Update order:      start-first\n"
                           "RollbackConfig:\n"
                           " Parallelism:\t1\n"
                           " On failure:\tcontinue\n"
                           " Max failure ratio: 0\n"
                           " Rollback order:    stop-first\n"
                           "ContainerSpec:\n",
                           " StopGracePeriod:\t10s\n"
                           " Healthcheck:\n"
                           "  Test:\t\tCMD-SHELL true\n"
                           "  Interval:\t1s\n"
                           "  Retries:\t3\n"}) {
    EXPECT_NE(r.out.find(part), std::string::npos) << part << "\n---\n" << r.out;
  }
}

TEST_F(ServiceCliTest, ScaleRefusesBadSpecifiersBeforeScalingAnything) {
  for (const char* bad : {"web", "=3", "web=", "web=three"}) {
    const CliRun r = shoal({"service", "scale", "-d", "api=2", bad});
    EXPECT_EQ(r.code, 1) << bad;
    EXPECT_FALSE(r.err.empty()) << bad;
  }
  EXPECT_EQ(shoal({"service", "scale", "web"}).err.rfind("Invalid scale specifier 'web'.", 0), 0u);
  EXPECT_TRUE(daemon.sent().empty());
}

TEST_F(ServiceCliTest, RmRemovesEachAndReportsFailures) {
  const CliRun r = shoal({"service", "rm", "web", "nope", "agent"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "web\nagent\n");
  EXPECT_EQ(r.err, "Error: No such service: nope\n");
  EXPECT_EQ(daemon.lines(),
            (std::vector<std::string>{"DELETE /services/web", "DELETE /services/nope", "DELETE /services/agent"}));
}

// ---- logs ----

TEST_F(ServiceCliTest, LogsPrintsTheDaemonsLinesAndSendsWarningsToStderr) {
  daemon.logs_text =
      "web.1.tttttttttttt@alpha    | hello\n"
      "web.2.uuuuuuuuuuuu@beta    | warning: not ours, a task's own line\n"
      "warning: no logs from 1 task (node gamma is down): web.3.vvvvvvvvvvvv@gamma\n";
  CliRun r = shoal({"service", "logs", "web"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "web.1.tttttttttttt@alpha    | hello\n"
            "web.2.uuuuuuuuuuuu@beta    | warning: not ours, a task's own line\n");
  EXPECT_EQ(r.err, "warning: no logs from 1 task (node gamma is down): web.3.vvvvvvvvvvvv@gamma\n");
  EXPECT_EQ(daemon.lines(), (std::vector<std::string>{"GET /services/web",
                                                      "GET /services/" + std::string(kWebId) +
                                                          "/logs?stderr=1&stdout=1&tail=all"}));
}

TEST_F(ServiceCliTest, LogsOfATaskWithTail) {
  daemon.tasks = json::array({make_task("tttttttttttt0000000000000", kWebId, 1, kNodeA, "running", "running",
                                        "2024-05-01T13:00:00.000000000Z", "2024-05-01T13:00:00.000000000Z")});
  daemon.logs_text = "web.1.tttttttttttt@alpha    | last\n";
  CliRun r = shoal({"service", "logs", "--tail", "1", "tttttttttttt0000000000000"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "web.1.tttttttttttt@alpha    | last\n");
  EXPECT_EQ(daemon.lines(), (std::vector<std::string>{"GET /services/tttttttttttt0000000000000",
                                                      "GET /tasks/tttttttttttt0000000000000",
                                                      "GET /tasks/tttttttttttt0000000000000/logs?stderr=1&stdout=1&tail=1"}));
  r = shoal({"service", "logs", "-n", "5", "web"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(daemon.lines().back(), "GET /services/" + std::string(kWebId) + "/logs?stderr=1&stdout=1&tail=5");
}

TEST_F(ServiceCliTest, LogsOfNothingKnownOrRefusedSaysWhy) {
  CliRun r = shoal({"service", "logs", "nope"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "Error: No such service or task: nope\n");
  EXPECT_EQ(r.out, "");
  r = shoal({"service", "logs", "--follow", "web"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "Error response from daemon: follow is not supported\n");
  r = shoal({"service", "logs"});
  EXPECT_EQ(r.code, 1) << "SERVICE|TASK is required";
  const size_t sent = daemon.sent().size();
  r = shoal({"service", "logs", "--no-such-flag", "web"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(daemon.sent().size(), sent) << "a usage error sends nothing";
}

// ---- node update ----

TEST_F(ServiceCliTest, NodeUpdateEditsTheSpecClientSide) {
  CliRun r = shoal({"node", "update", "--availability", "drain", "--label-add", "zone=b", "--label-add", "rack=r1",
                    "--label-rm", "old", kNodeA});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, std::string(kNodeA) + "\n");
  auto sent = daemon.sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].line(), "GET /nodes/" + std::string(kNodeA));
  EXPECT_EQ(sent[1].line(), "POST /nodes/" + std::string(kNodeA) + "/update?version=12");
  EXPECT_EQ(sent[1].body, json::parse(R"({"Labels": {"rack": "r1", "zone": "b"}, "Role": "worker",
                                          "Availability": "drain"})"));

  r = shoal({"node", "update", "--label-rm", "nope", kNodeB});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "key nope doesn't exist in node's labels\n");
  EXPECT_EQ(daemon.sent().size(), 3u) << "read, but not updated";

  r = shoal({"node", "update", "--availability", "asleep", kNodeB});
  EXPECT_EQ(r.code, 1) << "a usage error";
  EXPECT_EQ(daemon.sent().size(), 3u);

  r = shoal({"node", "update", "--label-add", "flag", "ffffffffffffffff"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "Error: No such node: ffffffffffffffff\n");
}

TEST(ServiceCli, UsageErrors) {
  std::ostringstream out, err;
  std::istringstream in;
  CliIo io{out, err, in, false, nullptr, nullptr};
  const char* group[] = {"shoal", "service"};
  EXPECT_EQ(run_cli(2, group, io, std::nullopt), 1);
  const char* ps[] = {"shoal", "service", "ps"};
  EXPECT_EQ(run_cli(3, ps, io, std::nullopt), 1);
  EXPECT_NE(err.str().find("SERVICE"), std::string::npos) << err.str();
  const char* help[] = {"shoal", "service", "create", "--help"};
  std::ostringstream help_out;
  CliIo help_io{help_out, err, in, false, nullptr, nullptr};
  EXPECT_EQ(run_cli(4, help, help_io, std::nullopt), 0);
  EXPECT_NE(help_out.str().find("--restart-condition"), std::string::npos);
}

}  // namespace
}  // namespace shoal::real
