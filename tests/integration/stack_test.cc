// `shoal stack` against a real shoald on loopback: a two-service stack deploys and runs; the same
// file deployed again changes nothing (no new service version, no task replaced); a changed file
// scales; a changed command rolls by the file's update_config and health check (and rolls back
// when the new version is unhealthy); --prune drops what the file no longer has; bad files deploy nothing; `stack rm` removes
// everything; unknown stacks and an unreachable daemon fail with one clear line.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "tests/integration/cluster_harness.h"

namespace shoal::integration {
namespace {
using namespace std::chrono_literals;
using nlohmann::json;

std::string stack_file(int web_replicas, bool with_worker, const std::string& extra = "") {
  std::string yaml =
      "version: \"3.8\"\n"
      "services:\n"
      "  web:\n"
      "    image: ignored:latest\n"
      "    command: /bin/sleep 300\n"
      "    ports: [\"8080:80\"]\n"
      "    environment: {MODE: test}\n"
      "    deploy:\n"
      "      replicas: " +
      std::to_string(web_replicas) +
      "\n"
      "      restart_policy: {condition: any, delay: 0s}\n";
  if (with_worker) {
    yaml +=
        "  worker:\n"
        "    entrypoint: [/bin/sh, -c]\n"
        "    command: [\"exec /bin/sleep 300\"]\n"
        "    deploy:\n"
        "      mode: global\n"
        "      placement:\n"
        "        constraints: [node.role==manager]\n";
  }
  return yaml + extra;
}

class StackTest : public ::testing::Test {
 protected:
  void SetUp() override { m = &h.init("m"); }

  std::string write(const std::string& name, const std::string& text) {
    const std::string path = h.dir() + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  // The services of a stack, by name.
  std::map<std::string, json> services(const std::string& stack) {
    std::map<std::string, json> out;
    auto list = h.get_json(
        *m, "/v1.41/services?filters=" + url_encode(json{{"label", {"com.docker.stack.namespace=" + stack}}}.dump()));
    if (!list.is_array()) return out;
    for (const auto& s : list) out[s["Spec"].value("Name", "")] = s;
    return out;
  }
  uint64_t version(const json& service) { return service["Version"].value("Index", uint64_t{0}); }

  std::vector<json> tasks(const std::string& service_id) {
    auto list = h.get_json(*m, "/v1.41/tasks?filters=" + url_encode(json{{"service", {service_id}}}.dump()));
    return list.is_array() ? std::vector<json>(list.begin(), list.end()) : std::vector<json>{};
  }
  int running(const std::string& service_id) {
    int n = 0;
    for (const auto& t : tasks(service_id)) {
      n += t.value("DesiredState", "") == "running" && t["Status"].value("State", "") == "running";
    }
    return n;
  }
  std::set<std::string> all_task_ids() {
    std::set<std::string> ids;
    auto list = h.get_json(*m, "/v1.41/tasks");
    if (list.is_array()) {
      for (const auto& t : list) ids.insert(t.value("ID", ""));
    }
    return ids;
  }

  ClusterHarness h;
  NodeProc* m = nullptr;
};

TEST_F(StackTest, DeployRedeployScalePruneAndRemove) {
  const auto started = std::chrono::steady_clock::now();
  // Deploy: both services created, converged before the command returns.
  const std::string v1 = write("v1.yml", stack_file(2, true));
  auto [rc, out] = h.cli(*m, {"stack", "deploy", "-c", v1, "--timeout", "20s", "app"});
  ASSERT_EQ(rc, 0) << out << h.read_log(*m);
  EXPECT_NE(out.find("Ignoring unsupported options: ports\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Creating service app_web\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Creating service app_worker\n"), std::string::npos) << out;
  EXPECT_NE(out.find("verify: Service converged"), std::string::npos) << out;
  auto first = services("app");
  ASSERT_EQ(first.size(), 2u);
  const std::string web = first["app_web"].value("ID", "");
  const std::string worker = first["app_worker"].value("ID", "");
  EXPECT_EQ(running(web), 2) << h.get_json(*m, "/v1.41/tasks").dump();
  EXPECT_EQ(running(worker), 1);
  EXPECT_EQ(first["app_web"]["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"], json::array({"MODE=test"}));
  EXPECT_EQ(first["app_worker"]["Spec"]["Mode"], json::parse(R"({"Global": {}})"));

  // The same file again: nothing is touched.
  const std::set<std::string> tasks_before = all_task_ids();
  std::tie(rc, out) = h.cli(*m, {"stack", "deploy", "--compose-file", v1, "app"});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(out.find("Creating"), std::string::npos) << out;
  EXPECT_EQ(out.find("Updating"), std::string::npos) << out;
  auto second = services("app");
  for (const auto& name : {"app_web", "app_worker"}) {
    EXPECT_EQ(version(second[name]), version(first[name])) << name;
    EXPECT_FALSE(second[name].contains("PreviousSpec")) << name;
  }
  std::this_thread::sleep_for(300ms);  // a replaced task would show up by now
  EXPECT_EQ(all_task_ids(), tasks_before);

  // A changed file: web scales to 3; worker is left alone.
  const std::string v2 = write("v2.yml", stack_file(3, true));
  std::tie(rc, out) = h.cli(*m, {"stack", "deploy", "-c", v2, "--timeout", "20s", "app"});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("Updating service app_web (id: " + web + ")\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("app_worker"), std::string::npos) << out;
  EXPECT_EQ(running(web), 3);
  auto third = services("app");
  EXPECT_GT(version(third["app_web"]), version(first["app_web"]));
  EXPECT_EQ(version(third["app_worker"]), version(first["app_worker"]));

  // ls, services, ps.
  std::tie(rc, out) = h.cli(*m, {"stack", "ls"});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "NAME      SERVICES\napp       2\n");
  std::tie(rc, out) = h.cli(*m, {"stack", "services", "app"});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("app_web"), std::string::npos) << out;
  EXPECT_NE(out.find("3/3"), std::string::npos) << out;
  std::tie(rc, out) = h.cli(*m, {"stack", "ps", "app"});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("app_web.3"), std::string::npos) << out;
  EXPECT_NE(out.find("app_worker."), std::string::npos) << out;

  // --prune drops the service the file no longer has.
  const std::string v3 = write("v3.yml", stack_file(3, false));
  std::tie(rc, out) = h.cli(*m, {"stack", "deploy", "-c", v3, "--prune", "--detach", "app"});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "Ignoring unsupported options: ports\nRemoving service app_worker\n");
  EXPECT_EQ(services("app").count("app_worker"), 0u);
  EXPECT_EQ(version(services("app")["app_web"]), version(third["app_web"]));

  // rm: everything goes.
  std::tie(rc, out) = h.cli(*m, {"stack", "rm", "app"});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "Removing service app_web\n");
  EXPECT_TRUE(services("app").empty());
  EXPECT_TRUE(h.get_json(*m, "/v1.41/services").empty());
  ASSERT_TRUE(eventually([&] { return h.get_json(*m, "/v1.41/tasks").empty(); }, 10s))
      << h.get_json(*m, "/v1.41/tasks").dump();
  std::tie(rc, out) = h.cli(*m, {"stack", "ls"});
  EXPECT_EQ(out, "NAME      SERVICES\n");
  std::printf("stack deploy, redeploy, scale, prune, rm: %.2f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

// A redeploy that changes a service rolls it by the file's update_config, with its health check;
// a version whose health check fails rolls back as the file says, and deploy says so.
TEST_F(StackTest, RedeployingAChangedServiceRollsItByItsUpdateConfig) {
  auto file = [&](const std::string& args, const std::string& check) {
    return write("web.yml",
                 "services:\n"
                 "  web:\n"
                 "    command: /bin/sleep " + args + "\n"
                 "    healthcheck: {test: \"" + check + "\", interval: 100ms, retries: 2}\n"
                 "    deploy:\n"
                 "      replicas: 4\n"
                 "      restart_policy: {delay: 200ms}\n"
                 "      update_config: {parallelism: 2, monitor: 500ms, order: start-first, failure_action: rollback}\n"
                 "      rollback_config: {parallelism: 0, monitor: 500ms}\n");
  };
  auto [rc, out] = h.cli(*m, {"stack", "deploy", "-c", file("300", "true"), "--timeout", "30s", "app"});
  ASSERT_EQ(rc, 0) << out << h.read_log(*m);
  const json created = services("app")["app_web"];
  EXPECT_EQ(created["Spec"]["UpdateConfig"].value("Order", ""), "start-first") << created.dump();
  EXPECT_EQ(created["Spec"]["UpdateConfig"].value("Parallelism", 0), 2) << created.dump();
  const std::string web = created.value("ID", "");

  std::tie(rc, out) = h.cli(*m, {"stack", "deploy", "-c", file("301", "true"), "--timeout", "30s", "app"});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("Updating service app_web"), std::string::npos) << out;
  EXPECT_NE(out.find("verify: Service converged"), std::string::npos) << out;
  json svc = services("app")["app_web"];
  EXPECT_EQ(svc["UpdateStatus"].value("State", ""), "completed") << svc.dump();
  EXPECT_EQ(svc["Spec"]["TaskTemplate"]["ContainerSpec"]["Args"], json::array({"/bin/sleep", "301"})) << svc.dump();
  EXPECT_EQ(running(web), 4);

  std::tie(rc, out) = h.cli(*m, {"stack", "deploy", "-c", file("302", "exit 1"), "--timeout", "30s", "app"});
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(out.find("service rolled back: update rolled back due to"), std::string::npos) << out;
  svc = services("app")["app_web"];
  EXPECT_EQ(svc["UpdateStatus"].value("State", ""), "rollback_completed") << svc.dump();
  EXPECT_EQ(svc["Spec"]["TaskTemplate"]["ContainerSpec"]["Args"], json::array({"/bin/sleep", "301"})) << svc.dump();
  EXPECT_EQ(running(web), 4);
}

TEST_F(StackTest, BadFilesDeployNothingAndErrorsAreOneClearLine) {
  const std::string good = write("good.yml", stack_file(1, false));
  auto [rc, out] = h.cli(*m, {"stack", "deploy", "-c", good, "-d", "app"});
  ASSERT_EQ(rc, 0) << out;
  const auto before = services("app");
  ASSERT_EQ(before.size(), 1u);

  // Malformed YAML.
  const std::string malformed = write("malformed.yml", "services:\n  web:\n    command: [sleep, 1\n  db: {\n");
  std::tie(rc, out) = h.cli(*m, {"stack", "deploy", "-c", malformed, "fresh"});
  EXPECT_NE(rc, 0);
  EXPECT_EQ(out.find(malformed + ":"), 0u) << out;
  EXPECT_NE(out.find("invalid YAML"), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;

  // A bad constraint in a second service: the first one (new) is not created either, and the
  // existing stack's service is not updated.
  const std::string bad = write("bad.yml", stack_file(5, false,
                                                      "  extra:\n"
                                                      "    command: /bin/sleep 300\n"
                                                      "    deploy:\n"
                                                      "      placement:\n"
                                                      "        constraints: [\"node.rol==manager\"]\n"));
  std::tie(rc, out) = h.cli(*m, {"stack", "deploy", "-c", bad, "app"});
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find(bad + ":"), std::string::npos) << out;
  EXPECT_NE(out.find("services.extra.deploy.placement.constraints[0]: "), std::string::npos) << out;
  EXPECT_EQ(out.find("Creating"), std::string::npos) << out;
  EXPECT_EQ(out.find("Updating"), std::string::npos) << out;

  // A service without a command.
  const std::string no_command = write("nocmd.yml", "services:\n  web:\n    image: nginx\n");
  std::tie(rc, out) = h.cli(*m, {"stack", "deploy", "-c", no_command, "fresh"});
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("services.web: no command"), std::string::npos) << out;

  // A file that is not there.
  std::tie(rc, out) = h.cli(*m, {"stack", "deploy", "-c", h.dir() + "/missing.yml", "fresh"});
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("missing.yml"), std::string::npos) << out;

  const auto after = services("app");
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(version(after.at("app_web")), version(before.at("app_web")));
  EXPECT_TRUE(services("fresh").empty());
  EXPECT_EQ(h.get_json(*m, "/v1.41/services").size(), 1u);

  // Unknown stacks.
  for (const std::string cmd : {"services", "ps", "rm"}) {
    std::tie(rc, out) = h.cli(*m, {"stack", cmd, "nosuch"});
    EXPECT_NE(rc, 0) << cmd;
    EXPECT_EQ(out, "Nothing found in stack: nosuch\n") << cmd;
  }
  // No daemon.
  NodeProc nowhere;
  nowhere.socket = h.dir() + "/nowhere.sock";
  std::tie(rc, out) = h.cli(nowhere, {"stack", "ls"});
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("nowhere.sock"), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
}

}  // namespace
}  // namespace shoal::integration
