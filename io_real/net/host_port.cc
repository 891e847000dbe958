#include "io_real/net/host_port.h"

namespace shoal::real {

Result<std::pair<std::string, uint16_t>> split_host_port(std::string_view hp) {
  const auto colon = hp.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == hp.size()) {
    return Status::invalid_argument("address '" + std::string(hp) + "' is not host:port");
  }
  std::string_view host = hp.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    if (host.find(':') == std::string_view::npos) {
      return Status::invalid_argument("address '" + std::string(hp) + "': only IPv6 addresses go in brackets");
    }
  } else if (host.find_first_of(":[]") != std::string_view::npos) {
    return Status::invalid_argument("address '" + std::string(hp) + "' is not host:port (write IPv6 as [v6]:port)");
  }
  uint32_t port = 0;
  for (char c : hp.substr(colon + 1)) {
    if (c < '0' || c > '9' || port > 65535) {
      return Status::invalid_argument("address '" + std::string(hp) + "' has a bad port");
    }
    port = port * 10 + static_cast<uint32_t>(c - '0');
  }
  if (port > 65535) return Status::invalid_argument("address '" + std::string(hp) + "' has a bad port");
  if (host.empty()) return Status::invalid_argument("address '" + std::string(hp) + "' has no host");
  return std::pair<std::string, uint16_t>{std::string(host), static_cast<uint16_t>(port)};
}

}  // namespace shoal::real
