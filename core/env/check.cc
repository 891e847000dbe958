#include "core/env/check.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>

namespace shoal {

namespace {
CheckFailureHandler g_handler = nullptr;
}

void set_check_failure_handler(CheckFailureHandler handler) { g_handler = handler; }

void check_failed(const char* file, int line, const char* cond, const char* fmt, ...) {
  char detail[512];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(detail, sizeof detail, fmt, args);
  va_end(args);
  const std::string what = std::string(file) + ":" + std::to_string(line) + ": check failed: " +
                           cond + (detail[0] ? std::string(": ") + detail : std::string());
  if (g_handler) g_handler(what);
  std::fprintf(stderr, "%s\n", what.c_str());
  std::abort();
}

}  // namespace shoal
