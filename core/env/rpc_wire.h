// RpcWire: the seam that carries the RPC layer's frames (core/rpc/rpc_peer.h) between nodes.
// It knows connections, addresses and certificates; it knows nothing of requests, answers,
// deadlines or who may call what, which are the RPC layer's.
//
// A channel is one way frames travel and come back: the connection to a node, or a connection
// of its own opened to an address (a node that is joining calls a manager it only knows by
// address). A frame that arrives names the channel it came on and its sender, as the channel's
// peer proved itself (nullptr: a peer that showed no certificate). When a channel closes or
// cannot be made, everything sent on it that was not answered is lost, and the wire says so
// through on_lost; the next channel_to() for that node gives a new channel.
//
// The real wire is the TLS Endpoint (io_real/net/endpoint.h); the simulator's rides a node's
// simulated transport (io_sim/world/sim_rpc_wire.h).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/env/identity.h"
#include "core/env/status.h"
#include "core/env/time.h"

namespace shoal {

class RpcWire {
 public:
  using ChannelId = uint64_t;
  // Sees the certificate chain (PEM, leaf first) a server presented; an error refuses it.
  using ServerCheck = std::function<Status(std::string_view server_chain_pem)>;

  struct Events {
    // A frame arrived on `channel` from `from` (nullptr: anonymous).
    std::function<void(ChannelId channel, const PeerIdentity* from, std::string_view frame)> on_frame;
    // `channel` closed or could not be made; `why` is unavailable with the reason.
    std::function<void(ChannelId channel, const Status& why)> on_lost;
  };

  virtual ~RpcWire() = default;
  virtual void set_events(Events events) = 0;

  // The channel to node `to`, made (and connected) as needed. An error when the wire cannot
  // reach it at all: no address known, or no certificate of its own to show.
  virtual Result<ChannelId> channel_to(NodeId to) = 0;
  // A channel of its own to whoever listens at `address`. anonymous: show no certificate and do
  // not verify the server against the trusted roots; `check` (may be empty) sees the chain the
  // server presented and may refuse it, and then nothing is sent. Close it with close().
  virtual Result<ChannelId> open_channel(const std::string& address, bool anonymous, ServerCheck check,
                                         Duration connect_timeout) = 0;
  // Queues `frame` on `channel`. Errors: too large (invalid_argument), the channel's queue is
  // full or the channel is gone (unavailable). Nothing is queued then.
  virtual Status send(ChannelId channel, std::string frame) = 0;
  // Closes `channel` once what is queued on it has gone out (an address channel whose call
  // ended, a connection refused after its answer).
  virtual void close(ChannelId channel) = 0;
};

}  // namespace shoal
