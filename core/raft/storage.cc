#include "core/raft/storage.h"

#include "core/env/check.h"

namespace shoal::raft {

Storage::Storage() { ents_.emplace_back(); }

uint64_t Storage::first_index() const { return ents_[0].index() + 1; }
uint64_t Storage::last_index() const { return ents_[0].index() + ents_.size() - 1; }

Result<uint64_t> Storage::term(uint64_t i) const {
  const uint64_t offset = ents_[0].index();
  if (i < offset) return Status::not_found("compacted");
  if (i - offset >= ents_.size()) return Status::not_found("unavailable");
  return ents_[i - offset].term();
}

Result<std::vector<raftpb::Entry>> Storage::entries(uint64_t lo, uint64_t hi,
                                                    uint64_t max_bytes) const {
  const uint64_t offset = ents_[0].index();
  if (lo <= offset) return Status::not_found("compacted");
  SHOAL_CHECK(hi <= last_index() + 1, "entries(%lu, %lu) beyond last %lu", lo, hi, last_index());
  std::vector<raftpb::Entry> out;
  uint64_t bytes = 0;
  for (uint64_t i = lo; i < hi; ++i) {
    const auto& e = ents_[i - offset];
    bytes += e.ByteSizeLong();
    if (!out.empty() && bytes > max_bytes) break;
    out.push_back(e);
  }
  return out;
}

void Storage::append(const std::vector<raftpb::Entry>& entries) {
  if (entries.empty()) return;
  const uint64_t first = first_index();
  const uint64_t last = entries.back().index();
  if (last < first) return;  // all compacted already
  size_t skip = entries.front().index() < first ? first - entries.front().index() : 0;
  const uint64_t start = entries[skip].index();
  SHOAL_CHECK(start <= last_index() + 1, "gap: appending %lu after %lu", start, last_index());
  ents_.resize(start - ents_[0].index());
  ents_.insert(ents_.end(), entries.begin() + static_cast<long>(skip), entries.end());
}

void Storage::apply_snapshot(const raftpb::Snapshot& snapshot) {
  snapshot_ = snapshot;
  ents_.clear();
  raftpb::Entry dummy;
  dummy.set_index(snapshot.metadata().index());
  dummy.set_term(snapshot.metadata().term());
  ents_.push_back(dummy);
}

void Storage::create_snapshot(uint64_t index, const raftpb::ConfState& cs, std::string data) {
  if (index <= snapshot_.metadata().index()) return;
  SHOAL_CHECK(index <= last_index(), "snapshot %lu beyond last %lu", index, last_index());
  auto* md = snapshot_.mutable_metadata();
  md->set_index(index);
  md->set_term(*term(index));
  *md->mutable_conf_state() = cs;
  snapshot_.set_data(std::move(data));
}

void Storage::compact(uint64_t index) {
  const uint64_t offset = ents_[0].index();
  if (index <= offset) return;
  SHOAL_CHECK(index <= last_index(), "compact %lu beyond last %lu", index, last_index());
  const uint64_t i = index - offset;
  raftpb::Entry dummy;
  dummy.set_index(ents_[i].index());
  dummy.set_term(ents_[i].term());
  std::vector<raftpb::Entry> rest;
  rest.reserve(ents_.size() - i);
  rest.push_back(dummy);
  rest.insert(rest.end(), ents_.begin() + static_cast<long>(i) + 1, ents_.end());
  ents_ = std::move(rest);
}

}  // namespace shoal::raft
