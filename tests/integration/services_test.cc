// Services on real shoald processes on loopback, with the process runtime: tasks spread over the
// nodes, a killed worker's tasks reappear elsewhere, scaling, draining, a task that fits nowhere
// says why, bad input changes nothing, `service logs` reaches the workers, constraints and spread
// preferences place tasks, and a global service follows its nodes' availability.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <tuple>

#include "tests/integration/cluster_harness.h"

namespace shoal::integration {
namespace {
using namespace std::chrono_literals;
using nlohmann::json;

json service_spec(const std::string& name, int replicas, std::vector<std::string> constraints = {}) {
  json spec = {{"Name", name},
               {"TaskTemplate", {{"ContainerSpec", {{"Command", {"/bin/sleep", "300"}}}},
                                 {"RestartPolicy", {{"Condition", "any"}, {"Delay", 0}}}}},
               {"Mode", {{"Replicated", {{"Replicas", replicas}}}}}};
  if (!constraints.empty()) spec["TaskTemplate"]["Placement"]["Constraints"] = constraints;
  return spec;
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }
int line_count(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

class ServicesTest : public ::testing::Test {
 protected:
  // A manager and two workers.
  void form() {
    m = &h.init("m");
    const std::string token = h.worker_token(*m);
    ASSERT_FALSE(token.empty()) << h.read_log(*m);
    w1 = &h.join("w1", token, *m);
    w2 = &h.join("w2", token, *m);
    ASSERT_TRUE(eventually([&] { return ready_nodes() == 3; }, 20s)) << h.get_json(*m, "/nodes").dump();
    for (auto* n : {m, w1, w2}) hostname_of[h.node_id(*n)] = n->name;
  }

  int ready_nodes() {
    auto nodes = h.get_json(*m, "/nodes");
    int ready = 0;
    if (nodes.is_array()) {
      for (const auto& n : nodes) ready += n["Status"].value("State", "") == "ready";
    }
    return ready;
  }

  std::string create(const json& spec) {
    auto r = h.call(*m, "POST", "/v1.41/services/create", spec.dump());
    EXPECT_TRUE(r.has_value());
    if (!r) return "";
    EXPECT_EQ(r->status, 201) << r->body;
    auto body = json::parse(r->body, nullptr, false);
    return body.is_object() ? body.value("ID", "") : "";
  }

  // Running tasks of a service that are meant to run, by node name.
  std::map<std::string, int> running(const std::string& service) {
    std::map<std::string, int> out;
    auto tasks = h.get_json(*m, "/v1.41/tasks?filters=" + url_encode(json{{"service", {service}}}.dump()));
    if (!tasks.is_array()) return out;
    for (const auto& t : tasks) {
      if (t.value("DesiredState", "") == "running" && t["Status"].value("State", "") == "running") {
        ++out[hostname_of[t.value("NodeID", "")]];
      }
    }
    return out;
  }
  int running_total(const std::string& service) {
    int n = 0;
    for (const auto& [node, count] : running(service)) n += count;
    return n;
  }

  void update_replicas(const std::string& service, int replicas) {
    auto svc = h.get_json(*m, "/v1.41/services/" + service);
    ASSERT_TRUE(svc.is_object());
    json spec = svc["Spec"];
    spec["Mode"]["Replicated"]["Replicas"] = replicas;
    const std::string version = std::to_string(svc["Version"]["Index"].get<uint64_t>());
    auto r = h.call(*m, "POST", "/v1.41/services/" + service + "/update?version=" + version, spec.dump());
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->status, 200) << r->body;
  }

  // `shoal node update --label-add zone=Z` on each named node.
  void label_zones(const std::map<NodeProc*, std::string>& zones) {
    for (const auto& [n, zone] : zones) {
      auto [rc, out] = h.cli(*m, {"node", "update", "--label-add", "zone=" + zone, h.node_id(*n)});
      ASSERT_EQ(rc, 0) << out;
    }
  }

  // `shoal service create -d ...`; the service's id.
  std::string cli_create(std::vector<std::string> args) {
    args.insert(args.begin(), {"service", "create", "-d"});
    auto [rc, out] = h.cli(*m, args);
    EXPECT_EQ(rc, 0) << out;
    return first_line(out);
  }

  ClusterHarness h;
  NodeProc* m = nullptr;
  NodeProc* w1 = nullptr;
  NodeProc* w2 = nullptr;
  std::map<std::string, std::string> hostname_of;  // node id -> harness name
};

TEST_F(ServicesTest, ReplicasSpreadOverTheNodesAndAKilledWorkersTaskReappearsElsewhere) {
  form();
  const std::string id = create(service_spec("web", 3));
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(eventually([&] { return running_total(id) == 3; }, 20s)) << h.get_json(*m, "/v1.41/tasks").dump();
  auto spread = running(id);
  EXPECT_EQ(spread["m"], 1);
  EXPECT_EQ(spread["w1"], 1);
  EXPECT_EQ(spread["w2"], 1);

  const auto killed_at = std::chrono::steady_clock::now();
  h.kill(*w1, SIGKILL);
  ASSERT_TRUE(eventually(
      [&] {
        auto r = running(id);
        return r["w1"] == 0 && r["m"] + r["w2"] == 3;
      },
      20s))
      << h.get_json(*m, "/v1.41/tasks").dump();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed_at).count();
  std::printf("worker killed -> its task running elsewhere: %.2f s\n", seconds);
}

TEST_F(ServicesTest, ScalingUpAndDownAndDrainingANode) {
  form();
  const std::string id = create(service_spec("api", 2));
  ASSERT_TRUE(eventually([&] { return running_total(id) == 2; }, 20s));
  update_replicas(id, 6);
  ASSERT_TRUE(eventually([&] { return running_total(id) == 6; }, 20s));
  for (const auto& [node, count] : running(id)) EXPECT_EQ(count, 2) << node;
  update_replicas(id, 1);
  ASSERT_TRUE(eventually([&] { return running_total(id) == 1; }, 20s));
  update_replicas(id, 3);
  ASSERT_TRUE(eventually([&] { return running_total(id) == 3; }, 20s));

  auto [rc, out] = h.cli(*m, {"node", "update", "--availability", "drain", "w2"});
  ASSERT_EQ(rc, 0) << out;
  ASSERT_TRUE(eventually(
      [&] {
        auto r = running(id);
        return r["w2"] == 0 && running_total(id) == 3;
      },
      20s))
      << h.get_json(*m, "/v1.41/tasks").dump();
}

TEST_F(ServicesTest, ATaskThatFitsNowhereStaysPendingAndSaysWhy) {
  form();
  const std::string id = create(service_spec("picky", 1, {"node.labels.zone==nowhere"}));
  std::string err;
  ASSERT_TRUE(eventually(
      [&] {
        auto tasks = h.get_json(*m, "/v1.41/tasks");
        if (!tasks.is_array() || tasks.empty()) return false;
        err = tasks[0]["Status"].value("Err", "");
        return tasks[0]["Status"].value("State", "") == "pending" && !err.empty();
      },
      20s));
  EXPECT_EQ(err, "no suitable node (scheduling constraints not satisfied on 3 nodes)");
}

TEST_F(ServicesTest, ALeaderKilledDuringAScaleUpDoesNotStopTheServiceConverging) {
  // Three managers; no workers.
  NodeProc* m1 = &h.init("m1");
  const std::string token = h.manager_token(*m1);
  NodeProc* m2 = &h.join("m2", token, *m1);
  NodeProc* m3 = &h.join("m3", token, *m1);
  m = m1;
  ASSERT_TRUE(eventually([&] { return ready_nodes() == 3; }, 20s)) << h.get_json(*m1, "/nodes").dump();
  for (auto* n : {m1, m2, m3}) hostname_of[h.node_id(*n)] = n->name;
  const std::string id = create(service_spec("web", 3));
  ASSERT_TRUE(eventually([&] { return running_total(id) == 3; }, 20s));

  // The survivors' own tasks must stay where they are: only the dead node's move.
  std::set<std::string> survivors_tasks;
  for (const auto& t : h.get_json(*m1, "/v1.41/tasks")) {
    if (t.value("NodeID", "") != h.node_id(*m1) && t["Status"].value("State", "") == "running") {
      survivors_tasks.insert(t.value("ID", ""));
    }
  }
  ASSERT_EQ(survivors_tasks.size(), 2u);
  update_replicas(id, 9);
  h.kill(*m1, SIGKILL);  // the leader (it founded the cluster and nothing moved it)
  m = m2;                // ask a survivor from now on
  ASSERT_TRUE(eventually(
      [&] {
        auto r = running(id);
        return r["m1"] == 0 && r["m2"] + r["m3"] == 9;
      },
      30s))
      << h.get_json(*m2, "/v1.41/tasks").dump();
  for (const auto& t : h.get_json(*m2, "/v1.41/tasks")) {
    if (survivors_tasks.count(t.value("ID", ""))) {
      EXPECT_EQ(t.value("DesiredState", ""), "running") << "a live manager's task was moved: " << t.dump();
    }
  }
}

TEST_F(ServicesTest, BadInputIsRefusedAndChangesNothing) {
  form();
  auto r = h.call(*m, "POST", "/v1.41/services/create", service_spec("bad", 1, {"node.labels.zone~east"}).dump());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_NE(r->body.find("node.labels.zone~east"), std::string::npos) << r->body;
  auto [rc, out] = h.cli(*m, {"service", "create", "--replicas", "two", "--", "/bin/sleep", "1"});
  EXPECT_NE(rc, 0);
  // Through the CLI: an unknown flag (refused before anything is sent) and a bad constraint
  // (refused by the daemon), each in one line (CLI11 adds its "Run with --help" hint).
  std::tie(rc, out) = h.cli(*m, {"service", "create", "--no-such-flag", "--name", "x", "/bin/sleep", "1"});
  EXPECT_NE(rc, 0) << out;
  EXPECT_EQ(first_line(out).find("--no-such-flag") != std::string::npos, true) << out;
  EXPECT_LE(line_count(out), 2) << out;
  std::tie(rc, out) = h.cli(*m, {"service", "create", "-d", "--name", "y", "--constraint", "node.labels.zone~a",
                                 "/bin/sleep", "1"});
  EXPECT_NE(rc, 0) << out;
  EXPECT_EQ(line_count(out), 1) << out;
  EXPECT_EQ(out.rfind("Error response from daemon: ", 0), 0u) << out;
  EXPECT_NE(out.find("node.labels.zone~a"), std::string::npos) << out;
  auto services = h.get_json(*m, "/v1.41/services");
  ASSERT_TRUE(services.is_array());
  EXPECT_TRUE(services.empty()) << services.dump();
  EXPECT_TRUE(h.get_json(*m, "/v1.41/tasks").empty());
}

TEST_F(ServicesTest, LogsShowWhatTasksPrintedOnWorkersAndWarnAboutADeadNode) {
  form();
  const std::string id =
      cli_create({"--name", "echo", "--replicas", "2", "--constraint", "node.role==worker", "/bin/sh", "-c",
                  "echo hello-from-task; echo second line; sleep 60"});
  ASSERT_TRUE(eventually([&] { return running_total(id) == 2; }, 20s)) << h.get_json(*m, "/v1.41/tasks").dump();
  std::string out;
  int rc = -1;
  // A task writes its lines a moment after it runs.
  ASSERT_TRUE(eventually(
      [&] {
        std::tie(rc, out) = h.cli(*m, {"service", "logs", "echo"});
        return rc == 0 && std::count(out.begin(), out.end(), '\n') == 4;
      },
      10s))
      << rc << "\n" << out;
  for (const char* worker : {"w1", "w2"}) {
    EXPECT_NE(out.find("@" + std::string(worker) + "    | hello-from-task\n"), std::string::npos) << out;
    EXPECT_NE(out.find("@" + std::string(worker) + "    | second line\n"), std::string::npos) << out;
  }
  EXPECT_EQ(out.rfind("echo.1.", 0), 0u) << "docker's prefix: service.slot.task@host\n" << out;

  std::tie(rc, out) = h.cli(*m, {"service", "logs", "--tail", "1", "echo"});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(line_count(out), 2) << out;
  EXPECT_EQ(out.find("hello-from-task"), std::string::npos) << "only the last line of each task\n" << out;

  // One task by id.
  std::string prefix;  // of the task on w1
  std::string task_on_w1;
  for (const auto& t : h.get_json(*m, "/v1.41/tasks")) {
    if (hostname_of[t.value("NodeID", "")] != "w1") continue;
    task_on_w1 = t.value("ID", "");
    prefix = "echo." + std::to_string(t.value("Slot", 0)) + "." + task_on_w1.substr(0, 12) + "@w1    | ";
  }
  ASSERT_FALSE(task_on_w1.empty());
  std::tie(rc, out) = h.cli(*m, {"service", "logs", task_on_w1});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(out, prefix + "hello-from-task\n" + prefix + "second line\n");

  // A dead worker: a warning names its task; the other worker's lines still come.
  h.kill(*w2, SIGKILL);
  ASSERT_TRUE(eventually(
      [&] {
        std::tie(rc, out) = h.cli(*m, {"service", "logs", "echo"});
        return out.find("warning: no logs from") != std::string::npos;
      },
      10s))
      << out;
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("@w1    | hello-from-task\n"), std::string::npos) << out;
  EXPECT_NE(out.find("(node w2"), std::string::npos) << out;
}

TEST_F(ServicesTest, ConstraintsPutTasksOnMatchingNodesOnly) {
  form();
  label_zones({{m, "b"}, {w1, "a"}, {w2, "a"}});
  const std::string in_a = cli_create({"--name", "in-a", "--replicas", "4", "--constraint", "node.labels.zone==a",
                                       "/bin/sleep", "300"});
  const std::string on_manager =
      cli_create({"--name", "on-manager", "--replicas", "2", "--constraint", "node.role==manager", "/bin/sleep", "300"});
  ASSERT_TRUE(eventually([&] { return running_total(in_a) == 4 && running_total(on_manager) == 2; }, 20s))
      << h.get_json(*m, "/v1.41/tasks").dump();
  auto a = running(in_a);
  EXPECT_EQ(a["m"], 0);
  EXPECT_EQ(a["w1"], 2);
  EXPECT_EQ(a["w2"], 2);
  EXPECT_EQ(running(on_manager), (std::map<std::string, int>{{"m", 2}}));
}

TEST_F(ServicesTest, SpreadOverZonesPutsHalfTheTasksInEachZone) {
  form();
  label_zones({{m, "a"}, {w1, "b"}, {w2, "b"}});
  const std::string id = cli_create({"--name", "spread", "--replicas", "4", "--placement-pref",
                                     "spread=node.labels.zone", "/bin/sleep", "300"});
  ASSERT_TRUE(eventually([&] { return running_total(id) == 4; }, 20s)) << h.get_json(*m, "/v1.41/tasks").dump();
  auto r = running(id);
  EXPECT_EQ(r["m"], 2) << "zone a has one node";
  EXPECT_EQ(r["w1"] + r["w2"], 2) << "zone b";
}

TEST_F(ServicesTest, AGlobalServiceRunsOneTaskPerNodeAndFollowsDrainAndActive) {
  form();
  const std::string id = cli_create({"--name", "everywhere", "--mode", "global", "/bin/sleep", "300"});
  const std::map<std::string, int> all{{"m", 1}, {"w1", 1}, {"w2", 1}};
  ASSERT_TRUE(eventually([&] { return running(id) == all; }, 20s)) << h.get_json(*m, "/v1.41/tasks").dump();

  auto [rc, out] = h.cli(*m, {"node", "update", "--availability", "drain", h.node_id(*w2)});
  ASSERT_EQ(rc, 0) << out;
  const std::map<std::string, int> without_w2{{"m", 1}, {"w1", 1}};
  ASSERT_TRUE(eventually([&] { return running(id) == without_w2; }, 20s)) << h.get_json(*m, "/v1.41/tasks").dump();

  std::tie(rc, out) = h.cli(*m, {"node", "update", "--availability", "active", h.node_id(*w2)});
  ASSERT_EQ(rc, 0) << out;
  ASSERT_TRUE(eventually([&] { return running(id) == all; }, 20s)) << h.get_json(*m, "/v1.41/tasks").dump();
}

}  // namespace
}  // namespace shoal::integration
