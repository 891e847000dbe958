// Boost 1.74 with GCC 12 in C++20 needs <utility> before any Asio header.
#include <utility>

#include "io_real/api/http_server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <list>
#include <mutex>
#include <optional>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include "core/env/check.h"

namespace shoal::real {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using boost::system::error_code;

namespace {

// After an error answer the server stops reading requests but keeps draining what the client
// is still sending (up to this much, for up to kDrainTime), so a client busy writing a body that
// is too large can finish and read the 413 instead of getting a broken pipe.
constexpr size_t kDrainBytes = size_t{16} << 20;
constexpr auto kDrainTime = std::chrono::seconds(5);
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);

std::string errno_text(int err) { return std::strerror(err); }

// What the Responder and the session share for one request: whether it was answered.
struct Pending;

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void close_from_server() = 0;
};

}  // namespace

namespace internal {

struct HttpServerState : std::enable_shared_from_this<HttpServerState> {
  using RequestHandler = HttpServer::RequestHandler;
  HttpServerState(asio::io_context& io_in, RequestHandler handler_in, HttpServerLimits limits_in)
      : io(io_in), handler(std::move(handler_in)), limits(limits_in) {}

  asio::io_context& io;
  RequestHandler handler;
  const HttpServerLimits limits;

  std::optional<asio::local::stream_protocol::acceptor> unix_acceptor;
  std::string unix_path;
  ino_t unix_inode = 0;
  dev_t unix_dev = 0;
  std::optional<asio::ip::tcp::acceptor> tcp_acceptor;
  std::optional<asio::steady_timer> retry_timer;
  std::atomic<bool> stopped{false};

  std::mutex sessions_mu;
  std::list<std::weak_ptr<SessionBase>> sessions;  // guarded by sessions_mu
  std::atomic<size_t> open_connections{0};

  std::atomic<uint64_t> connections_accepted{0}, connections_refused{0}, requests{0},
      bad_requests{0}, too_large{0}, handler_timeouts{0}, dropped_responders{0};

  template <typename Acceptor>
  void accept_loop(Acceptor& acceptor);
  template <typename Socket>
  void start_session(Socket socket);
  void stop();
};

}  // namespace internal

using internal::HttpServerState;

namespace {

template <typename Protocol>
class Session;

struct Pending {
  std::function<void(HttpResponse)> deliver;  // posts to the session's strand
  std::function<void()> on_dropped;           // ditto, with a 500
  std::atomic<bool> answered{false};
  ~Pending() {
    if (!answered.load()) on_dropped();
  }
};

template <typename Protocol>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Protocol>> {
 public:
  using Stream = beast::basic_stream<Protocol>;
  using Socket = typename Protocol::socket;

  Session(std::shared_ptr<HttpServerState> server, Socket socket)
      : server_(std::move(server)),
        stream_(std::move(socket)),
        handler_timer_(stream_.get_executor()) {}

  ~Session() override { server_->open_connections.fetch_sub(1); }

  void start() { read_header(); }
  auto executor() { return stream_.get_executor(); }

  // A response being written is finished first (bounded by the write timeout); otherwise now.
  void close_from_server() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (self->state_ == State::kWriting) {
        self->close_after_write_ = true;
      } else {
        self->close();
      }
    });
  }

 private:
  enum class State { kReading, kHandling, kWriting, kClosing, kClosed };

  void read_header() {
    if (server_->stopped.load()) return close();
    state_ = State::kReading;
    head_ = false;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_->limits.max_header_bytes));
    parser_->body_limit(server_->limits.max_body_bytes);
    stream_.expires_after(server_->limits.read_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](error_code ec, size_t) {
                              self->on_header(ec);
                            });
  }

  void on_header(error_code ec) {
    if (ec) return on_read_error(ec);
    const auto& req = parser_->get();
    const auto expect = req[http::field::expect];
    if (beast::iequals(expect, "100-continue")) {
      // curl waits a second for this before sending a body it was told to hold back.
      continue_ = std::make_unique<http::response<http::empty_body>>(http::status::continue_, req.version());
      http::async_write(stream_, *continue_, [self = this->shared_from_this()](error_code wec, size_t) {
        self->continue_.reset();
        if (wec) return self->close();
        self->read_body();
      });
      return;
    }
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](error_code ec, size_t) { self->on_request(ec); });
  }

  void on_read_error(error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::operation_aborted || ec == beast::error::timeout ||
        ec == asio::error::connection_reset || ec == http::error::partial_message) {
      return close();  // the client went away or idled out; nothing to answer
    }
    if (ec == http::error::body_limit) {
      server_->too_large.fetch_add(1);
      spdlog::warn("api: request body over the {} byte limit; answered 413", server_->limits.max_body_bytes);
      return write_error(413, "request body too large: the limit is " +
                                  std::to_string(server_->limits.max_body_bytes) + " bytes");
    }
    if (ec == http::error::header_limit) {
      server_->bad_requests.fetch_add(1);
      spdlog::warn("api: request header over the {} byte limit; answered 431",
                   server_->limits.max_header_bytes);
      return write_error(431, "request header too large: the limit is " +
                                  std::to_string(server_->limits.max_header_bytes) + " bytes");
    }
    if (ec.category() == make_error_code(http::error::bad_method).category()) {
      server_->bad_requests.fetch_add(1);
      spdlog::info("api: malformed request ({}); answered 400", ec.message());
      return write_error(400, "malformed HTTP request: " + ec.message());
    }
    close();  // a socket error: nobody to answer
  }

  void on_request(error_code ec) {
    if (ec) return on_read_error(ec);
    auto& req = parser_->get();
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    head_ = req.method() == http::verb::head;
    auto target = parse_target(std::string_view(req.target().data(), req.target().size()));
    if (!target.ok()) {
      server_->bad_requests.fetch_add(1);
      return write_error(400, target.status().message());
    }
    if (server_->stopped.load()) return close();

    HttpRequest request;
    request.method = std::string(req.method_string());
    request.path = std::move(target->first);
    request.query = std::move(target->second);
    request.body = std::move(req.body());
    parser_.reset();
    stream_.expires_never();  // the handler has its own deadline, below
    state_ = State::kHandling;
    const uint64_t generation = ++generation_;
    server_->requests.fetch_add(1);

    handler_timer_.expires_after(server_->limits.handler_timeout);
    handler_timer_.async_wait([self = this->shared_from_this(), generation](error_code tec) {
      if (tec || self->generation_ != generation || self->state_ != State::kHandling) return;
      self->server_->handler_timeouts.fetch_add(1);
      const auto secs = std::chrono::duration_cast<std::chrono::seconds>(self->server_->limits.handler_timeout);
      spdlog::warn("api: no answer to a request within {}s; answered 503", secs.count());
      self->write_response(error_response(503, "no answer from the cluster within " +
                                                   std::to_string(secs.count()) +
                                                   "s; the request may still take effect"),
                           /*close_after=*/false);
    });

    std::weak_ptr<Session> weak = this->shared_from_this();
    auto pending = std::make_shared<Pending>();
    pending->deliver = [weak, generation](HttpResponse r) {
      if (auto self = weak.lock()) {
        asio::post(self->stream_.get_executor(), [self, generation, r = std::move(r)]() mutable {
          self->on_answer(generation, std::move(r));
        });
      }
    };
    pending->on_dropped = [weak, generation] {
      if (auto self = weak.lock()) {
        asio::post(self->stream_.get_executor(), [self, generation] {
          if (self->generation_ != generation || self->state_ != State::kHandling) return;
          self->server_->dropped_responders.fetch_add(1);
          spdlog::error("api: a handler dropped its request without answering; answered 500");
          self->on_answer(generation, error_response(500, "internal error: the request was dropped without an answer"));
        });
      }
    };
    Responder respond = [pending](HttpResponse r) {
      SHOAL_CHECK(!pending->answered.exchange(true), "an API handler answered one request twice");
      pending->deliver(std::move(r));
    };
    try {
      server_->handler(std::move(request), std::move(respond));
    } catch (const std::exception& e) {
      // The router catches handler exceptions; this is the last line for a bare handler.
      if (!pending->answered.exchange(true)) {
        spdlog::error("api: handler threw: {}", e.what());
        pending->deliver(error_response(500, std::string("internal error: ") + e.what()));
      }
    }
  }

  void on_answer(uint64_t generation, HttpResponse r) {
    if (generation != generation_ || state_ != State::kHandling) return;  // late: timed out or closed
    handler_timer_.cancel();
    write_response(std::move(r), /*close_after=*/false);
  }

  void write_error(int status, std::string message) {
    keep_alive_ = false;
    write_response(error_response(status, std::move(message)), /*close_after=*/true);
  }

  void write_response(HttpResponse r, bool close_after) {
    state_ = State::kWriting;
    if (r.status < 100 || r.status > 599) {
      spdlog::error("api: a handler answered with status {}; sending 500", r.status);
      r = error_response(500, "internal error: bad status " + std::to_string(r.status));
    }
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(version_);
    res->result(static_cast<unsigned>(r.status));
    res->set(http::field::server, "shoald");
    res->set("Api-Version", std::string(kApiVersion));
    if (!r.content_type.empty()) res->set(http::field::content_type, r.content_type);
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive_ && !close_after);
    res->prepare_payload();
    if (head_) res->body().clear();  // HEAD: the headers of a GET, Content-Length included
    const bool close = close_after || !keep_alive_;
    stream_.expires_after(server_->limits.write_timeout);
    http::async_write(stream_, *res, [self = this->shared_from_this(), res, close](error_code ec, size_t) {
      if (ec) return self->close();
      if (close || self->close_after_write_) return self->linger_then_close();
      self->read_header();
    });
  }

  // Half-closes, then reads and discards what the client still sends (bounded), then closes.
  void linger_then_close() {
    state_ = State::kClosing;
    error_code ignored;
    stream_.socket().shutdown(Socket::shutdown_send, ignored);
    stream_.expires_after(kDrainTime);
    drain();
  }

  void drain() {
    if (drained_ >= kDrainBytes) return close();
    // Bytes already buffered by the parser count as drained.
    drained_ += buffer_.size();
    buffer_.consume(buffer_.size());
    stream_.async_read_some(asio::buffer(scratch_), [self = this->shared_from_this()](error_code ec, size_t n) {
      if (ec) return self->close();
      self->drained_ += n;
      self->drain();
    });
  }

  void close() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    ++generation_;
    handler_timer_.cancel();
    error_code ignored;
    stream_.socket().shutdown(Socket::shutdown_both, ignored);
    stream_.close();
  }

  std::shared_ptr<HttpServerState> server_;
  Stream stream_;
  asio::steady_timer handler_timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::unique_ptr<http::response<http::empty_body>> continue_;
  State state_ = State::kReading;
  uint64_t generation_ = 0;  // bumped per request and on close; stale answers are dropped
  bool keep_alive_ = true;
  bool head_ = false;
  bool close_after_write_ = false;  // the server is stopping
  unsigned version_ = 11;
  size_t drained_ = 0;
  std::array<char, 4096> scratch_{};
};

}  // namespace

template <typename Acceptor>
void HttpServerState::accept_loop(Acceptor& acceptor) {
  acceptor.async_accept(asio::make_strand(io), [self = shared_from_this(), &acceptor](error_code ec, auto socket) {
    if (self->stopped.load() || ec == asio::error::operation_aborted) return;
    if (ec) {
      // EMFILE and friends: wait a little rather than spin.
      spdlog::warn("api: accept failed: {}; retrying in {} ms", ec.message(), kAcceptRetryDelay.count());
      self->retry_timer.emplace(self->io);
      self->retry_timer->expires_after(kAcceptRetryDelay);
      self->retry_timer->async_wait([self, &acceptor](error_code tec) {
        if (!tec && !self->stopped.load()) self->accept_loop(acceptor);
      });
      return;
    }
    self->start_session(std::move(socket));
    self->accept_loop(acceptor);
  });
}

template <typename Socket>
void HttpServerState::start_session(Socket socket) {
  using Protocol = typename Socket::protocol_type;
  if (open_connections.load() >= limits.max_connections) {
    connections_refused.fetch_add(1);
    spdlog::warn("api: {} connections open, the limit; closing a new one", limits.max_connections);
    error_code ignored;
    socket.close(ignored);
    return;
  }
  open_connections.fetch_add(1);
  connections_accepted.fetch_add(1);
  auto session = std::make_shared<Session<Protocol>>(shared_from_this(), std::move(socket));
  {
    std::lock_guard lock(sessions_mu);
    sessions.remove_if([](const std::weak_ptr<SessionBase>& w) { return w.expired(); });
    sessions.push_back(session);
  }
  asio::dispatch(session->executor(), [session] { session->start(); });
}

void HttpServerState::stop() {
  if (stopped.exchange(true)) return;
  error_code ignored;
  if (unix_acceptor) unix_acceptor->close(ignored);
  if (tcp_acceptor) tcp_acceptor->close(ignored);
  if (retry_timer) retry_timer->cancel();
  if (!unix_path.empty()) {
    // Remove the socket file only if it is still the one we bound (not a successor's).
    struct stat st {};
    if (::lstat(unix_path.c_str(), &st) == 0 && st.st_ino == unix_inode && st.st_dev == unix_dev) {
      ::unlink(unix_path.c_str());
    }
  }
  std::list<std::weak_ptr<SessionBase>> open;
  {
    std::lock_guard lock(sessions_mu);
    open.swap(sessions);
  }
  for (auto& w : open) {
    if (auto s = w.lock()) s->close_from_server();
  }
}

HttpServer::HttpServer(asio::io_context& io, RequestHandler handler, HttpServerLimits limits)
    : impl_(std::make_shared<HttpServerState>(io, std::move(handler), limits)) {
  SHOAL_CHECK(impl_->handler != nullptr, "HttpServer needs a handler");
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::stop() { impl_->stop(); }

uint16_t HttpServer::tcp_port() const {
  if (!impl_->tcp_acceptor) return 0;
  error_code ec;
  const auto ep = impl_->tcp_acceptor->local_endpoint(ec);
  return ec ? 0 : ep.port();
}

HttpServerStats HttpServer::stats() const {
  HttpServerStats s;
  s.connections_accepted = impl_->connections_accepted.load();
  s.connections_refused = impl_->connections_refused.load();
  s.requests = impl_->requests.load();
  s.bad_requests = impl_->bad_requests.load();
  s.too_large = impl_->too_large.load();
  s.handler_timeouts = impl_->handler_timeouts.load();
  s.dropped_responders = impl_->dropped_responders.load();
  return s;
}

namespace {

// Whether a process answers on the unix socket at `path`: ok(true) live, ok(false) stale.
Result<bool> socket_is_live(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::io_error("socket(): " + errno_text(errno));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  const int err = errno;
  ::close(fd);
  if (rc == 0) return true;
  if (err == ECONNREFUSED) return false;
  return Status::io_error("cannot check the existing socket " + path + ": " + errno_text(err));
}

}  // namespace

Status HttpServer::listen_unix(std::string path) {
  HttpServerState& s = *impl_;
  if (s.stopped.load()) return Status::failed_precondition("the API server is stopped");
  if (s.unix_acceptor) return Status::failed_precondition("the API server already listens on " + s.unix_path);
  if (path.empty() || path.size() >= sizeof(sockaddr_un::sun_path)) {
    return Status::invalid_argument("unix socket path \"" + path + "\" is empty or longer than " +
                                    std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes");
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return Status::failed_precondition(path + " exists and is not a socket; refusing to replace it");
    }
    auto live = socket_is_live(path);
    if (!live.ok()) return live.status();
    if (*live) {
      return Status::already_exists("another daemon is already listening on unix://" + path +
                                    "; stop it first");
    }
    spdlog::info("api: removing stale socket file {} (no process listens on it)", path);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return Status::io_error("cannot remove stale socket " + path + ": " + errno_text(errno));
    }
  } else if (errno != ENOENT) {
    return Status::io_error("cannot stat " + path + ": " + errno_text(errno));
  }

  using Proto = asio::local::stream_protocol;
  Proto::acceptor acceptor(s.io);
  error_code ec;
  acceptor.open(Proto(), ec);
  if (!ec) acceptor.bind(Proto::endpoint(path), ec);
  if (ec) {
    if (ec == asio::error::address_in_use) {
      return Status::already_exists("another daemon is already listening on unix://" + path);
    }
    return Status::io_error("cannot create the API socket " + path + ": " + ec.message());
  }
  // Restrict before listen(): until then no one can connect, whatever the umask gave the file.
  if (::chmod(path.c_str(), 0600) != 0 || ::lstat(path.c_str(), &st) != 0) {
    const int err = errno;
    ::unlink(path.c_str());
    return Status::io_error("cannot set mode 0600 on " + path + ": " + errno_text(err));
  }
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    ::unlink(path.c_str());
    return Status::io_error("cannot listen on " + path + ": " + ec.message());
  }
  s.unix_path = path;
  s.unix_inode = st.st_ino;
  s.unix_dev = st.st_dev;
  s.unix_acceptor.emplace(std::move(acceptor));
  s.accept_loop(*s.unix_acceptor);
  spdlog::info("api: listening on unix://{} (mode 0600)", path);
  return Status::ok_status();
}

Status HttpServer::listen_tcp(std::string host_port) {
  HttpServerState& s = *impl_;
  if (s.stopped.load()) return Status::failed_precondition("the API server is stopped");
  if (s.tcp_acceptor) return Status::failed_precondition("the API server already listens on TCP");
  const size_t colon = host_port.rfind(':');
  if (colon == std::string::npos || colon + 1 == host_port.size()) {
    return Status::invalid_argument("TCP address \"" + host_port + "\" must be host:port");
  }
  std::string host = host_port.substr(0, colon);
  const std::string port = host_port.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  using Tcp = asio::ip::tcp;
  error_code ec;
  Tcp::resolver resolver(s.io);
  auto results = resolver.resolve(host, port, Tcp::resolver::passive | Tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return Status::invalid_argument("cannot resolve TCP address \"" + host_port + "\": " +
                                    (ec ? ec.message() : std::string("no address")));
  }
  const Tcp::endpoint ep = results.begin()->endpoint();
  Tcp::acceptor acceptor(s.io);
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::io_error("cannot listen on tcp://" + host_port + ": " + ec.message());
  s.tcp_acceptor.emplace(std::move(acceptor));
  s.accept_loop(*s.tcp_acceptor);
  spdlog::warn("api: listening on tcp://{} with plain HTTP and no authentication", host_port);
  return Status::ok_status();
}

}  // namespace shoal::real
