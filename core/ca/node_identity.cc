#include "core/ca/node_identity.h"

namespace shoal::ca {

Result<NodeId> parse_node_id(std::string_view text) {
  if (text.size() != 16) {
    return Status::invalid_argument("node id '" + std::string(text) + "' is not 16 hex digits");
  }
  NodeId id = 0;
  for (char c : text) {
    int v;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else return Status::invalid_argument("node id '" + std::string(text) + "' is not 16 lowercase hex digits");
    id = (id << 4) | static_cast<NodeId>(v);
  }
  if (id == 0) return Status::invalid_argument("node id 0000000000000000 is reserved");
  return id;
}

Result<PeerIdentity> identity_from_subject(std::string_view cn, std::string_view ou, std::string_view o) {
  auto id = parse_node_id(cn);
  if (!id.ok()) return Status::invalid_argument("certificate CN: " + id.status().message());
  if (ou != kManagerOu && ou != kWorkerOu) {
    return Status::invalid_argument("certificate OU '" + std::string(ou) +
                                    "' is neither swarm-manager nor swarm-worker");
  }
  if (o.empty()) return Status::invalid_argument("certificate O (cluster id) is empty");
  return PeerIdentity{*id, ou == kManagerOu ? NodeRole::kManager : NodeRole::kWorker, std::string(o)};
}

}  // namespace shoal::ca
