#include "io_sim/cluster/raft_cluster.h"

#include <algorithm>
#include <cmath>

#include "core/env/identity.h"

namespace shoal::sim {

RaftHost::RaftHost(NodeId id, Env& env, const raft::RaftNodeOptions& options,
                   raft::RaftNodeEvents events)
    : node_(env, options, sm_, std::move(events)) {
  (void)id;
}

RaftCluster::RaftCluster(ClusterOptions options)
    : options_(std::move(options)),
      checker_([this] { return world_->now(); }),
      workload_rng_(Rng(options_.seed).derive("workload")),
      log_sink_(*this, options_.log) {
  if (options_.voters == 0 || options_.voters > options_.nodes) options_.voters = options_.nodes;
  WorldOptions wo;
  wo.nodes = options_.nodes;
  wo.seed = options_.seed;
  wo.link = options_.link;
  wo.disk = options_.disk;
  wo.keep_trace = options_.keep_trace;
  world_ = std::make_unique<World>(wo, [this](NodeId id, Env& env) -> std::unique_ptr<NodeApp> {
    raft::RaftNodeOptions o = options_.node;
    o.raft.id = id;
    o.bootstrap_voters.clear();
    if (id <= options_.voters) {
      for (NodeId v = 1; v <= options_.voters; ++v) o.bootstrap_voters.push_back(v);
    }
    if (options_.make_host) return options_.make_host(id, env, o, events_for(id));
    return std::make_unique<RaftHost>(id, env, o, events_for(id));
  });
  world_->set_log_sink(&log_sink_);
  world_->after(std::chrono::seconds(1), [this] { commit_progress_tick(); });
}

RaftMember* RaftCluster::host(NodeId id) {
  auto* m = dynamic_cast<RaftMember*>(world_->app(id));
  return m && m->raft_node() ? m : nullptr;
}

NodeId RaftCluster::host_of(NodeId raft_id) {
  for (NodeId id = 1; id <= world_->size(); ++id) {
    if (RaftMember* h = host(id); h && h->node().raft().id() == raft_id) return id;
  }
  return 0;
}

raft::RaftNodeEvents RaftCluster::events_for(NodeId id) {
  raft::RaftNodeEvents ev;
  ev.on_soft_state = [this, id](uint64_t term, raft::Role role, NodeId leader) {
    RaftMember* h = host(id);
    if (h) checker_.on_soft_state(id, term, role, h->node().raft());
    world_->trace().record(id, "role", std::string(raft::to_string(role)) + " term=" +
                                           std::to_string(term) + " leader=" + std::to_string(leader));
    auto& last = last_role_[id];
    if (role == raft::Role::kLeader && !(last.first == term && last.second == role)) {
      note(id, "leader", "n" + std::to_string(id) + " elected leader of term " + std::to_string(term));
    } else if (last.second == raft::Role::kLeader && role != raft::Role::kLeader) {
      note(id, "stepdown", "n" + std::to_string(id) + " stepped down (term " + std::to_string(term) + ")");
    }
    last = {term, role};
    if (role == raft::Role::kLeader) {
      believed_leader_ = id;
      if (first_leader_at_.count() < 0) first_leader_at_ = world_->now();
    }
  };
  ev.on_hard_state_synced = [this, id](const raft::raftpb::HardState& hs) {
    checker_.on_hard_state_synced(id, hs);
  };
  ev.on_apply = [this, id](const raft::raftpb::Entry& e) {
    RaftMember* h = host(id);
    checker_.on_apply(id, e, h ? h->node().raft().term() : 0);
  };
  ev.on_snapshot_restored = [this, id](const raft::raftpb::SnapshotMetadata& md) {
    note(id, "snapshot", "n" + std::to_string(id) + " installed a snapshot at index " +
                             std::to_string(md.index()));
  };
  ev.on_conf_change = [this, id](const raft::raftpb::ConfChange& cc) {
    if (id != leader()) return;
    static const char* kNames[] = {"added voter", "removed", "added learner"};
    // Raft ids are host numbers in a bare Raft cluster and node ids in a cluster of Nodes: name
    // the host when one runs that member, else the node id.
    const NodeId host = host_of(cc.node_id());
    note(id, "membership", std::string(kNames[std::min<int>(cc.type(), 2)]) + " " +
                               (host != 0 ? "n" + std::to_string(host) : "node " + node_id_text(cc.node_id())));
  };
  ev.on_bad_message = [this, id](std::string_view why) { note(id, "bad-message", std::string(why)); };
  return ev;
}

NodeId RaftCluster::leader() {
  NodeId best = 0;
  uint64_t best_term = 0;
  for (NodeId id = 1; id <= world_->size(); ++id) {
    RaftMember* h = host(id);
    if (!h) continue;
    const auto& r = h->node().raft();
    if (r.role() == raft::Role::kLeader && r.term() >= best_term) {
      best = id;
      best_term = r.term();
    }
  }
  return best;
}

std::vector<NodeId> RaftCluster::members() {
  std::vector<NodeId> out;
  const NodeId l = leader();
  if (l == 0) return out;
  const auto cs = host(l)->node().raft().conf_state();
  for (NodeId id : cs.voters()) out.push_back(host_of(id));
  for (NodeId id : cs.learners()) out.push_back(host_of(id));
  std::sort(out.begin(), out.end());
  out.erase(std::remove_if(out.begin(), out.end(), [](NodeId id) { return id == 0; }), out.end());
  return out;
}

void RaftCluster::TimelineSink::write(NodeId host, const LogRecord& r) {
  std::string line = format_sim_time(cluster_.world_->now()) + "  n" + std::to_string(host);
  if (r.term != 0) line += " term " + std::to_string(r.term);
  line += " " + std::string(r.component) + ": " + std::string(r.message);
  if (r.level >= LogLevel::kWarn) line += std::string(" [") + level_name(r.level) + "]";
  cluster_.timeline_.push_back(std::move(line));
}

void RaftCluster::note(NodeId node, const std::string& kind, const std::string& what) {
  world_->trace().record(node, kind, what);
  timeline_.push_back(format_sim_time(world_->now()) + "  " + what);
}

void RaftCluster::check_now() {
  std::map<NodeId, const raft::Raft*> peers;
  for (NodeId id = 1; id <= world_->size(); ++id) {
    if (NodeApp* app = world_->app(id)) app->check_slow_invariants();
    // (Each host's own invariants the World checks after every one of its events.)
    if (RaftMember* h = host(id)) peers[id] = &h->node().raft();
  }
  checker_.check_log_matching(peers);
}

// ---- workload ------------------------------------------------------------------------------

void RaftCluster::start_workload(double writes_per_s, double reads_per_s) {
  writes_per_s_ = writes_per_s;
  reads_per_s_ = reads_per_s;
  if (workload_on_) return;
  workload_on_ = true;
  gap_from_ = world_->now();
  schedule_workload_tick();
}

void RaftCluster::schedule_workload_tick() {
  const double rate = writes_per_s_ + reads_per_s_;
  if (!workload_on_ || rate <= 0) return;
  // Poisson-ish arrivals: an exponential gap from the workload's own stream.
  const double u = std::max(workload_rng_.unit(), 1e-9);
  const auto gap = std::chrono::nanoseconds(static_cast<int64_t>(-std::log(u) / rate * 1e9));
  world_->after(gap, [this] {
    if (!workload_on_) return;
    if (workload_rng_.unit() * (writes_per_s_ + reads_per_s_) < writes_per_s_) {
      issue_write();
    } else {
      issue_read();
    }
    schedule_workload_tick();
  });
}

void RaftCluster::issue_write() {
  const uint64_t n = next_write_++;
  std::string data = "k" + std::to_string(n % 64) + "=w" + std::to_string(n);
  ++writes_sent_;
  submit(believed_leader_, std::move(data), 20, world_->now() + std::chrono::seconds(5),
         [](bool) {});
}

void RaftCluster::write_until_acked(SimTime deadline, std::function<void(bool)> done) {
  const uint64_t n = next_write_++;
  ++writes_sent_;
  submit(believed_leader_, "probe=w" + std::to_string(n), 1000, deadline, std::move(done));
}

void RaftCluster::submit(NodeId target, std::string data, int attempts, SimTime deadline,
                         std::function<void(bool)> done) {
  // One client write: tried on `target`, retried (up to `attempts` times, until `deadline`) on
  // the leader it learns of, or elsewhere after a one-second client timeout.
  struct Write {
    std::string data;
    SimTime deadline;
    std::function<void(bool)> done;
    bool finished = false;
    uint64_t current = 0;  // only the newest attempt may start another
  };
  auto w = std::make_shared<Write>(Write{std::move(data), deadline, std::move(done)});
  auto attempt = std::make_shared<std::function<void(NodeId, int)>>();
  *attempt = [this, w, attempt_weak = std::weak_ptr(attempt)](NodeId to, int left) {
    if (w->finished) return;
    if (left <= 0 || world_->now() > w->deadline) {
      w->finished = true;
      return w->done(false);
    }
    if (to == 0 || !host(to)) to = static_cast<NodeId>(workload_rng_.uniform(1, world_->size()));
    auto self = attempt_weak.lock();
    const uint64_t my = ++w->current;
    // Client timeout: try elsewhere if this attempt has not been answered within a second.
    world_->after(std::chrono::seconds(1), [w, self, left, my] {
      if (!w->finished && w->current == my && self) (*self)(0, left - 1);
    });
    world_->after_on(to, Duration{0}, [this, w, self, to, left, my] {
      RaftMember* h = host(to);
      if (!h) return;
      h->node().propose(w->data, [this, w, self, to, left, my](Status s, uint64_t index) {
        if (s.ok()) {
          // An acknowledgement binds the cluster even if the client had given up on it.
          checker_.on_write_acked(index, w->data);
          if (w->finished) return;
          w->finished = true;
          ++writes_acked_;
          const SimTime now = world_->now();
          max_ack_gap_ = std::max(max_ack_gap_, now - std::max(last_ack_, gap_from_));
          last_ack_ = now;
          return w->done(true);
        }
        if (w->finished || w->current != my) return;
        RaftMember* again = host(to);
        const NodeId hint = again ? again->node().raft().leader() : 0;
        if (hint != 0) believed_leader_ = hint;
        world_->after(std::chrono::milliseconds(20), [w, self, hint, left, my] {
          if (self && w->current == my) (*self)(hint, left - 1);
        });
      });
    });
  };
  // The attempt function keeps itself alive through the timers that hold it.
  (*attempt)(target, attempts);
}

void RaftCluster::issue_read() {
  NodeId target = believed_leader_;
  if (!host(target)) target = static_cast<NodeId>(workload_rng_.uniform(1, world_->size()));
  world_->after_on(target, Duration{0}, [this, target] {
    RaftMember* h = host(target);
    if (!h) return;
    const uint64_t must_see = checker_.on_read_start();
    h->node().read([this, target, must_see](Status s, uint64_t read_index) {
      if (!s.ok()) return;
      checker_.on_read_done(target, must_see, read_index);
      ++reads_served_;
    });
  });
}

void RaftCluster::commit_progress_tick() {
  const NodeId l = leader();
  if (l != 0) {
    const uint64_t commit = host(l)->node().raft().log().committed();
    if (commit != last_reported_commit_) {
      note(l, "commit", "commit index " + std::to_string(commit) + " (+" +
                            std::to_string(commit - std::min(commit, last_reported_commit_)) +
                            "), " + std::to_string(writes_acked_) + " writes acknowledged");
      last_reported_commit_ = commit;
    }
  }
  world_->set_log_sink(&log_sink_);
  world_->after(std::chrono::seconds(1), [this] { commit_progress_tick(); });
}

}  // namespace shoal::sim
