// Raft: the consensus state machine of one peer, with no I/O, in the style of etcd's raft.
//
// The host feeds it messages (step), the passage of time (tick) and requests (propose,
// read_index, transfer_leadership), then collects a Ready batch and acknowledges it with
// advance(); see ready.h for the ordering contract. Names follow the Raft paper and etcd.
//
// Implements: randomized election timeouts, pre-vote, check-quorum with a leader lease, log
// replication with batching (max_msg_bytes) and a pipeline window (max_inflight), snapshots sent
// to followers whose next entry was compacted, single-step membership changes with learners,
// leadership transfer, and linearizable reads by read index.
//
// Thread contract: one thread (the node's event loop). Invariants are checked by check_invariants().
//
//   Raft r(cfg, storage, rng);
//   r.tick();                // every tick interval
//   r.step(msg);             // every message received
//   if (r.has_ready()) { auto rd = r.ready(); persist(rd); send(rd.messages); r.advance(rd); }
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/api/raft.pb.h"
#include "core/env/random.h"
#include "core/env/status.h"
#include "core/raft/config.h"
#include "core/raft/progress.h"
#include "core/raft/raft_log.h"
#include "core/raft/ready.h"

namespace shoal::raft {

class Raft {
 public:
  // Restores term, vote, commit and configuration from `storage` (empty storage: a fresh peer
  // with no configuration; bootstrap() gives it one). `storage` outlives this object.
  Raft(const Config& config, Storage& storage, Rng rng);

  // Gives a brand-new cluster its first configuration: the voters listed, all with an empty log.
  void bootstrap(const std::vector<NodeId>& voters);

  void tick();
  void step(const raftpb::Message& m);

  // Appends data to the log; leader only. Returns the entry's index.
  Result<uint64_t> propose(std::string data);
  // Proposes a membership change; one at a time. Returns the entry's index.
  Result<uint64_t> propose_conf_change(const raftpb::ConfChange& cc);
  // Applies a committed membership change; the host calls this when it applies the entry.
  raftpb::ConfState apply_conf_change(const raftpb::ConfChange& cc);
  // Asks for a read index; leader only. A ReadState with request_ctx appears in a later Ready.
  Status read_index(std::string request_ctx);
  Status transfer_leadership(NodeId target);
  // Starts an election now (as if the election timeout had passed).
  void campaign_now();

  bool has_ready() const;
  Ready ready();
  void advance(const Ready& rd);

  NodeId id() const { return id_; }
  NodeId leader() const { return lead_; }
  uint64_t term() const { return term_; }
  Role role() const { return role_; }
  const RaftLog& log() const { return log_; }
  raftpb::ConfState conf_state() const;
  bool is_voter(NodeId id) const;
  bool is_learner(NodeId id) const;
  // The leader's view of a follower (nullptr when unknown).
  const Progress* progress(NodeId id) const;
  NodeId transferee() const { return lead_transferee_; }
  uint64_t pending_conf_index() const { return pending_conf_index_; }

  // Aborts (SHOAL_CHECK) if a rule of this peer's state is broken (commit and apply marks, a
  // leader's vote, every follower's Progress), or if the state moved since the previous call in
  // a way no step may (the term or the commit mark going back).
  void check_invariants() const;

 private:
  enum class CampaignType { kPreElection, kElection, kTransfer };

  void become_follower(uint64_t term, NodeId lead);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  void reset(uint64_t term);
  void reset_randomized_election_timeout();
  void campaign(CampaignType type);
  bool promotable() const;
  size_t quorum() const;
  // Records a vote; returns (granted, rejected) counts among voters.
  std::pair<size_t, size_t> poll(NodeId from, bool granted);

  void tick_election();
  void tick_heartbeat();
  bool quorum_active();

  void step_leader(const raftpb::Message& m);
  void step_candidate(const raftpb::Message& m);
  void step_follower(const raftpb::Message& m);
  void handle_vote_request(const raftpb::Message& m);
  void handle_append(const raftpb::Message& m);
  void handle_heartbeat(const raftpb::Message& m);
  void handle_snapshot(const raftpb::Message& m);
  bool restore(const raftpb::Snapshot& s);

  void append_entries(std::vector<raftpb::Entry> entries);
  bool maybe_commit();
  void on_commit_advanced();
  bool send_append(NodeId to, bool send_if_empty = true);
  void bcast_append();
  void bcast_heartbeat(const std::string& ctx = {});
  void send(raftpb::Message m);
  void send_timeout_now(NodeId to);
  void abort_leader_transfer() { lead_transferee_ = 0; }

  void serve_read_index(std::string ctx);
  void release_reads_acked(const std::string& ctx);
  bool committed_entry_in_current_term() const;
  void apply_conf_state(const raftpb::ConfState& cs);

  Config cfg_;
  NodeId id_;
  Rng rng_;
  RaftLog log_;
  uint64_t term_ = 0;
  NodeId vote_ = 0;
  NodeId lead_ = 0;
  Role role_ = Role::kFollower;
  NodeId lead_transferee_ = 0;
  uint64_t pending_conf_index_ = 0;

  std::map<NodeId, Progress> prs_;  // ordered: iteration order is part of determinism
  // What check_invariants() saw last, for its step checks.
  struct Checked {
    uint64_t term = 0;
    uint64_t committed = 0;
  };
  mutable Checked checked_;
  std::map<NodeId, bool> votes_;

  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  int randomized_election_timeout_ = 0;

  // Read index (etcd's readOnly): requests waiting for a quorum of heartbeat acks, in order.
  struct ReadIndexStatus {
    std::string ctx;
    uint64_t index;
    std::set<NodeId> acks;
  };
  std::deque<ReadIndexStatus> pending_reads_;
  std::vector<std::string> reads_awaiting_term_commit_;
  std::vector<ReadState> read_states_;

  std::vector<raftpb::Message> msgs_;
  SoftState prev_soft_;
  raftpb::HardState prev_hard_;
};

}  // namespace shoal::raft
