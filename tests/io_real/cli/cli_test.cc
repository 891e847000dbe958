// The `shoal` CLI end to end: run_cli against a fake daemon (HttpServer + Router on a unix socket
// in /tmp) that answers like the Docker Engine API and records every request, so each test
// checks both what the command prints and exactly what it sent.
#include <utility>  // before Asio (Boost 1.74 with GCC 12 in C++20)

#include "io_real/cli/cli.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
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

const char* kRoot = "-----BEGIN CERTIFICATE-----\nROOT1\n-----END CERTIFICATE-----\n";
const char* kRoot2 = "-----BEGIN CERTIFICATE-----\nROOT2\n-----END CERTIFICATE-----\n";

json make_node(const std::string& id, const std::string& host, const std::string& role, bool leader) {
  json n{{"ID", id},
         {"Version", {{"Index", 12}}},
         {"CreatedAt", "2024-05-01T12:00:00.000000000Z"},
         {"UpdatedAt", "2024-05-01T12:00:00.000000000Z"},
         {"Spec", {{"Labels", {{"zone", "a"}}}, {"Role", role}, {"Availability", "active"}}},
         {"Description",
          {{"Hostname", host},
           {"Engine", {{"EngineVersion", "shoal-0.3"}}},
           {"TLSInfo", {{"TrustRoot", kRoot}, {"CertIssuerSubject", "c3Vi"}, {"CertIssuerPublicKey", "a2V5"}}}}},
         {"Status", {{"State", "ready"}, {"Addr", "10.0.0." + id.substr(id.size() - 1)}}}};
  if (role == "manager") {
    n["ManagerStatus"] = {{"Reachability", "reachable"}, {"Addr", "10.0.0." + id.substr(id.size() - 1) + ":2377"}};
    if (leader) n["ManagerStatus"]["Leader"] = true;
  }
  return n;
}

// A daemon that keeps a little swarm in JSON and answers Docker's endpoints.
class FakeDaemon {
 public:
  FakeDaemon() {
    nodes_ = {make_node("000000000000000a", "mgr1", "manager", true), make_node("000000000000000b", "wrk1", "worker", false)};
    swarm_ = {{"ID", "cluster1"},
              {"Version", {{"Index", 40}}},
              {"Spec",
               {{"Name", "default"},
                {"Labels", json::object()},
                {"CAConfig", {{"NodeCertExpiry", 7776000000000000LL}, {"ForceRotate", 0}}},
                {"EncryptionConfig", {{"AutoLockManagers", false}}}}},
              {"TLSInfo", {{"TrustRoot", kRoot}, {"CertIssuerSubject", "c3Vi"}, {"CertIssuerPublicKey", "a2V5"}}},
              {"RootRotationInProgress", false},
              {"JoinTokens", {{"Worker", "SWMTKN-1-root-worker"}, {"Manager", "SWMTKN-1-root-manager"}}}};
    add_routes();
    server_.start();
  }
  std::string host() const { return server_.host(); }
  std::vector<Sent> sent() { return server_.sent(); }
  std::vector<std::string> lines() { return server_.lines(); }
  // State the routes read and write; touch only while no command runs.
  json& swarm() { return swarm_; }
  json& nodes() { return nodes_; }
  std::string& local_state() { return local_state_; }
  std::string unlock_key = "SWMKEY-1-secretkey";
  json configs = json::array();

 private:
  void add_routes() {
    auto reply = [](int status, json j) {
      return [status, j](const HttpRequest&, const PathParams&, Responder respond) {
        respond(real::json_response(status, j));
      };
    };
    server_.router().add("GET", "/version", reply(200, {{"Version", "0.3.0"}, {"ApiVersion", "1.41"}, {"MinAPIVersion", "1.12"},
                                               {"Os", "linux"}, {"Arch", "amd64"}}));
    server_.router().add("GET", "/info", [this](const HttpRequest&, const PathParams&, Responder respond) {
      json cluster = swarm_;
      cluster.erase("JoinTokens");
      respond(real::json_response(200, {{"ID", "000000000000000a"},
                                        {"Name", "mgr1"},
                                        {"ServerVersion", "shoal-0.3"},
                                        {"Swarm",
                                         {{"NodeID", "000000000000000a"},
                                          {"NodeAddr", "10.0.0.a"},
                                          {"LocalNodeState", local_state_},
                                          {"ControlAvailable", true},
                                          {"Error", ""},
                                          {"Nodes", 2},
                                          {"Managers", 1},
                                          {"RemoteManagers", {{{"NodeID", "000000000000000a"}, {"Addr", "10.0.0.a:2377"}}}},
                                          {"Cluster", cluster}}}}));
    });
    server_.router().add("GET", "/nodes", [this](const HttpRequest&, const PathParams&, Responder respond) {
      respond(real::json_response(200, nodes_));
    });
    server_.router().add("GET", "/nodes/{id}", [this](const HttpRequest&, const PathParams& p, Responder respond) {
      for (const auto& n : nodes_) {
        if (n["ID"] == p.at("id")) return respond(real::json_response(200, n));
      }
      respond(real::error_response(404, "node " + p.at("id") + " not found"));
    });
    server_.router().add("POST", "/nodes/{id}/update", [this](const HttpRequest& req, const PathParams& p, Responder respond) {
      for (auto& n : nodes_) {
        if (n["ID"] != p.at("id")) continue;
        if (req.query.at("version") != "12") return respond(real::error_response(500, "update out of sequence"));
        n["Spec"] = json::parse(req.body);
        return respond(real::empty_response(200));
      }
      respond(real::error_response(404, "node " + p.at("id") + " not found"));
    });
    server_.router().add("DELETE", "/nodes/{id}", [this](const HttpRequest&, const PathParams& p, Responder respond) {
      if (p.at("id") == "000000000000000b") return respond(real::empty_response(200));
      respond(real::error_response(404, "node " + p.at("id") + " not found"));
    });
    server_.router().add("GET", "/swarm", [this](const HttpRequest&, const PathParams&, Responder respond) {
      respond(real::json_response(200, swarm_));
    });
    server_.router().add("POST", "/swarm/update", [this](const HttpRequest& req, const PathParams&, Responder respond) {
      if (req.query.at("version") != "40") return respond(real::error_response(500, "update out of sequence"));
      const json spec = json::parse(req.body);
      swarm_["Spec"] = spec;
      if (req.query.count("rotateWorkerToken")) swarm_["JoinTokens"]["Worker"] = "SWMTKN-1-root-worker2";
      if (spec["CAConfig"]["ForceRotate"] != 0) swarm_["TLSInfo"]["TrustRoot"] = kRoot2;  // nodes follow at once
      if (spec["CAConfig"]["ForceRotate"] != 0) {
        for (auto& n : nodes_) {
          if (n["Description"].contains("TLSInfo")) n["Description"]["TLSInfo"]["TrustRoot"] = kRoot2;
        }
      }
      respond(real::empty_response(200));
    });
    server_.router().add("GET", "/swarm/unlockkey", [this](const HttpRequest&, const PathParams&, Responder respond) {
      respond(real::json_response(200, {{"UnlockKey", swarm_["Spec"]["EncryptionConfig"]["AutoLockManagers"] == true
                                                         ? unlock_key
                                                         : ""}}));
    });
    server_.router().add("POST", "/swarm/unlock", [](const HttpRequest& req, const PathParams&, Responder respond) {
      if (json::parse(req.body)["UnlockKey"] != "SWMKEY-1-secretkey") {
        return respond(real::error_response(400, "the unlock key is incorrect"));
      }
      respond(real::empty_response(200));
    });
    server_.router().add("POST", "/swarm/leave", [](const HttpRequest& req, const PathParams&, Responder respond) {
      if (req.query.at("force") != "true") return respond(real::error_response(503, "You are attempting to leave..."));
      respond(real::empty_response(200));
    });
    for (const std::string base : {"/configs", "/secrets"}) {
      server_.router().add("GET", base, [this](const HttpRequest&, const PathParams&, Responder respond) {
        respond(real::json_response(200, configs));
      });
      server_.router().add("POST", base + "/create", [](const HttpRequest&, const PathParams&, Responder respond) {
        respond(real::json_response(201, {{"ID", "newobject123"}}));
      });
      server_.router().add("GET", base + "/{id}", [this](const HttpRequest&, const PathParams& p, Responder respond) {
        for (const auto& c : configs) {
          if (c["ID"] == p.at("id") || c["Spec"]["Name"] == p.at("id")) return respond(real::json_response(200, c));
        }
        respond(real::error_response(404, "config " + p.at("id") + " not found"));
      });
      server_.router().add("DELETE", base + "/{id}", [this](const HttpRequest&, const PathParams& p, Responder respond) {
        for (const auto& c : configs) {
          if (c["ID"] == p.at("id") || c["Spec"]["Name"] == p.at("id")) return respond(real::empty_response(204));
        }
        respond(real::error_response(404, "config " + p.at("id") + " not found"));
      });
    }
  }

  json nodes_;
  json swarm_;
  std::string local_state_ = "active";
  // Last, so it stops (and no handler runs) before the state above is destroyed.
  RecordingServer server_{"cli-test"};
};

struct CliRun {
  int code = -1;
  std::string out, err;
};

CliRun run(const std::vector<std::string>& args, const std::string& stdin_text = "",
        std::optional<std::string> env_host = std::nullopt) {
  std::vector<const char*> argv{"shoal"};
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  std::istringstream in(stdin_text);
  const int64_t now = *parse_rfc3339("2024-05-01T14:00:00Z");
  CliIo io{out, err, in, false, [now] { return now; }, [](Duration) {}};
  CliRun r;
  r.code = run_cli(static_cast<int>(argv.size()), argv.data(), io, std::move(env_host));
  r.out = out.str();
  r.err = err.str();
  return r;
}

class CliTest : public ::testing::Test {
 protected:
  FakeDaemon daemon;
  CliRun shoal(std::vector<std::string> args, const std::string& stdin_text = "") {
    args.insert(args.begin(), {"-H", daemon.host()});
    return run(args, stdin_text);
  }
};

TEST_F(CliTest, NodeLsMarksThisNodeAndAsksInfoForIt) {
  const CliRun r = shoal({"node", "ls"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "ID                   HOSTNAME   STATUS    AVAILABILITY   MANAGER STATUS   ENGINE VERSION\n"
            "000000000000000a *   mgr1       Ready     Active         Leader           shoal-0.3\n"
            "000000000000000b     wrk1       Ready     Active                          shoal-0.3\n");
  EXPECT_EQ(daemon.lines(), (std::vector<std::string>{"GET /nodes", "GET /info"}));
}

TEST_F(CliTest, NodeLsQuietPrintsIdsOnly) {
  const CliRun r = shoal({"node", "ls", "-q"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "000000000000000a\n000000000000000b\n");
  EXPECT_EQ(daemon.lines(), (std::vector<std::string>{"GET /nodes"}));
}

TEST_F(CliTest, PromoteReadsTheNodeThenUpdatesItsSpecAtItsVersion) {
  const CliRun r = shoal({"node", "promote", "000000000000000b", "000000000000000a"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "Node 000000000000000b promoted to a manager in the swarm.\n"
            "Node 000000000000000a is already a manager.\n");
  const auto sent = daemon.sent();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0].line(), "GET /nodes/000000000000000b");
  EXPECT_EQ(sent[1].line(), "POST /nodes/000000000000000b/update?version=12");
  EXPECT_EQ(sent[1].body, (json{{"Labels", {{"zone", "a"}}}, {"Role", "manager"}, {"Availability", "active"}}))
      << "the whole Spec goes back, only Role changed";
  EXPECT_EQ(sent[2].line(), "GET /nodes/000000000000000a");
}

TEST_F(CliTest, DemoteAndUnknownNode) {
  const CliRun r = shoal({"node", "demote", "000000000000000a"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Manager 000000000000000a demoted in the swarm.\n");
  EXPECT_EQ(daemon.sent().back().body["Role"], "worker");

  const CliRun missing = shoal({"node", "demote", "ffffffffffffffff"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.err, "Error: No such node: ffffffffffffffff\n");
}

TEST_F(CliTest, NodeRmSendsForceAndReportsEachFailure) {
  const CliRun r = shoal({"node", "rm", "-f", "000000000000000b", "nope"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "000000000000000b\n");
  EXPECT_EQ(r.err, "Error: No such node: nope\n");
  EXPECT_EQ(daemon.lines(), (std::vector<std::string>{"DELETE /nodes/000000000000000b?force=true", "DELETE /nodes/nope?force=true"}));
  const CliRun plain = shoal({"node", "rm", "000000000000000b"});
  EXPECT_EQ(plain.code, 0);
  EXPECT_EQ(daemon.lines().back(), "DELETE /nodes/000000000000000b?force=false");
}

TEST_F(CliTest, NodeInspectPrintsJsonArrayThenErrors) {
  const CliRun r = shoal({"node", "inspect", "self", "nope"});
  EXPECT_EQ(r.code, 1);
  const json printed = json::parse(r.out);
  ASSERT_TRUE(printed.is_array());
  ASSERT_EQ(printed.size(), 1u);
  EXPECT_EQ(printed[0]["ID"], "000000000000000a");
  EXPECT_NE(r.out.find("\n    {\n        \"CreatedAt\""), std::string::npos) << "four-space indent, as docker";
  EXPECT_EQ(r.err, "Error: No such node: nope\n");
  EXPECT_EQ(daemon.lines(), (std::vector<std::string>{"GET /info", "GET /nodes/000000000000000a", "GET /nodes/nope"}));

  const CliRun pretty = shoal({"node", "inspect", "--pretty", "000000000000000b"});
  ASSERT_EQ(pretty.code, 0);
  EXPECT_EQ(pretty.out.rfind("ID:\t\t\t000000000000000b\n", 0), 0u) << pretty.out;
}

TEST_F(CliTest, JoinTokenPrintsTheJoinCommandOfThisManager) {
  const CliRun r = shoal({"swarm", "join-token", "worker"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "To add a worker to this swarm, run the following command:\n\n"
            "    shoald join --token SWMTKN-1-root-worker 10.0.0.a:2377\n\n");
  EXPECT_EQ(daemon.lines(), (std::vector<std::string>{"GET /swarm", "GET /info", "GET /nodes/000000000000000a"}));

  const CliRun q = shoal({"swarm", "join-token", "-q", "manager"});
  EXPECT_EQ(q.out, "SWMTKN-1-root-manager\n");

  const CliRun bad = shoal({"swarm", "join-token", "admin"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_EQ(bad.err, "unknown role admin\n");
}

TEST_F(CliTest, JoinTokenRotateUpdatesTheSwarmAtItsVersion) {
  const CliRun r = shoal({"swarm", "join-token", "--rotate", "-q", "worker"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "SWMTKN-1-root-worker2\n");
  const auto sent = daemon.sent();
  ASSERT_GE(sent.size(), 2u);
  EXPECT_EQ(sent[1].line(), "POST /swarm/update?rotateWorkerToken=true&version=40");
  EXPECT_EQ(sent[1].body, daemon.swarm()["Spec"]);
}

TEST_F(CliTest, UnlockKeyAndItsRotation) {
  const CliRun off = shoal({"swarm", "unlock-key", "--rotate"});
  EXPECT_EQ(off.code, 1);
  EXPECT_EQ(off.err, "cannot rotate because autolock is not turned on\n");
  const CliRun none = shoal({"swarm", "unlock-key"});
  EXPECT_EQ(none.code, 1);
  EXPECT_EQ(none.err, "no unlock key is set\n");

  daemon.swarm()["Spec"]["EncryptionConfig"]["AutoLockManagers"] = true;
  const CliRun q = shoal({"swarm", "unlock-key", "-q"});
  EXPECT_EQ(q.out, "SWMKEY-1-secretkey\n");
  const CliRun rot = shoal({"swarm", "unlock-key", "--rotate"});
  ASSERT_EQ(rot.code, 0) << rot.err;
  EXPECT_EQ(rot.out.rfind("Successfully rotated manager unlock key.\n\nTo unlock a swarm manager", 0), 0u) << rot.out;
  const auto lines = daemon.lines();
  EXPECT_NE(std::find(lines.begin(), lines.end(), "POST /swarm/update?rotateManagerUnlockKey=true&version=40"),
            lines.end());
}

TEST_F(CliTest, SwarmUpdateAutolockAndCertExpiry) {
  const CliRun r = shoal({"swarm", "update", "--autolock=true", "--cert-expiry", "720h"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("Swarm updated.\nTo unlock a swarm manager", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("SWMKEY-1-secretkey"), std::string::npos);
  const auto sent = daemon.sent();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[1].line(), "POST /swarm/update?version=40");
  EXPECT_EQ(sent[1].body["EncryptionConfig"]["AutoLockManagers"], true);
  EXPECT_EQ(sent[1].body["CAConfig"]["NodeCertExpiry"], 2592000000000000LL);
  EXPECT_EQ(sent[1].body["Name"], "default") << "the rest of the Spec is sent back unchanged";
  EXPECT_EQ(sent[2].line(), "GET /swarm/unlockkey");
}

TEST_F(CliTest, SwarmUpdateAutolockOffAndBadExpiry) {
  daemon.swarm()["Spec"]["EncryptionConfig"]["AutoLockManagers"] = true;
  const CliRun r = shoal({"swarm", "update", "--autolock=false"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Swarm updated.\n");
  EXPECT_EQ(daemon.sent().back().body["EncryptionConfig"]["AutoLockManagers"], false);

  const CliRun bad = shoal({"swarm", "update", "--cert-expiry", "soon"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("invalid duration \"soon\""), std::string::npos) << bad.err;

  const CliRun none = shoal({"swarm", "update"});
  EXPECT_EQ(none.code, 0);
  EXPECT_NE(none.out.find("--autolock"), std::string::npos) << "usage, as docker prints it";
}

TEST_F(CliTest, SwarmUnlockReadsTheKeyFromStdin) {
  const CliRun not_locked = shoal({"swarm", "unlock"}, "SWMKEY-1-secretkey\n");
  EXPECT_EQ(not_locked.code, 1);
  EXPECT_EQ(not_locked.err, "Error: swarm is not locked\n");

  daemon.local_state() = "locked";
  const CliRun ok = shoal({"swarm", "unlock"}, "  SWMKEY-1-secretkey  \n");
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(ok.out, "");
  EXPECT_EQ(daemon.sent().back().line(), "POST /swarm/unlock");
  EXPECT_EQ(daemon.sent().back().body, (json{{"UnlockKey", "SWMKEY-1-secretkey"}}));

  const CliRun wrong = shoal({"swarm", "unlock"}, "SWMKEY-1-wrong\n");
  EXPECT_EQ(wrong.code, 1);
  EXPECT_EQ(wrong.err, "Error response from daemon: the unlock key is incorrect\n");
}

TEST_F(CliTest, SwarmLeave) {
  const CliRun refused = shoal({"swarm", "leave"});
  EXPECT_EQ(refused.code, 1);
  EXPECT_EQ(refused.err, "Error response from daemon: You are attempting to leave...\n");
  EXPECT_EQ(daemon.lines().back(), "POST /swarm/leave?force=false");
  const CliRun forced = shoal({"swarm", "leave", "-f"});
  EXPECT_EQ(forced.code, 0);
  EXPECT_EQ(forced.out, "Node left the swarm.\n");
}

TEST_F(CliTest, SwarmCaShowsAndRotatesTheRoot) {
  const CliRun show = shoal({"swarm", "ca"});
  ASSERT_EQ(show.code, 0) << show.err;
  EXPECT_EQ(show.out, "-----BEGIN CERTIFICATE-----\nROOT1\n-----END CERTIFICATE-----\n");

  const CliRun rot = shoal({"swarm", "ca", "--rotate"});
  ASSERT_EQ(rot.code, 0) << rot.err;
  EXPECT_EQ(rot.out,
            "  rotated TLS certificates: 2/2 nodes\n"
            "  rotated CA certificates:  2/2 nodes\n"
            "-----BEGIN CERTIFICATE-----\nROOT2\n-----END CERTIFICATE-----\n");
  const auto sent = daemon.sent();
  ASSERT_GE(sent.size(), 3u);
  EXPECT_EQ(sent[2].line(), "POST /swarm/update?version=40");
  EXPECT_EQ(sent[2].body["CAConfig"]["ForceRotate"], 1);

  const CliRun detached = shoal({"swarm", "ca", "--rotate", "-d"});
  EXPECT_EQ(detached.code, 0) << detached.err;
  EXPECT_EQ(detached.out, "") << "--detach does not wait or print";
  EXPECT_EQ(daemon.sent().back().body["CAConfig"]["ForceRotate"], 2);
}

TEST_F(CliTest, SwarmCaRotateDoesNotWaitWhenNoNodeReportsItsTls) {
  for (auto& n : daemon.nodes()) n["Description"].erase("TLSInfo");
  const CliRun rot = shoal({"swarm", "ca", "--rotate"});
  ASSERT_EQ(rot.code, 0) << rot.err;
  EXPECT_EQ(rot.out,
            "The daemon does not report the nodes' TLS info; not waiting for the rotation.\n"
            "-----BEGIN CERTIFICATE-----\nROOT2\n-----END CERTIFICATE-----\n");
}

TEST_F(CliTest, ConfigCreateFromFileAndStdin) {
  const std::string file = "/tmp/shoal-cli-test-" + std::to_string(::getpid()) + ".conf";
  { std::ofstream(file) << "listen 80\n"; }
  const CliRun r = shoal({"config", "create", "-l", "env=prod", "-l", "flag", "app.conf", file});
  std::filesystem::remove(file);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "newobject123\n");
  EXPECT_EQ(daemon.sent().back().line(), "POST /configs/create");
  EXPECT_EQ(daemon.sent().back().body,
            (json{{"Name", "app.conf"}, {"Labels", {{"env", "prod"}, {"flag", ""}}}, {"Data", "bGlzdGVuIDgwCg=="}}));

  const CliRun s = shoal({"secret", "create", "db-password", "-"}, "hunter2");
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_EQ(daemon.sent().back().line(), "POST /secrets/create");
  EXPECT_EQ(daemon.sent().back().body["Data"], "aHVudGVyMg==");

  const CliRun missing = shoal({"config", "create", "x", "/nonexistent/file"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.err.rfind("Error reading content from \"/nonexistent/file\"", 0), 0u) << missing.err;
}

TEST_F(CliTest, ConfigLsInspectRm) {
  daemon.configs = json::array(
      {{{"ID", "cfg2"}, {"CreatedAt", "2024-05-01T12:00:00Z"}, {"UpdatedAt", "2024-05-01T13:58:00Z"},
        {"Spec", {{"Name", "web10"}, {"Data", "c2VjcmV0"}}}},
       {{"ID", "cfg1"}, {"CreatedAt", "2024-05-01T12:00:00Z"}, {"UpdatedAt", "2024-05-01T12:00:00Z"},
        {"Spec", {{"Name", "web2"}, {"Data", "c2VjcmV0"}}}}});
  const CliRun ls = shoal({"config", "ls"});
  ASSERT_EQ(ls.code, 0) << ls.err;
  EXPECT_EQ(ls.out,
            "ID        NAME      CREATED       UPDATED\n"
            "cfg1      web2      2 hours ago   2 hours ago\n"
            "cfg2      web10     2 hours ago   2 minutes ago\n");
  EXPECT_EQ(shoal({"config", "ls", "-q"}).out, "cfg1\ncfg2\n");

  const CliRun in = shoal({"config", "inspect", "web2"});
  ASSERT_EQ(in.code, 0);
  EXPECT_EQ(json::parse(in.out)[0]["Spec"]["Data"], "c2VjcmV0");
  EXPECT_EQ(daemon.lines().back(), "GET /configs/web2");

  const CliRun rm = shoal({"config", "rm", "cfg1", "ghost"});
  EXPECT_EQ(rm.code, 1);
  EXPECT_EQ(rm.out, "cfg1\n");
  EXPECT_EQ(rm.err, "Error: No such config: ghost\n");
}

TEST_F(CliTest, SecretInspectNeverShowsData) {
  daemon.configs = json::array({{{"ID", "s1"}, {"Spec", {{"Name", "db"}, {"Data", "c2VjcmV0"}}}}});
  const CliRun in = shoal({"secret", "inspect", "s1"});
  ASSERT_EQ(in.code, 0) << in.err;
  EXPECT_EQ(in.out.find("Data"), std::string::npos) << in.out;
  EXPECT_EQ(in.out.find("c2VjcmV0"), std::string::npos) << in.out;
  EXPECT_EQ(daemon.lines().back(), "GET /secrets/s1");
  const CliRun pretty = shoal({"secret", "inspect", "--pretty", "s1"});
  EXPECT_EQ(pretty.out.find("c2VjcmV0"), std::string::npos);
  EXPECT_EQ(pretty.out.find("secret"), std::string::npos);
}

TEST_F(CliTest, InfoAndVersion) {
  const CliRun info = shoal({"info"});
  ASSERT_EQ(info.code, 0) << info.err;
  EXPECT_NE(info.out.find(" Swarm: active\n  NodeID: 000000000000000a\n  Is Manager: true\n  ClusterID: cluster1\n"
                          "  Managers: 1\n  Nodes: 2\n  CA Configuration:\n   Expiry Duration: 3 months\n"),
            std::string::npos)
      << info.out;
  EXPECT_NE(info.out.find("  Manager Addresses:\n   10.0.0.a:2377\n"), std::string::npos) << info.out;

  const CliRun version = shoal({"version"});
  ASSERT_EQ(version.code, 0) << version.err;
  EXPECT_NE(version.out.find("Client:\n Version:           " + std::string(kShoalVersion) + "\n API version:       1.41\n"),
            std::string::npos)
      << version.out;
  EXPECT_NE(version.out.find("Server:\n Engine:\n  Version:          0.3.0\n  API version:      1.41 (minimum version 1.12)\n"),
            std::string::npos)
      << version.out;
}

TEST(Cli, NoDaemonIsAClearErrorAndExit1) {
  const CliRun r = run({"-H", "unix:///tmp/shoal-cli-test-nothing-here.sock", "node", "ls"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "cannot connect to the Shoal daemon at unix:///tmp/shoal-cli-test-nothing-here.sock: no such file — is "
            "shoald running?\n");
}

TEST(Cli, HostComesFromFlagThenEnvThenDefault) {
  const CliRun env = run({"node", "ls"}, "", "unix:///tmp/shoal-cli-test-from-env.sock");
  EXPECT_NE(env.err.find("unix:///tmp/shoal-cli-test-from-env.sock"), std::string::npos) << env.err;
  const CliRun flag = run({"-H", "unix:///tmp/shoal-cli-test-from-flag.sock", "node", "ls"}, "",
                       "unix:///tmp/shoal-cli-test-from-env.sock");
  EXPECT_NE(flag.err.find("from-flag"), std::string::npos) << flag.err;
  const CliRun bad = run({"-H", "http://x", "info"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("invalid host \"http://x\""), std::string::npos) << bad.err;
}

TEST(Cli, UsageErrorsExit1AndHelpExits0) {
  const CliRun none = run({});
  EXPECT_EQ(none.code, 1);
  EXPECT_FALSE(none.err.empty());
  const CliRun group = run({"node"});
  EXPECT_EQ(group.code, 1);
  const CliRun unknown = run({"node", "frobnicate"});
  EXPECT_EQ(unknown.code, 1);
  const CliRun missing_arg = run({"node", "inspect"});
  EXPECT_EQ(missing_arg.code, 1);
  EXPECT_NE(missing_arg.err.find("NODE"), std::string::npos) << missing_arg.err;
  const CliRun help = run({"--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("node"), std::string::npos);
  EXPECT_NE(help.out.find("swarm"), std::string::npos);
}

}  // namespace
}  // namespace shoal::real
