#include "core/gossip/suspicion.h"

#include <algorithm>
#include <cmath>

namespace shoal::gossip {

Duration suspicion_timeout(int suspicion_mult, size_t n, Duration probe_interval) {
  const double node_scale = std::max(1.0, std::log10(std::max(1.0, static_cast<double>(n))));
  // As memberlist: scale in whole milliseconds so the arithmetic stays in integers after this.
  const int64_t scale_ms = static_cast<int64_t>(node_scale * 1000.0);
  return Duration(suspicion_mult * scale_ms * probe_interval.count() / 1000);
}

Duration remaining_suspicion_time(int confirmations, int k, Duration elapsed, Duration min,
                                  Duration max) {
  Duration timeout = min;
  if (k >= 1) {
    const double frac = std::log(static_cast<double>(confirmations) + 1.0) /
                        std::log(static_cast<double>(k) + 1.0);
    const double raw_s = to_seconds(max) - frac * (to_seconds(max) - to_seconds(min));
    timeout = std::chrono::milliseconds(static_cast<int64_t>(std::floor(1000.0 * raw_s)));
    if (timeout < min) timeout = min;
  }
  return timeout - elapsed;
}

Suspicion::Suspicion(NodeId from, int k, Duration min, Duration max, MonoTime start)
    : k_(k), min_(min), max_(max), start_(start) {
  confirmers_.insert(from);
}

bool Suspicion::confirm(NodeId from) {
  if (confirmations_ >= k_) return false;
  if (!confirmers_.insert(from).second) return false;
  ++confirmations_;
  return true;
}

Duration Suspicion::remaining(MonoTime now) const {
  return remaining_suspicion_time(confirmations_, k_, now - start_, min_, max_);
}

}  // namespace shoal::gossip
