// ScopedCheckHandler: while it lives, a failed SHOAL_CHECK throws CoreCheckFailure instead of
// aborting, so a test can show an invariant catching a planted bug (as the simulator's runner
// turns one into a violation of its run).
#pragma once

#include <string>

#include "core/env/check.h"

namespace shoal::testing {

struct CoreCheckFailure {
  std::string what;
};

[[noreturn]] inline void throw_check_failure(const std::string& what) { throw CoreCheckFailure{what}; }

class ScopedCheckHandler {
 public:
  ScopedCheckHandler() { set_check_failure_handler(throw_check_failure); }
  ~ScopedCheckHandler() { set_check_failure_handler(nullptr); }
  ScopedCheckHandler(const ScopedCheckHandler&) = delete;
  ScopedCheckHandler& operator=(const ScopedCheckHandler&) = delete;
};

}  // namespace shoal::testing
