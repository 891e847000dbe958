// Who a node is: its id and its role, as its certificate states them (core/ca/node_identity.h)
// and as the transport vouches for a peer.
//
// NodeRole is the one spelling of a role in core. The store keeps the same two values as
// storepb::NodeRole (core/api/store.proto); Docker's words "worker" and "manager" and the
// certificate's OU "swarm-worker" and "swarm-manager" are written only where JSON or a
// certificate is made or read.
#pragma once

#include <cstdint>
#include <string>

namespace shoal {

using NodeId = uint64_t;

enum class NodeRole : uint8_t { kWorker = 0, kManager = 1 };

// A node id's one spelling in certificates, the API, the CLI and logs: 16 lowercase hex digits.
inline std::string node_id_text(NodeId id) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, id >>= 4) out[i] = kHex[id & 0xf];
  return out;
}

// Docker's word for a role: "worker" or "manager".
constexpr const char* role_name(NodeRole role) { return role == NodeRole::kManager ? "manager" : "worker"; }

// Who sent a message, as established by the transport (not by the message's contents).
struct PeerIdentity {
  NodeId node_id = 0;
  NodeRole role = NodeRole::kWorker;
  std::string cluster_id;
};

}  // namespace shoal
