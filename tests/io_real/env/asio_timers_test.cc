// AsioTimers: callbacks run on the loop, in the order a user of Timers expects, and a cancelled
// or orphaned one never runs. Zero-delay callbacks take a path of their own (a post, not a
// timer), so each property is checked for both.
#include <utility>  // Boost 1.74's asio/awaitable.hpp misses it under C++20

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "io_real/env/real_env.h"

namespace shoal::real {
namespace {

using std::chrono::milliseconds;

TEST(AsioTimers, AZeroDelayCallbackRunsOnTheLoopNotInsideAfter) {
  boost::asio::io_context io;
  AsioTimers timers(io);
  bool ran = false;
  timers.after(Duration::zero(), [&] { ran = true; });
  EXPECT_FALSE(ran) << "after() must not call back before it returns";
  io.run();
  EXPECT_TRUE(ran);
}

TEST(AsioTimers, ZeroDelayCallbacksRunInTheOrderTheyWereMadeAndBeforeLaterTimers) {
  boost::asio::io_context io;
  AsioTimers timers(io);
  std::vector<std::string> order;
  timers.after(milliseconds(5), [&] { order.push_back("5ms"); });
  timers.after(Duration::zero(), [&] { order.push_back("a"); });
  timers.after(Duration::zero(), [&] { order.push_back("b"); });
  io.run();
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "5ms"}));
}

TEST(AsioTimers, ACancelledCallbackNeverRunsWhateverItsDelay) {
  boost::asio::io_context io;
  AsioTimers timers(io);
  int ran = 0;
  const TimerId now = timers.after(Duration::zero(), [&] { ++ran; });
  const TimerId later = timers.after(milliseconds(1), [&] { ++ran; });
  const TimerId kept = timers.after(Duration::zero(), [&] { ran += 10; });
  timers.cancel(now);
  timers.cancel(later);
  timers.cancel(now);  // twice is harmless
  io.run();
  EXPECT_EQ(ran, 10);
  timers.cancel(kept);  // after it ran: harmless
}

TEST(AsioTimers, ACallbackMaySetTheNextOne) {
  boost::asio::io_context io;
  AsioTimers timers(io);
  int runs = 0;
  std::function<void()> again = [&] {
    if (++runs < 3) timers.after(Duration::zero(), again);
  };
  timers.after(Duration::zero(), again);
  io.run();
  EXPECT_EQ(runs, 3);
}

TEST(AsioTimers, CallbacksOfDestroyedTimersNeverRun) {
  boost::asio::io_context io;
  bool ran = false;
  {
    auto timers = std::make_unique<AsioTimers>(io);
    timers->after(Duration::zero(), [&] { ran = true; });
    timers->after(milliseconds(1), [&] { ran = true; });
  }
  io.run();  // the posted handler and the timer's must not touch the destroyed AsioTimers
  EXPECT_FALSE(ran);
}

}  // namespace
}  // namespace shoal::real
