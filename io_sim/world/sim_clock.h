// SimClock: a node's simulated clock, derived from the simulator's global time.
//
// Implements shoal::Clock (core/env/clock.h). Owned by the World, one per node; it survives the
// node's crash and restart (the machine keeps running, only the process dies). Reads the global
// time from the EventQueue; single-threaded.
//
// Monotonic time runs at rate (1 + drift) against global time from an arbitrary per-node
// origin: local(g) = l0 + floor((g - g0) * (1e9 + drift_ppb) / 1e9), re-anchored (l0, g0) at
// every drift change so the curve stays continuous. Integer arithmetic only, so every machine
// computes the same values. Wall time is epoch + global time + a per-node offset (skew plus
// every jump so far); it does not drift.
//
// Invariants: monotonic_now() never decreases (drift stays above -100%); wall time may move
// either way, and only through jump_wall(); global_time_for(local) is the earliest global time
// at which monotonic_now() >= local, so a timer scheduled there never fires early.
//
//   SimClock clock(queue, /*origin=*/5s, /*drift_ppb=*/50'000, kEpoch2026, /*skew=*/3ms);
//   clock.set_drift_ppm(-100);     // 100 ppm slow from now on
//   clock.jump_wall(-2s);          // NTP step backwards
#pragma once

#include <cstdint>

#include "core/env/clock.h"
#include "io_sim/world/event_queue.h"

namespace shoal::sim {

// 2026-01-01T00:00:00Z in Unix nanoseconds: where every run's wall clocks start.
inline constexpr int64_t kSimEpochUnixNs = 1767225600LL * 1000000000LL;

class SimClock final : public Clock {
 public:
  // `origin`: the node's monotonic reading at the current global time.
  SimClock(const EventQueue& queue, MonoTime origin, int64_t drift_ppb, int64_t epoch_unix_ns,
           Duration wall_offset);

  // shoal::Clock
  MonoTime monotonic_now() const override { return local_at(queue_.now()); }
  int64_t wall_now_unix_ns() const override {
    return epoch_unix_ns_ + queue_.now().count() + wall_offset_.count();
  }

  // Drift in parts per billion (1 ppm = 1000 ppb); must be > -1e9. Takes effect now.
  void set_drift_ppb(int64_t ppb);
  void set_drift_ppm(double ppm);
  int64_t drift_ppb() const { return drift_ppb_; }

  // Moves wall time by delta (may be negative). Monotonic time is untouched.
  void jump_wall(Duration delta) { wall_offset_ += delta; }
  Duration wall_offset() const { return wall_offset_; }

  // Monotonic reading at global time g (g >= the last re-anchoring).
  MonoTime local_at(SimTime g) const;
  // Earliest global time at which monotonic_now() >= local (never before now()).
  SimTime global_time_for(MonoTime local) const;

 private:
  const EventQueue& queue_;
  SimTime anchor_global_;
  MonoTime anchor_local_;
  int64_t drift_ppb_;
  int64_t epoch_unix_ns_;
  Duration wall_offset_;
};

}  // namespace shoal::sim
