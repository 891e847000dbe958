#include "core/wire/rfc3339.h"

#include <cstdio>

#include "core/wire/civil_date.h"

namespace shoal::wire {
std::string rfc3339(int64_t unix_ns) {
  const CivilTime t = civil_time_from_unix_ns(unix_ns);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%09lldZ", static_cast<long long>(t.date.year),
                t.date.month, t.date.day, static_cast<long long>(t.hour), static_cast<long long>(t.minute),
                static_cast<long long>(t.second), static_cast<long long>(t.nanos));
  return buf;
}

}  // namespace shoal::wire
