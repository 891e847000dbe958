// SimClusterNet: a simulated node's cluster port, the ClusterNet seam (core/env/cluster_net.h)
// over its one simulated transport (split by ChannelMux), checking certificates as the TLS
// endpoint does.
//
// What a host shows. Every host's current certificate chain is kept in the run's SimShownCerts,
// beside the World (a host keeps showing its last certificate while it is down, as frames it
// sent before it crashed are still delivered). A host that set no identity shows nothing.
//
// Who sent a frame. The World vouches only for the sending host. The receiver verifies the
// chain that host shows against its own trusted roots at its own wall time, with the node's
// Crypto (SimCrypto: the same OpenSSL checks as shoald's), and requires the certificate's
// cluster to be its own; the outcome is cached until the sender's chain or the receiver's roots
// change, or the certificate's validity ends. A frame from a host that proves no identity is
// dropped and counted, as a refused handshake would drop it; Raft's frames also need a manager's
// certificate on both sides, as on the real port.
//
// Addresses. A node's address is sim_address(host) ("n3:2377"); set_peer_address maps a node id
// to the host its address names, so the cluster's node ids (random, from the CA) and the World's
// host numbers stay apart as on real hosts.
//
//   SimClusterNet net(env, crypto, mux, shown, host);
//   node::Node node({..., net, ...}, options);
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/env/cluster_net.h"
#include "core/env/crypto.h"
#include "core/env/env.h"
#include "io_sim/world/sim_rpc_wire.h"

namespace shoal::sim {

// The certificate chain every host shows now, for the whole run.
class SimShownCerts {
 public:
  struct Shown {
    std::string chain_pem;
    std::optional<PeerIdentity> identity;  // as its subject states it (not verified)
    int64_t not_after_unix_s = 0;
    uint64_t version = 0;                  // grows with every change, for caches
  };
  void show(NodeId host, std::string chain_pem, PeerIdentity identity, int64_t not_after_unix_s);
  // nullptr: the host has shown nothing yet.
  const Shown* shown(NodeId host) const;

 private:
  std::map<NodeId, Shown> shown_;
  uint64_t versions_ = 0;
};

class SimClusterNet final : public ClusterNet {
 public:
  SimClusterNet(Env& env, Crypto& crypto, ChannelMux& mux, SimShownCerts& shown, NodeId host);
  ~SimClusterNet() override;

  Status set_identity(TlsIdentity identity) override;
  Status listen(const std::string& address) override;
  void set_peer_address(NodeId id, std::string address) override;
  void forget_peer(NodeId id) override;
  Transport& raft_transport() override { return raft_; }
  RpcWire& rpc_wire() override { return wire_; }
  void stop() override { stopped_ = true; }

  // Who host `h` proves to be to this node now; nullopt: it proves nothing this node accepts.
  std::optional<PeerIdentity> verified(NodeId h);
  // Frames dropped because their sender proved no identity, or Raft's from a non-manager.
  uint64_t refused() const { return refused_ + wire_.refused(); }

 private:
  class RaftChannel final : public Transport {
   public:
    explicit RaftChannel(SimClusterNet& net) : net_(net) {}
    void send(NodeId to, std::string payload) override;
    void set_handler(Handler handler) override { handler_ = std::move(handler); }
    Handler handler_;

   private:
    SimClusterNet& net_;
  };
  struct Verdict {
    uint64_t shown_version = 0;
    uint64_t roots_version = 0;
    // Good while the clock reads within [from, until]: a refusal only for the second it was
    // made in, a certificate until it expires (or until the clock steps back before the check).
    int64_t from_unix_s = 0;
    int64_t until_unix_s = -1;
    std::optional<PeerIdentity> identity;
  };
  NodeId host_of(NodeId node) const;
  void on_raft(const PeerIdentity& from, std::string_view payload);
  int64_t now_s() const { return env_.clock.wall_now_unix_ns() / 1'000'000'000; }

  Env& env_;
  Crypto& crypto_;
  ChannelMux& mux_;
  SimShownCerts& shown_;
  NodeId host_;
  std::optional<PeerIdentity> self_;
  std::vector<std::string> trusted_roots_;
  uint64_t roots_version_ = 0;
  std::map<NodeId, NodeId> peers_;  // node id -> host
  std::map<NodeId, Verdict> verdicts_;  // host -> what it proved
  bool stopped_ = false;
  uint64_t refused_ = 0;
  RaftChannel raft_{*this};
  SimRpcWire wire_;
};

}  // namespace shoal::sim
