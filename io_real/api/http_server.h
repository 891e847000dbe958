// HttpServer: the client API's HTTP/1.1 server (Boost.Beast), on a unix socket only its owner can
// open, and optionally on plain TCP.
//
// Each connection reads one request at a time (keep-alive, no pipelined processing), hands it to
// the handler as an HttpRequest, and writes the HttpResponse the handler answers with through its
// Responder, now or later. Nothing a client sends can crash it: a malformed request gets 400
// {"message": ...} and the connection is closed; the server keeps serving everyone else.
//
// Limits (HttpServerLimits), each logged and counted when hit:
//   request body 2 MiB (Docker itself caps secrets at 500 KiB and configs at 1000 KiB of data,
//     which is at most ~1.33 MiB as base64 in JSON) -> 413, connection closed;
//   request header 16 KiB -> 431, connection closed;
//   128 open connections -> further connections are closed at once;
//   60 s to read a request (and idle keep-alive) -> connection closed;
//   120 s for the handler to answer -> 503 saying the request may still take effect;
//   30 s to write a response -> connection closed.
//
// The unix socket (listen_unix) is created with mode 0600 before it listens, so when shoald runs
// as root only root can connect — the same trust model as /var/run/docker.sock without the
// docker group. A socket file left by a dead process is replaced; if a live process answers on
// it, listen_unix refuses. The file is removed when the server stops, if it is still ours.
//
// listen_tcp is plain HTTP with no authentication at all: anyone who reaches the port controls
// the cluster. It exists for tests and loopback debugging; TLS for it is not implemented.
//
// Thread contract: construct, listen_*, stop and destroy on the io_context's thread or while the
// io_context is not running. The handler runs on the io_context (one connection's requests never
// run concurrently). A Responder may be called from any thread, exactly once; calling it twice
// is a programmer error and aborts. A Responder dropped without being called answers 500.
// After stop() (or destruction) the handler is not called again; late answers are discarded.
//
//   boost::asio::io_context io;
//   HttpServer server(io, [&](HttpRequest req, Responder respond) { router.dispatch(std::move(req), std::move(respond)); });
//   if (auto s = server.listen_unix("/var/run/shoal.sock"); !s.ok()) die(s);
//   io.run();
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/env/status.h"
#include "core/env/time.h"
#include "io_real/api/http_types.h"
#include "io_real/api/router.h"

namespace boost::asio {
class io_context;
}

namespace shoal::real {

namespace internal {
struct HttpServerState;  // http_server.cc
}

struct HttpServerLimits {
  size_t max_body_bytes = size_t{2} << 20;
  size_t max_header_bytes = size_t{16} << 10;
  size_t max_connections = 128;
  Duration read_timeout = std::chrono::seconds(60);
  Duration handler_timeout = std::chrono::seconds(120);
  Duration write_timeout = std::chrono::seconds(30);
};

// Counters of what the server has seen; readable from any thread.
struct HttpServerStats {
  uint64_t connections_accepted = 0;
  uint64_t connections_refused = 0;  // over max_connections
  uint64_t requests = 0;             // handed to the handler
  uint64_t bad_requests = 0;         // answered 400 or 431 by the server itself
  uint64_t too_large = 0;            // answered 413
  uint64_t handler_timeouts = 0;     // answered 503 because the handler did not answer in time
  uint64_t dropped_responders = 0;   // answered 500 because the handler lost its Responder
};

class HttpServer {
 public:
  using RequestHandler = std::function<void(HttpRequest, Responder)>;

  HttpServer(boost::asio::io_context& io, RequestHandler handler, HttpServerLimits limits = {});
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Listens on a unix socket at `path` (mode 0600). Errors: AlreadyExists if a live process
  // listens there; FailedPrecondition if `path` exists and is not a socket; IoError otherwise,
  // each naming the path.
  Status listen_unix(std::string path);
  // Listens on plain TCP at "host:port" ("127.0.0.1:0" picks a free port; "[::1]:2375").
  Status listen_tcp(std::string host_port);
  // The TCP port bound by listen_tcp, 0 if none.
  uint16_t tcp_port() const;

  // Stops accepting, removes the unix socket file, and closes every connection; one whose
  // response is being written closes once it is written (within write_timeout), so an answer
  // given just before stop() still goes out if the io_context keeps running. Idempotent.
  void stop();

  HttpServerStats stats() const;

 private:
  std::shared_ptr<internal::HttpServerState> impl_;  // shared with the open connections
};

}  // namespace shoal::real
