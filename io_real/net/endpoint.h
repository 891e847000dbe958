// Endpoint: a node's one network port (2377) — TCP with TLS 1.3 and mutual authentication,
// carrying Shoal frames (core/wire/frame.h): Raft messages between managers and the cluster's
// RPCs (join, a write forwarded to the leader, certificate renewal, ...).
//
// Who is talking. Both sides present certificates issued by the cluster's root CA; the subject
// states the node (CN = node id, OU = role, O = cluster id, core/ca/node_identity.h). A presented
// certificate must verify against one of `trusted_roots_pem` (with any intermediates the peer
// sends), be within its validity period, carry O == this cluster's id and a well-formed CN/OU;
// otherwise the handshake is refused, logged and counted. A client may also connect with no
// certificate at all (a node that is joining): such an anonymous connection may only call RPCs
// served as Access::kAnonymous; anything else it sends is refused and the connection closed.
//
// What is allowed. kRaft frames travel only between manager certificates (OU=swarm-manager): a
// raft frame from a worker or an anonymous peer closes that connection; raft frames to a peer
// whose certificate is not a manager's are dropped. RPCs are served with an Access level: a
// worker calling a kManagerOnly method gets Status::permission_denied with a plain reason.
//
// Wire. Each connection carries frames both ways: kRaft bodies are the Transport's payloads,
// kRpc bodies are rpcpb::RpcFrame (core/api/rpc.proto), a request or a response matched by id.
// A node keeps one outgoing connection per peer for what it sends and answers calls on the
// connection they came in on.
//
// Faults. A malformed, oversized or wrong-version frame closes that one connection with the
// decoder's reason logged and counted; every other connection is untouched. Outgoing connections
// (one per peer) reconnect with exponential backoff from reconnect_min to reconnect_max. Each
// connection's send queue is bounded by max_queued_bytes_per_peer: raft frames beyond it are
// dropped and counted (Raft retransmits), calls beyond it fail with unavailable. Calls time out
// with deadline_exceeded; a connection that drops fails its calls with unavailable.
//
// Threads. Everything runs on the io_context given to the constructor, which must be run by
// one thread; all callbacks (raft handler, RPC handlers, replies) run there. Call the methods
// from that thread (or before it runs). stats() may be read from any thread.
//
//   boost::asio::io_context io;
//   net::Endpoint ep(io, {.self = id, .cluster_id = cid, .listen_address = "0.0.0.0:2377"}, tls);
//   if (Status s = ep.start(); !s.ok()) return s;
//   ep.set_peer_address(other, "10.0.0.2:2377");
//   ep.raft_transport().set_handler([&](const PeerIdentity& from, std::string_view m) { ... });
//   ep.serve("node.renew", net::Access::kAnyNode, [](const PeerIdentity* from, std::string body,
//                                                    net::Endpoint::Reply reply) { reply({}, ...); });
//   ep.call(other, "raft.forward", body, 5s, [](Status s, std::string reply_body) { ... });
//   io.run();
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/env/status.h"
#include "core/env/time.h"
#include "core/env/transport.h"

namespace boost::asio {
class io_context;
}

namespace shoal::net {

namespace internal {
class EndpointImpl;
}

// What this node shows and whom it trusts.
struct TlsIdentity {
  std::string cert_chain_pem{};                // leaf followed by any intermediates; empty = none
  std::string key_pem{};                       // the leaf's private key
  std::vector<std::string> trusted_roots_pem{};  // during a root rotation: the old and the new
};

// Who may call an RPC.
enum class Access {
  kAnonymous,    // anyone, even with no certificate (fetching the root CA, joining)
  kAnyNode,      // any node certificate of this cluster, worker or manager
  kManagerOnly,  // OU=swarm-manager only
};

struct EndpointOptions {
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

class Endpoint {
 public:
  // Callbacks given to the Endpoint run on `io`.
  Endpoint(boost::asio::io_context& io, EndpointOptions options, TlsIdentity identity);
  // Closes everything; pending calls are failed with unavailable (on the io_context, later).
  ~Endpoint();
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  // Binds and listens on options.listen_address (nothing to do if it is empty). A busy address,
  // a bad address or an unusable certificate/key is a clear error.
  Status start();
  // Closes the listener and every connection; pending calls fail with unavailable. Idempotent.
  void stop();
  // The bound port (useful with port 0); 0 when not listening.
  uint16_t listen_port() const;

  // Where a peer listens, "host:port". Changing it closes the current connection to that peer.
  void set_peer_address(NodeId id, std::string host_port);
  // Closes the connection to the peer and drops what was queued for it; its calls fail.
  void forget_peer(NodeId id);
  // A renewed certificate or rotated roots: used for every handshake from now on. Connections
  // already established keep the identity they were made with. An unusable identity (bad PEM,
  // key not matching the certificate, another node's or cluster's subject) is refused and the
  // current one kept.
  Status set_identity(TlsIdentity identity);

  // kRaft frames to managers by NodeId. Only manager certificates may send or receive them.
  Transport& raft_transport();

  // A reply to a call: ok and a body, or an error (its body is then ignored). Called once.
  using Reply = std::function<void(Status, std::string body)>;
  // `from` is nullptr for an anonymous caller. The handler may reply later (keep `reply`); a
  // reply after the caller's connection closed goes nowhere.
  using RpcHandler = std::function<void(const PeerIdentity* from, std::string body, Reply reply)>;
  // Serves `method` (replacing any earlier handler for it). Calls to a method nobody serves get
  // not_found.
  void serve(std::string method, Access access, RpcHandler handler);

  // Calls `method` on node `to` (its address from set_peer_address) over the connection to it,
  // after checking that its certificate names that node. `done` runs exactly once, always
  // later on the io_context, never inside call().
  void call(NodeId to, std::string method, std::string body, Duration timeout, Reply done);
  // Calls `method` on whoever listens at `host_port`, over a connection of its own that is
  // closed after the reply. anonymous = present no client certificate and do not verify the
  // server against trusted roots (a joining node that does not know the CA yet); otherwise the
  // server must verify against trusted roots with a well-formed identity of this cluster.
  // check_server (may be empty) sees the chain the server presented, PEM, leaf first, and may
  // refuse: then nothing is sent and `done` gets its Status.
  void call_address(std::string host_port, bool anonymous,
                    std::function<Status(std::string_view server_chain_pem)> check_server, std::string method,
                    std::string body, Duration timeout, Reply done);

  struct Stats {
    uint64_t frames_in = 0;
    uint64_t frames_out = 0;
    uint64_t bad_frames = 0;          // malformed, oversized, wrong version: the connection was closed
    uint64_t refused_handshakes = 0;  // a certificate or TLS failure, either side
    uint64_t refused_frames = 0;      // allowed by the codec, not by the sender's role
    uint64_t dropped_queue_full = 0;  // frames not queued because the peer's queue was full
    uint64_t connects = 0;            // connections established (TLS done), either direction
    uint64_t call_timeouts = 0;
  };
  Stats stats() const;

 private:
  std::shared_ptr<internal::EndpointImpl> impl_;
};

}  // namespace shoal::net
