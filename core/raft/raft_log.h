// RaftLog: a peer's whole log — the stable Storage plus the unstable tail not yet persisted —
// with the commit and apply marks, as in etcd's raftLog.
//
// Owned by Raft. Invariants: applied <= committed <= last_index(); unstable entries start at
// unstable_offset_ and directly follow the storage (or the unstable snapshot).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/api/raft.pb.h"
#include "core/raft/storage.h"

namespace shoal::raft {

namespace raftpb = ::shoal::raftpb;  // Raft's protobuf types, as raft::raftpb::X

class RaftLog {
 public:
  explicit RaftLog(Storage& storage);

  uint64_t first_index() const;
  uint64_t last_index() const;
  uint64_t last_term() const { return term_or_zero(last_index()); }
  // The index up to which the log is persisted (entries after it are still unstable).
  uint64_t last_stable_index() const;
  std::optional<uint64_t> term(uint64_t i) const;
  uint64_t term_or_zero(uint64_t i) const { return term(i).value_or(0); }
  bool match_term(uint64_t i, uint64_t t) const;
  // Whether a candidate whose log ends at (last_index, last_term) is at least as up to date.
  bool is_up_to_date(uint64_t last_index, uint64_t last_term) const;

  // Appends the leader's entries after (index, log_term) if they match; returns the last new index.
  std::optional<uint64_t> maybe_append(uint64_t index, uint64_t log_term, uint64_t committed,
                                       const std::vector<raftpb::Entry>& entries);
  uint64_t append(const std::vector<raftpb::Entry>& entries);
  // Entries in [lo, last] up to max_bytes; nullopt when lo is compacted (send a snapshot).
  std::optional<std::vector<raftpb::Entry>> entries_from(uint64_t lo, uint64_t max_bytes) const;

  uint64_t committed() const { return committed_; }
  uint64_t applied() const { return applied_; }
  void commit_to(uint64_t index);
  // Raft's commit rule: advance to max_index only if that entry is of the current term
  // (unless `count_old_terms`, a planted bug).
  bool maybe_commit(uint64_t max_index, uint64_t term, bool count_old_terms);
  bool has_next_committed() const;
  std::vector<raftpb::Entry> next_committed(uint64_t max_bytes) const;
  void applied_to(uint64_t index);
  // The snapshot was handed to the host to apply: nothing before it will be applied.
  void applied_to_snapshot(uint64_t index) { applied_ = std::max(applied_, index); }
  // The newest snapshot: the unstable one if any, else the stored one.
  const raftpb::Snapshot& snapshot() const {
    return unstable_snapshot_ ? *unstable_snapshot_ : storage_.snapshot();
  }

  const std::vector<raftpb::Entry>& unstable_entries() const { return unstable_; }
  const std::optional<raftpb::Snapshot>& unstable_snapshot() const { return unstable_snapshot_; }
  void stable_to(uint64_t index, uint64_t term);
  void stable_snap_to(uint64_t index);
  void restore(const raftpb::Snapshot& snapshot);

 private:
  uint64_t find_conflict(const std::vector<raftpb::Entry>& entries) const;
  void truncate_and_append(const std::vector<raftpb::Entry>& entries);
  std::vector<raftpb::Entry> slice(uint64_t lo, uint64_t hi, uint64_t max_bytes) const;

  Storage& storage_;
  std::optional<raftpb::Snapshot> unstable_snapshot_;
  std::vector<raftpb::Entry> unstable_;
  uint64_t unstable_offset_;
  uint64_t committed_;
  uint64_t applied_;
};

}  // namespace shoal::raft
