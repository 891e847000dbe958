#include "io_real/daemon/node_description.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

namespace shoal::real {

storepb::NodeDescription describe_this_machine(const std::map<std::string, std::string>& engine_labels) {
  storepb::NodeDescription d;
  struct utsname u {};
  if (uname(&u) == 0) {
    std::string os = u.sysname;
    std::transform(os.begin(), os.end(), os.begin(), [](unsigned char c) { return std::tolower(c); });
    d.mutable_platform()->set_os(os);
    d.mutable_platform()->set_architecture(u.machine);
  }
  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGESIZE);
  if (cpus > 0) d.mutable_resources()->set_nano_cpus(int64_t{cpus} * 1'000'000'000);
  if (pages > 0 && page_size > 0) d.mutable_resources()->set_memory_bytes(int64_t{pages} * page_size);
  for (const auto& [k, v] : engine_labels) (*d.mutable_engine_labels())[k] = v;
  return d;
}

}  // namespace shoal::real
