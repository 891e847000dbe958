// SpdlogSink: a node's Log (core/env/log.h) on shoald's log, spdlog's default logger. A record
// reads "node 1a2b3c4d5e6f7a8b term 4: orchestrator: task web.2 ...", with the node and term
// left out while they are not known. spdlog stamps its own time (the same real clock).
#pragma once

#include "core/env/log.h"

namespace shoal::real {

class SpdlogSink final : public LogSink {
 public:
  LogLevel level() const override;
  void write(const LogRecord& record) override;
};

}  // namespace shoal::real
