#include "io_sim/scenario/runner.h"

#include <algorithm>

#include "core/env/check.h"
#include "core/env/probe.h"

namespace shoal::sim {

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string list(const std::vector<NodeId>& ids) {
  std::string s = "{";
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
  return s + "}";
}

// Plays timeline steps and random faults against one cluster.
class FaultDriver {
 public:
  FaultDriver(RaftCluster& c, ServicesCluster* services, uint64_t seed)
      : c_(c), w_(c.world()), services_(services), rng_(Rng(seed).derive("timeline")), faults_rng_(Rng(seed).derive("faults")) {}

  // Resolves a target to node ids (possibly none, e.g. no leader right now).
  std::vector<NodeId> resolve(const Target& t) {
    switch (t.kind) {
      case Target::Kind::kNode: return {t.node};
      case Target::Kind::kLeader: {
        const NodeId l = c_.leader();
        return l ? std::vector<NodeId>{l} : std::vector<NodeId>{};
      }
      case Target::Kind::kFollower: {
        std::vector<NodeId> f;
        const NodeId l = c_.leader();
        for (NodeId id : c_.members()) {
          if (id != l) f.push_back(id);
        }
        if (f.empty()) return {};
        return {f[rng_.uniform(0, f.size() - 1)]};
      }
      case Target::Kind::kAll: {
        std::vector<NodeId> all;
        for (NodeId id = 1; id <= w_.size(); ++id) all.push_back(id);
        return all;
      }
      case Target::Kind::kCrashed: {
        std::vector<NodeId> down;
        for (NodeId id = 1; id <= w_.size(); ++id) {
          if (!w_.is_up(id)) down.push_back(id);
        }
        return down;
      }
    }
    return {};
  }

  void apply(const Step& s) {
    const auto nodes = resolve(s.node);
    const std::string& a = s.action;
    if (a == "heal") {
      w_.heal();
      return c_.note(0, "fault", "network healed");
    }
    if (a == "link") {
      LinkOptions lo = w_.network().default_link();
      lo.drop = s.drop;
      lo.duplicate = s.duplicate;
      lo.reorder = s.reorder;
      if (s.latency.count() >= 0) lo.base_latency = s.latency;
      if (s.jitter.count() >= 0) lo.jitter = s.jitter;
      w_.network().set_default_link(lo);
      return c_.note(0, "fault", "links: latency " + format_sim_time(lo.base_latency) + " + up to " +
                                     format_sim_time(lo.jitter) + ", drop " + std::to_string(int(s.drop * 100)) +
                                     "%, duplicate " + std::to_string(int(s.duplicate * 100)) + "%, reorder " +
                                     std::to_string(int(s.reorder * 100)) + "%");
    }
    if (a == "partition") {
      std::vector<std::vector<NodeId>> groups;
      std::vector<bool> named(w_.size() + 1, false);
      int rest = -1;
      for (const auto& g : s.groups) {
        std::vector<NodeId> ids;
        for (const auto& t : g) {
          for (NodeId id : resolve(t)) {
            if (!named[id]) ids.push_back(id);
            named[id] = true;
          }
        }
        if (g.empty()) rest = static_cast<int>(groups.size());
        groups.push_back(ids);
      }
      if (rest >= 0) {
        for (NodeId id = 1; id <= w_.size(); ++id) {
          if (!named[id]) groups[rest].push_back(id);
        }
      }
      std::string shape;
      for (auto& g : groups) {
        std::sort(g.begin(), g.end());
        shape += (shape.empty() ? "" : " | ") + list(g);
      }
      w_.partition(groups);
      return c_.note(0, "fault", "partition " + shape);
    }
    if (a == "update") {
      using Version = ServicesCluster::Version;
      c_.note(0, "services",
              "update " + s.service + (s.failing ? " to a failing version" : s.unhealthy ? " to an unhealthy version" : ""));
      return services_->update(s.service, s.failing     ? Version::kCrashes
                                          : s.unhealthy ? Version::kUnhealthy
                                                        : Version::kWorks);
    }
    if (a == "scale") {
      c_.note(0, "services", "scale " + s.service + " to " + std::to_string(s.replicas));
      return services_->scale(s.service, s.replicas);
    }
    if (a == "rotate_ca") {
      c_.note(0, "services", "root CA rotation asked for");
      return services_->rotate_ca();
    }
    if (nodes.empty()) return c_.note(0, "fault", "skipped (no such node now): " + s.line);
    const NodeId n = nodes.front();
    const std::string ns = "n" + std::to_string(n);
    if (a == "isolate") {
      w_.isolate(n);
      c_.note(n, "fault", ns + " isolated from everyone");
    } else if (a == "block" || a == "unblock") {
      const auto to = resolve(s.to);
      if (to.empty()) return;
      if (a == "block") {
        w_.block(n, to.front());
      } else {
        w_.unblock(n, to.front());
      }
      c_.note(n, "fault", a + " " + ns + " -> n" + std::to_string(to.front()));
    } else if (a == "crash") {
      for (NodeId id : nodes) {
        if (w_.crash(id)) c_.note(id, "fault", "n" + std::to_string(id) + " crashed");
      }
    } else if (a == "restart") {
      for (NodeId id : nodes) {
        if (w_.restart(id)) c_.note(id, "fault", "n" + std::to_string(id) + " restarted");
      }
    } else if (a == "pause") {
      w_.pause(n, s.amount);
      c_.note(n, "fault", ns + " paused for " + format_sim_time(s.amount));
    } else if (a == "disk_loss") {
      w_.disk_loss(n);
      if (services_) services_->on_disk_loss(n);
      c_.note(n, "fault", ns + " lost its disk");
    } else if (a == "clock_jump") {
      w_.jump_wall_clock(n, s.amount);
      c_.note(n, "fault", ns + " wall clock jumped by " + format_sim_time(s.amount));
    } else if (a == "clock_drift") {
      w_.set_clock_drift_ppm(n, s.ppm);
      c_.note(n, "fault", ns + " clock drift set to " + std::to_string(int(s.ppm)) + " ppm");
    } else if (a == "flap") {
      flap(n, s.amount, s.amount2, s.times);
    } else if (a == "add_learner" || a == "add_voter" || a == "remove_node") {
      const auto type = a == "add_learner"   ? raft::raftpb::CONF_ADD_LEARNER_NODE
                        : a == "add_voter"   ? raft::raftpb::CONF_ADD_NODE
                                             : raft::raftpb::CONF_REMOVE_NODE;
      change_membership(type, n, a, w_.now() + seconds(10));
    } else if (a == "promote" || a == "demote") {
      c_.note(n, "services", ns + (a == "promote" ? " promoted" : " demoted"));
      services_->set_role(n, a == "promote" ? storepb::MANAGER : storepb::WORKER);
    } else if (a == "drain" || a == "activate") {
      c_.note(n, "services", ns + " availability " + (a == "drain" ? "drain" : "active"));
      services_->set_availability(n, a == "drain" ? storepb::NodeSpec::DRAIN : storepb::NodeSpec::ACTIVE);
    } else if (a == "transfer_leader") {
      const NodeId l = c_.leader();
      if (l && c_.host(l)) {
        RaftMember* target = c_.host(n);
        Status st = c_.host(l)->node().transfer_leadership(target ? target->node().raft().id() : n);
        c_.note(l, "transfer", "leadership transfer n" + std::to_string(l) + " -> " + ns +
                                   (st.ok() ? "" : ": " + st.message()));
      }
    }
  }

  // Cuts every link of `node` for `down`, restores them for `up`, `times` times.
  void flap(NodeId node, Duration down, Duration up, int times) {
    if (times <= 0) return;
    for (NodeId p = 1; p <= w_.size(); ++p) {
      if (p != node) {
        w_.block(node, p);
        w_.block(p, node);
      }
    }
    c_.note(node, "fault", "n" + std::to_string(node) + " link down (flapping)");
    w_.after(down, [this, node, down, up, times] {
      for (NodeId p = 1; p <= w_.size(); ++p) {
        if (p != node) {
          w_.unblock(node, p);
          w_.unblock(p, node);
        }
      }
      c_.note(node, "fault", "n" + std::to_string(node) + " link up (flapping)");
      w_.after(up, [this, node, down, up, times] { flap(node, down, up, times - 1); });
    });
  }

  void change_membership(raft::raftpb::ConfChangeType type, NodeId n, const std::string& what,
                         SimTime deadline) {
    const NodeId l = c_.leader();
    Status st = Status::not_leader("no leader");
    if (l && c_.host(l)) st = c_.host(l)->node().propose_conf_change(type, n);
    if (st.ok()) return c_.note(l, "membership", "proposed " + what + " n" + std::to_string(n));
    if (w_.now() > deadline) return c_.note(0, "membership", what + " n" + std::to_string(n) + " gave up: " + st.message());
    w_.after(milliseconds(200), [this, type, n, what, deadline] { change_membership(type, n, what, deadline); });
  }

  // One round of random faults (swarm testing).
  void random_round(const RandomFaults& f) {
    Rng& r = faults_rng_;
    const auto n = w_.size();
    for (NodeId id = 1; id <= n; ++id) {
      if (!w_.is_up(id) && r.chance(f.restart) && w_.restart(id)) {
        c_.note(id, "fault", "n" + std::to_string(id) + " restarted");
      }
    }
    if (r.chance(f.crash)) {
      const NodeId id = static_cast<NodeId>(r.uniform(1, n));
      if (w_.crash(id)) c_.note(id, "fault", "n" + std::to_string(id) + " crashed");
    }
    if (r.chance(f.power_loss)) {
      for (NodeId id = 1; id <= n; ++id) w_.crash(id);
      c_.note(0, "fault", "power loss: every node crashed");
    }
    if (r.chance(f.heal)) {
      w_.heal();
      c_.note(0, "fault", "network healed");
    }
    if (r.chance(f.partition)) {
      switch (r.uniform(0, 2)) {
        case 0: {  // a random split in two
          std::vector<NodeId> a, b;
          for (NodeId id = 1; id <= n; ++id) (r.chance(0.5) ? a : b).push_back(id);
          w_.partition({a, b});
          c_.note(0, "fault", "partition " + list(a) + " | " + list(b));
          break;
        }
        case 1: {
          const NodeId id = static_cast<NodeId>(r.uniform(1, n));
          w_.isolate(id);
          c_.note(id, "fault", "n" + std::to_string(id) + " isolated from everyone");
          break;
        }
        default: {  // one-way
          const NodeId from = static_cast<NodeId>(r.uniform(1, n));
          const NodeId to = static_cast<NodeId>(r.uniform(1, n));
          if (from != to) {
            w_.block(from, to);
            c_.note(from, "fault", "block n" + std::to_string(from) + " -> n" + std::to_string(to));
          }
        }
      }
    }
    if (r.chance(f.loss) || r.chance(f.duplicate)) {
      LinkOptions lo = w_.network().default_link();
      lo.drop = r.chance(0.5) ? 0.0 : r.unit() * 0.3;
      lo.duplicate = r.chance(f.duplicate) ? r.unit() * 0.1 : 0.0;
      lo.reorder = r.unit() * 0.2;
      w_.network().set_default_link(lo);
      c_.note(0, "fault", "links: drop " + std::to_string(int(lo.drop * 100)) + "%, duplicate " +
                              std::to_string(int(lo.duplicate * 100)) + "%");
    }
    if (r.chance(f.clock)) {
      const NodeId id = static_cast<NodeId>(r.uniform(1, n));
      if (r.chance(0.5)) {
        const auto by = milliseconds(static_cast<int64_t>(r.uniform(0, 20000)) - 10000);
        w_.jump_wall_clock(id, by);
        c_.note(id, "fault", "n" + std::to_string(id) + " wall clock jumped by " + format_sim_time(by));
      } else {
        const double ppm = static_cast<double>(r.uniform(0, 2000)) - 1000.0;
        w_.set_clock_drift_ppm(id, ppm);
        c_.note(id, "fault", "n" + std::to_string(id) + " clock drift " + std::to_string(int(ppm)) + " ppm");
      }
    }
    if (r.chance(f.pause)) {
      const NodeId id = static_cast<NodeId>(r.uniform(1, n));
      const auto d = milliseconds(r.uniform(50, 2000));
      if (w_.is_up(id) && !w_.is_paused(id)) {
        w_.pause(id, d);
        c_.note(id, "fault", "n" + std::to_string(id) + " paused for " + format_sim_time(d));
      }
    }
  }

  // The liveness phase begins: every fault heals and no new one is injected.
  void heal_everything() {
    w_.heal();
    w_.network().set_default_link(w_.options().link);  // the world's own latency, no loss
    w_.network().clear_all_links();
    for (NodeId id = 1; id <= w_.size(); ++id) {
      if (w_.is_paused(id)) w_.resume(id);
      w_.set_clock_drift_ppm(id, 0);
      // As NTP would: a wall clock that jumped is stepped back to the true time.
      if (const Duration off = w_.clock(id).wall_offset(); off != Duration::zero()) w_.jump_wall_clock(id, -off);
      w_.restart(id);
    }
    c_.note(0, "phase", "liveness phase: every fault healed, no new faults");
  }

 private:
  RaftCluster& c_;
  World& w_;
  ServicesCluster* services_;  // null in Raft-only scenarios
  Rng rng_;
  Rng faults_rng_;
};

// A failed SHOAL_CHECK inside a simulated node ends the run as a violation, not the process.
struct CoreCheckFailure {
  std::string what;
};
[[noreturn]] void throw_check_failure(const std::string& what) { throw CoreCheckFailure{what}; }

}  // namespace

RandomFaults draw_swarm_faults(uint64_t seed, const RandomFaults& base) {
  Rng r = Rng(seed).derive("swarm");
  RandomFaults f = base;
  auto draw = [&](double& p, double max) {
    const double drawn = r.chance(0.5) ? r.unit() * max : 0.0;
    p = std::max(p, drawn);
  };
  f.every = milliseconds(r.uniform(200, 1000));
  draw(f.crash, 0.3);
  draw(f.partition, 0.3);
  draw(f.loss, 0.3);
  draw(f.duplicate, 0.2);
  draw(f.clock, 0.2);
  draw(f.pause, 0.2);
  draw(f.power_loss, 0.05);
  f.heal = 0.2 + r.unit() * 0.5;
  f.restart = 0.2 + r.unit() * 0.6;
  f.disk_torn = r.unit();
  return f;
}

RunResult run_scenario(const Scenario& sc, const RunOptions& opt) {
  ProbeRegistry::instance().reset();
  set_check_failure_handler(throw_check_failure);
  RunResult result;
  result.faults = opt.swarm ? draw_swarm_faults(opt.seed, sc.faults) : sc.faults;

  ClusterOptions co;
  co.nodes = sc.nodes;
  co.voters = sc.voters;
  co.seed = opt.seed;
  co.keep_trace = opt.keep_trace;
  co.log = opt.log;
  co.disk.torn = result.faults.disk_torn;
  co.disk.min_sync_latency = sc.disk_sync_min;
  co.disk.max_sync_latency = sc.disk_sync_max;
  co.node.tick_interval = milliseconds(sc.tick_ms);
  co.node.snapshot_every = sc.snapshot_every;
  co.node.raft.election_tick = sc.election_tick;
  co.node.raft.heartbeat_tick = sc.heartbeat_tick;
  co.node.raft.pre_vote = sc.pre_vote;
  co.node.raft.check_quorum = sc.check_quorum;
  co.node.raft.max_msg_bytes = sc.max_msg_bytes;
  co.node.raft.max_inflight = sc.max_inflight;
  co.node.raft.bugs = opt.bugs;
  if (sc.has_services()) {
    result.services = std::make_unique<ServicesCluster>(
        ServicesOptions{.managers = sc.managers,
                        .services = sc.services,
                        .tasks = sc.tasks,
                        .bugs = opt.bugs,
                        .cert_expiry_s = std::chrono::duration_cast<std::chrono::seconds>(sc.cert_expiry).count(),
                        .autolock = sc.autolock});
    co.make_host = result.services->host_factory();
  }
  result.cluster = std::make_unique<RaftCluster>(co);
  RaftCluster& c = *result.cluster;
  World& w = c.world();
  ServicesCluster* services = result.services.get();
  if (services) services->attach(c);
  w.set_check_node_invariants(opt.node_invariants);
  FaultDriver faults(c, services, opt.seed);

  try {
    if (services) {
      c.note(0, "start", sc.name + ": " + std::to_string(sc.managers) + " managers, " +
                             std::to_string(sc.nodes - sc.managers) + " workers, seed " + std::to_string(opt.seed));
      // Every host's store is checked while it is a manager (promotions and demotions move them).
      std::vector<NodeId> hosts;
      for (NodeId id = 1; id <= sc.nodes; ++id) hosts.push_back(id);
      // Update bounds hold while nodes are healthy: checked only without random faults.
      const bool bounds = sc.check_update_bounds && !result.faults.any();
      w.set_after_event([services, hosts, bounds] {
        services->checker().check(hosts);
        if (bounds) services->check_update_bounds();
      });
      c.start();
    } else {
      c.note(0, "start", sc.name + ": " + std::to_string(sc.nodes) + " managers, seed " + std::to_string(opt.seed));
      c.start();
      c.start_workload(sc.writes_per_s, sc.reads_per_s);
    }

    for (const Step& s : sc.timeline) {
      w.at(s.at, [&faults, &s] { faults.apply(s); });
    }
    // Periodic callbacks re-arm themselves by reference, so they live as long as the run.
    std::function<void()> round = [&] {
      if (w.now() >= sc.safety_phase) return;
      faults.random_round(result.faults);
      w.after(result.faults.every, round);
    };
    if (result.faults.any()) w.after(result.faults.every, round);
    std::function<void()> check = [&] {
      c.check_now();
      w.after(milliseconds(250), check);
    };
    w.after(milliseconds(250), check);
    const SimTime safety_end = sc.safety_phase;
    if (sc.max_commit_gap.count() > 0) {
      w.at(sc.max_commit_gap_after, [&c] { c.reset_ack_gap(); });
    }

    // Safety phase: faults as the scenario and the seed say.
    w.run_until(safety_end);
    // "Stays live" is a promise about the scenario's own faults; random faults may stall anything.
    if (sc.max_commit_gap.count() > 0 && !result.faults.any()) {
      const SimTime gap = std::max(c.max_ack_gap(), w.now() - std::max(c.last_ack_time(), sc.max_commit_gap_after));
      if (gap > sc.max_commit_gap) {
        c.checker().add("liveness", "writes stalled for " + format_sim_time(gap) +
                                        " during the faults (the scenario allows " +
                                        format_sim_time(sc.max_commit_gap) + ")");
      }
    }

    // Liveness phase: heal everything; a write must commit (services: every service must
    // converge) within the bound, then all converge.
    faults.heal_everything();
    const SimTime live_start = w.now();
    if (services) {
      services->stop_task_faults();
      std::string reason = "not checked yet";
      while (w.now() < live_start + sc.liveness_bound) {
        w.run_for(milliseconds(100));
        reason = services->unconverged();
        if (reason.empty()) break;
      }
      if (reason.empty()) {
        result.liveness_recovery_s = to_seconds(w.now() - live_start);
        c.note(0, "services", "every service converged");
      } else {
        c.checker().add("convergence", "services did not converge within " + format_sim_time(sc.liveness_bound) +
                                           " after every fault healed: " + reason);
      }
      // Converged or not: a node left with a refused certificate or an old root is the PKI
      // checker's to name.
      services->check_pki_end();
    } else {
      bool probe_acked = false;
      c.write_until_acked(live_start + sc.liveness_bound, [&](bool acked) {
        probe_acked = acked;
        if (acked) result.liveness_recovery_s = to_seconds(w.now() - live_start);
      });
      w.run_until(live_start + sc.liveness_bound);
      if (!probe_acked) {
        c.checker().add("liveness", std::string("no write committed within ") +
                                        format_sim_time(sc.liveness_bound) + " after every fault healed" +
                                        (c.leader() ? "" : " (no leader)"));
      }
    }
    c.stop_workload();
    // Every member must apply, within 3 s, what the leader had committed when they began. (A
    // cluster of Nodes never falls quiet: renewals and status reports keep committing, so what
    // commits during the 3 s is not asked for.)
    const NodeId before = c.leader();
    const uint64_t committed_before = before ? c.host(before)->node().raft().log().committed() : 0;
    w.run_for(seconds(3));  // let followers catch up
    const NodeId l = c.leader();
    if (l == 0) {
      c.checker().add("liveness", "no leader at the end of the liveness phase");
    } else {
      const uint64_t commit = std::min(committed_before, c.host(l)->node().raft().log().committed());
      for (NodeId id : c.members()) {
        const uint64_t applied = c.host(id)->node().applied_index();
        if (applied < commit) {
          const raft::Progress* pr = c.host(l)->node().raft().progress(c.host(id)->node().raft().id());
          const std::string view = pr ? " (leader's view: match " + std::to_string(pr->match) + ", next " +
                                            std::to_string(pr->next) + ", " + raft::to_string(pr->state) +
                                            (pr->is_paused() ? ", paused)" : ")")
                                      : std::string(" (not in the leader's progress)");
          c.checker().add("liveness", "n" + std::to_string(id) + " applied only " + std::to_string(applied) +
                                          " of the " + std::to_string(commit) + " entries committed 3 s before (leader n" +
                                          std::to_string(l) + ")" + view);
        }
      }
    }
    c.check_now();
  } catch (const CoreCheckFailure& f) {
    c.checker().add("core-invariant", f.what);
  }
  set_check_failure_handler(nullptr);
  w.set_after_event(nullptr);
  result.first_leader_s = c.first_leader_time().count() < 0 ? -1 : to_seconds(c.first_leader_time());
  result.violations = c.checker().violations();
  result.trace_hash = w.trace().hash();
  result.sim_seconds = to_seconds(w.now());
  result.events = w.events_processed();
  result.writes_acked = c.writes_acked();
  result.reads_served = c.reads_served();
  result.probes = ProbeRegistry::instance().counts();
  return result;
}

}  // namespace shoal::sim
