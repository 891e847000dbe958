// http_call: one synchronous HTTP/1.1 request to the Shoal daemon's client API, for the CLI.
//
// Opens a connection, sends the request (Connection: close), reads one response, closes. The
// whole call — connect, write, read — has one deadline, `timeout`. Every failure is a Status
// whose message a person can act on, naming the daemon's address:
//   Unavailable       "cannot connect to the Shoal daemon at unix:///var/run/shoal.sock: no such
//                      file — is shoald running?" (also: connection refused, a stale socket)
//   PermissionDenied  the socket is root-only
//   DeadlineExceeded  no answer within the timeout
//   IoError           the connection broke, or the answer was not HTTP
// Any HTTP status is a successful call: the caller reads HttpResponse::status.
//
//   auto r = http_call("/var/run/shoal.sock", "GET", "/v1.41/nodes", "", std::chrono::seconds(30));
//   if (!r.ok()) { std::cerr << r.status().message() << "\n"; return 1; }
//
// Thread-safe: each call has its own io_context.
#pragma once

#include <string>
#include <string_view>

#include "core/env/status.h"
#include "core/env/time.h"
#include "io_real/api/http_types.h"

namespace shoal::real {

// The largest response body the client accepts.
inline constexpr size_t kMaxResponseBytes = size_t{64} << 20;

Result<HttpResponse> http_call(std::string_view socket_path, std::string method, std::string target,
                               std::string body, Duration timeout);

// The same over plain TCP to "host:port" (see HttpServer::listen_tcp).
Result<HttpResponse> http_call_tcp(std::string_view host_port, std::string method, std::string target,
                                   std::string body, Duration timeout);

}  // namespace shoal::real
