// SpawnThread: jobs run one at a time in the order submitted, on a thread with every signal
// blocked; stop() drops what has not begun, waits for what has, and nothing runs after it.
#include "io_real/runtime/spawn_thread.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace shoal::real {
namespace {

TEST(SpawnThreadTest, JobsRunInOrderOffTheCallersThread) {
  SpawnThread spawner;
  std::mutex mu;
  std::vector<int> order;
  std::promise<std::thread::id> where;
  for (int i = 0; i < 50; ++i) {
    spawner.submit([&, i] {
      std::lock_guard<std::mutex> lock(mu);
      order.push_back(i);
    });
  }
  spawner.submit([&] { where.set_value(std::this_thread::get_id()); });
  auto ran_on = where.get_future();
  ASSERT_EQ(ran_on.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_NE(ran_on.get(), std::this_thread::get_id());
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(order.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(order[static_cast<size_t>(i)], i);
}

TEST(SpawnThreadTest, EverySignalIsBlockedOnTheThread) {
  SpawnThread spawner;
  std::promise<bool> all_blocked;
  spawner.submit([&] {
    sigset_t mask;
    ::pthread_sigmask(SIG_SETMASK, nullptr, &mask);
    all_blocked.set_value(::sigismember(&mask, SIGTERM) == 1 && ::sigismember(&mask, SIGCHLD) == 1 &&
                          ::sigismember(&mask, SIGINT) == 1);
  });
  EXPECT_TRUE(all_blocked.get_future().get());
  // The caller's own mask is untouched.
  sigset_t mine;
  ::pthread_sigmask(SIG_SETMASK, nullptr, &mine);
  EXPECT_EQ(::sigismember(&mine, SIGTERM), 0);
}

TEST(SpawnThreadTest, StopWaitsForTheRunningJobAndDropsTheRest) {
  SpawnThread spawner;
  std::promise<void> started;
  std::atomic<bool> release{false}, finished{false};
  std::atomic<int> later_runs{0};
  auto dropped_alive = std::make_shared<int>(0);
  std::weak_ptr<int> dropped_watch = dropped_alive;
  spawner.submit([&] {
    started.set_value();
    while (!release) std::this_thread::yield();
    finished = true;
  });
  spawner.submit([&, keep = std::move(dropped_alive)] { ++later_runs; });
  started.get_future().wait();
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    release = true;
  });
  spawner.stop();
  releaser.join();
  EXPECT_TRUE(finished) << "stop() returned before the running job ended";
  EXPECT_EQ(later_runs, 0);
  EXPECT_TRUE(dropped_watch.expired()) << "a dropped job's captures are destroyed";
  spawner.submit([&] { ++later_runs; });  // ignored after stop()
  spawner.stop();                          // idempotent
  EXPECT_EQ(later_runs, 0);
}

}  // namespace
}  // namespace shoal::real
