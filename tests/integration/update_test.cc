// Rolling updates on a real shoald with the process runtime, through the CLI as a user
// runs them: stop-first and start-first updates of 3 replicas (every task ends up running the new
// arguments, checked in /proc; never more tasks running than the order allows), an update to a
// command that exits at once with failure action pause (the command fails and says why, the old
// tasks keep running) and rollback (every slot back on the old spec), `--force` with no spec
// change, `service rollback`, and health checks (a failing one rolls the update back, a passing
// one lets it complete). Monitor periods are 500 ms to keep each test to a few seconds.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "tests/integration/cluster_harness.h"

namespace shoal::integration {
namespace {
using namespace std::chrono_literals;
using nlohmann::json;

class UpdateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m = &h.init("m");
    ASSERT_TRUE(eventually([&] { return h.get_json(*m, "/v1.41/nodes").size() == 1; }, 20s));
  }

  // `shoal service create NAME` of 3 replicas of `/bin/sleep 300` (waits until they run), with
  // 500 ms monitor periods and `extra` flags.
  void create(const std::string& name, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"service", "create", "--name", name, "--replicas", "3", "--update-monitor",
                                  "500ms", "--rollback-monitor", "500ms", "--restart-delay", "200ms"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"/bin/sleep", "300"});
    auto [rc, out] = h.cli(*m, args);
    ASSERT_EQ(rc, 0) << out;
  }

  json service(const std::string& name) { return h.get_json(*m, "/v1.41/services/" + name); }
  std::string update_state(const std::string& name) {
    json s = service(name);
    return s.is_object() && s.contains("UpdateStatus") ? s["UpdateStatus"].value("State", "") : "";
  }

  json tasks(const std::string& name) {
    auto t = h.get_json(*m, "/v1.41/tasks?filters=" + url_encode(json{{"service", {name}}}.dump()));
    return t.is_array() ? t : json::array();
  }
  // Tasks whose process runs (whatever their desired state).
  int running_now(const std::string& name) {
    int n = 0;
    for (const auto& t : tasks(name)) n += t["Status"].value("State", "") == "running";
    return n;
  }
  // What each running task that should run runs, by slot, from /proc/PID/cmdline.
  std::map<int, std::string> running_cmdlines(const std::string& name) {
    std::map<int, std::string> out;
    for (const auto& t : tasks(name)) {
      if (t.value("DesiredState", "") != "running" || t["Status"].value("State", "") != "running") continue;
      const int pid = t["Status"]["ContainerStatus"].value("PID", 0);
      std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline");
      std::stringstream ss;
      ss << in.rdbuf();
      std::string line = ss.str();
      std::replace(line.begin(), line.end(), '\0', ' ');
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out[t.value("Slot", 0)] = line;
    }
    return out;
  }
  std::set<std::string> running_ids(const std::string& name) {
    std::set<std::string> out;
    for (const auto& t : tasks(name)) {
      if (t.value("DesiredState", "") == "running" && t["Status"].value("State", "") == "running") {
        out.insert(t.value("ID", ""));
      }
    }
    return out;
  }
  static std::map<int, std::string> all_slots(const std::string& cmdline) {
    return {{1, cmdline}, {2, cmdline}, {3, cmdline}};
  }

  // Runs `shoal service update ARGS NAME` while sampling how many tasks run; its exit code and
  // output, and the fewest and most tasks seen running.
  struct Sampled {
    int rc = -1;
    std::string out;
    int min_running = 1 << 30, max_running = 0;
  };
  Sampled update_sampled(const std::string& name, std::vector<std::string> args) {
    args.insert(args.begin(), {"service", "update"});
    args.push_back(name);
    auto cli = std::async(std::launch::async, [&] { return h.cli(*m, args); });
    Sampled s;
    while (cli.wait_for(10ms) != std::future_status::ready) {
      const int n = running_now(name);
      s.min_running = std::min(s.min_running, n);
      s.max_running = std::max(s.max_running, n);
    }
    std::tie(s.rc, s.out) = cli.get();
    return s;
  }

  ClusterHarness h;
  NodeProc* m = nullptr;
};

TEST_F(UpdateTest, StopFirstReplacesOneTaskAtATimeAndEveryTaskRunsTheNewArgs) {
  create("web");
  ASSERT_EQ(running_cmdlines("web"), all_slots("/bin/sleep 300"));
  const auto started = std::chrono::steady_clock::now();
  const Sampled s = update_sampled("web", {"--args", "301"});
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_EQ(s.rc, 0) << s.out;
  EXPECT_NE(s.out.find("overall progress: 3 out of 3 tasks\n"), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("verify: Service converged\n"), std::string::npos) << s.out;
  EXPECT_EQ(update_state("web"), "completed");
  EXPECT_EQ(running_cmdlines("web"), all_slots("/bin/sleep 300 301"));
  EXPECT_LE(s.max_running, 3) << "stop-first: never more than the replicas";
  EXPECT_GE(s.min_running, 2) << "parallelism 1: at most one slot down at a time";
  // With no delay the next slot starts once the last new task runs (a task being monitored holds
  // no place in the window); the update completes when the last one was watched for 500 ms.
  EXPECT_GE(took, 0.5) << "the last new task's monitor period";
  std::printf("stop-first update of 3 replicas, parallelism 1, monitor 500ms: %.2f s\n", took);
}

TEST_F(UpdateTest, StartFirstKeepsEveryOldTaskRunningUntilItsSuccessorRuns) {
  create("web", {"--update-order", "start-first"});
  const Sampled s = update_sampled("web", {"--args", "301"});
  ASSERT_EQ(s.rc, 0) << s.out;
  EXPECT_EQ(update_state("web"), "completed");
  EXPECT_EQ(running_cmdlines("web"), all_slots("/bin/sleep 300 301"));
  EXPECT_GE(s.min_running, 3) << "start-first: a slot's old task runs until the new one does";
  EXPECT_LE(s.max_running, 4) << "replicas + parallelism";
  EXPECT_EQ(service("web")["Spec"]["UpdateConfig"].value("Order", ""), "start-first");
}

TEST_F(UpdateTest, AnUpdateToACommandThatExitsAtOncePausesAndSaysWhy) {
  create("web");
  const auto before = running_ids("web");
  // `sleep 300 x` refuses its argument and exits 1 at once.
  auto [rc, out] = h.cli(*m, {"service", "update", "--args", "x", "web"});
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(out.find("service update paused: update paused due to failure or early termination of task "),
            std::string::npos)
      << out;
  const json svc = service("web");
  EXPECT_EQ(svc["UpdateStatus"].value("State", ""), "paused") << svc.dump();
  EXPECT_EQ(svc["UpdateStatus"].value("Message", "").rfind("update paused due to", 0), 0u) << svc.dump();
  // Parallelism 1, stop-first: the update paused before it reached every slot, and the pause
  // leaves the old tasks be. (Usually one slot was replaced; a new task counts as running for the
  // few milliseconds before its exit is seen, and as Docker's updater does, the next slot starts
  // once a new task runs, so a second slot may have been replaced before the failure was seen.)
  std::this_thread::sleep_for(1s);
  int old_running = 0;
  for (const auto& id : running_ids("web")) old_running += before.count(id);
  EXPECT_GE(old_running, 1) << tasks("web").dump();
  std::this_thread::sleep_for(1s);
  int still_old = 0;
  for (const auto& id : running_ids("web")) still_old += before.count(id);
  EXPECT_EQ(still_old, old_running) << "a paused update replaces nothing more\n" << tasks("web").dump();
  EXPECT_EQ(update_state("web"), "paused");

  // A new update (back to a command that works) restarts the paused one and completes.
  std::tie(rc, out) = h.cli(*m, {"service", "update", "--args", "301", "web"});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(update_state("web"), "completed");
  EXPECT_EQ(running_cmdlines("web"), all_slots("/bin/sleep 300 301"));
}

TEST_F(UpdateTest, AnUpdateToACommandThatExitsAtOnceRollsBackWhenSoConfigured) {
  create("web", {"--update-failure-action", "rollback"});
  auto [rc, out] = h.cli(*m, {"service", "update", "--args", "x", "web"});
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(out.find("rollback: update rolled back due to failure or early termination of task "), std::string::npos)
      << out;
  EXPECT_NE(out.find("service rolled back: update rolled back due to"), std::string::npos) << out;
  EXPECT_NE(out.find("verify: Service converged\n"), std::string::npos) << "the rollback converged first\n" << out;
  const json svc = service("web");
  EXPECT_EQ(svc["UpdateStatus"].value("State", ""), "rollback_completed") << svc.dump();
  EXPECT_FALSE(svc["Spec"]["TaskTemplate"]["ContainerSpec"].contains("Args")) << "the old spec is back";
  EXPECT_EQ(running_cmdlines("web"), all_slots("/bin/sleep 300"));
}

TEST_F(UpdateTest, AnUpdateWhoseHealthCheckFailsRollsBackAndSaysTheTaskWasUnhealthy) {
  create("web", {"--update-failure-action", "rollback"});
  // The new tasks start fine, but their health check fails: they never count as running, the
  // agent fails them as unhealthy, and the updater rolls the service back.
  auto [rc, out] = h.cli(*m, {"service", "update", "--health-cmd", "exit 1", "--health-interval", "100ms",
                              "--health-retries", "2", "--args", "301", "web"});
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(out.find("rollback: update rolled back due to failure or early termination of task "), std::string::npos)
      << out;
  EXPECT_NE(out.find(" (task: unhealthy container)\n"), std::string::npos) << "the failed task says why\n" << out;
  EXPECT_NE(out.find("service rolled back: update rolled back due to"), std::string::npos) << out;
  const json svc = service("web");
  EXPECT_EQ(svc["UpdateStatus"].value("State", ""), "rollback_completed") << svc.dump();
  EXPECT_FALSE(svc["Spec"]["TaskTemplate"]["ContainerSpec"].contains("Healthcheck")) << "the old spec is back";
  EXPECT_EQ(running_cmdlines("web"), all_slots("/bin/sleep 300"));

  // A check that passes: the update completes, each new task running once its first check passed.
  std::tie(rc, out) = h.cli(*m, {"service", "update", "--health-cmd", "true", "--health-interval", "100ms",
                                 "--args", "302", "web"});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(update_state("web"), "completed");
  EXPECT_EQ(running_cmdlines("web"), all_slots("/bin/sleep 300 302"));
}

TEST_F(UpdateTest, ForceReplacesEveryTaskWithoutASpecChange) {
  create("web", {"--update-parallelism", "2"});
  const auto before = running_ids("web");
  ASSERT_EQ(before.size(), 3u);
  auto [rc, out] = h.cli(*m, {"service", "update", "--force", "web"});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(update_state("web"), "completed");
  const auto after = running_ids("web");
  EXPECT_EQ(after.size(), 3u);
  for (const auto& id : after) EXPECT_FALSE(before.count(id)) << "task " << id << " was not replaced";
  EXPECT_EQ(running_cmdlines("web"), all_slots("/bin/sleep 300"));
}

TEST_F(UpdateTest, ServiceRollbackReturnsToThePreviousSpec) {
  create("web");
  auto [rc, out] = h.cli(*m, {"service", "rollback", "web"});
  EXPECT_NE(rc, 0) << "nothing to roll back to\n" << out;
  EXPECT_NE(out.find("does not have a previous spec"), std::string::npos) << out;

  std::tie(rc, out) = h.cli(*m, {"service", "update", "--args", "301", "--update-parallelism", "0", "web"});
  ASSERT_EQ(rc, 0) << out;
  ASSERT_EQ(running_cmdlines("web"), all_slots("/bin/sleep 300 301"));
  std::tie(rc, out) = h.cli(*m, {"service", "rollback", "web"});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("rollback: manually requested rollback\n"), std::string::npos) << out;
  EXPECT_NE(out.find("verify: Service converged\n"), std::string::npos) << out;
  EXPECT_EQ(update_state("web"), "rollback_completed");
  EXPECT_EQ(running_cmdlines("web"), all_slots("/bin/sleep 300"));

  std::tie(rc, out) = h.cli(*m, {"service", "inspect", "--pretty", "web"});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("UpdateStatus:\n State:\t\trollback_completed\n"), std::string::npos) << out;
  EXPECT_NE(out.find(" Monitoring Period: 500ms\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace shoal::integration
