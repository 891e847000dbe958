// Services and tasks in the JSON shapes of Docker Engine API v1.41 (/services, /tasks), for the
// daemon's routes and the CLI alike. The checks on a spec before it is stored are the control
// API's (core/controlapi/service_spec.h), named here too.
//
// A ServiceSpec is read the way the Docker daemon reads one: unknown fields are ignored, a field
// of the wrong type is an error naming its path ("TaskTemplate.RestartPolicy.Delay: expected an
// integer, got string"), and absent fields take Docker's defaults:
//   Mode                    {"Replicated": {"Replicas": 1}}
//   RestartPolicy           {"Condition": "any", "Delay": 5 s}  (and Delay alone, when absent)
//   ContainerSpec.StopGracePeriod   10 s
//   UpdateConfig, RollbackConfig    {"Parallelism": 1, "Delay": 0, "FailureAction": "pause",
//                                    "Monitor": 5 s, "MaxFailureRatio": 0, "Order": "stop-first"}
//                                   (each field, when absent; as swarmkit's defaults.Service)
//   ContainerSpec.Healthcheck       none; an object with nothing set is none too (Docker's empty
//                                   Test inherits the image's check, and there is no image)
// Durations are integers of nanoseconds, as in Docker's API. A ServiceObject's UpdateStatus is
// written as {State, StartedAt, CompletedAt, Message} with RFC 3339 times, once an update began.
//
// Writing is the reverse, with Docker's omitempty: service_spec_from_json(service_spec_json(s))
// gives back s.
//
//   auto spec = service_spec_from_json(body);
//   if (!spec.ok()) return respond(real::error_response(400, spec.status().message()));
//   if (Status s = validate_service_spec(*spec); !s.ok()) ...
//   respond(real::json_response(200, service_json(svc, nullptr)));
//
// Pure functions of their arguments; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/api/store.pb.h"
#include "core/controlapi/service_spec.h"
#include "core/env/status.h"

namespace shoal::real {

inline constexpr int64_t kDefaultRestartDelayNs = 5'000'000'000;
inline constexpr int64_t kDefaultStopGracePeriodNs = 10'000'000'000;
inline constexpr uint64_t kDefaultUpdateParallelism = 1;
inline constexpr int64_t kDefaultUpdateMonitorNs = 5'000'000'000;

// Docker's ServiceSpec JSON -> the store's spec (with Docker's defaults). invalid_argument names
// the field that is wrong.
Result<storepb::ServiceSpec> service_spec_from_json(const nlohmann::json& j);

// The checks on a spec before it is stored are the control API's (core/controlapi/service_spec.h).
using controlapi::valid_service_name;
using controlapi::validate_service_spec;

nlohmann::json service_spec_json(const storepb::ServiceSpec& spec);
// A TaskTemplate (a service's, or the one a task was made from).
nlohmann::json task_spec_json(const storepb::TaskSpec& task);

// GET /services?status=true's ServiceStatus: tasks running, tasks wanted (the replicas; for a
// global service the tasks whose desired state is running) and tasks completed.
struct ServiceStatusCounts {
  uint64_t running = 0;
  uint64_t desired = 0;
  uint64_t completed = 0;
};
ServiceStatusCounts service_status(const storepb::ServiceObject& service,
                                   const std::vector<const storepb::TaskObject*>& tasks);

// A service: ID, Version, CreatedAt, UpdatedAt, Spec, PreviousSpec (after an update), Endpoint,
// UpdateStatus (once an update began),
// and ServiceStatus when `status` is given.
nlohmann::json service_json(const storepb::ServiceObject& service, const ServiceStatusCounts* status);

// A task: ID, Version, CreatedAt, UpdatedAt, Labels, Spec, ServiceID, Slot, NodeID, Status
// {Timestamp, State, Message, Err, ContainerStatus{PID, ExitCode}}, DesiredState. Like Docker's, it
// has no Name: clients make "service.slot" (or "service.node-id" for a global service) from
// ServiceID, Slot and NodeID.
nlohmann::json task_json(const storepb::TaskObject& task);

// UpdateConfig words as Docker's API writes them: "pause" | "continue" | "rollback" and
// "stop-first" | "start-first"; the parsers take "" as the default and give nullopt otherwise.
std::string failure_action_word(storepb::UpdateConfig::FailureAction a);
std::optional<storepb::UpdateConfig::FailureAction> parse_failure_action(std::string_view word);
std::string update_order_word(storepb::UpdateConfig::Order o);
std::optional<storepb::UpdateConfig::Order> parse_update_order(std::string_view word);
// UpdateStatus.State: "updating", "paused", "completed", "rollback_started", "rollback_paused",
// "rollback_completed" ("" for none).
std::string update_state_word(storepb::UpdateStatus::State s);

// A task state as Docker's API writes it: "new", "pending", ..., "running", "complete",
// "shutdown", "failed", "rejected", "remove", "orphaned".
std::string task_state_word(storepb::TaskState state);
// The reverse (case-insensitive); nullopt for a word that is no state.
std::optional<storepb::TaskState> parse_task_state(std::string_view word);

}  // namespace shoal::real
