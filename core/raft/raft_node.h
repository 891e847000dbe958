// RaftNode: runs one Raft peer on a node's Env — ticks from Timers, messages over Transport,
// the log on Disk — and applies committed entries to a StateMachine.
//
// It follows Ready's ordering contract (ready.h): hard state, entries and snapshots are written
// and synced before any message leaves; committed entries are applied as soon as Raft hands them
// out (they are durable on a quorum). One Ready is processed at a time.
//
// Client operations: propose() completes when the entry is applied here (ok), or is known to be
// lost (aborted: another entry took its index); read() completes once a read index confirmed by
// a quorum has been applied here, so a read served then is linearizable.
//
// Disk layout: "raft/hardstate", "raft/snapshot", "raft/e/<index as 8 big-endian bytes>".
//
// Owned by the node's app; lives on the node's event loop; Env outlives it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/env/env.h"
#include "core/raft/raft.h"
#include "core/raft/state_machine.h"
#include "core/raft/storage.h"

namespace shoal::raft {

struct RaftNodeOptions {
  Config raft;
  Duration tick_interval = std::chrono::milliseconds(50);
  // Take a snapshot after this many applied entries (0: never); keep this many entries behind it
  // so a slightly lagging follower catches up from the log rather than a snapshot.
  uint64_t snapshot_every = 1000;
  uint64_t keep_behind_snapshot = 100;
  // A learner is promoted to voter once its log is within this many entries of the leader's.
  bool auto_promote_learners = true;
  uint64_t promote_lag = 10;
  // The voters of a brand-new cluster; used only when the disk holds no Raft state.
  std::vector<NodeId> bootstrap_voters;
  // Recover from lost quorum (`shoald --force-new-cluster`), as etcd does: drop the entries
  // that were never committed and commit the removal of every other member, so this node
  // alone is the cluster, keeping all committed state.
  bool force_new_cluster = false;
};

// Notifications for observers (the simulator's checkers and timeline). All optional.
struct RaftNodeEvents {
  std::function<void(uint64_t term, Role role, NodeId leader)> on_soft_state;
  std::function<void(const raftpb::HardState&)> on_hard_state_synced;
  std::function<void(const raftpb::Entry&)> on_apply;
  std::function<void(const raftpb::SnapshotMetadata&)> on_snapshot_restored;
  std::function<void(const raftpb::ConfChange&)> on_conf_change;
  std::function<void(std::string_view reason)> on_bad_message;
};

class RaftNode {
 public:
  using ProposeDone = std::function<void(Status, uint64_t index)>;
  using ReadDone = std::function<void(Status, uint64_t read_index)>;

  // Loads Raft state from env.disk (or bootstraps) and starts ticking. A corrupt record on disk
  // is a fatal error reported through status() (the node then stays idle).
  RaftNode(Env& env, RaftNodeOptions options, StateMachine& sm, RaftNodeEvents events = {});
  ~RaftNode();
  RaftNode(const RaftNode&) = delete;
  RaftNode& operator=(const RaftNode&) = delete;

  Status status() const { return status_; }
  // Structural checks every message from a well-behaved peer passes (used before stepping).
  static Status validate(const raftpb::Message& m);
  // For a member that left: erases its log and snapshot from `disk` (not synced) but keeps its
  // term and vote, so that should it become a member again it never votes twice in one term.
  static void forget_log(Disk& disk);
  void propose(std::string data, ProposeDone done);
  void read(ReadDone done);
  Status propose_conf_change(raftpb::ConfChangeType type, NodeId node);
  Status transfer_leadership(NodeId target);
  void campaign_now();

  const Raft& raft() const { return *raft_; }
  uint64_t applied_index() const { return applied_; }
  uint64_t bad_messages() const { return bad_messages_; }

 private:
  Status load();
  void bootstrap_log();
  void force_standalone();
  void on_message(const PeerIdentity& from, std::string_view payload);
  void on_tick();
  void pump();
  void pump_soon();  // pump() once the current turn of the event loop is done
  void handle_ready(Ready rd);
  void persist(const Ready& rd);
  void after_sync(Ready& rd);
  void send_messages(std::vector<raftpb::Message>& msgs);
  // Sends the leader's appends and heartbeats now and removes them from msgs.
  void send_leader_messages_early(std::vector<raftpb::Message>& msgs);
  void apply_snapshot(const raftpb::Snapshot& snap);
  void apply_committed(const std::vector<raftpb::Entry>& entries);
  void serve_reads();
  void fail_pending(Status why);
  void maybe_snapshot();
  void maybe_promote_learners();

  Env& env_;
  RaftNodeOptions opts_;
  StateMachine& sm_;
  RaftNodeEvents events_;
  Status status_;
  Storage storage_;
  std::unique_ptr<Raft> raft_;
  TimerId tick_timer_ = 0;
  TimerId pump_timer_ = 0;  // set while a pump_soon() is pending
  bool persisting_ = false;
  bool pumping_ = false;  // inside pump(): a nested pump() returns at once
  bool restarted_ = false;  // started from Raft state left on disk (a restart after a crash)
  uint64_t applied_ = 0;
  uint64_t bad_messages_ = 0;
  std::set<NodeId> removed_;  // members removed by an applied conf change
  raftpb::Message incoming_;  // scratch space for parsing received messages
  uint64_t next_read_id_ = 1;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

  struct PendingProposal {
    uint64_t term;
    ProposeDone done;
  };
  std::map<uint64_t, PendingProposal> proposals_;        // by log index
  std::map<std::string, ReadDone> reads_waiting_quorum_;  // by request ctx
  std::multimap<uint64_t, ReadDone> reads_waiting_apply_;  // by read index
};

}  // namespace shoal::raft
