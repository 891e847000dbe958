#include "io_real/cli/views.h"

#include <gtest/gtest.h>

namespace shoal::real {
namespace {

using nlohmann::json;

json node(std::string id, std::string host, std::string state, std::string role, bool leader = false,
          std::string reach = "reachable") {
  json n{{"ID", id},
         {"Version", {{"Index", 12}}},
         {"CreatedAt", "2009-11-10T23:00:00.000000000Z"},
         {"Spec", {{"Role", role}, {"Availability", "active"}, {"Labels", json::object()}}},
         {"Description",
          {{"Hostname", host}, {"Platform", {{"OS", "linux"}, {"Architecture", "x86_64"}}},
           {"Engine", {{"EngineVersion", "shoal-0.3"}}}}},
         {"Status", {{"State", state}, {"Addr", "10.0.0.1"}}}};
  if (role == "manager") {
    n["ManagerStatus"] = {{"Reachability", reach}, {"Addr", "10.0.0.1:2377"}};
    if (leader) n["ManagerStatus"]["Leader"] = true;
  }
  return n;
}

TEST(NodeTable, LooksLikeDockerNodeLs) {
  std::vector<json> nodes = {node("00000000000000b2", "worker10", "ready", "worker"),
                             node("00000000000000a1", "manager1", "ready", "manager", true),
                             node("00000000000000c3", "worker2", "down", "worker"),
                             node("00000000000000d4", "manager2", "ready", "manager", false, "unreachable")};
  sort_nodes(nodes);
  EXPECT_EQ(node_table(nodes, "00000000000000a1"),
            "ID                   HOSTNAME   STATUS    AVAILABILITY   MANAGER STATUS   ENGINE VERSION\n"
            "00000000000000a1 *   manager1   Ready     Active         Leader           shoal-0.3\n"
            "00000000000000d4     manager2   Ready     Active         Unreachable      shoal-0.3\n"
            "00000000000000c3     worker2    Down      Active                          shoal-0.3\n"
            "00000000000000b2     worker10   Ready     Active                          shoal-0.3\n");
}

TEST(NodeTable, ShowsTheGossipViewWhenTheDaemonHasOne) {
  std::vector<json> nodes = {node("00000000000000a1", "manager1", "ready", "manager", true),
                             node("00000000000000c3", "worker2", "down", "worker")};
  nodes[0]["Gossip"] = {{"State", "alive"}, {"Addr", "127.0.0.1:7946"}};
  nodes[1]["Gossip"] = {{"State", "dead"}, {"Addr", "127.0.0.1:7947"}};
  EXPECT_EQ(node_table(nodes, ""),
            "ID                 HOSTNAME   STATUS    AVAILABILITY   MANAGER STATUS   ENGINE VERSION   GOSSIP\n"
            "00000000000000a1   manager1   Ready     Active         Leader           shoal-0.3        Alive\n"
            "00000000000000c3   worker2    Down      Active                          shoal-0.3        Dead\n");
}

TEST(NodeTable, ToleratesMissingFields) {
  EXPECT_EQ(node_table({json::object(), json{{"ID", 5}}}, ""),
            "ID        HOSTNAME   STATUS    AVAILABILITY   MANAGER STATUS   ENGINE VERSION\n\n\n");
}

TEST(ManagerStatus, LeaderReachableUnreachableOrNothing) {
  EXPECT_EQ(manager_status_text(node("a", "h", "ready", "manager", true)), "Leader");
  EXPECT_EQ(manager_status_text(node("a", "h", "ready", "manager")), "Reachable");
  EXPECT_EQ(manager_status_text(node("a", "h", "ready", "manager", false, "unreachable")), "Unreachable");
  EXPECT_EQ(manager_status_text(node("a", "h", "ready", "worker")), "");
}

TEST(NodePretty, FollowsDockersTemplate) {
  json n = node("00000000000000a1", "manager1", "ready", "manager", true);
  n["Spec"]["Labels"] = {{"zone", "a"}, {"ssd", ""}};
  n["Description"]["Resources"] = {{"NanoCPUs", 4'000'000'000LL}, {"MemoryBytes", 20 * 1024 * 1024}};
  EXPECT_EQ(node_pretty(n),
            "ID:\t\t\t00000000000000a1\n"
            "Labels:\n"
            " - ssd\n"
            " - zone=a\n"
            "Hostname:              \tmanager1\n"
            "Joined at:             \t2009-11-10 23:00:00 +0000 utc\n"
            "Status:\n"
            " State:\t\t\tReady\n"
            " Availability:         \tActive\n"
            " Address:\t\t10.0.0.1\n"
            "Manager Status:\n"
            " Address:\t\t10.0.0.1:2377\n"
            " Raft Status:\t\tReachable\n"
            " Leader:\t\tYes\n"
            "Platform:\n"
            " Operating System:\tlinux\n"
            " Architecture:\t\tx86_64\n"
            "Resources:\n"
            " CPUs:\t\t\t4\n"
            " Memory:\t\t20MiB\n"
            "Engine Version:\t\tshoal-0.3");
  json w = node("00000000000000b2", "worker1", "down", "worker");
  w["Description"]["TLSInfo"] = {{"TrustRoot", "-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n"},
                                 {"CertIssuerSubject", "c3ViamVjdA=="},
                                 {"CertIssuerPublicKey", "a2V5"}};
  const std::string p = node_pretty(w);
  EXPECT_EQ(p.find("Manager Status"), std::string::npos);
  EXPECT_NE(p.find(" State:\t\t\tDown\n"), std::string::npos);
  EXPECT_NE(p.find("TLS Info:\n TrustRoot:\n-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n"
                   " Issuer Subject:\tc3ViamVjdA==\n Issuer Public Key:\ta2V5"),
            std::string::npos)
      << p;
}

TEST(ObjectTable, ConfigsAndSecretsSortedByNameWithAges) {
  const int64_t now = 1257894000'000000000LL + int64_t{7200} * 1'000'000'000;  // two hours later
  std::vector<json> configs = {
      {{"ID", "c2"}, {"CreatedAt", "2009-11-10T23:00:00Z"}, {"UpdatedAt", "2009-11-11T00:58:00Z"}, {"Spec", {{"Name", "web10"}}}},
      {{"ID", "c1"}, {"CreatedAt", "2009-11-10T23:00:00Z"}, {"UpdatedAt", "2009-11-10T23:00:00Z"}, {"Spec", {{"Name", "web2"}}}}};
  sort_by_name(configs);
  EXPECT_EQ(object_table(configs, /*is_secret=*/false, now),
            "ID        NAME      CREATED       UPDATED\n"
            "c1        web2      2 hours ago   2 hours ago\n"
            "c2        web10     2 hours ago   2 minutes ago\n");
  EXPECT_EQ(object_table(configs, /*is_secret=*/true, now),
            "ID        NAME      DRIVER    CREATED       UPDATED\n"
            "c1        web2                2 hours ago   2 hours ago\n"
            "c2        web10               2 hours ago   2 minutes ago\n");
}

TEST(ObjectPretty, ConfigShowsDataSecretNever) {
  const json config{{"ID", "c1"},
                    {"CreatedAt", "2009-11-10T23:00:00Z"},
                    {"UpdatedAt", "2009-11-10T23:00:00Z"},
                    {"Spec", {{"Name", "app.conf"}, {"Labels", {{"env", "prod"}}}, {"Data", "bGlzdGVuIDgw"}}}};
  EXPECT_EQ(object_pretty(config, false),
            "ID:              c1\n"
            "Name:              app.conf\n"
            "Labels:\n"
            " - env=prod\n"
            "Created at:        2009-11-10 23:00:00 +0000 utc\n"
            "Updated at:        2009-11-10 23:00:00 +0000 utc\n"
            "Data:\n"
            "listen 80");
  json secret = config;
  secret["Spec"]["Data"] = "c2VjcmV0";  // even if a daemon sent it
  const std::string p = object_pretty(secret, true);
  EXPECT_EQ(p.find("Data"), std::string::npos) << p;
  EXPECT_EQ(p.find("secret"), std::string::npos) << p;
  EXPECT_NE(p.find("Driver:"), std::string::npos);
}

TEST(JoinCommand, PrintsTheShoaldJoinLine) {
  EXPECT_EQ(join_command_text("worker", "SWMTKN-1-abc-def", "10.0.0.1:2377"),
            "To add a worker to this swarm, run the following command:\n\n"
            "    shoald join --token SWMTKN-1-abc-def 10.0.0.1:2377\n\n");
}

TEST(UnlockKeyText, WrapsTheKeyAndIsEmptyWithoutOne) {
  const std::string t = unlock_key_text("SWMKEY-1-xyz");
  EXPECT_NE(t.find("\n\n    SWMKEY-1-xyz\n\n"), std::string::npos);
  EXPECT_NE(t.find("shoal swarm unlock"), std::string::npos);
  EXPECT_EQ(unlock_key_text(""), "");
}

}  // namespace
}  // namespace shoal::real
