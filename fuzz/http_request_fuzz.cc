// The client API's request path takes any bytes: Beast's request parser (with the server's
// limits), then parse_target, then the router. Nothing may crash; every error speaks; what is
// accepted keeps the limits and the shapes the handlers rely on.
//
// The first byte picks how the rest is used, so even the standalone driver's random bytes reach
// past the request line: 0 raw bytes; 1 the rest is a request target; 2 the rest follows a valid
// request line (headers and body); 3 the rest is a path handed straight to the router.
#include <utility>  // before Beast (Boost 1.74 with GCC 12 in C++20)

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "io_real/api/http_types.h"
#include "io_real/api/router.h"

namespace {

namespace http = boost::beast::http;
using shoal::real::HttpResponse;
using shoal::real::PathParams;
using shoal::real::Responder;

constexpr size_t kHeaderLimit = 4096;
constexpr size_t kBodyLimit = 1024;

const shoal::real::Router& router() {
  static const shoal::real::Router r = [] {
    shoal::real::Router r;
    auto ok = [](const shoal::real::HttpRequest&, const PathParams&, Responder respond) { respond(HttpResponse{}); };
    for (const char* p : {"/_ping", "/version", "/info", "/swarm", "/swarm/update", "/swarm/unlockkey", "/nodes",
                          "/nodes/{id}", "/configs", "/configs/{id}", "/secrets/{id}"}) {
      r.add("GET", p, ok);
    }
    for (const char* p : {"/swarm/unlock", "/swarm/leave", "/nodes/{id}/update", "/configs/create", "/configs/{id}/update"}) {
      r.add("POST", p, ok);
    }
    r.add("DELETE", "/nodes/{id}", ok);
    return r;
  }();
  return r;
}

void check_target(std::string_view target) {
  auto t = shoal::real::parse_target(target);
  if (!t.ok()) {
    if (t.status().message().empty()) __builtin_trap();
    return;
  }
  const std::string& path = t->first;
  if (path.empty() || path[0] != '/') __builtin_trap();
  for (const char c : path) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) __builtin_trap();  // refused above
  }
  for (const auto& [k, v] : t->second) {
    auto back = shoal::real::percent_decode(shoal::real::percent_encode(v), /*plus_is_space=*/true);
    if (!back.ok() || *back != v) __builtin_trap();
    (void)k;
  }
  for (const char* method : {"GET", "POST", "DELETE", "PUT"}) {
    const auto m = router().match(method, path);
    if (m.status == 200) {
      if (m.handler == nullptr) __builtin_trap();
      for (const auto& [name, value] : m.params) {
        if (value.empty() || value.find('/') != std::string::npos) __builtin_trap();
      }
    } else if ((m.status != 404 && m.status != 405) || m.message.empty() || m.handler != nullptr) {
      __builtin_trap();
    }
  }
}

void parse_request(std::string_view bytes) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(kHeaderLimit));
  parser.body_limit(kBodyLimit);
  parser.eager(true);
  boost::beast::error_code ec;
  size_t at = 0;
  // Feed in pieces, as a socket would deliver them; stop at the first error.
  while (at < bytes.size() && !parser.is_done()) {
    const size_t n = parser.put(boost::asio::buffer(bytes.data() + at, bytes.size() - at), ec);
    if (ec == http::error::need_more) {
      ec = {};
      if (n == 0) break;  // the rest is not a complete piece; a server would wait for more
    }
    if (ec) {
      if (ec.message().empty()) __builtin_trap();
      return;
    }
    if (n == 0) break;
    at += n;
  }
  if (!parser.is_header_done()) return;
  const auto& req = parser.get();
  if (req.body().size() > kBodyLimit) __builtin_trap();
  check_target(std::string_view(req.target().data(), req.target().size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: parse_request(rest); break;
    case 1: {
      parse_request("GET " + std::string(rest) + " HTTP/1.1\r\nHost: x\r\n\r\n");
      check_target(rest);
      break;
    }
    case 2: parse_request("POST /v1.41/configs/create?x=1 HTTP/1.1\r\n" + std::string(rest)); break;
    default: check_target("/" + std::string(rest)); break;
  }
  return 0;
}
