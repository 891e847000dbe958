// Compose files read into ServiceSpecs (io_real/cli/stack_file.h): what each supported key
// becomes, what is ignored with a warning, every way a file is refused (always naming the file,
// the service and the field), and shell-like splitting of a command string.
#include "io_real/cli/stack_file.h"

#include <gtest/gtest.h>

namespace shoal::real {
namespace {

using nlohmann::json;

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\"\n  does not contain \"" << part << "\"";
}
#define EXPECT_CONTAINS(text, part) EXPECT_TRUE(Contains((text), (part)))

StackFile parse_ok(const std::string& yaml, const std::string& stack = "shop") {
  auto r = parse_stack_file(yaml, "stack.yml", stack);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : StackFile{};
}

std::string parse_error(const std::string& yaml, const std::string& stack = "shop") {
  auto r = parse_stack_file(yaml, "stack.yml", stack);
  EXPECT_FALSE(r.ok()) << "parsed: " << (r.ok() && !r->services.empty() ? r->services[0].spec.dump() : "");
  return r.ok() ? "" : r.status().message();
}

TEST(StackFile, AFullServiceBecomesDockersServiceSpec) {
  const StackFile f = parse_ok(R"(
version: "3.8"
services:
  web:
    image: python:3
    entrypoint: /usr/bin/env
    command: python3 -m http.server 8080
    environment:
      MODE: prod
      DEBUG: "false"
      EMPTY:
    working_dir: /srv
    stop_grace_period: 20s
    deploy:
      mode: replicated
      replicas: 3
      labels:
        team: a
      placement:
        constraints: [node.role==worker, "node.labels.zone != east"]
        preferences:
          - spread: node.labels.zone
        max_replicas_per_node: 2
      resources:
        reservations: {cpus: "0.5", memory: 50M}
        limits: {cpus: 2, memory: 1G}
      restart_policy:
        condition: on-failure
        delay: 5s
        max_attempts: 3
        window: 2m
)");
  ASSERT_EQ(f.services.size(), 1u);
  EXPECT_TRUE(f.warnings.empty());
  EXPECT_EQ(f.services[0].name, "web");
  const json want = json::parse(R"({
    "Name": "shop_web",
    "Labels": {"com.docker.stack.namespace": "shop", "team": "a"},
    "TaskTemplate": {
      "ContainerSpec": {"Image": "python:3", "Command": ["/usr/bin/env"],
                        "Args": ["python3", "-m", "http.server", "8080"],
                        "Env": ["DEBUG=false", "EMPTY", "MODE=prod"], "Dir": "/srv",
                        "StopGracePeriod": 20000000000},
      "Placement": {"Constraints": ["node.role==worker", "node.labels.zone != east"],
                    "Preferences": [{"Spread": {"SpreadDescriptor": "node.labels.zone"}}], "MaxReplicas": 2},
      "Resources": {"Limits": {"NanoCPUs": 2000000000, "MemoryBytes": 1073741824},
                    "Reservations": {"NanoCPUs": 500000000, "MemoryBytes": 52428800}},
      "RestartPolicy": {"Condition": "on-failure", "Delay": 5000000000, "MaxAttempts": 3,
                        "Window": 120000000000}},
    "Mode": {"Replicated": {"Replicas": 3}}})");
  EXPECT_EQ(f.services[0].spec, want) << f.services[0].spec.dump(2);
}

TEST(StackFile, UpdateAndRollbackPoliciesAndHealthChecks) {
  const StackFile f = parse_ok(R"(
services:
  web:
    command: serve
    healthcheck:
      test: curl -f http://localhost/ || exit 1
      interval: 2s
      timeout: 1s
      retries: 3
      start_period: 5s
    deploy:
      update_config:
        parallelism: 2
        delay: 10s
        failure_action: rollback
        monitor: 30s
        max_failure_ratio: 0.25
        order: start-first
      rollback_config: {parallelism: 0, failure_action: continue}
  worker:
    command: work
    healthcheck: {test: ["CMD", "/bin/check", "--fast"]}
  quiet:
    command: run
    healthcheck: {disable: true}
)");
  ASSERT_EQ(f.services.size(), 3u);
  EXPECT_TRUE(f.warnings.empty());
  const json& web = f.services[1].spec;
  EXPECT_EQ(web["TaskTemplate"]["ContainerSpec"]["Healthcheck"], json::parse(R"({
    "Test": ["CMD-SHELL", "curl -f http://localhost/ || exit 1"], "Interval": 2000000000,
    "Timeout": 1000000000, "StartPeriod": 5000000000, "Retries": 3})"));
  EXPECT_EQ(web["UpdateConfig"], json::parse(R"({"Parallelism": 2, "Delay": 10000000000,
    "FailureAction": "rollback", "Monitor": 30000000000, "MaxFailureRatio": 0.25, "Order": "start-first"})"));
  EXPECT_EQ(web["RollbackConfig"], json::parse(R"({"Parallelism": 0, "FailureAction": "continue"})"));
  EXPECT_EQ(f.services[2].spec["TaskTemplate"]["ContainerSpec"]["Healthcheck"],
            json::parse(R"({"Test": ["CMD", "/bin/check", "--fast"]})"));
  EXPECT_EQ(f.services[0].spec["TaskTemplate"]["ContainerSpec"]["Healthcheck"], json::parse(R"({"Test": ["NONE"]})"));
}

TEST(StackFile, BadUpdatePoliciesAndHealthChecksNameTheField) {
  auto service = [](const std::string& body) { return parse_error("services:\n  web:\n    command: run\n" + body); };
  EXPECT_CONTAINS(service("    deploy: {update_config: {failure_action: retry}}\n"),
                  "services.web.deploy.update_config.failure_action: unknown action \"retry\"");
  EXPECT_CONTAINS(service("    deploy: {rollback_config: {order: random}}\n"),
                  "services.web.deploy.rollback_config.order: unknown order \"random\"");
  EXPECT_CONTAINS(service("    deploy: {update_config: {max_failure_ratio: 1.5}}\n"),
                  "services.web.deploy.update_config.max_failure_ratio: \"1.5\" is not between 0 and 1");
  EXPECT_CONTAINS(service("    deploy: {update_config: {max_failure_ratio: some}}\n"),
                  "services.web.deploy.update_config.max_failure_ratio: \"some\" is not a number");
  EXPECT_CONTAINS(service("    deploy: {update_config: {parallelism: -1}}\n"),
                  "services.web.deploy.update_config.parallelism: \"-1\" is not a non-negative integer");
  EXPECT_CONTAINS(service("    deploy: {update_config: {delay: soon}}\n"),
                  "services.web.deploy.update_config.delay: invalid duration");
  EXPECT_CONTAINS(service("    deploy: {update_config: {paralelism: 2}}\n"),
                  "services.web.deploy.update_config: unknown option \"paralelism\"");
  EXPECT_CONTAINS(service("    deploy: {update_config: 2}\n"), "services.web.deploy.update_config: expected a mapping");
  EXPECT_CONTAINS(service("    healthcheck: {test: [\"CMD\", \"true\"], disable: true}\n"),
                  "services.web.healthcheck.test: test and disable: true cannot both be set");
  EXPECT_CONTAINS(service("    healthcheck: {retries: lots}\n"),
                  "services.web.healthcheck.retries: \"lots\" is not a non-negative integer");
  EXPECT_CONTAINS(service("    healthcheck: {test: true, interval: 1 minute}\n"),
                  "services.web.healthcheck.interval: invalid duration");
  // What the daemon refuses of a whole spec is refused here, naming the service.
  EXPECT_CONTAINS(service("    healthcheck: {test: [\"RUN\", \"true\"]}\n"),
                  "services.web: Healthcheck: Test must start with \"CMD\", \"CMD-SHELL\" or \"NONE\"");
  EXPECT_CONTAINS(service("    healthcheck: {test: [\"CMD\", \"true\"], interval: 1us}\n"),
                  "cannot be less than 1ms");
}

TEST(StackFile, MinimalServicesAreSortedAndNamespaced) {
  const StackFile f = parse_ok(R"(
services:
  worker:
    command: [sleep, "300"]
  api:
    command: sleep 300
    deploy:
      mode: global
)");
  ASSERT_EQ(f.services.size(), 2u);
  EXPECT_EQ(f.services[0].name, "api");
  EXPECT_EQ(f.services[1].name, "worker");
  EXPECT_EQ(f.services[0].spec, json::parse(R"({"Name": "shop_api",
      "Labels": {"com.docker.stack.namespace": "shop"},
      "TaskTemplate": {"ContainerSpec": {"Args": ["sleep", "300"]}},
      "Mode": {"Global": {}}})"));
  // No replicas in the file: none in the spec (the daemon's default, or the current count).
  EXPECT_EQ(f.services[1].spec["Mode"], json::parse(R"({"Replicated": {}})"));
  EXPECT_EQ(f.services[1].spec["TaskTemplate"]["ContainerSpec"]["Args"], json::parse(R"(["sleep", "300"])"));
}

TEST(StackFile, EnvironmentAndLabelsAsLists) {
  const StackFile f = parse_ok(R"(
services:
  web:
    command: run
    environment: ["B=2", "A=x=y", "C"]
    deploy:
      labels: ["tier=front", "flag", "com.docker.stack.namespace=other"]
)");
  const json& spec = f.services.at(0).spec;
  EXPECT_EQ(spec["TaskTemplate"]["ContainerSpec"]["Env"], json::parse(R"(["A=x=y", "B=2", "C"])"));
  // The stack's own namespace label wins over one written in the file.
  EXPECT_EQ(spec["Labels"], json::parse(R"({"tier": "front", "flag": "", "com.docker.stack.namespace": "shop"})"));
}

TEST(StackFile, MemoryAndCpuUnits) {
  auto reservations = [](const std::string& cpus, const std::string& memory) {
    const StackFile f = parse_ok("services:\n  w:\n    command: run\n    deploy:\n      resources:\n"
                                 "        reservations:\n          cpus: " + cpus + "\n          memory: " + memory +
                                 "\n");
    return f.services.empty() ? json() : f.services[0].spec["TaskTemplate"]["Resources"]["Reservations"];
  };
  EXPECT_EQ(reservations("0.5", "50M"), json::parse(R"({"NanoCPUs": 500000000, "MemoryBytes": 52428800})"));
  EXPECT_EQ(reservations("'0.25'", "1.5g"), json::parse(R"({"NanoCPUs": 250000000, "MemoryBytes": 1610612736})"));
  EXPECT_EQ(reservations("1", "512mb"), json::parse(R"({"NanoCPUs": 1000000000, "MemoryBytes": 536870912})"));
  EXPECT_EQ(reservations("0.001", "67108864"), json::parse(R"({"NanoCPUs": 1000000, "MemoryBytes": 67108864})"));
  EXPECT_EQ(reservations("3", "64 MiB"), json::parse(R"({"NanoCPUs": 3000000000, "MemoryBytes": 67108864})"));
}

TEST(StackFile, UnsupportedOptionsAreIgnoredWithOneWarning) {
  const StackFile f = parse_ok(R"(
version: "3"
x-common: &common
  anything: goes
services:
  web:
    image: nginx
    command: run
    ports: ["80:80"]
    networks: [front]
    volumes: ["data:/data"]
    labels: {a: b}
    x-note: ignored silently
    deploy:
      endpoint_mode: vip
      resources:
        limits: {pids: 10}
  db:
    command: run
    healthcheck: {test: ["CMD", "true"], start_interval: 1s}
networks:
  front:
volumes:
  data:
)");
  ASSERT_EQ(f.services.size(), 2u);
  ASSERT_EQ(f.warnings.size(), 1u);
  EXPECT_EQ(f.warnings[0],
            "Ignoring unsupported options: deploy.endpoint_mode, deploy.resources.limits.pids, "
            "healthcheck.start_interval, labels, networks, ports, volumes");
  // The service's own labels are container labels in Docker; they do not become service labels.
  EXPECT_EQ(f.services[1].spec["Labels"], json::parse(R"({"com.docker.stack.namespace": "shop"})"));
}

TEST(StackFile, ImageWithoutCommandIsAnErrorNamingTheService) {
  const std::string e = parse_error("services:\n  web:\n    image: nginx\n");
  EXPECT_CONTAINS(e, ("stack.yml:3: services.web: no command"));
  EXPECT_CONTAINS(e, ("image"));
  EXPECT_CONTAINS(parse_error("services:\n  web:\n    command: []\n"), ("services.web: no command"));
  EXPECT_CONTAINS(parse_error("services:\n  web:\n    command: \"  \"\n"), ("services.web: no command"));
}

TEST(StackFile, MalformedYaml) {
  const std::string e = parse_error("services:\n  web:\n    command: [sleep, 1\n  db: {\n");
  EXPECT_CONTAINS(e, ("stack.yml:"));
  EXPECT_CONTAINS(e, ("invalid YAML"));
  EXPECT_CONTAINS(parse_error("services:\n  web:\n   command: run\n  - x\n"), ("invalid YAML"));
}

TEST(StackFile, TheFileAsAWhole) {
  EXPECT_CONTAINS(parse_error(""), ("stack.yml: the file is empty"));
  EXPECT_CONTAINS(parse_error("- a\n- b\n"), ("stack.yml:1: expected a mapping at the top level, got a list"));
  EXPECT_CONTAINS(parse_error("version: '3'\n"), ("no services"));
  EXPECT_CONTAINS(parse_error("services: {}\n"), ("services: no services"));
  EXPECT_CONTAINS(parse_error("services: [web]\n"), ("services: expected a mapping of service names, got a list"));
  EXPECT_CONTAINS(parse_error("services:\n  web: {command: run}\nservics: {}\n"),
              ("stack.yml:3: unknown option \"servics\""));
  EXPECT_CONTAINS(parse_error("services:\n  web: run\n"), ("services.web: expected a mapping, got a scalar"));
  EXPECT_CONTAINS(parse_error("services:\n  web: {command: run}\n  web: {command: run}\n"),
              ("service \"web\" is defined twice"));
}

TEST(StackFile, NamesOfStacksAndServices) {
  EXPECT_CONTAINS(parse_error("services:\n  web: {command: run}\n", "my.stack"), ("invalid stack name \"my.stack\""));
  EXPECT_CONTAINS(parse_error("services:\n  web: {command: run}\n", ""), ("invalid stack name"));
  EXPECT_CONTAINS(parse_error("services:\n  web.app: {command: run}\n"),
              ("services.web.app: invalid service name \"web.app\""));
  EXPECT_CONTAINS(parse_error("services:\n  " + std::string(70, 'a') + ": {command: run}\n"),
              ("invalid service name"));
  EXPECT_TRUE(validate_stack_name("shop-2_b").ok());
}

TEST(StackFile, WrongTypesNameTheField) {
  auto service = [](const std::string& body) { return parse_error("services:\n  web:\n" + body); };
  EXPECT_CONTAINS(service("    command: {a: b}\n"),
              ("stack.yml:3: services.web.command: expected a string or a list of strings, got a mapping"));
  EXPECT_CONTAINS(service("    command: [sleep, [1]]\n"), ("services.web.command[1]: expected a string, got a list"));
  EXPECT_CONTAINS(service("    command: run\n    entrypoint: {a: 1}\n"), ("services.web.entrypoint: expected"));
  EXPECT_CONTAINS(service("    command: run\n    environment: FOO=1\n"),
              ("services.web.environment: expected a mapping or a list"));
  EXPECT_CONTAINS(service("    command: run\n    environment: {A: [1]}\n"),
              ("services.web.environment.A: expected a string, got a list"));
  EXPECT_CONTAINS(service("    command: run\n    environment: [\"=x\"]\n"), ("services.web.environment[0]: empty name"));
  EXPECT_CONTAINS(service("    command: run\n    working_dir: [a]\n"), ("services.web.working_dir: expected a string"));
  EXPECT_CONTAINS(service("    command: run\n    labels: 3\n"), ("services.web.labels: expected a mapping"));
  EXPECT_CONTAINS(service("    command: run\n    deploy: [a]\n"), ("services.web.deploy: expected a mapping, got a list"));
  EXPECT_CONTAINS(service("    command: run\n    deploy: {replicas: two}\n"),
              ("services.web.deploy.replicas: \"two\" is not a non-negative integer"));
  EXPECT_CONTAINS(service("    command: run\n    deploy: {replicas: -1}\n"), ("services.web.deploy.replicas"));
  EXPECT_CONTAINS(service("    command: run\n    deploy: {replicas: 20000}\n"),
              ("services.web.deploy.replicas: at most 10000 replicas"));
  EXPECT_CONTAINS(service("    command: run\n    deploy: {labels: x}\n"), ("services.web.deploy.labels: expected"));
  EXPECT_CONTAINS(service("    command: run\n    deploy: {placement: {constraints: node.role==worker}}\n"),
              ("services.web.deploy.placement.constraints: expected a list of strings, got a scalar"));
  EXPECT_CONTAINS(service("    command: run\n    deploy: {placement: {preferences: [node.labels.zone]}}\n"),
              ("services.web.deploy.placement.preferences[0]: expected a mapping"));
  EXPECT_CONTAINS(service("    command: run\n    deploy: {placement: {preferences: [{binpack: x}]}}\n"),
              ("services.web.deploy.placement.preferences[0]: unknown option \"binpack\""));
  EXPECT_CONTAINS(service("    command: run\n    deploy: {placement: {preferences: [{spread: ''}]}}\n"),
              ("preferences[0].spread: empty spread descriptor"));
  EXPECT_CONTAINS(service("    command: run\n    deploy: {placement: {max_replicas_per_node: x}}\n"),
              ("services.web.deploy.placement.max_replicas_per_node: \"x\" is not a non-negative integer"));
  EXPECT_CONTAINS(service("    command: run\n    deploy: {resources: {reservations: 1}}\n"),
              ("services.web.deploy.resources.reservations: expected a mapping"));
  EXPECT_CONTAINS(service("    command: run\n    deploy: {restart_policy: {max_attempts: many}}\n"),
              ("services.web.deploy.restart_policy.max_attempts: \"many\" is not a non-negative integer"));
}

TEST(StackFile, BadValuesNameTheField) {
  auto service = [](const std::string& body) { return parse_error("services:\n  web:\n    command: run\n" + body); };
  EXPECT_CONTAINS(service("    deploy: {mode: daemonset}\n"),
              ("services.web.deploy.mode: unknown mode \"daemonset\" (replicated or global)"));
  EXPECT_CONTAINS(service("    deploy: {mode: global, replicas: 2}\n"),
              ("services.web.deploy.replicas: replicas can only be used with replicated mode"));
  EXPECT_CONTAINS(service("    deploy: {mode: global, placement: {max_replicas_per_node: 1}}\n"),
              ("services.web.deploy.placement.max_replicas_per_node: max_replicas_per_node can only be used"));
  EXPECT_CONTAINS(service("    deploy: {restart_policy: {condition: always}}\n"),
              ("services.web.deploy.restart_policy.condition: unknown condition \"always\""));
  EXPECT_CONTAINS(service("    deploy: {resources: {reservations: {memory: 50Q}}}\n"),
              ("services.web.deploy.resources.reservations.memory: invalid size: '50Q'"));
  EXPECT_CONTAINS(service("    deploy: {resources: {limits: {cpus: half}}}\n"),
              ("services.web.deploy.resources.limits.cpus: failed to parse half"));
  // Checks the daemon makes on a whole spec are made before anything is sent, too.
  EXPECT_CONTAINS(service("    deploy: {resources: {reservations: {memory: 1M}}}\n"),
              ("services.web: invalid memory value 1048576: Must be at least 4MiB"));
  EXPECT_CONTAINS(service("    deploy: {resources: {reservations: {cpus: 2}, limits: {cpus: 1}}}\n"),
              ("services.web: the CPU reservation is above the CPU limit"));
  EXPECT_CONTAINS(service("    deploy: {unknown_key: 1}\n"), ("services.web.deploy: unknown option \"unknown_key\""));
  EXPECT_CONTAINS(service("    comand: typo\n"), ("stack.yml:4: services.web: unknown option \"comand\""));
}

TEST(StackFile, BadDurations) {
  auto service = [](const std::string& body) { return parse_error("services:\n  web:\n    command: run\n" + body); };
  EXPECT_CONTAINS(service("    deploy: {restart_policy: {delay: 5 secs}}\n"),
              ("stack.yml:4: services.web.deploy.restart_policy.delay: invalid duration \"5 secs\""));
  EXPECT_CONTAINS(service("    deploy: {restart_policy: {window: 10}}\n"),
              ("services.web.deploy.restart_policy.window: invalid duration \"10\""));
  EXPECT_CONTAINS(service("    deploy: {restart_policy: {delay: -1s}}\n"),
              ("services.web.deploy.restart_policy.delay: duration \"-1s\" is negative"));
  EXPECT_CONTAINS(service("    stop_grace_period: soon\n"), ("services.web.stop_grace_period: invalid duration"));
  // Zero and compound durations are fine.
  const StackFile f = parse_ok("services:\n  web:\n    command: run\n    deploy:\n      restart_policy:\n"
                               "        delay: 0\n        window: 1m30s\n");
  EXPECT_EQ(f.services.at(0).spec["TaskTemplate"]["RestartPolicy"],
            json::parse(R"({"Delay": 0, "Window": 90000000000})"));
}

TEST(StackFile, BadConstraints) {
  auto constraint = [](const std::string& c) {
    return parse_error("services:\n  web:\n    command: run\n    deploy:\n      placement:\n        constraints:\n"
                       "          - node.role==manager\n          - \"" + c + "\"\n");
  };
  const std::string e = constraint("node.role=manager");
  EXPECT_CONTAINS(e, ("stack.yml:8: services.web.deploy.placement.constraints[1]: "));
  EXPECT_CONTAINS(e, ("node.role=manager"));
  EXPECT_CONTAINS(constraint("node.colour==red"), ("services.web.deploy.placement.constraints[1]: "));
  EXPECT_CONTAINS(constraint("node.labels.zone=="), ("services.web.deploy.placement.constraints[1]: "));
}

TEST(StackFile, TheFirstBadServiceStopsEverything) {
  // One bad service: the whole file is refused, whichever service comes first.
  EXPECT_CONTAINS(parse_error("services:\n  a: {command: run}\n  b: {image: x}\n  c: {command: run}\n"),
              ("services.b: no command"));
}

TEST(SplitShellWords, SplitsAsAShellWould) {
  auto split = [](std::string_view text) {
    auto r = split_shell_words(text);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : std::vector<std::string>{"<error>"};
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(split("sleep 300"), (V{"sleep", "300"}));
  EXPECT_EQ(split("  a \t b\n c  "), (V{"a", "b", "c"}));
  EXPECT_EQ(split(""), V{});
  EXPECT_EQ(split("   "), V{});
  EXPECT_EQ(split("sh -c 'echo $HOME; exit 1'"), (V{"sh", "-c", "echo $HOME; exit 1"}));
  EXPECT_EQ(split(R"(echo "a b" "c\"d" "e\\f" "g\h" "\$x")"), (V{"echo", "a b", "c\"d", "e\\f", "g\\h", "$x"}));
  EXPECT_EQ(split(R"(a\ b c\'d \\)"), (V{"a b", "c'd", "\\"}));
  EXPECT_EQ(split(R"(x'y'"z" '' "")"), (V{"xyz", "", ""}));
  EXPECT_EQ(split("one \\\ntwo"), (V{"one", "two"}));
  EXPECT_EQ(split("'it''s'"), (V{"its"}));
  EXPECT_EQ(split("$HOME *.txt ~"), (V{"$HOME", "*.txt", "~"})) << "no expansion";
}

TEST(SplitShellWords, UnterminatedQuotesAndTrailingBackslash) {
  EXPECT_CONTAINS(split_shell_words("echo 'abc").status().message(), ("unterminated single quote"));
  EXPECT_CONTAINS(split_shell_words("echo \"abc").status().message(), ("unterminated double quote"));
  EXPECT_CONTAINS(split_shell_words("echo \"abc\\\"").status().message(), ("unterminated double quote"));
  EXPECT_CONTAINS(split_shell_words("echo \\").status().message(), ("trailing backslash"));
  // In a stack file, the error names the field.
  EXPECT_CONTAINS(parse_error("services:\n  web:\n    command: sh -c 'oops\n"),
              ("stack.yml:3: services.web.command: an unterminated single quote"));
}

}  // namespace
}  // namespace shoal::real
