// Node keys: the names constraints and spread preferences use for what a node is
// (node.id, node.hostname, node.role, node.platform.os, node.platform.arch, node.labels.NAME,
// engine.labels.NAME), shared by constraint.cc and scheduler.cc. Internal to core/scheduler/.
//
//   Result<std::string> k = canonical_key("Node.Labels.zone");  // "node.labels.zone"
//   std::optional<std::string> v = node_value(node, *k);        // nullopt: no such label
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/api/store.pb.h"
#include "core/env/status.h"

namespace shoal::scheduler::internal {

// Checks a key (already trimmed) and returns it with its fixed part in lower case and a label's
// name as written (label names are case-sensitive, as Docker's are). invalid_argument, naming the
// key, for an empty key, an unknown key, or a label key with no name or a name with characters
// outside [A-Za-z0-9._-].
Result<std::string> canonical_key(std::string_view key);

// The node's value for a canonical key; nullopt for a label the node does not have (and for a
// key canonical_key would refuse).
std::optional<std::string> node_value(const storepb::NodeObject& node, std::string_view key);

}  // namespace shoal::scheduler::internal
