// RaftChecker: cluster-wide Raft safety, checked as the simulation runs.
//
// Fed by every node's RaftNode events and by the workload's clients, it checks:
//   election safety      at most one leader per term;
//   leader completeness  a new leader's log holds every entry applied anywhere before;
//   state machine safety no two nodes apply different entries at one index;
//   log matching         two logs with the same term at an index agree on everything before;
//   durability           a write acknowledged to a client is never replaced by another entry;
//   linearizable reads   a read is served at an index no older than every write acknowledged
//                        before the read began;
//   per-node steps       a node's synced term never goes back; within a term its vote is
//                        set at most once (LogCabin's step invariants).
// Each violation is recorded with the simulated time and a sentence a person can act on.
// Owned by the cluster harness; single-threaded.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/raft/raft.h"
#include "io_sim/world/sim_time.h"

namespace shoal::sim {

struct Violation {
  SimTime t{0};
  std::string checker;
  std::string what;
};

class RaftChecker {
 public:
  explicit RaftChecker(std::function<SimTime()> now) : now_(std::move(now)) {}

  void on_soft_state(NodeId node, uint64_t term, raft::Role role, const raft::Raft& raft);
  void on_hard_state_synced(NodeId node, const raft::raftpb::HardState& hs);
  // `node`'s data directory is gone (a lost disk, or cleared to join again): what it comes back
  // as is a new Raft member under a new id, with a term and vote of its own.
  void on_member_replaced(NodeId node) { durable_.erase(node); }
  // The cluster was never formed and is founded again from scratch: a new Raft group, whose
  // terms and indexes have nothing to do with the old one's.
  void on_cluster_replaced() {
    leader_of_term_.clear();
    applied_.clear();
    acked_.clear();
    durable_.clear();
    max_acked_index_ = 0;
  }
  // `node_term`: the applying node's current term (0: unknown). The entry was committed in a term
  // no later than that, so leaders of later terms must hold it (leader completeness).
  void on_apply(NodeId node, const raft::raftpb::Entry& entry, uint64_t node_term = 0);
  void on_write_acked(uint64_t index, const std::string& data);
  // A read begins: returns the index it must not be older than.
  uint64_t on_read_start() const { return max_acked_index_; }
  void on_read_done(NodeId node, uint64_t must_see, uint64_t read_index);
  // Log matching over the given peers' current logs.
  void check_log_matching(const std::map<NodeId, const raft::Raft*>& peers);
  void add(std::string checker, std::string what);

  const std::vector<Violation>& violations() const { return violations_; }
  uint64_t max_acked_index() const { return max_acked_index_; }
  uint64_t max_applied_index() const { return applied_.empty() ? 0 : applied_.rbegin()->first; }
  uint64_t acked_writes() const { return acked_.size(); }

 private:
  struct Applied {
    uint64_t term;
    std::string data;
    NodeId first_node;
    // An upper bound on the term it was committed in: the applying node's term (or the entry's
    // own, when that is all that is known). A leader of an earlier or equal term (one elected
    // late, its votes gathered before this commit) need not hold it.
    uint64_t committed_by_term;
  };
  struct Durable {
    uint64_t term = 0;
    NodeId vote = 0;
  };

  std::function<SimTime()> now_;
  std::map<uint64_t, NodeId> leader_of_term_;
  std::map<uint64_t, Applied> applied_;       // index -> the first entry applied there
  std::map<uint64_t, std::string> acked_;     // index -> acknowledged write
  std::map<NodeId, Durable> durable_;
  uint64_t max_acked_index_ = 0;
  std::vector<Violation> violations_;
};

}  // namespace shoal::sim
