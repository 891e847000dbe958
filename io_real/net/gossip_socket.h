// GossipSocket: the carrier of gossip on real hosts — UDP for probes and small
// messages, TCP for push-pull and anything larger, both on one port (7946 by default, as Docker
// Swarm's control-plane gossip), as hashicorp/memberlist does.
//
// It is a Transport: send(to, payload) goes to the address set for `to` with set_address();
// a payload of at most max_udp_payload bytes travels as one UDP datagram, a larger one over a
// TCP connection of its own (connect, a 4-byte big-endian length, the bytes, close). What
// arrives, by either path, reaches the handler with PeerIdentity{node_id = 0}: this carrier
// cannot tell who sent it. The layer above (core/gossip/sealed_transport.h) authenticates every
// message and names its sender.
//
// Faults. A send to a node with no address, or one that fails (unreachable, refused, a full
// socket buffer), is dropped and counted: gossip copes with loss. An incoming TCP message longer
// than max_stream_payload, one not wholly received within stream_timeout, or one beyond
// max_inbound_streams at once is closed and counted; nothing of it reaches the handler. Outgoing
// TCP sends beyond max_outbound_streams at once are dropped and counted.
//
// Threads. Everything runs on the io_context given to the constructor, run by one thread; the
// handler runs there. Call the methods from that thread (or before it runs). stats() may be
// read from any thread.
//
//   real::GossipSocket gossip(io, {.listen_address = "0.0.0.0:7946"});
//   if (Status s = gossip.start(); !s.ok()) return s;
//   gossip.set_address(7, "198.18.0.7:7946");
//   gossip.set_handler([&](const PeerIdentity&, std::string_view bytes) { ... });
//   gossip.send(7, bytes);
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/env/gossip_net.h"
#include "core/env/status.h"
#include "core/env/time.h"
#include "core/env/transport.h"

namespace boost::asio {
class io_context;
}

namespace shoal::real {

struct GossipSocketOptions {
  std::string listen_address = "0.0.0.0:7946";  // "host:port" or "[v6]:port"; port 0 = ephemeral
  size_t max_udp_payload = 1400;                  // larger payloads go over TCP
  size_t max_stream_payload = 16u << 20;          // larger TCP messages are refused
  Duration stream_timeout = std::chrono::seconds(10);  // connect, write or read of one message
  size_t max_inbound_streams = 256;
  size_t max_outbound_streams = 256;
};

struct GossipSocketStats {
  std::atomic<uint64_t> udp_sent{0};
  std::atomic<uint64_t> udp_received{0};
  std::atomic<uint64_t> streams_sent{0};
  std::atomic<uint64_t> streams_received{0};
  std::atomic<uint64_t> dropped_no_address{0};
  // UDP send errors, TCP connect/write failures or timeouts, streams over max_outbound_streams.
  std::atomic<uint64_t> send_failures{0};
  std::atomic<uint64_t> refused_streams{0};   // too long, too slow, too many
};

namespace internal {
class GossipSocketImpl;
}

class GossipSocket final : public GossipNet {
 public:
  GossipSocket(boost::asio::io_context& io, GossipSocketOptions options);
  ~GossipSocket() override;
  GossipSocket(const GossipSocket&) = delete;
  GossipSocket& operator=(const GossipSocket&) = delete;

  // Binds UDP and listens on TCP at listen_address (the same port for both; with port 0 the
  // UDP port is picked and TCP takes the same one). A busy or bad address is a clear error.
  Status start();
  // Closes both sockets and every connection. Idempotent.
  void stop();
  // The bound port (0 before start()).
  uint16_t port() const;

  // Where node `id` listens for gossip, "host:port". An unparsable address is refused.
  Status set_address(NodeId id, const std::string& host_port) override;
  size_t max_datagram() const override;
  void forget_address(NodeId id);

  void send(NodeId to, std::string payload) override;
  void set_handler(Handler handler) override;

  const GossipSocketStats& stats() const;

 private:
  std::shared_ptr<internal::GossipSocketImpl> impl_;
};

}  // namespace shoal::real
