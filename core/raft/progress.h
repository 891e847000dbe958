// Progress: what a leader knows of one follower's log, as in etcd's tracker.Progress.
//
// match is the highest index known to be replicated there; next is the next index to send.
// States: Probe (one append at a time until the follower's position is found), Replicate
// (optimistic pipelining, bounded by the inflight window), Snapshot (waiting for a snapshot to
// land). Owned by the leader's Raft; reset at every change of term.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>

namespace shoal::raft {

// The last indexes of append messages sent but not yet acknowledged (the pipeline window).
class Inflights {
 public:
  explicit Inflights(size_t capacity = 64) : capacity_(capacity) {}
  void add(uint64_t last_index) { in_flight_.push_back(last_index); }
  // Frees every message whose last index is <= index.
  void free_le(uint64_t index) {
    while (!in_flight_.empty() && in_flight_.front() <= index) in_flight_.pop_front();
  }
  // Frees the oldest message (an answer from the follower shows it is alive; as etcd does).
  void free_first_one() {
    if (!in_flight_.empty()) in_flight_.pop_front();
  }
  bool full() const { return in_flight_.size() >= capacity_; }
  size_t count() const { return in_flight_.size(); }
  size_t capacity() const { return capacity_; }
  void reset() { in_flight_.clear(); }

 private:
  size_t capacity_;
  std::deque<uint64_t> in_flight_;
};

struct Progress {
  enum class State { kProbe, kReplicate, kSnapshot };

  uint64_t match = 0;
  uint64_t next = 1;
  State state = State::kProbe;
  uint64_t pending_snapshot = 0;
  bool recent_active = false;  // heard from since the last check-quorum round
  bool probe_sent = false;     // in Probe: an append is out, wait for its answer
  bool is_learner = false;
  Inflights inflights;

  void become_probe();
  void become_replicate();
  void become_snapshot(uint64_t snapshot_index);
  // The follower acknowledged up to n; returns whether match moved.
  bool maybe_update(uint64_t n);
  // The follower rejected an append at `rejected`, saying its log ends near `hint`.
  bool maybe_decr_to(uint64_t rejected, uint64_t hint);
  bool is_paused() const;
};

const char* to_string(Progress::State s);

}  // namespace shoal::raft
