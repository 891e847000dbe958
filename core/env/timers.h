// Timers: the seam through which core code asks to be called back later.
//
// after(d, fn) runs fn once, on the node's event loop, no earlier than d from now on the node's
// monotonic clock. cancel(id) guarantees fn will not run (cancelling a fired or unknown id is a
// no-op). Callbacks run to completion on the one loop thread; they never run inside after().
#pragma once

#include <cstdint>
#include <functional>

#include "core/env/time.h"

namespace shoal {

using TimerId = uint64_t;

class Timers {
 public:
  virtual ~Timers() = default;
  virtual TimerId after(Duration delay, std::function<void()> fn) = 0;
  virtual void cancel(TimerId id) = 0;
};

}  // namespace shoal
