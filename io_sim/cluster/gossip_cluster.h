// GossipCluster: N simulated nodes, each running a gossip::Membership and the table riding on it
// (gossip::Table) in the World, wired to a GossipChecker. The basis of the gossip tests and of `shoalsim bench-gossip`.
//
// Node 1 starts the cluster; node i > 1 joins through a random node among 1..i-1 at
// (i - 1) * join_spacing. A restarted node joins again through a random up node. Every
// member's leave events and table changes go to the checker with the simulated time; crash(),
// restart(), leave() and put() tell the checker too. A restarted node starts with an empty table.
//
//   GossipCluster c({.nodes = 20, .seed = 7, .loss = 0.01});
//   c.run_until_converged(60s);
//   c.crash(5);
//   c.world().run_for(20s);
//   c.checker().check_detection(c.world().now(), 20s);
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/gossip/membership.h"
#include "core/gossip/sealed_transport.h"
#include "core/gossip/table.h"
#include "io_sim/checkers/gossip_checker.h"
#include "io_sim/world/sim_crypto.h"
#include "io_sim/world/world.h"

namespace shoal::sim {

struct GossipClusterOptions {
  size_t nodes = 5;
  uint64_t seed = 1;
  double loss = 0.0;  // drop probability of every link
  double duplicate = 0.0;  // probability every link delivers a message twice
  gossip::Config config = {};  // id is set per node
  Duration join_spacing = std::chrono::milliseconds(10);
  bool keep_trace = false;
  // Sealed gossip (core/gossip/sealed_transport.h): the keys each node starts with, primary
  // first. Unset: datagrams travel in the clear.
  std::function<std::vector<AeadKey>(NodeId)> keys;
};

// A node's program: one Membership and its Table on the node's Env, sealed when it has keys.
class GossipApp : public NodeApp {
 public:
  GossipApp(NodeId id, Env& env, const gossip::Config& config, gossip::Events events, std::vector<AeadKey> keys,
            uint64_t crypto_seed);
  gossip::Membership& membership() { return membership_; }
  gossip::Table& table() { return table_; }
  gossip::SealedTransport* sealed() { return sealed_.get(); }

 private:
  std::unique_ptr<SimCrypto> crypto_;
  std::unique_ptr<gossip::SealedTransport> sealed_;
  Env env_;  // the node's, with sealed_ as its transport when sealed
  gossip::Membership membership_;
  gossip::Table table_;
};

class GossipCluster {
 public:
  explicit GossipCluster(GossipClusterOptions options);

  World& world() { return *world_; }
  GossipChecker& checker() { return checker_; }
  size_t size() const { return options_.nodes; }
  // The node's membership, nullptr while it is down.
  gossip::Membership* member(NodeId id);

  // The node's table, nullptr while it is down.
  gossip::Table* table(NodeId id);
  // The node's sealing layer, nullptr while it is down or when gossip is not sealed.
  gossip::SealedTransport* sealed(NodeId id);
  // A record written on node `id` (which must be up), awaited by the checker on every up node.
  Status put(NodeId id, const std::string& table, const std::string& key, const std::string& value);

  // Every node that is up sees every other up node alive or suspect, and the same table.
  bool converged();
  // Runs until converged() (checked every 100 ms) or `limit` passed; true if converged.
  bool run_until_converged(Duration limit);

  void crash(NodeId id);
  void restart(NodeId id);
  void leave(NodeId id);
  std::vector<NodeId> up_nodes() const;
  std::vector<NodeId> down_nodes() const;
  std::string agreement_error();
  std::string table_agreement_error();

 private:
  std::unique_ptr<NodeApp> make_app(NodeId id, Env& env);
  void join_through_random(NodeId id, NodeId below);

  GossipClusterOptions options_;
  GossipChecker checker_;
  std::unique_ptr<World> world_;
  Rng rng_;
};

}  // namespace shoal::sim
