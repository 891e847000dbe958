// Boost 1.74 with GCC 12 in C++20 needs <utility> before any Asio header.
#include <utility>

#include "io_real/api/http_client.h"

#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace shoal::real {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using boost::system::error_code;

namespace {

std::string seconds_text(Duration d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

Status connect_error(const std::string& where, error_code ec, Duration timeout) {
  const std::string head = "cannot connect to the Shoal daemon at " + where + ": ";
  if (ec == beast::error::timeout) {
    return Status::deadline_exceeded(head + "no answer within " + seconds_text(timeout) +
                                     " — is shoald running?");
  }
  if (ec == boost::system::errc::no_such_file_or_directory) {
    return Status::unavailable(head + "no such file — is shoald running?");
  }
  if (ec == asio::error::connection_refused) {
    return Status::unavailable(head + "connection refused — is shoald running?");
  }
  if (ec == boost::system::errc::permission_denied || ec == boost::system::errc::operation_not_permitted) {
    return Status::permission_denied(head + "permission denied — the API socket is root-only; run this as root");
  }
  return Status::unavailable(head + ec.message());
}

template <typename Protocol>
Result<HttpResponse> call(const std::string& where, const typename Protocol::endpoint& endpoint,
                          std::string method, std::string target, std::string body, Duration timeout,
                          asio::io_context& io) {
  beast::basic_stream<Protocol> stream(io);
  stream.expires_after(timeout);  // one deadline for the whole call

  error_code connect_ec;
  stream.async_connect(endpoint, [&](error_code ec) { connect_ec = ec; });
  io.run();
  if (connect_ec) return connect_error(where, connect_ec, timeout);

  http::request<http::string_body> req;
  req.version(11);
  req.method_string(method);
  req.target(target);
  req.set(http::field::host, "localhost");
  req.set(http::field::user_agent, "shoal-cli");
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  req.keep_alive(false);
  req.body() = std::move(body);
  req.prepare_payload();

  error_code write_ec;
  io.restart();
  http::async_write(stream, req, [&](error_code ec, size_t) { write_ec = ec; });
  io.run();
  if (write_ec == beast::error::timeout) {
    return Status::deadline_exceeded("no answer from the Shoal daemon at " + where + " within " +
                                     seconds_text(timeout));
  }
  // Even when the write failed (the daemon refused a body too large and closed), it may have
  // answered first: read what it said.
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.header_limit(64 * 1024);
  parser.body_limit(kMaxResponseBytes);
  error_code read_ec;
  io.restart();
  http::async_read(stream, buffer, parser, [&](error_code ec, size_t) { read_ec = ec; });
  io.run();
  error_code ignored;
  stream.socket().shutdown(Protocol::socket::shutdown_both, ignored);
  stream.close();
  if (read_ec) {
    if (read_ec == beast::error::timeout) {
      return Status::deadline_exceeded("no answer from the Shoal daemon at " + where + " within " +
                                       seconds_text(timeout));
    }
    const error_code shown = write_ec ? write_ec : read_ec;
    return Status::io_error("the connection to the Shoal daemon at " + where + " broke: " + shown.message());
  }
  auto& res = parser.get();
  HttpResponse out;
  out.status = static_cast<int>(res.result_int());
  out.content_type = std::string(res[http::field::content_type]);
  out.body = std::move(res.body());
  return out;
}

}  // namespace

Result<HttpResponse> http_call(std::string_view socket_path, std::string method, std::string target,
                               std::string body, Duration timeout) {
  const std::string where = "unix://" + std::string(socket_path);
  if (socket_path.empty() || socket_path.size() >= 108) {
    return Status::invalid_argument("bad daemon address " + where + ": a unix socket path of 1 to 107 bytes");
  }
  try {
    asio::io_context io;
    return call<asio::local::stream_protocol>(where, asio::local::stream_protocol::endpoint(std::string(socket_path)),
                                              std::move(method), std::move(target), std::move(body), timeout, io);
  } catch (const std::exception& e) {  // Asio and Beast report a few misuses by throwing
    return Status::io_error("calling the Shoal daemon at " + where + ": " + e.what());
  }
}

Result<HttpResponse> http_call_tcp(std::string_view host_port, std::string method, std::string target,
                                   std::string body, Duration timeout) {
  const std::string where = "tcp://" + std::string(host_port);
  const size_t colon = host_port.rfind(':');
  if (colon == std::string_view::npos) return Status::invalid_argument("bad daemon address " + where + ": want host:port");
  std::string host(host_port.substr(0, colon));
  const std::string port(host_port.substr(colon + 1));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  try {
    asio::io_context io;
    error_code ec;
    asio::ip::tcp::resolver resolver(io);
    auto results = resolver.resolve(host, port, ec);
    if (ec || results.empty()) {
      return Status::unavailable("cannot resolve the Shoal daemon's address " + where + ": " +
                                 (ec ? ec.message() : std::string("no address")));
    }
    return call<asio::ip::tcp>(where, results.begin()->endpoint(), std::move(method), std::move(target),
                               std::move(body), timeout, io);
  } catch (const std::exception& e) {
    return Status::io_error("calling the Shoal daemon at " + where + ": " + e.what());
  }
}

}  // namespace shoal::real
