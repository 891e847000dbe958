// "host:port" and "[v6]:port", as both network listeners and peers are written in flags and in
// the store: split into a host (brackets removed) and a port. An IPv6 address must be bracketed,
// since "fe80::1:7946" could be read two ways; a bracketed host must be IPv6. Shared by the
// managers' TLS endpoint and the gossip socket.
//
//   auto hp = split_host_port("[::1]:2377");  // {"::1", 2377}
//   if (!hp.ok()) return hp.status();         // "address 'x' is not host:port"
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "core/env/status.h"

namespace shoal::real {

Result<std::pair<std::string, uint16_t>> split_host_port(std::string_view host_port);

}  // namespace shoal::real
