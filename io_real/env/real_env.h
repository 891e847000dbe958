// The real world behind Clock and Timers: the OS clocks and Asio timers on the node's one
// io_context. Asio stays in the .cc; callers hand in the io_context they run.
#pragma once
#include <cstdint>
#include <memory>
#include "core/env/clock.h"
#include "core/env/timers.h"

namespace boost::asio {
class io_context;
}

namespace shoal::real {

class SystemClock final : public Clock {
 public:
  MonoTime monotonic_now() const override;
  int64_t wall_now_unix_ns() const override;
};

// Timers on an io_context; callbacks run on the thread that runs it.
class AsioTimers final : public Timers {
 public:
  explicit AsioTimers(boost::asio::io_context& io);
  ~AsioTimers() override;
  TimerId after(Duration delay, std::function<void()> fn) override;
  void cancel(TimerId id) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A seed for the node's Rng from the OS's strong randomness (Rng is for timing, not secrets).
uint64_t os_random_seed();

}  // namespace shoal::real
