// Gossip chaos: one seed, one random schedule of faults and table writes over a GossipCluster,
// then a heal, and the verdict — the sweep behind `shoalsim sweep-gossip` and the gossip property
// test. Everything the run does is drawn from its seed, so a failing seed replays exactly.
//
// The schedule: `steps` steps, each one of: a put or a remove of a record on a random node, an
// isolated node, a partition into two halves at a random cut, a heal, a crash (while more than
// two nodes are up), a restart of a crashed node, a graceful leave; each followed by 0..20 s of
// simulated time. Then the network heals and the cluster must converge (every live member sees
// every other alive and no down or departed one so, and every table agrees: table.h) within
// `heal_bound`; every crash must have been detected by every live member within `detect_bound`.
// False deaths are counted, not violations (loss and partitions cause real suspicions).
//
//   GossipChaosResult r = run_gossip_chaos({.nodes = 8, .seed = 42});
//   if (!r.violations.empty()) ... replay with the same options
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/gossip/config.h"
#include "core/env/time.h"

namespace shoal::sim {

struct GossipChaosOptions {
  size_t nodes = 8;
  uint64_t seed = 1;
  double loss = -1;  // < 0: drawn from the seed among 0, 1 % and 10 %
  int steps = 12;
  Duration heal_bound = std::chrono::seconds(120);
  Duration detect_bound = std::chrono::seconds(60);
  PlantedBugs bugs;
};

struct GossipChaosResult {
  double loss = 0;
  std::vector<std::string> schedule;    // what each step did, for the report
  std::vector<std::string> violations;  // empty: the run passed
  uint64_t false_deaths = 0;
  uint64_t records_written = 0;
  std::string trace_hash;
};

GossipChaosResult run_gossip_chaos(const GossipChaosOptions& options);

}  // namespace shoal::sim
