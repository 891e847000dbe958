// Clock: the seam through which core code learns the time.
//
// monotonic_now() never goes backwards and is what timeouts are measured against. wall_now()
// is calendar time (Unix nanoseconds) and is used only where a wall time is the point, such as
// certificate validity; it may jump. In io_real these are the OS clocks; in io_sim each node has
// its own clock with skew, drift and jumps driven by the simulator.
#pragma once

#include <cstdint>

#include "core/env/time.h"

namespace shoal {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual MonoTime monotonic_now() const = 0;
  virtual int64_t wall_now_unix_ns() const = 0;
};

}  // namespace shoal
