// Cluster lifecycle on real processes: autolock and unlock, promote and demote, and recovering
// a manager that lost quorum with --force-new-cluster.
#include <gtest/gtest.h>
#include <signal.h>

#include <regex>

#include "tests/integration/cluster_harness.h"

namespace shoal::integration {
namespace {
using namespace std::chrono_literals;
using nlohmann::json;

std::string config(const std::string& name) { return json{{"Name", name}, {"Data", "eA=="}}.dump(); }

int manager_count(ClusterHarness& h, const NodeProc& n) {
  auto nodes = h.get_json(n, "/nodes");
  if (!nodes.is_array()) return -1;
  int managers = 0;
  for (const auto& node : nodes) managers += node.contains("ManagerStatus");
  return managers;
}

TEST(LifecycleTest, AutolockedManagerStaysSealedUntilUnlocked) {
  ClusterHarness h;
  NodeProc& m1 = h.init("m1", {"--autolock"});
  ASSERT_EQ(h.call(m1, "POST", "/configs/create", config("kept"))->status, 201);
  std::smatch m;
  const std::string log = h.read_log(m1);
  ASSERT_TRUE(std::regex_search(log, m, std::regex("SWMKEY-1-[A-Za-z0-9+/=]{44}"))) << log;
  const std::string key = m.str(0);
  EXPECT_FALSE(std::filesystem::exists(m1.data_dir + "/unlock.key"));

  h.kill(m1, SIGKILL);
  h.restart(m1);
  auto info = h.get_json(m1, "/info");
  ASSERT_TRUE(info.is_object());
  EXPECT_EQ(info["Swarm"]["LocalNodeState"], "locked");
  auto refused = h.call(m1, "GET", "/configs");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  EXPECT_NE(refused->body.find("unlock"), std::string::npos);

  auto wrong = h.call(m1, "POST", "/swarm/unlock", json{{"UnlockKey", "SWMKEY-1-" + std::string(43, 'A') + "="}}.dump());
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 400) << wrong->body;
  EXPECT_EQ(h.get_json(m1, "/info")["Swarm"]["LocalNodeState"], "locked");

  auto right = h.call(m1, "POST", "/swarm/unlock", json{{"UnlockKey", key}}.dump());
  ASSERT_TRUE(right);
  EXPECT_EQ(right->status, 200) << right->body;
  EXPECT_TRUE(eventually([&] { return h.get_json(m1, "/configs/kept").is_object(); }, 10s)) << h.read_log(m1);
  // The unlock key is readable by the API, for `shoal swarm unlock-key`.
  EXPECT_EQ(h.get_json(m1, "/swarm/unlockkey")["UnlockKey"], key);
}

TEST(LifecycleTest, PromoteAndDemoteChangeTheCertificateAndRaftMembership) {
  ClusterHarness h;
  NodeProc& m1 = h.init("m1");
  NodeProc& w1 = h.join("w1", h.worker_token(m1), m1);
  const std::string w1_id = h.node_id(w1);
  ASSERT_FALSE(w1_id.empty()) << h.read_log(w1);
  // A worker's API has no cluster state.
  EXPECT_EQ(h.call(w1, "GET", "/nodes")->status, 503);

  auto update = [&](const std::string& role) {
    auto node = h.get_json(m1, "/nodes/" + w1_id);
    json spec = node["Spec"];
    spec["Role"] = role;
    return h.call(m1, "POST", "/nodes/" + w1_id + "/update?version=" + std::to_string(node["Version"]["Index"].get<uint64_t>()),
                  spec.dump());
  };
  {
    auto promoted = update("manager");
    ASSERT_EQ(promoted->status, 200) << promoted->body;
  }
  ASSERT_TRUE(eventually([&] { return manager_count(h, m1) == 2 && h.get_json(w1, "/nodes").is_array(); }, 20s))
      << h.read_log(w1);
  // The promoted node takes writes.
  EXPECT_TRUE(eventually([&] { auto r = h.call(w1, "POST", "/configs/create", config("via-w1")); return r && r->status == 201; }, 10s));

  ASSERT_TRUE(eventually([&] { auto r = update("worker"); return r && r->status == 200; }, 10s));
  ASSERT_TRUE(eventually([&] { return manager_count(h, m1) == 1 && h.call(w1, "GET", "/nodes")->status == 503; }, 20s))
      << h.read_log(w1) << h.read_log(m1);
  // The last manager cannot be demoted.
  auto self = h.get_json(m1, "/nodes/" + h.node_id(m1));
  json spec = self["Spec"];
  spec["Role"] = "worker";
  auto r = h.call(m1, "POST", "/nodes/" + h.node_id(m1) + "/update?version=" + std::to_string(self["Version"]["Index"].get<uint64_t>()),
                  spec.dump());
  EXPECT_EQ(r->status, 400);
}

TEST(LifecycleTest, ForceNewClusterRecoversAManagerThatLostQuorum) {
  ClusterHarness h;
  NodeProc& m1 = h.init("m1");
  NodeProc& m2 = h.join("m2", h.manager_token(m1), m1);
  NodeProc& m3 = h.join("m3", h.manager_token(m1), m1);
  ASSERT_TRUE(eventually([&] { return manager_count(h, m1) == 3; }, 20s));
  ASSERT_EQ(h.call(m1, "POST", "/configs/create", config("survives"))->status, 201);
  ASSERT_TRUE(eventually([&] { return h.get_json(m3, "/configs/survives").is_object(); }, 10s));
  h.kill(m1, SIGKILL);
  h.kill(m2, SIGKILL);
  // Without quorum, writes cannot commit.
  auto stuck = h.call(m3, "POST", "/configs/create", config("no-quorum"));
  EXPECT_TRUE(!stuck || stuck->status != 201);
  h.kill(m3, SIGTERM);
  h.restart(m3, {"--force-new-cluster"});
  EXPECT_TRUE(eventually([&] { return h.get_json(m3, "/configs/survives").is_object(); }, 10s)) << h.read_log(m3);
  EXPECT_TRUE(eventually([&] { auto r = h.call(m3, "POST", "/configs/create", config("after")); return r && r->status == 201; }, 10s))
      << h.read_log(m3);
}

}  // namespace
}  // namespace shoal::integration
