// ApiClient: the `shoal` CLI's view of the daemon's client API — one JSON call at a time over
// http_call, with the docker CLI's error wording.
//
// Every target gets Docker's version prefix (/v1.41/...). A 2xx answer yields its JSON body (null
// when empty). Anything else is a Status whose message is what the CLI prints:
//   "Error response from daemon: <the daemon's message>"
//   "Error: No such node: <ref>"          (404 of a named object, as the docker client words it)
// Connection errors keep http_call's message ("cannot connect to the Shoal daemon at ...").
//
//   auto client = ApiClient::connect("unix:///var/run/shoal.sock", std::chrono::seconds(150));
//   auto nodes = client->get("/nodes");
//   auto node = client->get("/nodes/" + id, NotFound{"node", id});
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/env/status.h"
#include "core/env/time.h"

namespace shoal::real {

inline constexpr std::string_view kDefaultHost = "unix:///var/run/shoal.sock";

// Where the daemon listens: -H/--host, SHOAL_HOST.
struct DaemonAddress {
  enum class Kind { kUnix, kTcp };
  Kind kind = Kind::kUnix;
  std::string address;  // a socket path, or host:port
};

// Parses "unix:///path" or "tcp://host:port". Errors name the text and the accepted forms.
Result<DaemonAddress> parse_daemon_host(std::string_view host);

// How a 404 about one object is worded: NotFound{"node", "abc"} -> "Error: No such node: abc".
struct NotFound {
  std::string kind;
  std::string ref;
};

class ApiClient {
 public:
  ApiClient(DaemonAddress address, Duration timeout) : address_(std::move(address)), timeout_(timeout) {}
  static Result<ApiClient> connect(std::string_view host, Duration timeout);

  // `target` is the path and query without the version prefix: "/nodes/abc/update?version=3".
  Result<nlohmann::json> call(std::string_view method, const std::string& target,
                              const nlohmann::json* body = nullptr, const NotFound* not_found = nullptr) const;

  // A GET whose answer is text (logs): the body as it came.
  Result<std::string> get_text(const std::string& target, const NotFound& nf) const;

  Result<nlohmann::json> get(const std::string& target) const { return call("GET", target); }
  Result<nlohmann::json> get(const std::string& target, const NotFound& nf) const {
    return call("GET", target, nullptr, &nf);
  }
  Result<nlohmann::json> post(const std::string& target, const nlohmann::json& body) const {
    return call("POST", target, &body);
  }
  Result<nlohmann::json> post(const std::string& target, const nlohmann::json& body, const NotFound& nf) const {
    return call("POST", target, &body, &nf);
  }
  Result<nlohmann::json> post(const std::string& target) const { return call("POST", target); }
  Result<nlohmann::json> del(const std::string& target, const NotFound& nf) const {
    return call("DELETE", target, nullptr, &nf);
  }

 private:
  DaemonAddress address_;
  Duration timeout_;
};

}  // namespace shoal::real
