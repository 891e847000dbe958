// How a node's identity is written into its certificate's subject, as in Docker Swarm:
// CN = node id, OU = role ("swarm-manager" / "swarm-worker"), O = cluster id.
//
// A node id is a uint64 in the core; in certificates, the API and the CLI it is written as 16
// lowercase hex digits, so every id has one spelling.
#pragma once
#include <string>
#include <string_view>
#include "core/env/status.h"
#include "core/env/transport.h"

namespace shoal::ca {

inline constexpr std::string_view kManagerOu = "swarm-manager";
inline constexpr std::string_view kWorkerOu = "swarm-worker";

// The certificate OU that carries a role.
constexpr std::string_view role_ou(NodeRole role) { return role == NodeRole::kManager ? kManagerOu : kWorkerOu; }

using shoal::node_id_text;
// Parses the 16-hex-digit spelling; anything else is an error naming the bad text.
Result<NodeId> parse_node_id(std::string_view text);

// The identity a certificate subject states, checked for shape: CN parses as a node id, OU is
// one of the two roles, O is non-empty.
Result<PeerIdentity> identity_from_subject(std::string_view cn, std::string_view ou, std::string_view o);

}  // namespace shoal::ca
