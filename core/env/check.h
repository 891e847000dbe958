// SHOAL_CHECK: an assertion that stays on in release builds and aborts with context.
// Use it for programmer errors (broken invariants), never for bad input: bad input gets a Status.
//
// The simulator may install a handler (set_check_failure_handler) that turns a failed check into
// a reported violation of that run instead of ending the process; everywhere else it aborts.
#pragma once

#include <string>

namespace shoal {

using CheckFailureHandler = void (*)(const std::string& what);
// Installs a handler for failed checks (nullptr: abort). The handler must not return normally.
void set_check_failure_handler(CheckFailureHandler handler);
[[noreturn]] void check_failed(const char* file, int line, const char* cond, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));

}  // namespace shoal

#define SHOAL_CHECK(cond, ...)                                                  \
  do {                                                                          \
    if (!(cond)) ::shoal::check_failed(__FILE__, __LINE__, #cond, "" __VA_ARGS__); \
  } while (0)
