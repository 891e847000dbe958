#include "core/gossip/broadcast_queue.h"

#include <cmath>

namespace shoal::gossip {

int retransmit_limit(int retransmit_mult, size_t n) {
  const int node_scale = static_cast<int>(std::ceil(std::log10(static_cast<double>(n) + 1.0)));
  return retransmit_mult * node_scale;
}

void BroadcastQueue::erase(uint64_t id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  order_.erase(key_of(id, it->second));
  auto m = by_key_.find(it->second.about);
  if (m != by_key_.end() && m->second == id) by_key_.erase(m);
  entries_.erase(it);
}

void BroadcastQueue::queue(BroadcastKey about, gossippb::Part part) {
  if (auto old = by_key_.find(about); old != by_key_.end()) erase(old->second);
  const uint64_t id = next_id_++;
  Entry e;
  e.about = about;
  e.bytes = part.ByteSizeLong() + kPartOverhead;
  e.part = std::move(part);
  order_.insert(key_of(id, e));
  entries_.emplace(id, std::move(e));
  by_key_[std::move(about)] = id;
  while (entries_.size() > max_) {
    // The last in take() order: most transmitted, oldest.
    const Key worst = *order_.rbegin();
    erase(UINT64_MAX - worst.second);
    ++dropped_;
  }
}

std::vector<gossippb::Part> BroadcastQueue::take(size_t budget, int limit, size_t max_parts) {
  std::vector<gossippb::Part> out;
  std::vector<uint64_t> taken;
  for (auto it = order_.begin(); it != order_.end() && out.size() < max_parts; ++it) {
    if (budget < kPartOverhead + 2) break;  // nothing fits any more
    const uint64_t id = UINT64_MAX - it->second;
    const Entry& e = entries_.at(id);
    if (e.bytes > budget) continue;
    budget -= e.bytes;
    out.push_back(e.part);
    taken.push_back(id);
  }
  for (uint64_t id : taken) {
    Entry& e = entries_.at(id);
    order_.erase(key_of(id, e));
    ++e.transmits;
    if (e.transmits >= limit) {
      auto m = by_key_.find(e.about);
      if (m != by_key_.end() && m->second == id) by_key_.erase(m);
      entries_.erase(id);
    } else {
      order_.insert(key_of(id, e));
    }
  }
  return out;
}

int BroadcastQueue::transmits(const BroadcastKey& about) const {
  auto m = by_key_.find(about);
  if (m == by_key_.end()) return -1;
  return entries_.at(m->second).transmits;
}

}  // namespace shoal::gossip
