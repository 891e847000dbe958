// EventQueue: the simulator's discrete-event queue, ordered by (time, sequence number).
//
// Owned by the World (one queue drives every node of a run); single-threaded. Each scheduled
// event gets the next sequence number, so events due at the same time run in the order they
// were scheduled. Ordering never depends on addresses or hash-table iteration: same calls,
// same order, every run.
//
// Invariants:
//   - now() never decreases; an event runs with now() equal to its due time.
//   - an event cannot be scheduled in the past (at < now() aborts).
//   - cancel(id) of a pending event guarantees it never runs; cancelling an event that already
//     ran, was cancelled or never existed is a harmless no-op.
//
// Each event carries two tags the queue does not interpret: `node` (the node index it belongs
// to, or -1 for world-level events) and `epoch` (the owner's incarnation counter for that node),
// so the World can defer events of a paused node and discard events of a crashed incarnation.
//
//   EventQueue q;
//   q.schedule(5ms, -1, [] { ... });
//   EventId id = q.schedule(2ms, 0, [] { ... });
//   q.cancel(id);
//   while (q.run_next()) {}
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "io_sim/world/sim_time.h"

namespace shoal::sim {

// Identifies one scheduled event. Never 0 for a real event.
using EventId = uint64_t;
inline constexpr EventId kNoEvent = 0;

class EventQueue {
 public:
  struct Event {
    SimTime at{0};
    uint64_t seq = 0;
    int32_t node = -1;
    uint64_t epoch = 0;
    std::function<void()> fn;
  };

  EventQueue() = default;
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  // Schedules fn at `at` (>= now()). Returns an id for cancel().
  EventId schedule(SimTime at, int32_t node, std::function<void()> fn, uint64_t epoch = 0);
  // Returns true if the event was pending and is now cancelled.
  bool cancel(EventId id);

  // Removes the earliest pending event, advances now() to its time and returns it (without
  // running it). nullopt when nothing is pending.
  std::optional<Event> pop_next();
  // pop_next() and run it. Returns false when nothing was pending.
  bool run_next();
  // Due time of the earliest pending event.
  std::optional<SimTime> next_time();
  // Moves now() forward to t with no event running. Requires now() <= t and no pending event
  // due before t.
  void advance_to(SimTime t);

  // Drops every pending event (destroying its callback) without running it; now() stays.
  void clear();

  SimTime now() const { return now_; }
  // Number of pending (scheduled, not run, not cancelled) events.
  size_t pending() const { return live_; }
  // Number of events ever scheduled.
  uint64_t scheduled_total() const { return next_seq_; }

 private:
  struct HeapEntry {
    SimTime at;
    uint64_t seq;
    uint32_t slot;
  };
  struct Slot {
    std::function<void()> fn;
    uint64_t epoch = 0;
    int32_t node = -1;
    uint32_t gen = 0;
    bool live = false;
  };
  // Heap order: a functor (not a function pointer) so the heap operations inline it.
  struct Later {
    bool operator()(const HeapEntry& a, const HeapEntry& b) const {
      return a.at != b.at ? a.at > b.at : a.seq > b.seq;
    }
  };
  void drop_cancelled_head();
  void free_slot(uint32_t slot);

  SimTime now_{0};
  uint64_t next_seq_ = 0;
  size_t live_ = 0;
  std::vector<HeapEntry> heap_;  // min-heap on (at, seq) via Later
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
};

}  // namespace shoal::sim
