// TranscriptLogSink: a LogSink (core/env/log.h) that appends each record to a golden test's
// transcript as one line, without the wall time (so the transcript is the same on every run):
//
//   INFO [1 t2] raft: leader at term 2        (a record of node 1 at term 2)
//   INFO orchestrator: task web.2 moved ...   (a record with no node and no term)
//
// The transcript is a string the test owns and clears per command. Test-only; header-only.
#pragma once

#include <string>

#include "core/env/log.h"

namespace shoal::datadriven {

class TranscriptLogSink final : public LogSink {
 public:
  explicit TranscriptLogSink(std::string& transcript, LogLevel level = LogLevel::kInfo)
      : transcript_(&transcript), level_(level) {}

  LogLevel level() const override { return level_; }
  void set_level(LogLevel level) { level_ = level; }

  void write(const LogRecord& r) override {
    std::string line = level_word(r.level);
    if (r.node != 0 || r.term != 0) {
      line += " [" + std::to_string(r.node);
      if (r.term != 0) line += " t" + std::to_string(r.term);
      line += "]";
    }
    line += " ";
    line += r.component;
    line += ": ";
    line += r.message;
    *transcript_ += line + "\n";
  }

 private:
  static std::string level_word(LogLevel level) {
    std::string word = level_name(level);
    for (char& c : word) c = static_cast<char>(c - 'a' + 'A');
    return word;
  }

  std::string* transcript_;
  LogLevel level_;
};

}  // namespace shoal::datadriven
