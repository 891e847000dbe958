// Store objects in the JSON shapes of Docker Engine API v1.41 (/nodes, /configs, /secrets,
// /swarm), the shapes the docker CLI reads; the `shoal` CLI reads the same.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include "core/api/store.pb.h"
#include "core/wire/rfc3339.h"

namespace shoal::real {

// Docker's words for a node's role ("worker", "manager"), availability ("active", "pause",
// "drain") and state ("unknown", "down", "ready"), and back; nullopt for a word Docker has not.
const char* node_role_word(storepb::NodeRole role);
const char* availability_word(storepb::NodeSpec::Availability availability);
const char* node_state_word(storepb::NodeObject::State state);
std::optional<storepb::NodeRole> parse_node_role(std::string_view word);
std::optional<storepb::NodeSpec::Availability> parse_availability(std::string_view word);

using wire::rfc3339;

nlohmann::json node_json(const storepb::NodeObject& n, uint64_t leader_id, bool reachable);
nlohmann::json config_json(const storepb::ConfigObject& c);
// Never includes the secret's data.
nlohmann::json secret_json(const storepb::SecretObject& s);
// With join tokens only for a caller allowed to see them (the API's root-only socket is).
nlohmann::json swarm_json(const storepb::ClusterObject& c);

}  // namespace shoal::real
