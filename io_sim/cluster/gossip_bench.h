// The gossip benchmark behind `shoalsim bench-gossip --nodes N --loss P [--seed S]`.
//
// A GossipCluster of N nodes with every link dropping P of its messages joins (node i through a
// random earlier node, 10 ms apart) and runs until every member sees every other alive. Then
// `crashes` nodes crash one at a time: each crash waits until every live member has declared the
// victim dead (or detect_timeout), then crash_gap, then the next. Measured over that observation
// period: the time until every live member knows of each crash (p50, p99, max) and until the
// first does, false deaths of live nodes (distinct node and incarnation) per node-hour, and
// messages and bytes sent per live node per second. Then `records` endpoint records are written
// one at a time on random live nodes (gossip::Table): the time until every live member sees each
// (p50, p99). Last, the writer of the first record crashes: once every member knows, the tables
// must agree again without its records (table_agreement).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "core/gossip/config.h"

namespace shoal::sim {

struct GossipBenchOptions {
  size_t nodes = 100;
  double loss = 0.0;
  uint64_t seed = 1;
  std::string profile = "shoal";  // "shoal" (gossip::Config{}) or "memberlist-lan"
  int crashes = 20;
  Duration crash_gap = std::chrono::seconds(2);
  Duration detect_timeout = std::chrono::seconds(180);
  Duration warmup_limit = std::chrono::seconds(600);
  int records = 20;
  Duration record_timeout = std::chrono::seconds(60);
};

struct GossipBenchResult {
  gossip::Config config;
  bool converged = false;
  double warmup_s = 0;
  std::vector<double> detect_all_s;    // one per detected crash
  std::vector<double> detect_first_s;
  int undetected = 0;  // crashes not known everywhere within detect_timeout
  uint64_t false_deaths = 0;
  uint64_t false_death_events = 0;
  double node_hours = 0;  // live node-time observed
  double msgs_per_node_s = 0;
  double bytes_per_node_s = 0;
  uint64_t bad_messages = 0;
  uint64_t max_health_score = 0;
  std::vector<double> record_all_s;  // one per record seen everywhere
  int records_unspread = 0;          // records not seen everywhere within record_timeout
  bool table_agreement = false;      // after the crash of a record's writer
  std::string table_error;
  double sim_seconds = 0;
  double wall_seconds = 0;
  uint64_t events = 0;
  std::string trace_hash;
};

// False if the profile name is unknown.
bool gossip_profile(const std::string& name, gossip::Config& out);
GossipBenchResult bench_gossip(const GossipBenchOptions& options);
// The `name: value` lines of `shoalsim bench-gossip` (settings first, then the figures).
void print_gossip_bench(const GossipBenchOptions& options, const GossipBenchResult& r, std::ostream& out);
// The q-quantile (0..1) of the values, nearest rank; 0 when empty.
double quantile(std::vector<double> values, double q);

}  // namespace shoal::sim
