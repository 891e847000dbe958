// RaftCluster: a simulated cluster of Raft managers — a World whose nodes each run a RaftNode
// over a KvStateMachine — wired to the RaftChecker, a workload of client writes and reads, and a
// human timeline of what happened (leaders, terms, faults, commit progress).
//
// Nodes 1..voters form the initial configuration; nodes after that start empty and outside it,
// ready to be added (as learners, then promoted). Owned by whoever runs a scenario.
//
//   RaftCluster c({.nodes = 5, .seed = 7});
//   c.start();
//   c.world().after(2s, [&] { c.world().isolate(c.leader()); });
//   c.run_for(10s);
//   c.checker().violations();
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/raft/raft_node.h"
#include "io_sim/checkers/raft_checker.h"
#include "io_sim/cluster/kv_state_machine.h"
#include "io_sim/world/world.h"

namespace shoal::sim {

// A node that may run a RaftNode: what the cluster, its checker and the fault driver need of it.
class RaftMember : public NodeApp {
 public:
  // Its Raft, null while it runs none (a worker, a locked or joining manager).
  virtual raft::RaftNode* raft_node() = 0;
  raft::RaftNode& node() { return *raft_node(); }
  void check_invariants() override {
    if (raft::RaftNode* r = raft_node()) r->raft().check_invariants();
  }
};

// Builds a node's program. The default (no factory) builds a RaftHost for every node; a factory
// may build other NodeApps for some nodes (workers), which the cluster then leaves alone.
using HostFactory = std::function<std::unique_ptr<NodeApp>(NodeId, Env&, const raft::RaftNodeOptions&,
                                                            raft::RaftNodeEvents)>;

struct ClusterOptions {
  size_t nodes = 5;
  size_t voters = 0;  // 0: every node is an initial voter
  uint64_t seed = 1;
  raft::RaftNodeOptions node;
  LinkOptions link;
  DiskOptions disk;
  bool keep_trace = false;
  // The nodes' log records (core/env/log.h) from this level go into the timeline (kOff: none).
  LogLevel log = LogLevel::kOff;
  HostFactory make_host;
};

// One manager: its state machine and Raft host.
class RaftHost final : public RaftMember {
 public:
  RaftHost(NodeId id, Env& env, const raft::RaftNodeOptions& options, raft::RaftNodeEvents events);
  raft::RaftNode* raft_node() override { return &node_; }
  const KvStateMachine& state() const { return sm_; }

 private:
  KvStateMachine sm_;
  raft::RaftNode node_;
};

class RaftCluster {
 public:
  explicit RaftCluster(ClusterOptions options);

  void start() { world_->start_all(); }
  World& world() { return *world_; }
  RaftChecker& checker() { return checker_; }
  const ClusterOptions& options() const { return options_; }

  // The Raft member on a node, nullptr while it is down (or runs no Raft).
  RaftMember* host(NodeId id);
  // The host whose Raft has id `raft_id` (0: none up); hosts' Raft ids are not their numbers
  // when the nodes joined through the CA.
  NodeId host_of(NodeId raft_id);
  // The leader with the highest term among live nodes, 0 if none.
  NodeId leader();
  // Live nodes that are members (voters or learners) in the leader's (or any) configuration.
  std::vector<NodeId> members();

  // --- workload: a client that writes "k<n>=v<n>" and reads, each to the node it believes leads.
  void start_workload(double writes_per_s, double reads_per_s);
  void stop_workload() { workload_on_ = false; }
  // Submits one write and retries it (to the current leader) until acknowledged or `deadline`.
  void write_until_acked(SimTime deadline, std::function<void(bool acked)> done);
  uint64_t writes_acked() const { return writes_acked_; }
  uint64_t writes_sent() const { return writes_sent_; }
  uint64_t reads_served() const { return reads_served_; }
  // Simulated time of the last acknowledged write (0 if none).
  SimTime last_ack_time() const { return last_ack_; }
  SimTime max_ack_gap() const { return max_ack_gap_; }
  // When the first leader was elected (negative: never).
  SimTime first_leader_time() const { return first_leader_at_; }
  void reset_ack_gap() { max_ack_gap_ = SimTime{0}; gap_from_ = world_->now(); }

  // --- timeline
  void note(NodeId node, const std::string& kind, const std::string& what);
  const std::vector<std::string>& timeline() const { return timeline_; }
  // Runs the periodic checks: log matching across nodes, and each host's slow invariants.
  void check_now();

 private:
  raft::RaftNodeEvents events_for(NodeId id);
  void issue_write();
  void issue_read();
  void submit(NodeId target, std::string data, int attempts, SimTime deadline,
              std::function<void(bool)> done);
  void schedule_workload_tick();
  void commit_progress_tick();

  ClusterOptions options_;
  std::unique_ptr<World> world_;
  RaftChecker checker_;
  Rng workload_rng_;
  NodeId believed_leader_ = 1;
  bool workload_on_ = false;
  double writes_per_s_ = 0;
  double reads_per_s_ = 0;
  uint64_t next_write_ = 1;
  uint64_t writes_sent_ = 0;
  uint64_t writes_acked_ = 0;
  uint64_t reads_served_ = 0;
  SimTime last_ack_{0};
  SimTime first_leader_at_{-1};
  SimTime gap_from_{0};
  SimTime max_ack_gap_{0};
  uint64_t last_reported_commit_ = 0;
  std::map<NodeId, std::pair<uint64_t, raft::Role>> last_role_;
  std::vector<std::string> timeline_;
  // The nodes' log records, as timeline lines: "1.250s  n3 term 2 orchestrator: ...".
  class TimelineSink final : public HostLogSink {
   public:
    TimelineSink(RaftCluster& cluster, LogLevel level) : cluster_(cluster), level_(level) {}
    LogLevel level() const override { return level_; }
    void write(NodeId host, const LogRecord& r) override;

   private:
    RaftCluster& cluster_;
    LogLevel level_;
  };
  TimelineSink log_sink_;
};

}  // namespace shoal::sim
