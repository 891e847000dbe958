// What swarmkit's control API checks on a service spec before it is stored (its wordings where
// it has them): a valid name (swarmkit's DNS-component rule, [a-zA-Z0-9] then runs of [-_]* and
// [a-zA-Z0-9]+, at most 63 characters), a command to run (ContainerSpec.Command or Args: the
// process runtime has no image to take one from), resources and durations that make sense,
// constraints that parse, spread preferences that name something, replicas within
// kMaxReplicas; update and rollback configs with no negative Delay or Monitor and a
// MaxFailureRatio in [0, 1]; a Healthcheck whose Test starts with "CMD" (and a command),
// "CMD-SHELL" (and one string) or "NONE" (alone), with durations of at least 1 ms where set
// (Docker's checks).
#pragma once

#include <cstdint>
#include <string_view>

#include "core/api/store.pb.h"
#include "core/env/status.h"

namespace shoal::controlapi {

// A limit on one service's replicas (the orchestrator makes a task per replica).
inline constexpr uint64_t kMaxReplicas = 10'000;

Status validate_service_spec(const storepb::ServiceSpec& spec);
bool valid_service_name(std::string_view name);

}  // namespace shoal::controlapi
