// Note: a decision of the reconciler or the updater that an operator should be able to read in
// the log, in one line ("task web.2 moved off node ...: the node is down"). Both are pure, so
// they return notes beside their actions; the orchestrator logs a pass's notes once the
// transaction that carries them has committed, adding where the scheduler placed `successor`,
// a task the decision made ("": none).
//
// Notes are made only from the level the caller asks for (ReconcileContext::notes), so a quiet
// log costs no formatting.
#pragma once

#include <fmt/format.h>

#include <string>
#include <utility>
#include <vector>

#include "core/env/log.h"

namespace shoal::orchestrator {

struct Note {
  LogLevel level = LogLevel::kInfo;
  std::string text;
  std::string successor;
};

// Appends a note of `level` to `notes` if `wanted` asks for that level.
template <typename... Args>
void add_note(std::vector<Note>& notes, LogLevel wanted, LogLevel level, std::string successor,
              fmt::format_string<Args...> format, Args&&... args) {
  if (wanted == LogLevel::kOff || level < wanted) return;
  notes.push_back(Note{level, fmt::format(format, std::forward<Args>(args)...), std::move(successor)});
}

}  // namespace shoal::orchestrator
