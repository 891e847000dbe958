#include "io_sim/world/sim_disk.h"

#include <utility>

namespace shoal::sim {

SimDisk::SimDisk(std::function<void()> on_sync) : on_sync_(std::move(on_sync)) {}

void SimDisk::put(std::string key, std::string value) {
  Undo& u = log_.emplace_back();
  auto it = live_.lower_bound(key);
  if (it == live_.end() || it->first != key) {
    u.kind = Undo::Kind::kRemoveKey;
    u.key = key;
    live_.emplace_hint(it, std::move(key), std::move(value));
  } else {
    u.kind = Undo::Kind::kRestoreValue;
    u.key = std::move(key);
    u.old_value = std::exchange(it->second, std::move(value));
  }
}

void SimDisk::erase(std::string key) {
  Undo& u = log_.emplace_back();
  auto it = live_.find(key);
  if (it == live_.end()) return;  // kNothing
  u.kind = Undo::Kind::kReinsert;
  u.nodes.push_back(live_.extract(it));
}

void SimDisk::erase_range(std::string begin, std::string end) {
  Undo& u = log_.emplace_back();
  if (!(begin < end)) return;
  auto it = live_.lower_bound(begin);
  while (it != live_.end() && it->first < end) u.nodes.push_back(live_.extract(it++));
  if (!u.nodes.empty()) u.kind = Undo::Kind::kReinsert;
}

void SimDisk::undo_in_place(Image& image, Undo& u) {
  switch (u.kind) {
    case Undo::Kind::kNothing:
      break;
    case Undo::Kind::kRemoveKey:
      image.erase(u.key);
      break;
    case Undo::Kind::kRestoreValue:
      image.find(u.key)->second = std::move(u.old_value);
      break;
    case Undo::Kind::kReinsert:
      for (auto& node : u.nodes) image.insert(std::move(node));
      break;
  }
}

void SimDisk::undo_copy(Image& image, const Undo& u) {
  switch (u.kind) {
    case Undo::Kind::kNothing:
      break;
    case Undo::Kind::kRemoveKey:
      image.erase(u.key);
      break;
    case Undo::Kind::kRestoreValue:
      image.find(u.key)->second = u.old_value;
      break;
    case Undo::Kind::kReinsert:
      for (const auto& node : u.nodes) image.emplace(node.key(), node.mapped());
      break;
  }
}

SimDisk::Image SimDisk::durable() const {
  Image image = live_;
  for (auto it = log_.rbegin(); it != log_.rend(); ++it) undo_copy(image, *it);
  return image;
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
  // Make durable every operation issued before this sync (possibly none): forget their undo.
  while (log_base_ < s.upto && !log_.empty()) {
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
  }
  // Undo, newest first, every operation past the kept prefix.
  while (log_.size() > r.kept_ops) {
    undo_in_place(live_, log_.back());
    log_.pop_back();
  }
  log_base_ += log_.size();
  log_.clear();
  syncs_.clear();
  return r;
}

void SimDisk::wipe() {
  log_base_ += log_.size();
  log_.clear();
  syncs_.clear();
  live_.clear();
}

}  // namespace shoal::sim
