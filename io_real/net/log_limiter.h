// LogLimiter: at most kPerSecond log lines of one kind per second; the rest are counted and
// summarised once a second (at the lines' own level, naming the subsystem), so a flood of bad
// connections or streams cannot flood the log.
//
//   LogLimiter warn_limit{"net", spdlog::level::warn};
//   if (warn_limit.allow()) spdlog::warn("net: refused ...");
#pragma once

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace shoal::real {

class LogLimiter {
 public:
  static constexpr int kPerSecond = 20;
  LogLimiter(std::string subsystem, spdlog::level::level_enum level) : subsystem_(std::move(subsystem)), level_(level) {}

  bool allow() {
    const auto now = std::chrono::steady_clock::now();
    if (now - window_ >= std::chrono::seconds(1)) {
      if (suppressed_ > 0) {
        spdlog::log(level_, "{}: {} similar log lines suppressed in the last second", subsystem_, suppressed_);
      }
      window_ = now;
      count_ = 0;
      suppressed_ = 0;
    }
    if (count_ < kPerSecond) {
      ++count_;
      return true;
    }
    ++suppressed_;
    return false;
  }

 private:
  std::string subsystem_;
  spdlog::level::level_enum level_;
  std::chrono::steady_clock::time_point window_{};
  int count_ = 0;
  uint64_t suppressed_ = 0;
};

}  // namespace shoal::real
