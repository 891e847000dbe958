#include "io_sim/world/sim_disk.h"

#include <utility>

namespace shoal::sim {

SimDisk::SimDisk(std::function<void()> on_sync) : on_sync_(std::move(on_sync)) {}

void SimDisk::apply(Image& image, const Op& op) {
  switch (op.kind) {
    case OpKind::kPut:
      image.insert_or_assign(op.a, op.b);
      break;
    case OpKind::kErase: {
      auto it = image.find(op.a);
      if (it != image.end()) image.erase(it);
      break;
    }
    case OpKind::kEraseRange:
      if (op.a < op.b) image.erase(image.lower_bound(op.a), image.lower_bound(op.b));
      break;
  }
}

void SimDisk::put(std::string key, std::string value) {
  log_.push_back(Op{OpKind::kPut, std::move(key), std::move(value)});
  apply(live_, log_.back());
}

void SimDisk::erase(std::string key) {
  log_.push_back(Op{OpKind::kErase, std::move(key), {}});
  apply(live_, log_.back());
}

void SimDisk::erase_range(std::string begin, std::string end) {
  log_.push_back(Op{OpKind::kEraseRange, std::move(begin), std::move(end)});
  apply(live_, log_.back());
}

void SimDisk::sync(std::function<void(Status)> done) {
  syncs_.push_back(PendingSync{log_base_ + log_.size(), std::move(done)});
  if (on_sync_) on_sync_();
}

std::optional<std::string> SimDisk::get(std::string_view key) const {
  auto it = live_.find(key);
  if (it == live_.end()) return std::nullopt;
  return it->second;
}

void SimDisk::scan(std::string_view begin, std::string_view end,
                   const std::function<bool(std::string_view, std::string_view)>& fn) const {
  if (!(begin < end)) return;
  for (auto it = live_.lower_bound(begin); it != live_.end() && std::string_view(it->first) < end;
       ++it) {
    if (!fn(it->first, it->second)) return;
  }
}

std::optional<SimDisk::CompletedSync> SimDisk::complete_next_sync() {
  if (syncs_.empty()) return std::nullopt;
  PendingSync s = std::move(syncs_.front());
  syncs_.pop_front();
  CompletedSync out{std::move(s.done), 0};
  // Make durable every operation issued before this sync (possibly none).
  while (log_base_ < s.upto && !log_.empty()) {
    apply(durable_, log_.front());
    log_.pop_front();
    ++log_base_;
    ++out.ops_made_durable;
  }
  return out;
}

SimDisk::CrashResult SimDisk::crash(Rng& rng, double torn_probability) {
  CrashResult r;
  r.unsynced_ops = log_.size();
  r.dropped_syncs = syncs_.size();
  if (!log_.empty() && rng.chance(torn_probability)) {
    r.kept_ops = static_cast<size_t>(rng.uniform(1, log_.size()));
    for (size_t i = 0; i < r.kept_ops; ++i) apply(durable_, log_[i]);
  }
  log_base_ += log_.size();
  log_.clear();
  syncs_.clear();
  live_ = durable_;
  return r;
}

void SimDisk::wipe() {
  log_base_ += log_.size();
  log_.clear();
  syncs_.clear();
  live_.clear();
  durable_.clear();
}

}  // namespace shoal::sim
