// Time as the core sees it: durations and instants in nanoseconds, with no clock attached.
// Reading a clock is the Clock seam's job (clock.h); these are plain values.
#pragma once

#include <chrono>
#include <cstdint>

namespace shoal {

using Duration = std::chrono::nanoseconds;
// A point on a node's monotonic clock: time since that clock's (arbitrary) origin.
using MonoTime = std::chrono::nanoseconds;

using std::chrono_literals::operator""ms;
using std::chrono_literals::operator""s;
using std::chrono_literals::operator""us;

inline double to_seconds(Duration d) { return static_cast<double>(d.count()) / 1e9; }

}  // namespace shoal
