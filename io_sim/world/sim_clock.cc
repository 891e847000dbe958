#include "io_sim/world/sim_clock.h"

#include <cmath>

#include "core/env/check.h"

namespace shoal::sim {

namespace {
constexpr __int128 kBillion = 1000000000;
}

SimClock::SimClock(const EventQueue& queue, MonoTime origin, int64_t drift_ppb,
                   int64_t epoch_unix_ns, Duration wall_offset)
    : queue_(queue),
      anchor_global_(queue.now()),
      anchor_local_(origin),
      drift_ppb_(drift_ppb),
      epoch_unix_ns_(epoch_unix_ns),
      wall_offset_(wall_offset) {
  SHOAL_CHECK(drift_ppb > -1000000000LL, "clock drift must keep the clock moving forward");
}

MonoTime SimClock::local_at(SimTime g) const {
  const __int128 dg = g.count() - anchor_global_.count();
  SHOAL_CHECK(dg >= 0, "local_at before the clock's anchor");
  const __int128 dl = dg * (kBillion + drift_ppb_) / kBillion;
  return anchor_local_ + MonoTime(static_cast<int64_t>(dl));
}

SimTime SimClock::global_time_for(MonoTime local) const {
  const SimTime now = queue_.now();
  if (local <= monotonic_now()) return now;
  // Smallest dg with floor(dg * rate / 1e9) >= dl, i.e. dg = ceil(dl * 1e9 / rate).
  const __int128 dl = local.count() - anchor_local_.count();
  const __int128 rate = kBillion + drift_ppb_;
  const __int128 dg = (dl * kBillion + rate - 1) / rate;
  const SimTime g = anchor_global_ + SimTime(static_cast<int64_t>(dg));
  return g < now ? now : g;
}

void SimClock::set_drift_ppb(int64_t ppb) {
  SHOAL_CHECK(ppb > -1000000000LL, "clock drift must keep the clock moving forward");
  anchor_local_ = monotonic_now();
  anchor_global_ = queue_.now();
  drift_ppb_ = ppb;
}

void SimClock::set_drift_ppm(double ppm) { set_drift_ppb(std::llround(ppm * 1000.0)); }

}  // namespace shoal::sim
