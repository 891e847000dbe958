// The service CLI's text helpers: docker's size and CPU flag syntax, the ellipsis, and the pure
// views behind service ls / ps / inspect --pretty (the CLI tests cover them end to end).
#include <gtest/gtest.h>

#include "io_real/cli/format.h"
#include "io_real/cli/views.h"

namespace shoal::real {
namespace {

using nlohmann::json;

TEST(ParseRamBytes, TakesGoUnitsSyntax) {
  struct Case {
    const char* text;
    int64_t bytes;
  };
  const Case cases[] = {
      {"0", 0},          {"1048576", 1048576}, {"512b", 512},          {"64M", 64LL << 20},
      {"64m", 64LL << 20}, {"64mb", 64LL << 20}, {"64MiB", 64LL << 20},  {"1G", 1LL << 30},
      {"1.5g", 3LL << 29}, {"2 k", 2048},        {"1T", 1LL << 40},      {"1p", 1LL << 50},
  };
  for (const auto& c : cases) {
    auto b = parse_ram_bytes(c.text);
    ASSERT_TRUE(b.ok()) << c.text << ": " << b.status().message();
    EXPECT_EQ(*b, c.bytes) << c.text;
  }
  for (const char* bad : {"", "M", "lots", "64X", "1.5.5g", "-1", "1..5", "64 MB ", "5.", "1e3", "99999999999P"}) {
    auto b = parse_ram_bytes(bad);
    EXPECT_FALSE(b.ok()) << bad;
    if (!b.ok()) {
      EXPECT_EQ(b.status().message(), "invalid size: '" + std::string(bad) + "'");
    }
  }
}

TEST(ParseNanoCpus, IsExactToTheNanoCpu) {
  EXPECT_EQ(*parse_nano_cpus("0.5"), 500'000'000);
  EXPECT_EQ(*parse_nano_cpus("2"), 2'000'000'000);
  EXPECT_EQ(*parse_nano_cpus(".25"), 250'000'000);
  EXPECT_EQ(*parse_nano_cpus("0.000000001"), 1);
  EXPECT_EQ(*parse_nano_cpus("1.5000000000"), 1'500'000'000) << "trailing zeros are not precision";
  EXPECT_EQ(*parse_nano_cpus("007"), 7'000'000'000);
  EXPECT_EQ(parse_nano_cpus("0.0000000001").status().message(), "value is too precise");
  for (const char* bad : {"", ".", "one", "-1", "1,5", "1.2.3", "1e9"}) EXPECT_FALSE(parse_nano_cpus(bad).ok()) << bad;
  EXPECT_FALSE(parse_nano_cpus("10000000000").ok()) << "more CPUs than an int64 of nano CPUs holds";
}

TEST(FormatCpus, PrintsLikeDocker) {
  EXPECT_EQ(format_cpus(500'000'000), "0.5");
  EXPECT_EQ(format_cpus(2'000'000'000), "2");
  EXPECT_EQ(format_cpus(1'250'000'000), "1.25");
  EXPECT_EQ(format_cpus(1'000'000), "0.001");
  EXPECT_EQ(format_cpus(1), "0.000000001");
}

TEST(Ellipsize, CutsCodePoints) {
  EXPECT_EQ(ellipsize("short", 30), "short");
  EXPECT_EQ(ellipsize("abcdef", 6), "abcdef");
  EXPECT_EQ(ellipsize("abcdefg", 6), "abcde…");
  EXPECT_EQ(ellipsize("ééééééé", 3), "éé…") << "never inside a UTF-8 sequence";
}

json service(const std::string& id, const std::string& name, json mode, int running, int desired) {
  return {{"ID", id},
          {"Spec",
           {{"Name", name},
            {"TaskTemplate", {{"ContainerSpec", {{"Command", {"sh", "-c"}}, {"Args", {"echo hi; sleep 1000000000"}}}}}},
            {"Mode", mode}}},
          {"ServiceStatus", {{"RunningTasks", running}, {"DesiredTasks", desired}}}};
}

TEST(ServiceViews, ReplicasAndCommandColumns) {
  json web = service("0123456789abcdefghijklmno", "web", {{"Replicated", {{"Replicas", 3}}}}, 1, 3);
  EXPECT_EQ(replicas_text(web), "1/3");
  web["Spec"]["TaskTemplate"]["Placement"]["MaxReplicas"] = 1;
  EXPECT_EQ(replicas_text(web), "1/3 (max 1 per node)");
  json global = service("zz3456789abcdefghijklmno", "agent", {{"Global", json::object()}}, 2, 2);
  global["Spec"]["TaskTemplate"]["Placement"]["MaxReplicas"] = 1;
  EXPECT_EQ(replicas_text(global), "2/2") << "max per node is for replicated services";
  EXPECT_EQ(service_mode(global), "global");
  EXPECT_EQ(command_text(web["Spec"]["TaskTemplate"]), "sh -c echo hi; sleep 1000000000");
  EXPECT_EQ(command_text(json::object()), "");
  EXPECT_EQ(short_id("0123456789abcdefghijklmno"), "0123456789ab");
  EXPECT_EQ(short_id("abc"), "abc");
  EXPECT_EQ(service_table({web, global}),
            "ID             NAME      MODE         REPLICAS               COMMAND\n"
            "0123456789ab   web       replicated   1/3 (max 1 per node)   sh -c echo hi; sleep 1000000000\n"
            "zz3456789abc   agent     global       2/2                    sh -c echo hi; sleep 1000000000\n");
  web["Spec"]["TaskTemplate"]["ContainerSpec"]["Args"] = {"a very long argument that goes on and on and on"};
  EXPECT_NE(service_table({web}).find("sh -c a very long argument that goes on…\n"), std::string::npos)
      << service_table({web});
}

TEST(TaskViews, NamesAndOrder) {
  const std::map<std::string, std::string> names{{"s1", "web"}};
  auto task = [](std::string id, std::string service, int slot, std::string node, std::string created) {
    return json{{"ID", id}, {"ServiceID", service}, {"Slot", slot}, {"NodeID", node}, {"CreatedAt", created}};
  };
  EXPECT_EQ(task_name(task("t", "s1", 3, "n", ""), names), "web.3");
  EXPECT_EQ(task_name(task("t", "s1", 0, "00000000000000aa", ""), names), "web.00000000000000aa");
  EXPECT_EQ(task_name(task("t", "s9", 1, "", ""), names), "s9.1") << "an unknown service names itself";

  std::vector<json> tasks{task("a", "s1", 10, "", "2024-01-01T00:00:00Z"), task("b", "s1", 2, "", "2024-01-01T00:00:00Z"),
                          task("c", "s1", 2, "", "2024-01-02T00:00:00Z"), task("d", "s1", 1, "", "2024-01-01T00:00:00Z")};
  sort_tasks(tasks, names);
  std::string order;
  for (const auto& t : tasks) order += t["ID"].get<std::string>();
  EXPECT_EQ(order, "dcba") << "natural order of names, newest first within a name";
}

}  // namespace
}  // namespace shoal::real
