#include "core/controlapi/service_spec.h"

#include <cstdio>
#include <string>
#include <utility>

#include "core/scheduler/constraint.h"

namespace shoal::controlapi {
namespace {

// swarmkit's isValidDNSName: ^[a-zA-Z0-9](?:[-_]*[A-Za-z0-9]+)*$
bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// Docker's checks on a HealthConfig (daemon/container.go): a known test kind, durations of at
// least 1 ms when set.
Status validate_healthcheck(const storepb::HealthConfig& h) {
  if (h.test().empty()) return Status::invalid_argument("Healthcheck: Test must be set");
  const std::string& kind = h.test(0);
  if (kind == "NONE") {
    if (h.test_size() != 1) return Status::invalid_argument("Healthcheck: Test [\"NONE\"] takes no arguments");
  } else if (kind == "CMD") {
    if (h.test_size() < 2) return Status::invalid_argument("Healthcheck: Test [\"CMD\", ...] needs a command");
  } else if (kind == "CMD-SHELL") {
    if (h.test_size() != 2) {
      return Status::invalid_argument("Healthcheck: Test [\"CMD-SHELL\", ...] takes exactly one command string");
    }
  } else {
    return Status::invalid_argument("Healthcheck: Test must start with \"CMD\", \"CMD-SHELL\" or \"NONE\", not \"" +
                                    kind + "\"");
  }
  constexpr int64_t kMin = 1'000'000;  // Docker's containertypes.MinimumDuration
  for (const auto& [ns, what] : {std::pair{h.interval_ns(), "Interval"}, std::pair{h.timeout_ns(), "Timeout"},
                                 std::pair{h.start_period_ns(), "StartPeriod"}}) {
    if (ns != 0 && ns < kMin) {
      return Status::invalid_argument(std::string(what) + " in Healthcheck cannot be less than 1ms");
    }
  }
  return Status::ok_status();
}

}  // namespace

bool valid_service_name(std::string_view name) {
  if (name.empty() || !is_alnum(name.front()) || !is_alnum(name.back())) return false;
  for (char c : name) {
    if (!is_alnum(c) && c != '-' && c != '_') return false;
  }
  return true;
}

Status validate_service_spec(const storepb::ServiceSpec& spec) {
  const std::string& name = spec.annotations().name();
  if (name.empty()) return Status::invalid_argument("meta: name must be provided");
  if (!valid_service_name(name)) return Status::invalid_argument("name must be valid as a DNS name component");
  if (name.size() > 63) return Status::invalid_argument("name must be 63 characters or fewer");

  const storepb::TaskSpec& task = spec.task();
  const storepb::ContainerSpec& c = task.container();
  if (c.command().empty() && c.args().empty()) {
    return Status::invalid_argument(
        "ContainerSpec: a command must be provided (Command or Args): shoal runs processes, not images");
  }
  if (c.stop_grace_period_ns() < 0) {
    return Status::invalid_argument("ContainerSpec: StopGracePeriod cannot be negative");
  }

  for (const storepb::Resources* r : {&task.resources().limits(), &task.resources().reservations()}) {
    if (r->nano_cpus() != 0 && r->nano_cpus() < 1'000'000) {
      char cpus[32];
      std::snprintf(cpus, sizeof cpus, "%g", static_cast<double>(r->nano_cpus()) / 1e9);
      return Status::invalid_argument("invalid cpu value " + std::string(cpus) + ": Must be at least 0.001");
    }
    if (r->memory_bytes() != 0 && r->memory_bytes() < 4 * 1024 * 1024) {
      return Status::invalid_argument("invalid memory value " + std::to_string(r->memory_bytes()) +
                                      ": Must be at least 4MiB");
    }
  }
  const storepb::Resources& lim = task.resources().limits();
  const storepb::Resources& res = task.resources().reservations();
  if (lim.nano_cpus() != 0 && res.nano_cpus() > lim.nano_cpus()) {
    return Status::invalid_argument("the CPU reservation is above the CPU limit");
  }
  if (lim.memory_bytes() != 0 && res.memory_bytes() > lim.memory_bytes()) {
    return Status::invalid_argument("the memory reservation is above the memory limit");
  }

  if (task.restart().delay_ns() < 0) return Status::invalid_argument("TaskSpec: restart-delay cannot be negative");
  if (task.restart().window_ns() < 0) return Status::invalid_argument("TaskSpec: restart-window cannot be negative");

  if (c.has_healthcheck()) {
    if (Status s = validate_healthcheck(c.healthcheck()); !s.ok()) return s;
  }
  for (const auto& [cfg, what] : {std::pair{&spec.update_config(), "UpdateConfig"},
                                  std::pair{&spec.rollback_config(), "RollbackConfig"}}) {
    if (cfg->delay_ns() < 0) return Status::invalid_argument(std::string(what) + ".Delay cannot be negative");
    if (cfg->monitor_ns() < 0) return Status::invalid_argument(std::string(what) + ".Monitor cannot be negative");
    if (!(cfg->max_failure_ratio() >= 0 && cfg->max_failure_ratio() <= 1)) {
      return Status::invalid_argument(std::string(what) + ".MaxFailureRatio must be between 0 and 1");
    }
  }

  auto constraints = scheduler::parse_constraints(task.placement().constraints());
  if (!constraints.ok()) return constraints.status();
  for (const auto& p : task.placement().preferences()) {
    if (p.spread().empty()) return Status::invalid_argument("Placement.Preferences: Spread needs a SpreadDescriptor");
  }

  if (spec.mode_case() == storepb::ServiceSpec::MODE_NOT_SET) {
    return Status::invalid_argument("the service has no mode (Replicated or Global)");
  }
  if (spec.has_replicated() && spec.replicated().replicas() > kMaxReplicas) {
    return Status::invalid_argument("Mode.Replicated.Replicas: at most " + std::to_string(kMaxReplicas) +
                                    " replicas per service");
  }
  return Status::ok_status();
}

}  // namespace shoal::controlapi
