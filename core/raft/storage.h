// Storage: the stable part of a Raft log, held in memory, in the style of etcd's MemoryStorage.
//
// It mirrors what the host has made durable: the host appends entries here only after they are
// synced, and replaces the log here when it installs a snapshot. Raft reads it; only the host
// (RaftNode) writes it. The first slot is a dummy entry at the snapshot's index and term, so
// term(snapshot index) is always answerable.
//
// Invariants: entries are contiguous; ents_[0] is the dummy; first_index() = ents_[0].index + 1.
#pragma once

#include <cstdint>
#include <vector>

#include "core/api/raft.pb.h"
#include "core/env/status.h"

namespace shoal::raft {

namespace raftpb = ::shoal::raftpb;  // Raft's protobuf types, as raft::raftpb::X

class Storage {
 public:
  Storage();

  // The persisted HardState and the configuration of the latest snapshot, read at start-up.
  const raftpb::HardState& hard_state() const { return hard_state_; }
  void set_hard_state(const raftpb::HardState& hs) { hard_state_ = hs; }
  const raftpb::Snapshot& snapshot() const { return snapshot_; }

  uint64_t first_index() const;
  uint64_t last_index() const;
  // The term of entry i; an error if i is compacted away or beyond the last index.
  Result<uint64_t> term(uint64_t i) const;
  // Entries in [lo, hi), at most max_bytes of them (but at least one).
  Result<std::vector<raftpb::Entry>> entries(uint64_t lo, uint64_t hi, uint64_t max_bytes) const;

  // Appends entries, replacing any conflicting suffix. Entries must connect to the log.
  void append(const std::vector<raftpb::Entry>& entries);
  // Replaces the whole log by a snapshot.
  void apply_snapshot(const raftpb::Snapshot& snapshot);
  // Records a snapshot of the state machine at `index` (<= last index) and drops entries up to it.
  void create_snapshot(uint64_t index, const raftpb::ConfState& cs, std::string data);
  // Drops entries up to and including `index` (must be <= last index).
  void compact(uint64_t index);

 private:
  raftpb::HardState hard_state_;
  raftpb::Snapshot snapshot_;
  std::vector<raftpb::Entry> ents_;
};

}  // namespace shoal::raft
