#include "io_sim/world/sim_gossip_net.h"

#include "io_sim/world/sim_rpc_wire.h"

namespace shoal::sim {

SimGossipNet::SimGossipNet(Transport& channel) : channel_(channel) {
  channel_.set_handler([this](const PeerIdentity&, std::string_view payload) {
    if (handler_) handler_(PeerIdentity{}, payload);  // who sent it is for the sealing to prove
  });
}

SimGossipNet::~SimGossipNet() { channel_.set_handler(nullptr); }

Status SimGossipNet::set_address(NodeId id, const std::string& address) {
  const NodeId host = parse_sim_address(address);
  if (host == 0) return Status::invalid_argument("'" + address + "' is no simulated host's address");
  hosts_[id] = host;
  return {};
}

void SimGossipNet::send(NodeId to, std::string payload) {
  auto it = hosts_.find(to);
  if (it == hosts_.end()) return;  // no address: dropped, as gossip copes with
  channel_.send(it->second, std::move(payload));
}

}  // namespace shoal::sim
