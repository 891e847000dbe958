// Options for a GossipCluster in the gossip simulator tests: N nodes, a seed, every link's loss,
// and the members' settings (planted bugs included).
#pragma once

#include "io_sim/cluster/gossip_cluster.h"

namespace shoal::sim::testing {

inline GossipClusterOptions gossip_opts(size_t nodes, uint64_t seed, double loss = 0.0, gossip::Config config = {}) {
  GossipClusterOptions o;
  o.nodes = nodes;
  o.seed = seed;
  o.loss = loss;
  o.config = config;
  return o;
}

}  // namespace shoal::sim::testing
