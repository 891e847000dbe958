// The client API's request and response, as the route handlers see them: plain values with no
// Boost.Beast in sight, so handlers and their tests compile fast.
//
// The API is HTTP/1.1 + JSON in the shape of the Docker Engine API's swarm endpoints. Errors are
// Docker's {"message": "..."}. A target may carry Docker's version prefix (/v1.41/nodes); it is
// stripped as dockerd strips it, so /v1.41/nodes and /nodes reach the same route.
//
//   auto t = parse_target("/v1.41/nodes/abc/update?version=7");
//   // t->first == "/nodes/abc/update", t->second["version"] == "7"
//   return json_response(200, nlohmann::json{{"ID", id}});
//   return error_response(404, "node abc not found");
//
// Everything here is a pure function of its arguments; thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json_fwd.hpp>

#include "core/env/status.h"

namespace shoal::real {

// Decoded query parameters. A key given twice keeps its first value, as Go's url.Values.Get.
using Query = std::map<std::string, std::string>;

struct HttpRequest {
  std::string method;  // "GET", "POST", ... as sent
  std::string path;    // percent-decoded, version prefix stripped: "/nodes/abc"
  Query query;
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// The Docker API version this API follows, and the one the CLI sends.
inline constexpr std::string_view kApiVersion = "1.41";

HttpResponse json_response(int status, const nlohmann::json& body);
// Docker's error shape: {"message": message}.
HttpResponse error_response(int status, std::string message);
// A response with no body (Docker answers DELETE with 204 and nothing else).
HttpResponse empty_response(int status);

// Splits an origin-form request target ("/path?query") into its decoded path and query. The path
// loses a leading Docker version segment (/v1.41, any /vN.N...). Errors (InvalidArgument) name
// the bad text: a target not starting with '/', a '%' not followed by two hex digits, a decoded
// NUL or other control byte in the path.
Result<std::pair<std::string, Query>> parse_target(std::string_view target);

// Percent-decodes `text`; with `plus_is_space` (query strings) '+' becomes ' '.
Result<std::string> percent_decode(std::string_view text, bool plus_is_space);
// Percent-encodes everything but RFC 3986 unreserved characters, for building targets.
std::string percent_encode(std::string_view text);

}  // namespace shoal::real
