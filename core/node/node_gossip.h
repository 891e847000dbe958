// NodeGossip: a node's place in the cluster's gossip ring. Layers, bottom up:
//   GossipNet                 the gossip port (core/env/gossip_net.h)
//   gossip::SealedTransport   every datagram sealed with the cluster's gossip keys
//   gossip::Membership        SWIM + Lifeguard: who is alive, without asking the managers
//   gossip::Table             the replicated table; each node publishes its own record in table
//                             "nodes" (its hostname)
//
// The keys and the managers' gossip addresses come from the managers over mutual TLS
// (node.info, every few seconds): the ring starts with the first keys and joins through the
// managers; later key lists rotate the keyring (core/manager/gossip_keys.h). Each member's meta
// is its advertised gossip address, so members learn where to reach each other from the gossip
// itself.
//
//   NodeGossip gossip(env, crypto, net, {.self = id, .hostname = "w1", .advertise = "198.18.0.5:7946"});
//   gossip.update(node_info);   // every node.info answer
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/api/manager.pb.h"
#include "core/env/crypto.h"
#include "core/env/env.h"
#include "core/env/gossip_net.h"
#include "core/gossip/membership.h"
#include "core/gossip/sealed_transport.h"
#include "core/gossip/table.h"

namespace shoal::node {

struct NodeGossipOptions {
  NodeId self = 0;
  std::string hostname;
  std::string advertise;  // where other members reach this one's gossip port
  PlantedBugs bugs;       // test-only (core/env/planted_bugs.h)
};

class NodeGossip {
 public:
  // `env` gives clock, timers, rng, disk and log; its transport is not used (`net` is).
  NodeGossip(Env& env, Crypto& crypto, GossipNet& net, NodeGossipOptions options);
  ~NodeGossip();
  NodeGossip(const NodeGossip&) = delete;
  NodeGossip& operator=(const NodeGossip&) = delete;

  // What the managers said (node.info): keys and managers' gossip addresses. Starts the ring on
  // the first keys, joins through the managers until joined, follows key rotations.
  void update(const managerpb::NodeInfoResponse& info);
  // A graceful leave (broadcast; the node is going away).
  void leave();

  const std::string& advertise() const { return opts_.advertise; }
  // nullptr until the first keys arrived.
  gossip::Membership* membership() { return membership_.get(); }
  gossip::Table* table() { return table_.get(); }
  const gossip::SealStats* seal_stats() const { return sealed_ ? &sealed_->stats() : nullptr; }

 private:
  void start_ring(const std::vector<AeadKey>& first_keys);
  void learn_address(const gossip::MemberInfo& m);

  Env& env_;
  Crypto& crypto_;
  GossipNet& net_;
  NodeGossipOptions opts_;
  std::vector<AeadKey> keys_;
  std::unique_ptr<gossip::SealedTransport> sealed_;
  std::unique_ptr<Env> ring_env_;  // env_ with the sealed transport
  std::unique_ptr<gossip::Membership> membership_;
  std::unique_ptr<gossip::Table> table_;
};

}  // namespace shoal::node
