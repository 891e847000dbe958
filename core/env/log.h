// Log: the seam through which core code says what it decided and why, one line per event.
//
// A node's components write to the node's Log. The Log stamps each record with the node's id,
// its Raft term (0 on a node that is no manager) and the time on the node's Clock (simulated or
// real), and hands it to a LogSink: shoald's log, the simulator's timeline, or a golden test's
// transcript. A record below the sink's level is not even formatted, so a quiet sink costs one
// comparison per call.
//
// Components name themselves ("raft", "orchestrator", "scheduler", "dispatcher", "agent",
// "node", ...). Info is for decisions an operator wants to see at the default level (a task
// moved, an update paused, a leader elected); debug for the steps in between.
//
//   Log log(clock, sink);
//   log.set_node(id);
//   log.info("orchestrator", "task {} rescheduled from {} to {}: {}", name, from, to, why);
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/env/clock.h"
#include "core/env/identity.h"

namespace shoal {

enum class LogLevel : uint8_t { kDebug, kInfo, kWarn, kError, kOff };

constexpr const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
    case LogLevel::kOff: break;
  }
  return "off";
}

// The level level_name() calls `name` ("debug", "info", "warn", "error", "off"); none if unknown.
constexpr std::optional<LogLevel> parse_log_level(std::string_view name) {
  for (LogLevel level : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError, LogLevel::kOff}) {
    if (name == level_name(level)) return level;
  }
  return std::nullopt;
}

struct LogRecord {
  LogLevel level = LogLevel::kInfo;
  NodeId node = 0;
  uint64_t term = 0;     // 0: not known (the node is no manager)
  int64_t wall_ns = 0;   // the node's wall clock
  std::string_view component;
  std::string_view message;
};

// Where a node's records go.
class LogSink {
 public:
  virtual ~LogSink() = default;
  // The least level this sink takes; kOff takes nothing.
  virtual LogLevel level() const = 0;
  virtual void write(const LogRecord& record) = 0;
};

// Takes nothing: for tests and tools that do not look at the log.
class NullLogSink final : public LogSink {
 public:
  LogLevel level() const override { return LogLevel::kOff; }
  void write(const LogRecord&) override {}
};

class Log {
 public:
  Log(const Clock& clock, LogSink& sink, NodeId node = 0) : clock_(&clock), sink_(&sink), node_(node) {}
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  void set_node(NodeId node) { node_ = node; }
  void set_term(uint64_t term) { term_ = term; }
  void set_sink(LogSink& sink) { sink_ = &sink; }
  NodeId node() const { return node_; }
  uint64_t term() const { return term_; }

  bool enabled(LogLevel level) const { return level >= sink_->level() && sink_->level() != LogLevel::kOff; }

  template <typename... Args>
  void debug(std::string_view component, fmt::format_string<Args...> format, Args&&... args) {
    if (enabled(LogLevel::kDebug)) write(LogLevel::kDebug, component, fmt::format(format, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void info(std::string_view component, fmt::format_string<Args...> format, Args&&... args) {
    if (enabled(LogLevel::kInfo)) write(LogLevel::kInfo, component, fmt::format(format, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void warn(std::string_view component, fmt::format_string<Args...> format, Args&&... args) {
    if (enabled(LogLevel::kWarn)) write(LogLevel::kWarn, component, fmt::format(format, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void error(std::string_view component, fmt::format_string<Args...> format, Args&&... args) {
    if (enabled(LogLevel::kError)) write(LogLevel::kError, component, fmt::format(format, std::forward<Args>(args)...));
  }

  // One record, already formatted (nothing happens below the sink's level).
  void write(LogLevel level, std::string_view component, std::string_view message) {
    if (!enabled(level)) return;
    sink_->write(LogRecord{level, node_, term_, clock_->wall_now_unix_ns(), component, message});
  }

 private:
  const Clock* clock_;
  LogSink* sink_;
  NodeId node_ = 0;
  uint64_t term_ = 0;
};

}  // namespace shoal
