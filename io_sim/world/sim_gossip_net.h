// SimGossipNet: a simulated node's gossip port, the GossipNet seam (core/env/gossip_net.h), on
// gossip's channel of its simulated transport. Addresses are sim addresses ("n3:7946"): the host
// they name carries the datagram. Like the real socket it cannot tell who sent what it delivers
// (PeerIdentity::node_id is 0); the sealing above authenticates every datagram.
#pragma once

#include <map>
#include <string>

#include "core/env/gossip_net.h"

namespace shoal::sim {

class SimGossipNet final : public GossipNet {
 public:
  // `channel`: gossip's channel of the node's transport (ChannelMux::gossip()).
  explicit SimGossipNet(Transport& channel);
  ~SimGossipNet() override;

  Status set_address(NodeId id, const std::string& address) override;
  size_t max_datagram() const override { return 1400; }
  void send(NodeId to, std::string payload) override;
  void set_handler(Handler handler) override { handler_ = std::move(handler); }

 private:
  Transport& channel_;
  Handler handler_;
  std::map<NodeId, NodeId> hosts_;  // node id -> host
};

}  // namespace shoal::sim
