// Hand-driven seams for tests of core components that need an Env but no simulated world: a
// clock that moves only when told, timers that fire when the test advances that clock (in time
// order, moving the clock to each one's due time), and a transport and disk that do nothing.
//
//   ManualClock clock;
//   ManualTimers timers(clock);
//   Rng rng(7);
//   NoTransport transport;
//   NoDisk disk;
//   RecordingLogSink log_sink;
//   Log log{clock, log_sink};
//   Env env{clock, timers, rng, transport, disk, log};
//   timers.advance(std::chrono::milliseconds(10));
#pragma once

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/env/env.h"

namespace shoal::test {

constexpr int64_t kStartNs = 1'700'000'000'000'000'000;

// Keeps a node's log records as "component: message" lines, from `level` up (kOff: none).
class RecordingLogSink final : public LogSink {
 public:
  explicit RecordingLogSink(LogLevel level = LogLevel::kOff) : level_(level) {}
  LogLevel level() const override { return level_; }
  void set_level(LogLevel level) { level_ = level; }
  void write(const LogRecord& r) override { lines.push_back(std::string(r.component) + ": " + std::string(r.message)); }
  std::vector<std::string> lines;

 private:
  LogLevel level_;
};

class ManualClock final : public Clock {
 public:
  MonoTime monotonic_now() const override { return now; }
  int64_t wall_now_unix_ns() const override { return kStartNs + now.count(); }
  MonoTime now{0};
};

class ManualTimers final : public Timers {
 public:
  explicit ManualTimers(ManualClock& clock) : clock_(clock) {}
  TimerId after(Duration delay, std::function<void()> fn) override {
    const TimerId id = ++next_;
    due_.emplace(std::make_pair(clock_.now + delay, id), std::move(fn));
    return id;
  }
  void cancel(TimerId id) override {
    for (auto it = due_.begin(); it != due_.end(); ++it) {
      if (it->first.second == id) {
        due_.erase(it);
        return;
      }
    }
  }
  // Runs everything due up to now + d, in time order, moving the clock.
  void advance(Duration d) {
    const MonoTime end = clock_.now + d;
    while (!due_.empty() && due_.begin()->first.first <= end) {
      auto node = due_.extract(due_.begin());
      clock_.now = std::max(clock_.now, node.key().first);
      node.mapped()();
    }
    clock_.now = end;
  }

 private:
  ManualClock& clock_;
  TimerId next_ = 0;
  std::map<std::pair<MonoTime, TimerId>, std::function<void()>> due_;
};

class NoTransport final : public Transport {
 public:
  void send(NodeId, std::string) override {}
  void set_handler(Handler) override {}
};

class NoDisk final : public Disk {
 public:
  void put(std::string, std::string) override {}
  void erase(std::string) override {}
  void erase_range(std::string, std::string) override {}
  void sync(std::function<void(Status)> done) override { done({}); }
  std::optional<std::string> get(std::string_view) const override { return std::nullopt; }
  void scan(std::string_view, std::string_view, const std::function<bool(std::string_view, std::string_view)>&) const override {}
};

}  // namespace shoal::test
