#include "io_sim/cluster/gossip_bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>

#include "io_sim/cluster/gossip_cluster.h"

namespace shoal::sim {

bool gossip_profile(const std::string& name, gossip::Config& out) {
  if (name == "shoal") {
    out = gossip::Config{};
    return true;
  }
  if (name == "memberlist-lan") {
    out = gossip::memberlist_lan();
    return true;
  }
  return false;
}

double quantile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double rank = std::ceil(q * static_cast<double>(values.size()));
  const size_t i = static_cast<size_t>(std::clamp(rank, 1.0, static_cast<double>(values.size()))) - 1;
  return values[i];
}

namespace {

struct Totals {
  uint64_t msgs = 0;
  uint64_t bytes = 0;
};

Totals totals(World& w) {
  Totals t;
  for (NodeId id = 1; id <= w.size(); ++id) {
    t.msgs += w.stats(id).messages_sent;
    t.bytes += w.stats(id).bytes_sent;
  }
  return t;
}

// Endpoint records: each written on a random live node and awaited everywhere; then the first
// writer crashes and the tables must drop its records.
void measure_records(GossipCluster& cluster, const GossipBenchOptions& options, GossipBenchResult& r) {
  World& w = cluster.world();
  Rng rng = w.derive_rng("bench-records");
  NodeId first_writer = 0;
  for (int i = 0; i < options.records; ++i) {
    auto up = cluster.up_nodes();
    const NodeId writer = up[static_cast<size_t>(rng.uniform(0, up.size() - 1))];
    if (i == 0) first_writer = writer;
    const std::string address = "198.18." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
    if (!cluster.put(writer, "endpoints", "task-" + std::to_string(i), address).ok()) continue;
    const size_t index = cluster.checker().entry_spreads().size() - 1;
    const SimTime written = w.now();
    while (!cluster.checker().entry_spreads()[index].all && w.now() - written < options.record_timeout) {
      w.run_for(std::chrono::milliseconds(10));
    }
    const EntrySpread& s = cluster.checker().entry_spreads()[index];
    if (s.all) {
      r.record_all_s.push_back(to_seconds(*s.all - s.written_at));
    } else {
      ++r.records_unspread;
    }
  }
  if (first_writer == 0 || cluster.up_nodes().size() <= 2) return;
  cluster.crash(first_writer);
  const size_t index = cluster.checker().crashes().size() - 1;
  const SimTime crashed_at = w.now();
  while (!cluster.checker().crashes()[index].all && w.now() - crashed_at < options.detect_timeout) {
    w.run_for(std::chrono::milliseconds(100));
  }
  r.table_error = cluster.table_agreement_error();
  r.table_agreement = r.table_error.empty();
}

}  // namespace

GossipBenchResult bench_gossip(const GossipBenchOptions& options) {
  const auto wall_start = std::chrono::steady_clock::now();
  GossipBenchResult r;
  gossip_profile(options.profile, r.config);
  GossipCluster cluster({.nodes = options.nodes, .seed = options.seed, .loss = options.loss,
                         .config = r.config, .keys = {}});
  World& w = cluster.world();
  r.converged = cluster.run_until_converged(options.warmup_limit);
  r.warmup_s = to_seconds(w.now());

  Rng rng = w.derive_rng("bench-crashes");
  const Totals before = totals(w);
  const uint64_t false_before = cluster.checker().false_deaths();
  const uint64_t false_events_before = cluster.checker().false_death_events();
  double node_seconds = 0;
  SimTime last = w.now();
  auto advance = [&](Duration d) {
    const size_t up = cluster.up_nodes().size();
    w.run_for(d);
    node_seconds += static_cast<double>(up) * to_seconds(w.now() - last);
    last = w.now();
  };
  for (int c = 0; c < options.crashes; ++c) {
    auto up = cluster.up_nodes();
    if (up.size() <= 2) break;
    const NodeId victim = up[static_cast<size_t>(rng.uniform(0, up.size() - 1))];
    cluster.crash(victim);
    const size_t index = cluster.checker().crashes().size() - 1;
    const SimTime crashed_at = w.now();
    while (!cluster.checker().crashes()[index].all && w.now() - crashed_at < options.detect_timeout) {
      advance(std::chrono::milliseconds(100));
    }
    const CrashDetection& d = cluster.checker().crashes()[index];
    if (d.all) {
      r.detect_all_s.push_back(to_seconds(*d.all - d.crashed_at));
      if (d.first) r.detect_first_s.push_back(to_seconds(*d.first - d.crashed_at));
    } else {
      ++r.undetected;
    }
    advance(options.crash_gap);
  }
  const Totals after = totals(w);
  r.node_hours = node_seconds / 3600.0;
  r.false_deaths = cluster.checker().false_deaths() - false_before;
  r.false_death_events = cluster.checker().false_death_events() - false_events_before;
  if (node_seconds > 0) {
    r.msgs_per_node_s = static_cast<double>(after.msgs - before.msgs) / node_seconds;
    r.bytes_per_node_s = static_cast<double>(after.bytes - before.bytes) / node_seconds;
  }
  measure_records(cluster, options, r);
  for (NodeId id : cluster.up_nodes()) {
    if (gossip::Membership* m = cluster.member(id)) {
      r.bad_messages += m->stats().bad_messages;
      r.max_health_score = std::max<uint64_t>(r.max_health_score, static_cast<uint64_t>(m->health_score()));
    }
  }
  r.sim_seconds = to_seconds(w.now());
  r.events = w.events_processed();
  r.trace_hash = w.trace().hash();
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return r;
}

void print_gossip_bench(const GossipBenchOptions& o, const GossipBenchResult& r, std::ostream& out) {
  const auto ms = [](Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  const gossip::Config& c = r.config;
  out << std::fixed << std::setprecision(3);
  out << "nodes: " << o.nodes << "\n"
      << "loss: " << o.loss << "\n"
      << "seed: " << o.seed << "\n"
      << "profile: " << o.profile << "\n"
      << "probe_interval_ms: " << ms(c.probe_interval) << "\n"
      << "probe_timeout_ms: " << ms(c.probe_timeout) << "\n"
      << "indirect_checks: " << c.indirect_checks << "\n"
      << "suspicion_mult: " << c.suspicion_mult << "\n"
      << "suspicion_max_timeout_mult: " << c.suspicion_max_timeout_mult << "\n"
      << "retransmit_mult: " << c.retransmit_mult << "\n"
      << "gossip_interval_ms: " << ms(c.gossip_interval) << "\n"
      << "gossip_nodes: " << c.gossip_nodes << "\n"
      << "push_pull_interval_ms: " << ms(c.push_pull_interval) << "\n"
      << "converged: " << (r.converged ? "yes" : "no") << "\n"
      << "warmup_s: " << r.warmup_s << "\n"
      << "crashes: " << r.detect_all_s.size() + static_cast<size_t>(r.undetected) << "\n"
      << "undetected: " << r.undetected << "\n"
      << "detect_first_p50_s: " << quantile(r.detect_first_s, 0.5) << "\n"
      << "detect_all_p50_s: " << quantile(r.detect_all_s, 0.5) << "\n"
      << "detect_all_p99_s: " << quantile(r.detect_all_s, 0.99) << "\n"
      << "detect_all_max_s: " << quantile(r.detect_all_s, 1.0) << "\n"
      << "false_deaths: " << r.false_deaths << "\n"
      << "false_death_events: " << r.false_death_events << "\n"
      << "observed_node_hours: " << r.node_hours << "\n"
      << "false_deaths_per_node_hour: " << (r.node_hours > 0 ? static_cast<double>(r.false_deaths) / r.node_hours : 0.0) << "\n"
      << "msgs_per_node_s: " << r.msgs_per_node_s << "\n"
      << "bytes_per_node_s: " << r.bytes_per_node_s << "\n"
      << "records: " << r.record_all_s.size() + static_cast<size_t>(r.records_unspread) << "\n"
      << "records_unspread: " << r.records_unspread << "\n"
      << "record_all_p50_s: " << quantile(r.record_all_s, 0.5) << "\n"
      << "record_all_p99_s: " << quantile(r.record_all_s, 0.99) << "\n"
      << "table_agreement: " << (r.table_agreement ? "yes" : "no: " + r.table_error) << "\n"
      << "bad_messages: " << r.bad_messages << "\n"
      << "health_score_max_at_end: " << r.max_health_score << "\n"
      << "sim_seconds: " << r.sim_seconds << "\n"
      << "wall_seconds: " << r.wall_seconds << "\n"
      << "events: " << r.events << "\n"
      << "trace_hash: " << r.trace_hash << "\n";
}

}  // namespace shoal::sim
