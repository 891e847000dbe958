#include "io_real/env/spdlog_sink.h"

#include <spdlog/spdlog.h>

#include "core/ca/node_identity.h"

namespace shoal::real {
namespace {

spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return spdlog::level::debug;
    case LogLevel::kInfo: return spdlog::level::info;
    case LogLevel::kWarn: return spdlog::level::warn;
    case LogLevel::kError: return spdlog::level::err;
    case LogLevel::kOff: break;
  }
  return spdlog::level::off;
}

}  // namespace

LogLevel SpdlogSink::level() const {
  switch (spdlog::get_level()) {
    case spdlog::level::trace:
    case spdlog::level::debug: return LogLevel::kDebug;
    case spdlog::level::info: return LogLevel::kInfo;
    case spdlog::level::warn: return LogLevel::kWarn;
    case spdlog::level::err:
    case spdlog::level::critical: return LogLevel::kError;
    default: return LogLevel::kOff;
  }
}

void SpdlogSink::write(const LogRecord& r) {
  const auto level = to_spdlog(r.level);
  if (r.node == 0) return spdlog::log(level, "{}: {}", r.component, r.message);
  if (r.term == 0) return spdlog::log(level, "node {}: {}: {}", ca::node_id_text(r.node), r.component, r.message);
  spdlog::log(level, "node {} term {}: {}: {}", ca::node_id_text(r.node), r.term, r.component, r.message);
}

}  // namespace shoal::real
