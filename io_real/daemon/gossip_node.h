// GossipNode: shoald's place in the cluster's gossip ring (issue 5). Layers, bottom up:
//   net::GossipSocket         UDP and TCP on the gossip port (7946 unless --gossip-addr says)
//   gossip::SealedTransport   every datagram sealed with the cluster's gossip keys
//   gossip::Membership        SWIM + Lifeguard: who is alive, without asking the managers
//   gossip::Table             the replicated table; each node publishes its own record in
//                             table "nodes" (its hostname), the endpoint records of overlays later
//
// The keys and the managers' gossip addresses come from the managers over mutual TLS
// (node.info, every few seconds): the ring starts with the first keys and joins through the
// managers; later key lists rotate the keyring (core/manager/gossip_keys.h). Each member's meta
// is its advertised gossip address, so members learn where to reach each other from the gossip
// itself.
//
// Threads: everything on the daemon's io_context.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/api/manager.pb.h"
#include "core/env/crypto.h"
#include "core/env/env.h"
#include "core/gossip/membership.h"
#include "core/gossip/sealed_transport.h"
#include "core/gossip/table.h"

namespace boost::asio {
class io_context;
}

namespace shoal::daemon {

struct GossipNodeOptions {
  NodeId self = 0;
  std::string hostname;
  std::string listen_addr = "0.0.0.0:7946";
  std::string advertise_addr;  // empty: the node's advertise host with the bound port
  std::string advertise_host;  // the host part used then
};

class GossipNode {
 public:
  // `env` supplies clock, timers, rng and disk; its transport is not used.
  GossipNode(boost::asio::io_context& io, Env& env, Crypto& crypto, GossipNodeOptions options);
  ~GossipNode();

  // Binds the gossip port. A busy or bad address is a clear error.
  Status start();
  // Where other members reach this one ("host:port"), once started.
  const std::string& advertise_addr() const { return advertise_; }

  // What the managers said (node.info): keys and managers' gossip addresses. Starts the ring on
  // the first keys, joins through the managers until joined, follows key rotations.
  void update(const managerpb::NodeInfoResponse& info);

  // Graceful leave (broadcast, then the daemon exits).
  void leave();

  // nullptr until the first keys arrived.
  gossip::Membership* membership();
  gossip::Table* table();
  const gossip::SealStats* seal_stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string advertise_;
};

}  // namespace shoal::daemon
