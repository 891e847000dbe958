#include "io_real/cli/api_client.h"

#include "io_real/api/http_client.h"
#include "io_real/cli/format.h"

namespace shoal::real {

Result<DaemonAddress> parse_daemon_host(std::string_view host) {
  const auto bad = [&](const std::string& why) {
    return Status::invalid_argument("invalid host \"" + std::string(host) + "\": " + why +
                                    " (want unix:///path/to/socket or tcp://host:port)");
  };
  DaemonAddress a;
  if (host.rfind("unix://", 0) == 0) {
    a.kind = DaemonAddress::Kind::kUnix;
    a.address = std::string(host.substr(7));
    if (a.address.empty() || a.address[0] != '/') return bad("the socket path must be absolute");
    return a;
  }
  if (host.rfind("tcp://", 0) == 0) {
    a.kind = DaemonAddress::Kind::kTcp;
    a.address = std::string(host.substr(6));
    while (!a.address.empty() && a.address.back() == '/') a.address.pop_back();
    const size_t colon = a.address.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == a.address.size()) return bad("missing host or port");
    return a;
  }
  return bad("unknown scheme");
}

Result<ApiClient> ApiClient::connect(std::string_view host, Duration timeout) {
  auto a = parse_daemon_host(host);
  if (!a.ok()) return a.status();
  return ApiClient(std::move(*a), timeout);
}

namespace {

// The docker CLI's wording of an answer that is not 2xx.
Status error_of(const real::HttpResponse& r, const NotFound* not_found) {
  if (r.status == 404 && not_found != nullptr) {
    return Status::not_found("Error: No such " + not_found->kind + ": " + not_found->ref);
  }
  nlohmann::json parsed = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  std::string message;
  if (parsed.is_object() && parsed.contains("message") && parsed["message"].is_string()) {
    message = parsed["message"].get<std::string>();
  } else {
    message = trim(r.body);
    if (message.empty()) message = "HTTP status " + std::to_string(r.status);
  }
  message = "Error response from daemon: " + message;
  switch (r.status) {
    case 400: return Status::invalid_argument(message);
    case 403: return Status::permission_denied(message);
    case 404: return Status::not_found(message);
    case 409: return Status::already_exists(message);
    case 503: return Status::unavailable(message);
    default: return Status::io_error(message);
  }
}

Result<real::HttpResponse> send(const DaemonAddress& address, Duration timeout, std::string_view method,
                               const std::string& target, std::string payload) {
  const std::string full = "/v" + std::string(real::kApiVersion) + target;
  return address.kind == DaemonAddress::Kind::kUnix
             ? real::http_call(address.address, std::string(method), full, std::move(payload), timeout)
             : real::http_call_tcp(address.address, std::string(method), full, std::move(payload), timeout);
}

}  // namespace

Result<nlohmann::json> ApiClient::call(std::string_view method, const std::string& target,
                                       const nlohmann::json* body, const NotFound* not_found) const {
  auto r = send(address_, timeout_, method, target, body != nullptr ? body->dump() : std::string());
  if (!r.ok()) return r.status();
  if (r->status < 200 || r->status >= 300) return error_of(*r, not_found);
  if (trim(r->body).empty()) return nlohmann::json();
  nlohmann::json parsed = nlohmann::json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return Status::io_error("the daemon answered " + std::string(method) + " " + target + " with a body that is not JSON");
  }
  return parsed;
}

Result<std::string> ApiClient::get_text(const std::string& target, const NotFound& nf) const {
  auto r = send(address_, timeout_, "GET", target, std::string());
  if (!r.ok()) return r.status();
  if (r->status < 200 || r->status >= 300) return error_of(*r, &nf);
  return std::move(r->body);
}

}  // namespace shoal::real
