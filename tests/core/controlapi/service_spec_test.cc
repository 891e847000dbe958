// What a service spec must satisfy before it is stored (core/controlapi/service_spec.h): one
// case per rule, each refused with invalid_argument and words that name the fault, and the
// values just inside each limit accepted.
#include "core/controlapi/service_spec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "tests/core/controlapi/controlapi_test_util.h"

namespace shoal::controlapi {
namespace {

using test::service_spec;

struct Case {
  const char* what;
  std::function<void(storepb::ServiceSpec&)> change;
  const char* expected;  // a part of the message; nullptr: accepted
};

storepb::HealthConfig health(std::vector<std::string> test) {
  storepb::HealthConfig h;
  for (auto& t : test) h.add_test(std::move(t));
  return h;
}

void check(const Case& c) {
  storepb::ServiceSpec spec = service_spec("web");
  c.change(spec);
  Status s = validate_service_spec(spec);
  if (!c.expected) {
    EXPECT_TRUE(s.ok()) << c.what << ": " << s.message();
    return;
  }
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.what << ": " << s.message();
  EXPECT_NE(s.message().find(c.expected), std::string::npos) << c.what << ": " << s.message();
}

TEST(ControlApiServiceSpecTest, APlainReplicatedSpecIsValid) {
  Status s = validate_service_spec(service_spec("web"));
  EXPECT_TRUE(s.ok()) << s.message();
}

TEST(ControlApiServiceSpecTest, NamesFollowSwarmkitsDnsRule) {
  for (const char* good : {"a", "web", "Web1", "a-b", "a_b", "a--b", "a-_-b", "0web"}) {
    EXPECT_TRUE(valid_service_name(good)) << good;
  }
  for (const char* bad : {"", "-web", "web-", "_web", "web_", "we b", "web.1", "wéb", "web/1"}) {
    EXPECT_FALSE(valid_service_name(bad)) << bad;
  }
  const std::vector<Case> cases = {
      {"no name", [](auto& s) { s.mutable_annotations()->clear_name(); }, "name must be provided"},
      {"dash first", [](auto& s) { s.mutable_annotations()->set_name("-web"); }, "valid as a DNS name component"},
      {"a dot", [](auto& s) { s.mutable_annotations()->set_name("web.1"); }, "valid as a DNS name component"},
      {"64 characters", [](auto& s) { s.mutable_annotations()->set_name(std::string(64, 'a')); },
       "63 characters or fewer"},
      {"63 characters", [](auto& s) { s.mutable_annotations()->set_name(std::string(63, 'a')); }, nullptr},
  };
  for (const auto& c : cases) check(c);
}

TEST(ControlApiServiceSpecTest, ATaskNeedsACommandAndSaneResources) {
  const std::vector<Case> cases = {
      {"no command", [](auto& s) { s.mutable_task()->mutable_container()->clear_command(); },
       "a command must be provided (Command or Args)"},
      {"args only",
       [](auto& s) {
         s.mutable_task()->mutable_container()->clear_command();
         s.mutable_task()->mutable_container()->add_args("/bin/true");
       },
       nullptr},
      {"negative stop grace", [](auto& s) { s.mutable_task()->mutable_container()->set_stop_grace_period_ns(-1); },
       "StopGracePeriod cannot be negative"},
      {"a tiny CPU limit",
       [](auto& s) { s.mutable_task()->mutable_resources()->mutable_limits()->set_nano_cpus(999'999); },
       "Must be at least 0.001"},
      {"the least CPU", [](auto& s) { s.mutable_task()->mutable_resources()->mutable_limits()->set_nano_cpus(1'000'000); },
       nullptr},
      {"a tiny memory reservation",
       [](auto& s) { s.mutable_task()->mutable_resources()->mutable_reservations()->set_memory_bytes(4 * 1024 * 1024 - 1); },
       "invalid memory value 4194303: Must be at least 4MiB"},
      {"reserving more CPU than the limit",
       [](auto& s) {
         s.mutable_task()->mutable_resources()->mutable_limits()->set_nano_cpus(1'000'000'000);
         s.mutable_task()->mutable_resources()->mutable_reservations()->set_nano_cpus(2'000'000'000);
       },
       "the CPU reservation is above the CPU limit"},
      {"reserving more memory than the limit",
       [](auto& s) {
         s.mutable_task()->mutable_resources()->mutable_limits()->set_memory_bytes(8 << 20);
         s.mutable_task()->mutable_resources()->mutable_reservations()->set_memory_bytes(16 << 20);
       },
       "the memory reservation is above the memory limit"},
      {"reserving without a limit",
       [](auto& s) { s.mutable_task()->mutable_resources()->mutable_reservations()->set_memory_bytes(16 << 20); },
       nullptr},
      {"negative restart delay", [](auto& s) { s.mutable_task()->mutable_restart()->set_delay_ns(-1); },
       "restart-delay cannot be negative"},
      {"negative restart window", [](auto& s) { s.mutable_task()->mutable_restart()->set_window_ns(-1); },
       "restart-window cannot be negative"},
  };
  for (const auto& c : cases) check(c);
}

TEST(ControlApiServiceSpecTest, AHealthcheckFollowsDockersRules) {
  auto with = [](storepb::HealthConfig h) {
    return [h](storepb::ServiceSpec& s) { *s.mutable_task()->mutable_container()->mutable_healthcheck() = h; };
  };
  storepb::HealthConfig fast = health({"CMD", "/bin/true"});
  fast.set_interval_ns(999'999);
  storepb::HealthConfig least = health({"CMD", "/bin/true"});
  least.set_interval_ns(1'000'000);
  least.set_timeout_ns(1'000'000);
  least.set_start_period_ns(1'000'000);
  storepb::HealthConfig short_start = health({"CMD-SHELL", "true"});
  short_start.set_start_period_ns(1);
  const std::vector<Case> cases = {
      {"no test", with(health({})), "Test must be set"},
      {"NONE", with(health({"NONE"})), nullptr},
      {"NONE with an argument", with(health({"NONE", "x"})), "takes no arguments"},
      {"CMD alone", with(health({"CMD"})), "needs a command"},
      {"CMD with a program", with(health({"CMD", "/bin/true", "-v"})), nullptr},
      {"CMD-SHELL with two strings", with(health({"CMD-SHELL", "a", "b"})), "takes exactly one command string"},
      {"an unknown kind", with(health({"SHELL", "true"})), "not \"SHELL\""},
      {"an interval under 1 ms", with(fast), "Interval in Healthcheck cannot be less than 1ms"},
      {"a start period under 1 ms", with(short_start), "StartPeriod in Healthcheck cannot be less than 1ms"},
      {"every duration at 1 ms", with(least), nullptr},
  };
  for (const auto& c : cases) check(c);
}

TEST(ControlApiServiceSpecTest, UpdateAndRollbackConfigsMustMakeSense) {
  const std::vector<Case> cases = {
      {"negative update delay", [](auto& s) { s.mutable_update_config()->set_delay_ns(-1); },
       "UpdateConfig.Delay cannot be negative"},
      {"negative rollback monitor", [](auto& s) { s.mutable_rollback_config()->set_monitor_ns(-1); },
       "RollbackConfig.Monitor cannot be negative"},
      {"a failure ratio above 1", [](auto& s) { s.mutable_update_config()->set_max_failure_ratio(1.5); },
       "UpdateConfig.MaxFailureRatio must be between 0 and 1"},
      {"a negative failure ratio", [](auto& s) { s.mutable_rollback_config()->set_max_failure_ratio(-0.1); },
       "RollbackConfig.MaxFailureRatio must be between 0 and 1"},
      {"a NaN failure ratio", [](auto& s) { s.mutable_update_config()->set_max_failure_ratio(std::nan("")); },
       "MaxFailureRatio must be between 0 and 1"},
      {"a failure ratio of 1", [](auto& s) { s.mutable_update_config()->set_max_failure_ratio(1); }, nullptr},
  };
  for (const auto& c : cases) check(c);
}

TEST(ControlApiServiceSpecTest, PlacementAndModeAreChecked) {
  const std::vector<Case> cases = {
      {"a constraint without an operator",
       [](auto& s) { s.mutable_task()->mutable_placement()->add_constraints("node.role"); }, "no operator"},
      {"a constraint on an unknown key",
       [](auto& s) { s.mutable_task()->mutable_placement()->add_constraints("node.colour==red"); }, "unknown key"},
      {"a good constraint",
       [](auto& s) { s.mutable_task()->mutable_placement()->add_constraints("node.role==manager"); }, nullptr},
      {"a preference spreading over nothing",
       [](auto& s) { s.mutable_task()->mutable_placement()->add_preferences(); }, "Spread needs a SpreadDescriptor"},
      {"no mode", [](auto& s) { s.clear_mode(); }, "has no mode (Replicated or Global)"},
      {"global", [](auto& s) { s.mutable_global(); }, nullptr},
      {"too many replicas", [](auto& s) { s.mutable_replicated()->set_replicas(kMaxReplicas + 1); },
       "at most 10000 replicas per service"},
      {"the most replicas", [](auto& s) { s.mutable_replicated()->set_replicas(kMaxReplicas); }, nullptr},
      {"zero replicas", [](auto& s) { s.mutable_replicated()->set_replicas(0); }, nullptr},
  };
  for (const auto& c : cases) check(c);
}

}  // namespace
}  // namespace shoal::controlapi
