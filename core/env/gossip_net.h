// GossipNet: the seam of a node's gossip port (7946): datagrams to other nodes by id, at the
// address set for each. It cannot tell who sent what it delivers (PeerIdentity::node_id is 0):
// the layer above seals and authenticates every datagram (core/gossip/sealed_transport.h).
//
// shoald's is the GossipSocket (io_real/net/gossip_socket.h): UDP, and TCP for what does not
// fit a datagram; the simulator's rides the node's simulated transport.
#pragma once

#include <cstddef>
#include <string>

#include "core/env/status.h"
#include "core/env/transport.h"

namespace shoal {

class GossipNet : public Transport {
 public:
  // Where node `id` listens for gossip, "host:port". An unusable address is refused.
  virtual Status set_address(NodeId id, const std::string& address) = 0;
  // The largest payload that travels as one datagram (larger ones cost more).
  virtual size_t max_datagram() const = 0;
};

}  // namespace shoal
