// Times as Docker writes them: RFC 3339 in UTC with nanoseconds, "2026-11-27T06:02:32.123456789Z".
// Pure arithmetic (no time zone database, no libc): the API, logs and messages share it.
#pragma once

#include <cstdint>
#include <string>

namespace shoal::wire {

std::string rfc3339(int64_t unix_ns);

}  // namespace shoal::wire
