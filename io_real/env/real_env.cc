#include <utility>  // Boost 1.74's asio/awaitable.hpp misses it under C++20

#include "io_real/env/real_env.h"

#include <openssl/rand.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <map>

namespace shoal::real {

MonoTime SystemClock::monotonic_now() const {
  return std::chrono::duration_cast<MonoTime>(std::chrono::steady_clock::now().time_since_epoch());
}

int64_t SystemClock::wall_now_unix_ns() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct AsioTimers::Impl {
  explicit Impl(boost::asio::io_context& io) : io(io) {}
  boost::asio::io_context& io;
  TimerId next_id = 1;
  std::map<TimerId, std::unique_ptr<boost::asio::steady_timer>> live;
  // Zero-delay callbacks are posted to the loop instead of armed on a timer: arming the earliest
  // timer costs a timerfd_settime call (an exit to the hypervisor on a virtual machine), a
  // visible share of a manager's CPU under load, most of it for RaftNode::pump_soon.
  std::map<TimerId, std::function<void()>> posted;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);  // false once destroyed
};

AsioTimers::AsioTimers(boost::asio::io_context& io) : impl_(std::make_unique<Impl>(io)) {}

AsioTimers::~AsioTimers() {
  *impl_->alive = false;
  for (auto& [id, t] : impl_->live) t->cancel();
}

TimerId AsioTimers::after(Duration delay, std::function<void()> fn) {
  const TimerId id = impl_->next_id++;
  if (delay <= Duration::zero()) {
    impl_->posted.emplace(id, std::move(fn));
    boost::asio::post(impl_->io, [impl = impl_.get(), alive = impl_->alive, id] {
      if (!*alive) return;
      auto it = impl->posted.find(id);
      if (it == impl->posted.end()) return;  // cancelled
      auto run = std::move(it->second);
      impl->posted.erase(it);
      run();
    });
    return id;
  }
  auto timer = std::make_unique<boost::asio::steady_timer>(impl_->io);
  timer->expires_after(delay);
  Impl* impl = impl_.get();
  timer->async_wait([impl, id, fn = std::move(fn)](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled
    auto it = impl->live.find(id);
    if (it == impl->live.end()) return;
    // Keep the timer object alive until the handler returns; the callback may schedule more.
    auto self = std::move(it->second);
    impl->live.erase(it);
    fn();
  });
  impl_->live.emplace(id, std::move(timer));
  return id;
}

void AsioTimers::cancel(TimerId id) {
  if (impl_->posted.erase(id) > 0) return;
  auto it = impl_->live.find(id);
  if (it == impl_->live.end()) return;
  it->second->cancel();
  impl_->live.erase(it);
}

uint64_t os_random_seed() {
  uint64_t seed = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&seed), sizeof seed) != 1) {
    seed = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }
  return seed;
}

}  // namespace shoal::real
