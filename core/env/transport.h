// Transport: the seam through which core code exchanges messages with other nodes.
//
// send() is fire-and-forget: delivery may fail, be delayed, duplicated or reordered, and the
// protocol above must cope (Raft does). Incoming messages reach the handler on the node's event
// loop together with the sender's identity, which the real transport has verified from the
// peer's TLS certificate and the simulator states directly.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/env/identity.h"

namespace shoal {

class Transport {
 public:
  using Handler = std::function<void(const PeerIdentity& from, std::string_view payload)>;

  virtual ~Transport() = default;
  virtual void send(NodeId to, std::string payload) = 0;
  virtual void set_handler(Handler handler) = 0;
};

}  // namespace shoal
