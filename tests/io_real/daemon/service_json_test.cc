// Services and tasks in Docker's JSON: reading a ServiceSpec (types, defaults, errors naming the
// field), swarmkit's checks, writing specs back (a round trip), task JSON and state words.
#include "io_real/daemon/service_json.h"

#include <gtest/gtest.h>

#include <functional>

#include <google/protobuf/util/message_differencer.h>

namespace shoal::daemon {
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
    "EndpointSpec": {"Mode": "vip"}})"));
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
      {[](auto& s) { s.mutable_replicated()->set_replicas(kMaxReplicas + 1); },
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
}  // namespace shoal::daemon
