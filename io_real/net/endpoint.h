// Endpoint: a node's one network port (2377) — TCP with TLS 1.3 and mutual authentication,
// carrying Shoal frames (core/wire/frame.h): Raft messages between managers, and the frames of
// the cluster's RPCs (join, a write forwarded to the leader, certificate renewal, ...) as the
// RpcWire (core/env/rpc_wire.h) under the node's RpcPeer (core/rpc/rpc_peer.h). It carries
// frames; requests, answers, deadlines and who may call what are the RpcPeer's.
//
// Who is talking. Both sides present certificates issued by the cluster's root CA; the subject
// states the node (CN = node id, OU = role, O = cluster id, core/ca/node_identity.h). A presented
// certificate must verify against one of `trusted_roots_pem` (with any intermediates the peer
// sends), be within its validity period, carry O == this cluster's id and a well-formed CN/OU;
// otherwise the handshake is refused, logged and counted. A client may also connect with no
// certificate at all (a node that is joining): its RPC frames reach the RpcPeer as anonymous.
//
// What is allowed. kRaft frames travel only between manager certificates (OU=swarm-manager): a
// raft frame from a worker or an anonymous peer closes that connection; raft frames to a peer
// whose certificate is not a manager's are dropped.
//
// Wire. Each connection carries frames both ways: kRaft bodies are the Transport's payloads,
// kRpc bodies are the RpcWire's frames. Every connection is an RpcWire channel. A node keeps one
// outgoing connection per peer for what it sends, and its RpcPeer answers calls on the channel
// they came in on.
//
// Faults. A malformed, oversized or wrong-version frame closes that one connection with the
// decoder's reason logged and counted; every other connection is untouched. Outgoing connections
// (one per peer) reconnect with exponential backoff from reconnect_min to reconnect_max. Each
// connection's send queue is bounded by max_queued_bytes_per_peer: raft frames beyond it are
// dropped and counted (Raft retransmits), RPC frames beyond it are refused (unavailable). A
// connection that drops is reported to the RpcPeer as its channel lost.
//
// Threads. Everything runs on the io_context given to the constructor, which must be run by
// one thread; all callbacks (raft handler, RPC handlers, replies) run there. Call the methods
// from that thread (or before it runs). stats() may be read from any thread.
//
//   boost::asio::io_context io;
//   real::Endpoint ep(io, {.self = id, .cluster_id = cid, .listen_address = "0.0.0.0:2377"}, tls);
//   if (Status s = ep.start(); !s.ok()) return s;
//   ep.set_peer_address(other, "10.0.0.2:2377");
//   ep.raft_transport().set_handler([&](const PeerIdentity& from, std::string_view m) { ... });
//   RpcPeer rpc(env, ep.rpc_wire(), self);     // calls and served methods
//   io.run();
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/env/cluster_net.h"
#include "core/env/rpc_wire.h"
#include "core/env/status.h"
#include "core/env/time.h"
#include "core/env/transport.h"

namespace boost::asio {
class io_context;
}

namespace shoal::real {

namespace internal {
class EndpointImpl;
}

using shoal::TlsIdentity;

struct EndpointOptions {
  // Who this node is; both unset: taken from the first identity given (a node that joins).
  NodeId self = 0;
  std::string cluster_id{};
  std::string listen_address{};  // "127.0.0.1:2377", "[::1]:2377"; port 0 = ephemeral; empty = no listening
  size_t max_frame_body = 16u << 20;            // larger frames in either direction are refused
  size_t max_queued_bytes_per_peer = 64u << 20;  // per connection; beyond it new frames are dropped
  Duration reconnect_min = std::chrono::milliseconds(20);
  Duration reconnect_max = std::chrono::seconds(1);
  Duration handshake_timeout = std::chrono::seconds(10);  // TCP connect + TLS handshake
  // An open connection whose peer stops acknowledging (TCP keepalive, TCP_USER_TIMEOUT) is
  // closed after about this long; peer connections then reconnect.
  Duration dead_peer_timeout = std::chrono::seconds(30);
  size_t max_inbound_connections = 4096;  // further connections are closed at once, counted
};

class Endpoint : public ClusterNet {
 public:
  // Callbacks given to the Endpoint run on `io`.
  Endpoint(boost::asio::io_context& io, EndpointOptions options, TlsIdentity identity);
  // Closes everything; pending calls are failed with unavailable (on the io_context, later).
  ~Endpoint() override;
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  // Binds and listens on options.listen_address (nothing to do if it is empty). A busy address,
  // a bad address or an unusable certificate/key is a clear error.
  Status start();
  // start() at `address`, for a node whose identity came after the endpoint was made.
  Status listen(const std::string& address) override;
  // Closes the listener and every connection (their channels are lost). Idempotent.
  void stop() override;
  // The bound port (useful with port 0); 0 when not listening.
  uint16_t listen_port() const;

  // Where a peer listens, "host:port". Changing it closes the current connection to that peer.
  void set_peer_address(NodeId id, std::string host_port) override;
  // Closes the connection to the peer and drops what was queued for it; its calls fail.
  void forget_peer(NodeId id) override;
  // A renewed certificate or rotated roots: used for every handshake from now on. Connections
  // already established keep the identity they were made with. An unusable identity (bad PEM,
  // key not matching the certificate, another node's or cluster's subject) is refused and the
  // current one kept.
  Status set_identity(TlsIdentity identity) override;

  // kRaft frames to managers by NodeId. Only manager certificates may send or receive them.
  Transport& raft_transport() override;

  // The RPC frames' wire: channel_to(node) is the connection to that peer (its address from
  // set_peer_address, its certificate checked to name that node); open_channel(address) a
  // connection of its own (anonymous: no client certificate and no check of the server against
  // the trusted roots, for a node that is joining and does not know the CA yet; otherwise the
  // server must verify with a well-formed identity of this cluster). Its events run on `io`.
  RpcWire& rpc_wire() override;

  struct Stats {
    uint64_t frames_in = 0;
    uint64_t frames_out = 0;
    uint64_t bad_frames = 0;          // malformed, oversized, wrong version: the connection was closed
    uint64_t refused_handshakes = 0;  // a certificate or TLS failure, either side
    uint64_t refused_frames = 0;      // allowed by the codec, not by the sender's role
    uint64_t dropped_queue_full = 0;  // frames not queued because the peer's queue was full
    uint64_t connects = 0;            // connections established (TLS done), either direction
  };
  Stats stats() const;

 private:
  std::shared_ptr<internal::EndpointImpl> impl_;
};

}  // namespace shoal::real
