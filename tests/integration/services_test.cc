// Services on real shoald processes on loopback, with the process runtime: tasks spread over the
// nodes, a killed worker's tasks reappear elsewhere, scaling, draining, a task that fits nowhere
// says why, and bad input changes nothing.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <map>
#include <set>

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

  static std::string url_encode(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
        out += static_cast<char>(c);
      } else {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%%%02X", c);
        out += buf;
      }
    }
    return out;
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
  auto services = h.get_json(*m, "/v1.41/services");
  ASSERT_TRUE(services.is_array());
  EXPECT_TRUE(services.empty()) << services.dump();
  EXPECT_TRUE(h.get_json(*m, "/v1.41/tasks").empty());
}

}  // namespace
}  // namespace shoal::integration
