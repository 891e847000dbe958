#include "core/raft/raft_log.h"

#include <algorithm>

#include "core/env/check.h"
#include "core/env/probe.h"

namespace shoal::raft {

RaftLog::RaftLog(Storage& storage)
    : storage_(storage),
      unstable_offset_(storage.last_index() + 1),
      committed_(storage.first_index() - 1),
      applied_(storage.first_index() - 1) {}

uint64_t RaftLog::first_index() const {
  if (unstable_snapshot_) return unstable_snapshot_->metadata().index() + 1;
  return storage_.first_index();
}

uint64_t RaftLog::last_index() const {
  if (!unstable_.empty()) return unstable_offset_ + unstable_.size() - 1;
  if (unstable_snapshot_) return unstable_snapshot_->metadata().index();
  return storage_.last_index();
}

uint64_t RaftLog::last_stable_index() const {
  if (unstable_snapshot_) {
    // Nothing after the snapshot is stable until the snapshot itself is.
    return std::min(storage_.last_index(), unstable_snapshot_->metadata().index());
  }
  if (!unstable_.empty()) return unstable_offset_ - 1;
  return last_index();
}

std::optional<uint64_t> RaftLog::term(uint64_t i) const {
  if (unstable_snapshot_ && i == unstable_snapshot_->metadata().index()) {
    return unstable_snapshot_->metadata().term();
  }
  if (!unstable_.empty() && i >= unstable_offset_) {
    if (i - unstable_offset_ < unstable_.size()) return unstable_[i - unstable_offset_].term();
    return std::nullopt;
  }
  // With a snapshot pending, the stored log is stale: only the snapshot and the entries after
  // it answer.
  if (unstable_snapshot_) return std::nullopt;
  auto t = storage_.term(i);
  if (!t.ok()) return std::nullopt;
  return *t;
}

bool RaftLog::match_term(uint64_t i, uint64_t t) const {
  auto mine = term(i);
  return mine && *mine == t;
}

bool RaftLog::is_up_to_date(uint64_t lasti, uint64_t lastt) const {
  return lastt > last_term() || (lastt == last_term() && lasti >= last_index());
}

uint64_t RaftLog::find_conflict(const std::vector<raftpb::Entry>& entries) const {
  for (const auto& e : entries) {
    if (!match_term(e.index(), e.term())) return e.index();
  }
  return 0;
}

std::optional<uint64_t> RaftLog::maybe_append(uint64_t index, uint64_t log_term,
                                              uint64_t committed,
                                              const std::vector<raftpb::Entry>& entries) {
  if (!match_term(index, log_term)) return std::nullopt;
  const uint64_t last_new = index + entries.size();
  const uint64_t ci = find_conflict(entries);
  if (ci != 0) {
    SHOAL_CHECK(ci > committed_, "conflict at %lu within committed %lu", ci, committed_);
    if (ci <= last_index()) SHOAL_PROBE("raft.conflict_truncated");
    std::vector<raftpb::Entry> rest(entries.begin() + static_cast<long>(ci - (index + 1)),
                                    entries.end());
    append(rest);
  }
  commit_to(std::min(committed, last_new));
  return last_new;
}

uint64_t RaftLog::append(const std::vector<raftpb::Entry>& entries) {
  if (entries.empty()) return last_index();
  SHOAL_CHECK(entries.front().index() - 1 >= committed_, "append %lu below committed %lu",
              entries.front().index(), committed_);
  truncate_and_append(entries);
  return last_index();
}

void RaftLog::truncate_and_append(const std::vector<raftpb::Entry>& entries) {
  const uint64_t after = entries.front().index();
  if (after == unstable_offset_ + unstable_.size()) {
    unstable_.insert(unstable_.end(), entries.begin(), entries.end());
  } else if (after <= unstable_offset_) {
    // Replaces the whole unstable tail and part of the stable log; the host truncates storage
    // when it persists these.
    unstable_offset_ = after;
    unstable_ = entries;
  } else {
    unstable_.resize(after - unstable_offset_);
    unstable_.insert(unstable_.end(), entries.begin(), entries.end());
  }
}

std::vector<raftpb::Entry> RaftLog::slice(uint64_t lo, uint64_t hi, uint64_t max_bytes) const {
  std::vector<raftpb::Entry> out;
  if (lo >= hi) return out;
  uint64_t bytes = 0;
  if (lo < unstable_offset_) {
    auto stored = storage_.entries(lo, std::min(hi, unstable_offset_), max_bytes);
    SHOAL_CHECK(stored.ok(), "slice [%lu,%lu): %s", lo, hi, stored.status().to_string().c_str());
    out = std::move(*stored);
    for (const auto& e : out) bytes += e.ByteSizeLong();
    if (out.size() < std::min(hi, unstable_offset_) - lo) return out;  // hit the byte limit
  }
  for (uint64_t i = std::max(lo, unstable_offset_); i < hi; ++i) {
    const auto& e = unstable_[i - unstable_offset_];
    bytes += e.ByteSizeLong();
    if (!out.empty() && bytes > max_bytes) break;
    out.push_back(e);
  }
  return out;
}

std::optional<std::vector<raftpb::Entry>> RaftLog::entries_from(uint64_t lo,
                                                                uint64_t max_bytes) const {
  if (lo < first_index()) return std::nullopt;
  if (lo > last_index()) return std::vector<raftpb::Entry>{};
  return slice(lo, last_index() + 1, max_bytes);
}

void RaftLog::commit_to(uint64_t index) {
  if (index <= committed_) return;
  SHOAL_CHECK(index <= last_index(), "commit %lu beyond last %lu", index, last_index());
  committed_ = index;
}

bool RaftLog::maybe_commit(uint64_t max_index, uint64_t t, bool count_old_terms) {
  if (max_index > committed_ && (count_old_terms || term_or_zero(max_index) == t)) {
    commit_to(max_index);
    return true;
  }
  return false;
}

bool RaftLog::has_next_committed() const {
  return committed_ > std::max(applied_, first_index() - 1);
}

std::vector<raftpb::Entry> RaftLog::next_committed(uint64_t max_bytes) const {
  const uint64_t lo = std::max(applied_ + 1, first_index());
  if (committed_ + 1 <= lo) return {};
  return slice(lo, committed_ + 1, max_bytes);
}

void RaftLog::applied_to(uint64_t index) {
  if (index == 0) return;
  SHOAL_CHECK(index <= committed_ && index >= applied_, "applied %lu not in [%lu,%lu]", index,
              applied_, committed_);
  applied_ = index;
}

void RaftLog::stable_to(uint64_t index, uint64_t t) {
  auto mine = term(index);
  if (!mine || *mine != t || index < unstable_offset_) return;  // replaced meanwhile
  const uint64_t n = index - unstable_offset_ + 1;
  if (n > unstable_.size()) return;
  unstable_.erase(unstable_.begin(), unstable_.begin() + static_cast<long>(n));
  unstable_offset_ = index + 1;
}

void RaftLog::stable_snap_to(uint64_t index) {
  if (unstable_snapshot_ && unstable_snapshot_->metadata().index() == index) {
    unstable_snapshot_.reset();
  }
}

void RaftLog::restore(const raftpb::Snapshot& snapshot) {
  committed_ = snapshot.metadata().index();
  unstable_offset_ = committed_ + 1;
  unstable_.clear();
  unstable_snapshot_ = snapshot;
}

}  // namespace shoal::raft
