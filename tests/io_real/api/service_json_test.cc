// Services and tasks in Docker's JSON: reading a ServiceSpec (types, defaults, errors naming the
// field), swarmkit's checks, writing specs back (a round trip), task JSON and state words.
#include "io_real/api/service_json.h"

#include <gtest/gtest.h>

#include <functional>

#include <google/protobuf/util/message_differencer.h>

namespace shoal::real {
namespace {

using nlohmann::json;

json full_spec() {
  return json::parse(R"({
    "Name": "web",
    "Labels": {"team": "a"},
    "TaskTemplate": {
      "ContainerSpec": {"Image": "", "Command": ["sleep", "100"], "Args": ["--x"], "Env": ["A=1", "B=2"],
                        "Dir": "/srv", "StopGracePeriod": 3000000000},
      "Resources": {"Limits": {"NanoCPUs": 2000000000, "MemoryBytes": 1073741824},
                    "Reservations": {"NanoCPUs": 500000000, "MemoryBytes": 67108864}},
      "RestartPolicy": {"Condition": "on-failure", "Delay": 2000000000, "MaxAttempts": 3, "Window": 60000000000},
      "Placement": {"Constraints": ["node.role==worker", "node.labels.zone!=east"],
                    "Preferences": [{"Spread": {"SpreadDescriptor": "node.labels.zone"}}],
                    "MaxReplicas": 2},
      "ForceUpdate": 4
    },
    "Mode": {"Replicated": {"Replicas": 3}}
  })");
}

TEST(ServiceSpecJson, ReadsEveryFieldDockerSends) {
  auto spec = service_spec_from_json(full_spec());
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->annotations().name(), "web");
  EXPECT_EQ(spec->annotations().labels().at("team"), "a");
  const auto& c = spec->task().container();
  ASSERT_EQ(c.command_size(), 2);
  EXPECT_EQ(c.command(1), "100");
  EXPECT_EQ(c.args(0), "--x");
  EXPECT_EQ(c.env(1), "B=2");
  EXPECT_EQ(c.dir(), "/srv");
  EXPECT_EQ(c.stop_grace_period_ns(), 3'000'000'000);
  EXPECT_EQ(spec->task().resources().limits().nano_cpus(), 2'000'000'000);
  EXPECT_EQ(spec->task().resources().reservations().memory_bytes(), 64 << 20);
  EXPECT_EQ(spec->task().restart().condition(), storepb::RestartPolicy::ON_FAILURE);
  EXPECT_EQ(spec->task().restart().delay_ns(), 2'000'000'000);
  EXPECT_EQ(spec->task().restart().max_attempts(), 3u);
  EXPECT_EQ(spec->task().restart().window_ns(), 60'000'000'000);
  EXPECT_EQ(spec->task().placement().constraints_size(), 2);
  EXPECT_EQ(spec->task().placement().preferences(0).spread(), "node.labels.zone");
  EXPECT_EQ(spec->task().placement().max_replicas(), 2u);
  EXPECT_EQ(spec->task().force_update(), 4u);
  EXPECT_EQ(spec->replicated().replicas(), 3u);
  EXPECT_TRUE(validate_service_spec(*spec).ok());
}

TEST(ServiceSpecJson, AbsentFieldsTakeDockersDefaults) {
  auto spec = service_spec_from_json(json::parse(R"({"Name": "w", "TaskTemplate": {"ContainerSpec": {"Command": ["true"]}}})"));
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_TRUE(spec->has_replicated());
  EXPECT_EQ(spec->replicated().replicas(), 1u);
  EXPECT_EQ(spec->task().restart().condition(), storepb::RestartPolicy::ANY);
  EXPECT_EQ(spec->task().restart().delay_ns(), kDefaultRestartDelayNs);
  EXPECT_EQ(spec->task().container().stop_grace_period_ns(), kDefaultStopGracePeriodNs);

  // A RestartPolicy with only a condition still gets the default delay; an explicit 0 stays 0.
  auto cond = service_spec_from_json(json::parse(
      R"({"TaskTemplate": {"RestartPolicy": {"Condition": "none"}}, "Mode": {"Replicated": {}}})"));
  ASSERT_TRUE(cond.ok());
  EXPECT_EQ(cond->task().restart().condition(), storepb::RestartPolicy::NONE);
  EXPECT_EQ(cond->task().restart().delay_ns(), kDefaultRestartDelayNs);
  EXPECT_EQ(cond->replicated().replicas(), 1u);
  auto zero = service_spec_from_json(json::parse(R"({"TaskTemplate": {"RestartPolicy": {"Delay": 0}}})"));
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(zero->task().restart().delay_ns(), 0);

  auto global = service_spec_from_json(json::parse(R"({"Mode": {"Global": {}}})"));
  ASSERT_TRUE(global.ok());
  EXPECT_TRUE(global->has_global());
}

TEST(ServiceSpecJson, ErrorsNameTheField) {
  struct Case {
    const char* body;
    const char* message;
  };
  const Case cases[] = {
      {R"([])", "the service spec must be a JSON object"},
      {R"({"Name": 3})", "Name: expected a string, got number"},
      {R"({"Labels": {"a": 1}})", "Labels.a: expected a string, got number"},
      {R"({"TaskTemplate": {"ContainerSpec": {"Command": "sleep 1"}}})",
       "TaskTemplate.ContainerSpec.Command: expected an array of strings, got string"},
      {R"({"TaskTemplate": {"RestartPolicy": {"Delay": "5s"}}})",
       "TaskTemplate.RestartPolicy.Delay: expected an integer, got string"},
      {R"({"TaskTemplate": {"RestartPolicy": {"MaxAttempts": -1}}})",
       "TaskTemplate.RestartPolicy.MaxAttempts: must not be negative"},
      {R"({"TaskTemplate": {"RestartPolicy": {"Condition": "always"}}})", "invalid RestartCondition: \"always\""},
      {R"({"TaskTemplate": {"Resources": {"Limits": {"MemoryBytes": 1.5}}}})",
       "TaskTemplate.Resources.Limits.MemoryBytes: expected an integer, got number"},
      {R"({"TaskTemplate": {"Placement": {"Preferences": {"Spread": 1}}}})",
       "TaskTemplate.Placement.Preferences: expected an array, got object"},
      {R"({"Mode": {"Replicated": {"Replicas": 2}, "Global": {}}})", "must specify only one service mode"},
      {R"({"Mode": {"ReplicatedJob": {}}})", "Mode: job services (ReplicatedJob, GlobalJob) are not supported"},
      {R"({"Mode": {"Replicated": {"Replicas": -2}}})", "Mode.Replicated.Replicas: must not be negative"},
  };
  for (const auto& c : cases) {
    auto spec = service_spec_from_json(json::parse(c.body));
    ASSERT_FALSE(spec.ok()) << c.body;
    EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(spec.status().message(), c.message) << c.body;
  }
}

TEST(ServiceSpecJson, WritingThenReadingGivesTheSpecBack) {
  for (const json& body : {full_spec(), json::parse(R"({"Name": "g", "Mode": {"Global": {}},
                                                       "TaskTemplate": {"ContainerSpec": {"Args": ["x"]}}})")}) {
    auto spec = service_spec_from_json(body);
    ASSERT_TRUE(spec.ok());
    const json written = service_spec_json(*spec);
    auto again = service_spec_from_json(written);
    ASSERT_TRUE(again.ok()) << again.status().message();
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*spec, *again)) << written.dump(2);
  }
}

TEST(ServiceSpecJson, WritesDockersShapeWithOmitEmpty) {
  auto spec = service_spec_from_json(json::parse(R"({"Name": "w", "TaskTemplate": {"ContainerSpec": {"Command": ["true"]}}})"));
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(service_spec_json(*spec), json::parse(R"({
    "Name": "w", "Labels": {},
    "TaskTemplate": {
      "ContainerSpec": {"Command": ["true"], "StopGracePeriod": 10000000000},
      "Resources": {"Limits": {}, "Reservations": {}},
      "RestartPolicy": {"Condition": "any", "Delay": 5000000000, "MaxAttempts": 0},
      "Placement": {}, "ForceUpdate": 0, "Runtime": "container"},
    "Mode": {"Replicated": {"Replicas": 1}},
    "UpdateConfig": {"Parallelism": 1, "Delay": 0, "FailureAction": "pause", "Monitor": 5000000000,
                     "MaxFailureRatio": 0, "Order": "stop-first"},
    "RollbackConfig": {"Parallelism": 1, "Delay": 0, "FailureAction": "pause", "Monitor": 5000000000,
                       "MaxFailureRatio": 0, "Order": "stop-first"},
    "EndpointSpec": {"Mode": "vip"}})"));
}

// ---- rolling updates: UpdateConfig, RollbackConfig, Healthcheck, UpdateStatus ----

json with(json j, const json& patch) {
  j.merge_patch(patch);
  return j;
}

TEST(UpdateConfigJson, ReadsEveryFieldAndWritesItBack) {
  const json body = with(full_spec(), json::parse(R"({
    "UpdateConfig": {"Parallelism": 10, "Delay": 2000000000, "FailureAction": "rollback", "Monitor": 500000000,
                     "MaxFailureRatio": 0.25, "Order": "start-first"},
    "RollbackConfig": {"Parallelism": 0, "Delay": 1, "FailureAction": "continue", "Monitor": 0,
                       "MaxFailureRatio": 1, "Order": "stop-first"},
    "TaskTemplate": {"ContainerSpec": {"Healthcheck": {"Test": ["CMD-SHELL", "curl -f localhost"],
                                                       "Interval": 1000000000, "Timeout": 2000000000,
                                                       "Retries": 3, "StartPeriod": 4000000000}}}})"));
  auto spec = service_spec_from_json(body);
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  ASSERT_TRUE(validate_service_spec(*spec).ok());
  const auto& u = spec->update_config();
  EXPECT_EQ(u.parallelism(), 10u);
  EXPECT_EQ(u.delay_ns(), 2'000'000'000);
  EXPECT_EQ(u.failure_action(), storepb::UpdateConfig::ROLLBACK);
  EXPECT_EQ(u.monitor_ns(), 500'000'000);
  EXPECT_DOUBLE_EQ(u.max_failure_ratio(), 0.25);
  EXPECT_EQ(u.order(), storepb::UpdateConfig::START_FIRST);
  const auto& r = spec->rollback_config();
  EXPECT_EQ(r.parallelism(), 0u) << "0: all at once, as given";
  EXPECT_EQ(r.failure_action(), storepb::UpdateConfig::CONTINUE);
  EXPECT_EQ(r.monitor_ns(), 0) << "an explicit 0 stays";
  EXPECT_DOUBLE_EQ(r.max_failure_ratio(), 1.0);
  const auto& h = spec->task().container().healthcheck();
  ASSERT_EQ(h.test_size(), 2);
  EXPECT_EQ(h.test(0), "CMD-SHELL");
  EXPECT_EQ(h.interval_ns(), 1'000'000'000);
  EXPECT_EQ(h.timeout_ns(), 2'000'000'000);
  EXPECT_EQ(h.retries(), 3u);
  EXPECT_EQ(h.start_period_ns(), 4'000'000'000);

  const json written = service_spec_json(*spec);
  EXPECT_EQ(written["UpdateConfig"], body["UpdateConfig"]);
  EXPECT_EQ(written["RollbackConfig"], body["RollbackConfig"]);
  EXPECT_EQ(written["TaskTemplate"]["ContainerSpec"]["Healthcheck"],
            body["TaskTemplate"]["ContainerSpec"]["Healthcheck"]);
  auto again = service_spec_from_json(written);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*spec, *again)) << written.dump(2);
}

TEST(UpdateConfigJson, AbsentFieldsTakeDockersDefaults) {
  for (const json& patch : {json::object(), json::parse(R"({"UpdateConfig": {}, "RollbackConfig": {}})"),
                            json::parse(R"({"UpdateConfig": {"Delay": 7}})")}) {
    auto spec = service_spec_from_json(with(full_spec(), patch));
    ASSERT_TRUE(spec.ok()) << spec.status().message();
    for (const auto* u : {&spec->update_config(), &spec->rollback_config()}) {
      EXPECT_EQ(u->parallelism(), 1u) << patch;
      EXPECT_EQ(u->failure_action(), storepb::UpdateConfig::PAUSE);
      EXPECT_EQ(u->monitor_ns(), 5'000'000'000);
      EXPECT_EQ(u->max_failure_ratio(), 0.0);
      EXPECT_EQ(u->order(), storepb::UpdateConfig::STOP_FIRST);
    }
    EXPECT_EQ(spec->update_config().delay_ns(), patch.contains("UpdateConfig") && patch["UpdateConfig"].contains("Delay") ? 7 : 0);
    EXPECT_FALSE(spec->task().container().has_healthcheck());
  }
  auto empty = service_spec_from_json(
      with(full_spec(), json::parse(R"({"TaskTemplate": {"ContainerSpec": {"Healthcheck": {"Test": []}}}})")));
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->task().container().has_healthcheck()) << "an empty Test is no check";
}

TEST(UpdateConfigJson, BadValuesAreRefusedWithTheirField) {
  struct Case {
    const char* patch;
    const char* message;
  };
  const Case cases[] = {
      {R"({"UpdateConfig": {"FailureAction": "explode"}})",
       R"(UpdateConfig.FailureAction: "explode" is not one of "pause", "continue", "rollback")"},
      {R"({"RollbackConfig": {"FailureAction": "rollback2"}})",
       R"(RollbackConfig.FailureAction: "rollback2" is not one of "pause", "continue", "rollback")"},
      {R"({"UpdateConfig": {"Order": "random"}})",
       R"(UpdateConfig.Order: "random" is not one of "stop-first", "start-first")"},
      {R"({"RollbackConfig": {"Order": "Start-First"}})",
       R"(RollbackConfig.Order: "Start-First" is not one of "stop-first", "start-first")"},
      {R"({"UpdateConfig": {"Parallelism": -1}})", "UpdateConfig.Parallelism: must not be negative"},
      {R"({"UpdateConfig": {"Delay": "5s"}})", "UpdateConfig.Delay: expected an integer, got string"},
      {R"({"UpdateConfig": {"MaxFailureRatio": "0.5"}})", "UpdateConfig.MaxFailureRatio: expected a number, got string"},
      {R"({"UpdateConfig": 3})", "UpdateConfig: expected an object, got number"},
      {R"({"TaskTemplate": {"ContainerSpec": {"Healthcheck": {"Test": "true"}}}})",
       "TaskTemplate.ContainerSpec.Healthcheck.Test: expected an array of strings, got string"},
      {R"({"TaskTemplate": {"ContainerSpec": {"Healthcheck": {"Test": ["CMD", "true"], "Retries": -2}}}})",
       "TaskTemplate.ContainerSpec.Healthcheck.Retries: must not be negative"},
  };
  for (const auto& c : cases) {
    auto spec = service_spec_from_json(with(full_spec(), json::parse(c.patch)));
    ASSERT_FALSE(spec.ok()) << c.patch;
    EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(spec.status().message(), c.message);
  }
}

TEST(UpdateConfigValidation, RefusesNegativeDurationsRatiosAndUnknownHealthTests) {
  struct Case {
    const char* patch;
    const char* message;
  };
  const Case cases[] = {
      {R"({"UpdateConfig": {"Delay": -1}})", "UpdateConfig.Delay cannot be negative"},
      {R"({"UpdateConfig": {"Monitor": -5}})", "UpdateConfig.Monitor cannot be negative"},
      {R"({"RollbackConfig": {"Delay": -1}})", "RollbackConfig.Delay cannot be negative"},
      {R"({"RollbackConfig": {"Monitor": -1}})", "RollbackConfig.Monitor cannot be negative"},
      {R"({"UpdateConfig": {"MaxFailureRatio": 1.5}})", "UpdateConfig.MaxFailureRatio must be between 0 and 1"},
      {R"({"UpdateConfig": {"MaxFailureRatio": -0.1}})", "UpdateConfig.MaxFailureRatio must be between 0 and 1"},
      {R"({"RollbackConfig": {"MaxFailureRatio": 2}})", "RollbackConfig.MaxFailureRatio must be between 0 and 1"},
      {R"({"TaskTemplate": {"ContainerSpec": {"Healthcheck": {"Test": ["SHELL", "true"]}}}})",
       R"(Healthcheck: Test must start with "CMD", "CMD-SHELL" or "NONE", not "SHELL")"},
      {R"({"TaskTemplate": {"ContainerSpec": {"Healthcheck": {"Test": ["CMD"]}}}})",
       R"(Healthcheck: Test ["CMD", ...] needs a command)"},
      {R"({"TaskTemplate": {"ContainerSpec": {"Healthcheck": {"Test": ["CMD-SHELL", "a", "b"]}}}})",
       R"(Healthcheck: Test ["CMD-SHELL", ...] takes exactly one command string)"},
      {R"({"TaskTemplate": {"ContainerSpec": {"Healthcheck": {"Test": ["NONE", "x"]}}}})",
       R"(Healthcheck: Test ["NONE"] takes no arguments)"},
      {R"({"TaskTemplate": {"ContainerSpec": {"Healthcheck": {"Interval": 1000000000}}}})",
       "Healthcheck: Test must be set"},
      {R"({"TaskTemplate": {"ContainerSpec": {"Healthcheck": {"Test": ["CMD", "true"], "Interval": 999}}}})",
       "Interval in Healthcheck cannot be less than 1ms"},
      {R"({"TaskTemplate": {"ContainerSpec": {"Healthcheck": {"Test": ["CMD", "true"], "Timeout": -1}}}})",
       "Timeout in Healthcheck cannot be less than 1ms"},
      {R"({"TaskTemplate": {"ContainerSpec": {"Healthcheck": {"Test": ["CMD", "true"], "StartPeriod": 5}}}})",
       "StartPeriod in Healthcheck cannot be less than 1ms"},
  };
  for (const auto& c : cases) {
    auto spec = service_spec_from_json(with(full_spec(), json::parse(c.patch)));
    ASSERT_TRUE(spec.ok()) << c.patch << ": " << spec.status().message();
    Status s = validate_service_spec(*spec);
    ASSERT_FALSE(s.ok()) << c.patch;
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(s.message(), c.message);
  }
  for (const char* ok : {R"({"TaskTemplate": {"ContainerSpec": {"Healthcheck": {"Test": ["NONE"]}}}})",
                         R"({"TaskTemplate": {"ContainerSpec": {"Healthcheck": {"Test": ["CMD", "true", "x"]}}}})",
                         R"({"UpdateConfig": {"MaxFailureRatio": 0, "Delay": 0, "Monitor": 0}})"}) {
    auto spec = service_spec_from_json(with(full_spec(), json::parse(ok)));
    ASSERT_TRUE(spec.ok());
    EXPECT_TRUE(validate_service_spec(*spec).ok()) << ok;
  }
}

TEST(UpdateConfigJson, WordsReadBack) {
  for (auto a : {storepb::UpdateConfig::PAUSE, storepb::UpdateConfig::CONTINUE, storepb::UpdateConfig::ROLLBACK}) {
    EXPECT_EQ(parse_failure_action(failure_action_word(a)), a);
  }
  for (auto o : {storepb::UpdateConfig::STOP_FIRST, storepb::UpdateConfig::START_FIRST}) {
    EXPECT_EQ(parse_update_order(update_order_word(o)), o);
  }
  EXPECT_EQ(update_state_word(storepb::UpdateStatus::ROLLBACK_COMPLETED), "rollback_completed");
  EXPECT_EQ(update_state_word(storepb::UpdateStatus::UPDATING), "updating");
  EXPECT_EQ(update_state_word(storepb::UpdateStatus::PAUSED), "paused");
  EXPECT_EQ(update_state_word(storepb::UpdateStatus::COMPLETED), "completed");
  EXPECT_EQ(update_state_word(storepb::UpdateStatus::ROLLBACK_STARTED), "rollback_started");
  EXPECT_EQ(update_state_word(storepb::UpdateStatus::ROLLBACK_PAUSED), "rollback_paused");
}

TEST(ServiceJson, UpdateStatusOnceAnUpdateBegan) {
  storepb::ServiceObject svc;
  svc.set_id("s1");
  svc.mutable_spec()->mutable_annotations()->set_name("web");
  svc.mutable_spec()->mutable_replicated()->set_replicas(3);
  EXPECT_FALSE(service_json(svc, nullptr).contains("UpdateStatus"));
  auto* u = svc.mutable_update_status();
  u->set_state(storepb::UpdateStatus::PAUSED);
  u->set_started_at_ns(1'714'564'800'000'000'000);
  u->set_message("update paused due to failure or early termination of task t1");
  u->add_failed_tasks("t1");
  EXPECT_EQ(service_json(svc, nullptr)["UpdateStatus"], json::parse(R"({
    "State": "paused", "StartedAt": "2024-05-01T12:00:00.000000000Z",
    "Message": "update paused due to failure or early termination of task t1"})"));
  u->set_state(storepb::UpdateStatus::COMPLETED);
  u->set_completed_at_ns(1'714'564'801'500'000'000);
  EXPECT_EQ(service_json(svc, nullptr)["UpdateStatus"]["CompletedAt"], "2024-05-01T12:00:01.500000000Z");
}

TEST(ServiceSpecValidation, NamesFollowSwarmkitsDnsRule) {
  for (const char* ok : {"web", "a", "Web-1", "my_api", "a--b", "x9", "a_-b"}) EXPECT_TRUE(valid_service_name(ok)) << ok;
  for (const char* bad : {"", "-web", "web-", "_a", "a_", "web.1", "a b", "wéb", "a/b"}) {
    EXPECT_FALSE(valid_service_name(bad)) << bad;
  }
}

TEST(ServiceSpecValidation, RefusesWhatSwarmkitRefuses) {
  auto base = [] {
    auto spec = service_spec_from_json(full_spec());
    EXPECT_TRUE(spec.ok());
    return *spec;
  };
  struct Case {
    std::function<void(storepb::ServiceSpec&)> change;
    const char* message;
  };
  const Case cases[] = {
      {[](auto& s) { s.mutable_annotations()->set_name(""); }, "meta: name must be provided"},
      {[](auto& s) { s.mutable_annotations()->set_name("web.1"); }, "name must be valid as a DNS name component"},
      {[](auto& s) { s.mutable_annotations()->set_name(std::string(64, 'a')); }, "name must be 63 characters or fewer"},
      {[](auto& s) {
         s.mutable_task()->mutable_container()->clear_command();
         s.mutable_task()->mutable_container()->clear_args();
       },
       "ContainerSpec: a command must be provided (Command or Args): shoal runs processes, not images"},
      {[](auto& s) { s.mutable_task()->mutable_resources()->mutable_reservations()->set_nano_cpus(500); },
       "invalid cpu value 5e-07: Must be at least 0.001"},
      {[](auto& s) { s.mutable_task()->mutable_resources()->mutable_limits()->set_memory_bytes(1024); },
       "invalid memory value 1024: Must be at least 4MiB"},
      {[](auto& s) { s.mutable_task()->mutable_resources()->mutable_reservations()->set_memory_bytes(2LL << 30); },
       "the memory reservation is above the memory limit"},
      {[](auto& s) { s.mutable_task()->mutable_restart()->set_delay_ns(-1); }, "TaskSpec: restart-delay cannot be negative"},
      {[](auto& s) { s.mutable_task()->mutable_restart()->set_window_ns(-1); }, "TaskSpec: restart-window cannot be negative"},
      {[](auto& s) { s.mutable_task()->mutable_placement()->add_constraints("node.color==red"); }, nullptr},
      {[](auto& s) { s.mutable_task()->mutable_placement()->add_constraints("node.role"); }, nullptr},
      {[](auto& s) { s.mutable_task()->mutable_placement()->add_preferences(); },
       "Placement.Preferences: Spread needs a SpreadDescriptor"},
      {[](auto& s) { s.mutable_replicated()->set_replicas(controlapi::kMaxReplicas + 1); },
       "Mode.Replicated.Replicas: at most 10000 replicas per service"},
      {[](auto& s) { s.clear_mode(); }, "the service has no mode (Replicated or Global)"},
  };
  for (size_t i = 0; i < std::size(cases); ++i) {
    storepb::ServiceSpec spec = base();
    cases[i].change(spec);
    Status s = validate_service_spec(spec);
    ASSERT_FALSE(s.ok()) << "case " << i;
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << "case " << i;
    if (cases[i].message) {
      EXPECT_EQ(s.message(), cases[i].message) << "case " << i;
    }
  }
}

TEST(TaskJson, HasDockersFieldsAndStateWords) {
  storepb::TaskObject t;
  t.set_id("t1");
  t.set_version(7);
  t.set_created_at_ns(1'000'000'000);
  t.set_updated_at_ns(2'000'000'000);
  t.set_service_id("s1");
  t.set_service_name("web");
  t.set_slot(2);
  t.set_node_id("000000000000000a");
  t.set_desired_state(storepb::RUNNING);
  t.mutable_spec()->mutable_container()->add_command("sleep");
  auto* st = t.mutable_status();
  st->set_timestamp_ns(1'500'000'000);
  st->set_state(storepb::FAILED);
  st->set_message("task: non-zero exit (3)");
  st->set_err("exit status 3");
  st->set_exit_code(3);
  st->set_pid(42);
  const json j = task_json(t);
  EXPECT_EQ(j["ID"], "t1");
  EXPECT_EQ(j["Version"]["Index"], 7);
  EXPECT_EQ(j["CreatedAt"], "1970-01-01T00:00:01.000000000Z");
  EXPECT_EQ(j["ServiceID"], "s1");
  EXPECT_EQ(j["Slot"], 2);
  EXPECT_EQ(j["NodeID"], "000000000000000a");
  EXPECT_EQ(j["DesiredState"], "running");
  EXPECT_EQ(j["Status"], json::parse(R"json({"Timestamp": "1970-01-01T00:00:01.500000000Z", "State": "failed",
      "Message": "task: non-zero exit (3)", "Err": "exit status 3", "ContainerStatus": {"PID": 42, "ExitCode": 3}})json"));
  EXPECT_EQ(j["Spec"]["ContainerSpec"]["Command"], json::array({"sleep"}));
  EXPECT_FALSE(j.contains("Name")) << "Docker's API leaves task names to the client";

  t.clear_node_id();
  t.mutable_status()->clear_err();
  const json pending = task_json(t);
  EXPECT_FALSE(pending.contains("NodeID"));
  EXPECT_FALSE(pending["Status"].contains("Err"));
}

TEST(TaskJson, EveryStateHasAWordThatReadsBack) {
  const auto* desc = storepb::TaskState_descriptor();
  for (int i = 0; i < desc->value_count(); ++i) {
    const auto state = static_cast<storepb::TaskState>(desc->value(i)->number());
    const std::string word = task_state_word(state);
    EXPECT_NE(word, "unknown") << desc->value(i)->name();
    EXPECT_EQ(parse_task_state(word), state) << word;
    std::string upper = desc->value(i)->name();
    EXPECT_EQ(parse_task_state(upper), state) << "case-insensitive";
  }
  EXPECT_EQ(task_state_word(storepb::COMPLETE), "complete");
  EXPECT_EQ(parse_task_state("runing"), std::nullopt);
}

TEST(ServiceJson, StatusCountsAndPreviousSpec) {
  storepb::ServiceObject svc;
  svc.set_id("s1");
  svc.set_version(9);
  svc.mutable_spec()->mutable_annotations()->set_name("web");
  svc.mutable_spec()->mutable_replicated()->set_replicas(3);
  std::vector<storepb::TaskObject> tasks(4);
  tasks[0].set_desired_state(storepb::RUNNING);
  tasks[0].mutable_status()->set_state(storepb::RUNNING);
  tasks[1].set_desired_state(storepb::RUNNING);
  tasks[1].mutable_status()->set_state(storepb::STARTING);
  tasks[2].set_desired_state(storepb::SHUTDOWN);
  tasks[2].mutable_status()->set_state(storepb::COMPLETE);
  tasks[3].set_desired_state(storepb::RUNNING);
  tasks[3].mutable_status()->set_state(storepb::RUNNING);
  std::vector<const storepb::TaskObject*> ptrs;
  for (const auto& t : tasks) ptrs.push_back(&t);

  ServiceStatusCounts c = service_status(svc, ptrs);
  EXPECT_EQ(c.running, 2u);
  EXPECT_EQ(c.desired, 3u) << "replicated: the replicas";
  EXPECT_EQ(c.completed, 1u);
  json j = service_json(svc, &c);
  EXPECT_EQ(j["ServiceStatus"], json::parse(R"({"RunningTasks": 2, "DesiredTasks": 3, "CompletedTasks": 1})"));
  EXPECT_FALSE(j.contains("PreviousSpec"));
  EXPECT_EQ(j["Endpoint"], json::parse(R"({"Spec": {"Mode": "vip"}})"));

  svc.mutable_spec()->mutable_global();
  *svc.mutable_previous_spec() = svc.spec();
  EXPECT_EQ(service_status(svc, ptrs).desired, 3u) << "global: tasks whose desired state is running";
  j = service_json(svc, nullptr);
  EXPECT_FALSE(j.contains("ServiceStatus"));
  EXPECT_EQ(j["PreviousSpec"]["Mode"], json::parse(R"({"Global": {}})"));
}

}  // namespace
}  // namespace shoal::real
