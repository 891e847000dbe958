#include "io_sim/cluster/gossip_chaos.h"

#include <set>

#include "io_sim/cluster/gossip_cluster.h"

namespace shoal::sim {

namespace {

std::string ms_text(Duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

}  // namespace

GossipChaosResult run_gossip_chaos(const GossipChaosOptions& o) {
  GossipChaosResult r;
  Rng draw(o.seed ^ 0x9055'1bc7'a05eULL);
  static constexpr double kLosses[] = {0.0, 0.01, 0.1};
  r.loss = o.loss >= 0 ? o.loss : kLosses[draw.uniform(0, 2)];
  gossip::Config config;
  config.bugs = o.bugs;
  GossipCluster c({.nodes = o.nodes, .seed = o.seed, .loss = r.loss, .config = config, .keys = {}});
  if (!c.run_until_converged(std::chrono::seconds(60))) {
    r.violations.push_back("the cluster did not form: " + c.agreement_error());
    return r;
  }
  const size_t n = o.nodes;
  std::set<NodeId> left;
  for (int i = 0; i < o.steps; ++i) {
    const auto id = static_cast<NodeId>(draw.uniform(1, n));
    const std::string key = "k" + std::to_string(draw.uniform(0, 4));
    std::string what;
    switch (draw.uniform(0, 7)) {
      case 0:
        if (left.count(id) == 0 && c.put(id, "endpoints", key, "v" + std::to_string(i)).ok()) ++r.records_written;
        what = "put " + key + " on " + std::to_string(id);
        break;
      case 1:
        if (gossip::Table* t = c.table(id); t != nullptr && left.count(id) == 0) t->remove("endpoints", key).ignore();
        what = "remove " + key + " on " + std::to_string(id);
        break;
      case 2:
        c.world().isolate(id);
        what = "isolate " + std::to_string(id);
        break;
      case 3: {
        std::vector<NodeId> a, b;
        for (NodeId x = 1; x <= n; ++x) (x <= id ? a : b).push_back(x);
        if (!b.empty()) c.world().partition({a, b});
        what = "partition at " + std::to_string(id);
        break;
      }
      case 4:
        c.world().heal();
        what = "heal";
        break;
      case 5:
        if (c.up_nodes().size() > 2) c.crash(id);
        what = "crash " + std::to_string(id);
        break;
      case 6:
        if (left.count(id) == 0) c.restart(id);
        what = "restart " + std::to_string(id);
        break;
      default:
        // A departed node stays up but out; it is counted with the down ones below.
        if (c.up_nodes().size() > 2 && c.member(id) != nullptr && left.insert(id).second) c.leave(id);
        what = "leave " + std::to_string(id);
        break;
    }
    const Duration wait = std::chrono::milliseconds(draw.uniform(0, 20'000));
    r.schedule.push_back(what + ", then " + ms_text(wait));
    c.world().run_for(wait);
  }
  c.world().heal();
  // Departed members are gone for good: crash them so the checks treat them as down.
  for (NodeId id : left) c.crash(id);
  if (!c.run_until_converged(o.heal_bound)) {
    std::string why = c.agreement_error();
    if (why.empty()) why = c.table_agreement_error();
    if (why.empty()) why = "members' alive counts differ";
    r.violations.push_back("no agreement " + ms_text(o.heal_bound) + " after the heal: " + why);
  }
  c.checker().check_detection(c.world().now(), o.detect_bound);
  for (const auto& v : c.checker().violations()) r.violations.push_back("[" + v.checker + "] " + v.what);
  for (NodeId id : c.up_nodes()) {
    if (std::string e = c.member(id)->broken_invariant(); !e.empty()) r.violations.push_back("member: " + e);
    if (std::string e = c.table(id)->broken_invariant(); !e.empty()) r.violations.push_back("table: " + e);
  }
  r.false_deaths = c.checker().false_deaths();
  r.trace_hash = c.world().trace().hash();
  return r;
}

}  // namespace shoal::sim
