#include "io_sim/world/sim_time.h"

#include <cinttypes>
#include <cstdio>

namespace shoal::sim {

std::string format_sim_time(SimTime t) {
  int64_t ns = t.count();
  const bool negative = ns < 0;
  // Avoid overflow on INT64_MIN by working in unsigned.
  uint64_t mag = negative ? 0 - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s%" PRIu64 ".%06" PRIu64 "s", negative ? "-" : "",
                mag / uint64_t{1000000000}, (mag % uint64_t{1000000000}) / uint64_t{1000});
  return buf;
}

}  // namespace shoal::sim
