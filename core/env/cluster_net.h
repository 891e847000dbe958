// ClusterNet: the seam of a node's cluster port (2377, mutual TLS): who this node is to its
// peers, where the peers are, and the two things the port carries, Raft's messages between
// managers and the RPC layer's frames (core/env/rpc_wire.h).
//
// A node starts with no identity: it may then only call anonymously (a node that is joining).
// Its certificate comes with set_identity(), which a renewal or a root rotation repeats; from
// then on every new connection shows it, and listen() opens the port. The identity's
// certificate names the node and its cluster; the port refuses one that names another node or
// cluster than the first identity it was given.
//
// shoald's is the TLS Endpoint (io_real/net/endpoint.h); the simulator's checks the same
// certificates with the same Crypto (io_sim/world/sim_cluster_net.h).
#pragma once

#include <string>
#include <vector>

#include "core/env/rpc_wire.h"
#include "core/env/status.h"
#include "core/env/transport.h"

namespace shoal {

// What this node shows and whom it trusts.
struct TlsIdentity {
  std::string cert_chain_pem{};                  // leaf followed by any intermediates; empty = none
  std::string key_pem{};                         // the leaf's private key
  std::vector<std::string> trusted_roots_pem{};  // during a root rotation: the old and the new
};

class ClusterNet {
 public:
  virtual ~ClusterNet() = default;
  // Shows `identity` to every peer from now on (connections already open keep theirs). An
  // unusable identity (bad PEM, a key not matching the certificate, another node's or
  // cluster's subject) is refused and the current one kept.
  virtual Status set_identity(TlsIdentity identity) = 0;
  // Opens the port at `address` ("host:port"); needs an identity. A busy or bad address is a
  // clear error.
  virtual Status listen(const std::string& address) = 0;
  // Where a peer's cluster port is, "host:port".
  virtual void set_peer_address(NodeId id, std::string address) = 0;
  virtual void forget_peer(NodeId id) = 0;
  // Raft's messages, between managers only.
  virtual Transport& raft_transport() = 0;
  virtual RpcWire& rpc_wire() = 0;
  // Closes the port and every connection.
  virtual void stop() = 0;
};

}  // namespace shoal
