#include "io_sim/world/event_queue.h"

#include <algorithm>
#include <utility>

#include "core/env/check.h"

namespace shoal::sim {

// EventId layout: high 32 bits = slot generation (>= 1), low 32 bits = slot index.
EventId EventQueue::schedule(SimTime at, int32_t node, std::function<void()> fn, uint64_t epoch) {
  SHOAL_CHECK(at >= now_, "event scheduled in the past: at=%lld now=%lld",
              static_cast<long long>(at.count()), static_cast<long long>(now_.count()));
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    SHOAL_CHECK(slots_.size() < UINT32_MAX, "too many pending events");
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& s = slots_[slot];
  s.fn = std::move(fn);
  s.epoch = epoch;
  s.node = node;
  s.live = true;
  if (++s.gen == 0) s.gen = 1;  // wrap-around: never produce id 0
  heap_.push_back(HeapEntry{at, next_seq_++, slot});
  std::push_heap(heap_.begin(), heap_.end(), Later{});
  ++live_;
  return (static_cast<uint64_t>(s.gen) << 32) | slot;
}

bool EventQueue::cancel(EventId id) {
  const uint32_t slot = static_cast<uint32_t>(id & 0xffffffffULL);
  const uint32_t gen = static_cast<uint32_t>(id >> 32);
  if (gen == 0 || slot >= slots_.size()) return false;
  Slot& s = slots_[slot];
  if (!s.live || s.gen != gen) return false;
  s.live = false;
  s.fn = nullptr;  // release captures now; the heap entry is discarded when it surfaces
  --live_;
  return true;
}

void EventQueue::free_slot(uint32_t slot) {
  slots_[slot].fn = nullptr;
  slots_[slot].live = false;
  free_slots_.push_back(slot);
}

void EventQueue::drop_cancelled_head() {
  while (!heap_.empty() && !slots_[heap_.front().slot].live) {
    const uint32_t slot = heap_.front().slot;
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    heap_.pop_back();
    free_slot(slot);
  }
}

std::optional<EventQueue::Event> EventQueue::pop_next() {
  drop_cancelled_head();
  if (heap_.empty()) return std::nullopt;
  const HeapEntry top = heap_.front();
  std::pop_heap(heap_.begin(), heap_.end(), Later{});
  heap_.pop_back();
  Slot& s = slots_[top.slot];
  Event ev{top.at, top.seq, s.node, s.epoch, std::move(s.fn)};
  free_slot(top.slot);
  --live_;
  now_ = top.at;
  return ev;
}

bool EventQueue::run_next() {
  auto ev = pop_next();
  if (!ev) return false;
  ev->fn();
  return true;
}

std::optional<SimTime> EventQueue::next_time() {
  drop_cancelled_head();
  if (heap_.empty()) return std::nullopt;
  return heap_.front().at;
}

void EventQueue::clear() {
  for (const HeapEntry& e : heap_) free_slot(e.slot);
  heap_.clear();
  live_ = 0;
}

void EventQueue::advance_to(SimTime t) {
  SHOAL_CHECK(t >= now_, "time cannot go backwards");
  auto next = next_time();
  SHOAL_CHECK(!next || *next >= t, "advance_to would skip a pending event");
  now_ = t;
}

}  // namespace shoal::sim
