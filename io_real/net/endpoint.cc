// The Endpoint on Boost.Asio and OpenSSL. Layout of this file:
//   helpers      addresses, certificate subjects and chains, TLS contexts, log limiting
//   Connection   one TLS connection: handshake (with the identity check in the verify callback),
//                read loop into a FrameDecoder, a bounded outbox written in batches, closing
//   EndpointImpl peers, the listener, RPC dispatch and pending calls, the raft Transport
//
// Lifetime: Endpoint owns the EndpointImpl through a shared_ptr; asynchronous handlers hold the
// Connection they serve (shared_ptr) and reach the EndpointImpl through a weak_ptr, so a handler
// that completes after the Endpoint is gone does nothing. Everything runs on one thread.
#include <utility>  // before Asio (Boost 1.74 with GCC 12 in C++20)

#include "io_real/net/endpoint.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <set>

#include "core/api/rpc.pb.h"
#include "core/ca/node_identity.h"
#include "core/env/check.h"
#include "core/wire/frame.h"
#include "io_real/net/host_port.h"
#include "io_real/net/log_limiter.h"

namespace shoal::net {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using boost::system::error_code;
using wire::FrameType;

namespace internal {

namespace {

// ---- helpers ----------------------------------------------------------------------------------

// The one value of a subject attribute; an attribute that is missing or repeated is an error
// (a repeated CN could mean different things to different readers).
Result<std::string> subject_field(X509_NAME* name, int nid, const char* label) {
  const int at = X509_NAME_get_index_by_NID(name, nid, -1);
  if (at < 0) return Status::invalid_argument(std::string("certificate has no ") + label);
  if (X509_NAME_get_index_by_NID(name, nid, at) >= 0) {
    return Status::invalid_argument(std::string("certificate has more than one ") + label);
  }
  unsigned char* utf8 = nullptr;
  const int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at)));
  if (n < 0) return Status::invalid_argument(std::string("certificate ") + label + " is not text");
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

// The identity a certificate's subject states, checked for shape (not for trust).
Result<PeerIdentity> identity_of(X509* cert) {
  X509_NAME* name = X509_get_subject_name(cert);
  if (name == nullptr) return Status::invalid_argument("certificate has no subject");
  auto cn = subject_field(name, NID_commonName, "CN");
  if (!cn.ok()) return cn.status();
  auto ou = subject_field(name, NID_organizationalUnitName, "OU");
  if (!ou.ok()) return ou.status();
  auto o = subject_field(name, NID_organizationName, "O");
  if (!o.ok()) return o.status();
  return ca::identity_from_subject(*cn, *ou, *o);
}

std::string describe(const PeerIdentity& id) {
  return "node " + ca::node_id_text(id.node_id) + " (" + std::string(ca::role_ou(id.role)) + ")";
}

std::string describe(const std::optional<PeerIdentity>& id) {
  return id ? describe(*id) : std::string("an anonymous peer");
}

std::string x509_pem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return {};
  std::string out;
  if (PEM_write_bio_X509(bio, cert) == 1) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    if (n > 0) out.assign(data, static_cast<size_t>(n));
  }
  BIO_free(bio);
  return out;
}

// The first certificate of a PEM text (the leaf of a chain), or nullptr.
X509* first_cert(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return nullptr;
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return cert;
}

std::string openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

// TCP keepalive and a user timeout, so a peer that vanished without a reset (a partition, a
// powered-off host) is noticed within about `dead_after` instead of TCP's quarter of an hour.
void set_socket_options(tcp::socket& socket, Duration dead_after) {
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  socket.set_option(asio::socket_base::keep_alive(true), ignored);
#ifdef __linux__
  const int fd = socket.native_handle();
  const int secs = std::max<int>(1, static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(dead_after).count()));
  const int idle = std::max(1, secs / 3), interval = std::max(1, secs / 6), count = 3;
  const unsigned int user_timeout_ms = static_cast<unsigned int>(secs) * 1000u;
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
  setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof user_timeout_ms);
#endif
}

std::string ms_text(Duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

// The TLS contexts made from one TlsIdentity.
struct Contexts {
  std::shared_ptr<ssl::context> server;       // null without a certificate
  std::shared_ptr<ssl::context> client;       // null without a certificate
  std::shared_ptr<ssl::context> anon_client;  // no certificate, no verification (check_server decides)
  std::optional<PeerIdentity> self;           // what our own certificate says
};

void tls13_only(ssl::context& ctx) {
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_3_VERSION);
  SSL_CTX_set_max_proto_version(ctx.native_handle(), TLS1_3_VERSION);
  SSL_CTX_set_num_tickets(ctx.native_handle(), 0);  // no session resumption: every peer is verified
  SSL_CTX_set_verify_depth(ctx.native_handle(), 8);
  // Send exactly the configured chain (leaf + intermediates), not one OpenSSL builds from the
  // trust store.
  SSL_CTX_set_mode(ctx.native_handle(), SSL_MODE_NO_AUTO_CHAIN);
}

Status load_identity(ssl::context& ctx, const TlsIdentity& id, const char* what) {
  error_code ec;
  ctx.use_certificate_chain(asio::buffer(id.cert_chain_pem), ec);
  if (ec) return Status::invalid_argument(std::string(what) + ": certificate chain: " + ec.message());
  ctx.use_private_key(asio::buffer(id.key_pem), ssl::context::pem, ec);
  if (ec) return Status::invalid_argument(std::string(what) + ": private key: " + ec.message());
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    return Status::invalid_argument(std::string(what) + ": the private key does not match the certificate");
  }
  for (const auto& root : id.trusted_roots_pem) {
    ctx.add_certificate_authority(asio::buffer(root), ec);
    if (ec) return Status::invalid_argument(std::string(what) + ": trusted root: " + ec.message());
  }
  return {};
}

Result<Contexts> make_contexts(const TlsIdentity& id, const EndpointOptions& opts) {
  try {
    Contexts c;
    c.anon_client = std::make_shared<ssl::context>(ssl::context::tls_client);
    tls13_only(*c.anon_client);
    c.anon_client->set_verify_mode(ssl::verify_none);
    if (id.cert_chain_pem.empty()) return c;

    X509* leaf = first_cert(id.cert_chain_pem);
    if (leaf == nullptr) return Status::invalid_argument("this node's certificate is not PEM: " + openssl_errors());
    auto self = identity_of(leaf);
    X509_free(leaf);
    if (!self.ok()) return Status::invalid_argument("this node's certificate: " + self.status().message());
    if (opts.self != 0 && self->node_id != opts.self) {
      return Status::invalid_argument("this node's certificate names node " + ca::node_id_text(self->node_id) +
                                      ", not this node " + ca::node_id_text(opts.self));
    }
    if (self->cluster_id != opts.cluster_id) {
      return Status::invalid_argument("this node's certificate is for cluster '" + self->cluster_id +
                                      "', not '" + opts.cluster_id + "'");
    }
    c.self = *self;
    if (id.trusted_roots_pem.empty()) return Status::invalid_argument("no trusted root certificate given");

    c.server = std::make_shared<ssl::context>(ssl::context::tls_server);
    tls13_only(*c.server);
    if (Status s = load_identity(*c.server, id, "server"); !s.ok()) return s;
    c.server->set_verify_mode(ssl::verify_peer);  // ask for a client certificate, do not require one

    c.client = std::make_shared<ssl::context>(ssl::context::tls_client);
    tls13_only(*c.client);
    if (Status s = load_identity(*c.client, id, "client"); !s.ok()) return s;
    c.client->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    return c;
  } catch (const std::exception& e) {
    return Status::io_error(std::string("TLS setup failed: ") + e.what());
  }
}

}  // namespace

// ---- Connection -------------------------------------------------------------------------------

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  enum class Kind { kInbound, kPeer, kAddress };
  enum class State { kIdle, kBackoff, kConnecting, kOpen, kDraining, kClosed };

  Connection(std::weak_ptr<EndpointImpl> ep, asio::io_context& io, Kind kind, uint32_t max_frame_body)
      : ep_(std::move(ep)), kind_(kind), io_(io), timer_(io), decoder_(max_frame_body) {}

  Kind kind() const { return kind_; }
  State state() const { return state_; }
  bool closed() const { return state_ == State::kClosed; }
  bool open() const { return state_ == State::kOpen; }
  const std::optional<PeerIdentity>& peer() const { return peer_; }
  const std::string& remote() const { return remote_; }
  size_t queued_bytes() const { return outbox_bytes_; }
  std::set<uint64_t>& calls() { return calls_; }

  // Who we expect at the other end (outgoing connections). verify=false: no certificate checks
  // (an anonymous call_address; its check_server decides).
  NodeId expected_node = 0;
  bool verify_server = true;
  std::function<Status(std::string_view)> check_server;
  bool was_open = false;  // the handshake completed at some point

  // The TLS context is taken when the connection starts, so a connection waiting out a backoff
  // uses the identity current when it finally connects. Both may throw (OpenSSL out of memory).
  void start_inbound(tcp::socket socket, std::shared_ptr<ssl::context> ctx, Duration handshake_timeout);
  void start_outbound(std::string host_port, std::shared_ptr<ssl::context> ctx, Duration handshake_timeout);
  // Waits `delay`, then connects to `host_port` with the endpoint's current client identity if
  // anything is queued by then; otherwise goes idle (the next send connects at once).
  void start_backoff(Duration delay, std::string host_port);
  // Appends an encoded frame; false (nothing queued) when closed or over the byte bound.
  bool enqueue(FrameType type, std::string frame, size_t limit);
  // Drops queued frames of one type (raft frames queued for a peer that turned out not to be a
  // manager); returns how many.
  size_t drop_queued(FrameType type);
  bool has_work() const { return !outbox_.empty() || !calls_.empty(); }
  // Closes now. `reason` is logged by the EndpointImpl along with the connection.
  void close(const std::string& reason);
  // Sends what is queued (a refusal, say), then closes; reads meanwhile are ignored.
  void close_after_flush(const std::string& reason);

 private:
  bool verify(bool preverified, ssl::verify_context& vctx);
  void connect_to(const tcp::endpoint& to);
  void handshake(ssl::stream_base::handshake_type type);
  void on_handshake(const error_code& ec);
  void read();
  void write();
  void write_soon();
  void finish_drain();
  std::shared_ptr<EndpointImpl> ep() const { return ep_.lock(); }

  std::weak_ptr<EndpointImpl> ep_;
  Kind kind_;
  State state_ = State::kIdle;
  asio::io_context& io_;
  std::shared_ptr<ssl::context> ctx_;
  std::unique_ptr<ssl::stream<tcp::socket>> stream_;  // made when the connection starts
  asio::steady_timer timer_;  // handshake deadline, backoff delay or drain deadline
  std::unique_ptr<tcp::resolver> resolver_;
  std::string remote_;
  std::string host_port_;
  std::optional<PeerIdentity> peer_;  // set by the verify callback; nullopt = anonymous / unverified
  std::string verify_reason_;
  wire::FrameDecoder decoder_;
  std::array<char, 64 * 1024> read_buf_{};
  struct Queued {
    FrameType type;
    std::string bytes;
  };
  std::deque<Queued> outbox_;
  size_t outbox_bytes_ = 0;
  bool write_posted_ = false;  // a write_soon() is pending
  std::string write_buf_;  // frames being written now (still counted in outbox_bytes_)
  size_t write_frames_ = 0;
  bool writing_ = false;
  std::set<uint64_t> calls_;  // calls whose request went (or will go) out on this connection
  std::string close_reason_;

  friend class EndpointImpl;
};

// ---- EndpointImpl -----------------------------------------------------------------------------

class EndpointImpl : public std::enable_shared_from_this<EndpointImpl> {
 public:
  EndpointImpl(asio::io_context& io, EndpointOptions opts, TlsIdentity identity)
      : io_(io), opts_(std::move(opts)), identity_(std::move(identity)), raft_(this) {
    auto c = make_contexts(identity_, opts_);
    if (c.ok()) {
      ctx_ = std::move(*c);
    } else {
      identity_error_ = c.status();
      // Keep an anonymous client so a node without a usable certificate can still join.
      auto anon = make_contexts(TlsIdentity{}, opts_);
      if (anon.ok()) ctx_ = std::move(*anon);
    }
  }

  Status start();
  void stop();
  uint16_t listen_port() const;
  void set_peer_address(NodeId id, std::string host_port);
  void forget_peer(NodeId id);
  Status set_identity(TlsIdentity identity);
  Transport& raft_transport() { return raft_; }
  void serve(std::string method, Access access, Endpoint::RpcHandler handler) {
    methods_[std::move(method)] = Method{access, std::move(handler)};
  }
  void call(NodeId to, std::string method, std::string body, Duration timeout, Endpoint::Reply done);
  void call_address(std::string host_port, bool anonymous, std::function<Status(std::string_view)> check_server,
                    std::string method, std::string body, Duration timeout, Endpoint::Reply done);
  Endpoint::Stats stats() const;

  // From connections.
  bool verify_identity(Connection& c, const PeerIdentity& id, std::string* reason) const;
  void on_open(const std::shared_ptr<Connection>& c);
  void on_handshake_failed(Connection& c, const std::string& reason, bool refused);
  void on_frame(const std::shared_ptr<Connection>& c, wire::Frame frame);
  void on_bad_frame(Connection& c, const Status& why);
  void on_closed(const std::shared_ptr<Connection>& c, const std::string& reason);
  void finish_call(uint64_t id, Status s, std::string body);
  void count_frames_out(uint64_t n) { frames_out_ += n; }
  std::shared_ptr<ssl::context> client_context() const { return ctx_.client; }
  const EndpointOptions& options() const { return opts_; }
  std::string name() const { return opts_.self != 0 ? ca::node_id_text(opts_.self) : std::string("(no id)"); }

 private:
  class RaftTransport final : public Transport {
   public:
    explicit RaftTransport(EndpointImpl* ep) : ep_(ep) {}
    void send(NodeId to, std::string payload) override { ep_->send_raft(to, std::move(payload)); }
    void set_handler(Handler handler) override { ep_->raft_handler_ = std::move(handler); }

   private:
    EndpointImpl* ep_;
  };

  struct Method {
    Access access;
    Endpoint::RpcHandler handler;
  };
  struct Peer {
    std::string address;
    std::shared_ptr<Connection> conn;
    Duration backoff{0};
    bool reported_down = false;  // a failure was logged; further ones go to debug until a success
    bool reported_full = false;  // a full queue was logged; further drops are only counted
  };
  struct PendingCall {
    Endpoint::Reply done;
    std::unique_ptr<asio::steady_timer> timer;
    std::weak_ptr<Connection> conn;
    std::string what;  // "call 'm' to node x" for messages
  };

  void accept();
  std::shared_ptr<Connection> make_connection(Connection::Kind kind);
  std::shared_ptr<Connection> peer_connection(NodeId to);
  void kick(const std::shared_ptr<Connection>& c, NodeId to);
  void send_raft(NodeId to, std::string payload);
  void handle_request(const std::shared_ptr<Connection>& c, rpcpb::RpcRequest req);
  void handle_response(const std::shared_ptr<Connection>& c, const rpcpb::RpcResponse& resp);
  void send_response(const std::weak_ptr<Connection>& wc, uint64_t id, const Status& s, std::string body);
  void refuse(const std::shared_ptr<Connection>& c, uint64_t rpc_id, const std::string& why);
  uint64_t start_call(const std::shared_ptr<Connection>& c, std::string method, std::string body,
                      Duration timeout, Endpoint::Reply done, std::string what);
  void post_done(Endpoint::Reply done, Status s) {
    asio::post(io_, [done = std::move(done), s = std::move(s)]() { done(s, {}); });
  }
  std::string conn_text(const Connection& c) const;

  asio::io_context& io_;
  EndpointOptions opts_;
  TlsIdentity identity_;
  Contexts ctx_;
  Status identity_error_;
  RaftTransport raft_;
  Transport::Handler raft_handler_;
  std::unique_ptr<tcp::acceptor> acceptor_;
  bool started_ = false;
  bool stopped_ = false;
  uint64_t next_call_id_ = 1;
  std::map<NodeId, Peer> peers_;
  std::set<std::shared_ptr<Connection>> inbound_;
  std::set<std::shared_ptr<Connection>> address_conns_;
  std::map<std::string, Method> methods_;
  std::map<uint64_t, PendingCall> calls_;
  LogLimiter warn_limit_{"net", spdlog::level::warn};

  std::atomic<uint64_t> frames_in_{0}, frames_out_{0}, bad_frames_{0}, refused_handshakes_{0},
      refused_frames_{0}, dropped_queue_full_{0}, connects_{0}, call_timeouts_{0};
};

// ---- Connection: implementation ---------------------------------------------------------------

void Connection::start_inbound(tcp::socket socket, std::shared_ptr<ssl::context> ctx, Duration handshake_timeout) {
  ctx_ = std::move(ctx);
  stream_ = std::make_unique<ssl::stream<tcp::socket>>(std::move(socket), *ctx_);
  error_code ec;
  auto rep = stream_->lowest_layer().remote_endpoint(ec);
  remote_ = ec ? std::string("(unknown)") : rep.address().to_string() + ":" + std::to_string(rep.port());
  state_ = State::kConnecting;
  timer_.expires_after(handshake_timeout);
  timer_.async_wait([self = shared_from_this()](const error_code& e) {
    if (!e && self->state_ == State::kConnecting) self->close("no TLS handshake within the time limit");
  });
  stream_->set_verify_callback([this](bool pre, ssl::verify_context& vctx) { return verify(pre, vctx); });
  handshake(ssl::stream_base::server);
}

void Connection::start_backoff(Duration delay, std::string host_port) {
  state_ = State::kBackoff;
  host_port_ = std::move(host_port);
  timer_.expires_after(delay);
  timer_.async_wait([self = shared_from_this()](const error_code& e) {
    if (e || self->state_ != State::kBackoff) return;
    self->state_ = State::kIdle;
    auto ep = self->ep();
    if (!ep || !self->has_work()) return;
    auto ctx = ep->client_context();
    if (!ctx) return self->close("this node has no certificate");
    try {
      self->start_outbound(self->host_port_, std::move(ctx), ep->options().handshake_timeout);
    } catch (const std::exception& x) {
      self->close(std::string("cannot make a TLS connection: ") + x.what());
    }
  });
}

void Connection::start_outbound(std::string host_port, std::shared_ptr<ssl::context> ctx,
                                Duration handshake_timeout) {
  ctx_ = std::move(ctx);
  stream_ = std::make_unique<ssl::stream<tcp::socket>>(io_, *ctx_);
  host_port_ = std::move(host_port);
  remote_ = host_port_;
  state_ = State::kConnecting;
  timer_.expires_after(handshake_timeout);
  timer_.async_wait([self = shared_from_this()](const error_code& e) {
    if (!e && self->state_ == State::kConnecting) self->close("no connection and TLS handshake within the time limit");
  });
  if (verify_server) {
    stream_->set_verify_callback([this](bool pre, ssl::verify_context& vctx) { return verify(pre, vctx); });
  }
  auto hp = split_host_port(host_port_);
  if (!hp.ok()) {
    // Closing from inside a call the caller is still in would surprise it: close on the loop.
    asio::post(io_, [self = shared_from_this(), why = hp.status().message()]() { self->close(why); });
    return;
  }
  error_code ec;
  const auto addr = asio::ip::make_address(hp->first, ec);
  if (!ec) {
    connect_to(tcp::endpoint(addr, hp->second));
    return;
  }
  resolver_ = std::make_unique<tcp::resolver>(io_);
  resolver_->async_resolve(hp->first, std::to_string(hp->second),
                           [self = shared_from_this()](const error_code& e, tcp::resolver::results_type results) {
                             if (self->state_ != State::kConnecting) return;
                             if (e) return self->close("cannot resolve " + self->host_port_ + ": " + e.message());
                             asio::async_connect(self->stream_->lowest_layer(), results,
                                                 [self](const error_code& e2, const tcp::endpoint&) {
                                                   if (self->state_ != State::kConnecting) return;
                                                   if (e2) return self->close("cannot connect: " + e2.message());
                                                   if (auto ep = self->ep()) {
                                                     set_socket_options(self->stream_->next_layer(),
                                                                        ep->options().dead_peer_timeout);
                                                   }
                                                   self->handshake(ssl::stream_base::client);
                                                 });
                           });
}

void Connection::connect_to(const tcp::endpoint& to) {
  stream_->lowest_layer().async_connect(to, [self = shared_from_this()](const error_code& e) {
    if (self->state_ != State::kConnecting) return;
    if (e) return self->close("cannot connect: " + e.message());
    if (auto ep = self->ep()) set_socket_options(self->stream_->next_layer(), ep->options().dead_peer_timeout);
    self->handshake(ssl::stream_base::client);
  });
}

void Connection::handshake(ssl::stream_base::handshake_type type) {
  stream_->async_handshake(type, [self = shared_from_this()](const error_code& e) { self->on_handshake(e); });
}

// Runs for every certificate of the peer's chain, root first; depth 0 is the peer's own.
bool Connection::verify(bool preverified, ssl::verify_context& vctx) {
  X509_STORE_CTX* sctx = vctx.native_handle();
  const int depth = X509_STORE_CTX_get_error_depth(sctx);
  if (!preverified) {
    const int err = X509_STORE_CTX_get_error(sctx);
    std::string subject;
    if (X509* cert = X509_STORE_CTX_get_current_cert(sctx)) {
      char buf[256];
      X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof buf);
      subject = buf;
    }
    verify_reason_ = "certificate " + (subject.empty() ? std::string() : "'" + subject + "' ") + "(depth " +
                     std::to_string(depth) + ") failed verification: " + X509_verify_cert_error_string(err);
    return false;
  }
  if (depth > 0) return true;
  X509* leaf = X509_STORE_CTX_get_current_cert(sctx);
  auto id = leaf ? identity_of(leaf) : Result<PeerIdentity>(Status::invalid_argument("no certificate"));
  std::string reason;
  auto ep = this->ep();
  if (!id.ok()) {
    reason = id.status().message();
  } else if (!ep) {
    reason = "endpoint stopped";
  } else if (!ep->verify_identity(*this, *id, &reason)) {
    // reason set
  } else {
    peer_ = *id;
    return true;
  }
  verify_reason_ = reason;
  X509_STORE_CTX_set_error(sctx, X509_V_ERR_APPLICATION_VERIFICATION);
  return false;
}

void Connection::on_handshake(const error_code& e) {
  if (state_ != State::kConnecting) return;  // closed meanwhile (timeout, stop)
  auto ep = this->ep();
  if (!ep) return close("endpoint stopped");
  if (e) {
    const bool refused = !verify_reason_.empty() || e.category() == asio::error::get_ssl_category();
    std::string why = verify_reason_;
    if (why.empty()) {
      why = e.message().find("alert") != std::string::npos ? "the peer refused the TLS handshake (" + e.message() + ")"
                                                            : "TLS handshake failed: " + e.message();
    }
    ep->on_handshake_failed(*this, why, refused);
    return close(why);
  }
  timer_.cancel();
  SSL* ssl = stream_->native_handle();
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (verify_server && cert != nullptr && (!peer_ || SSL_get_verify_result(ssl) != X509_V_OK)) {
    // Cannot happen with the verify callback installed; refuse rather than trust it.
    ep->on_handshake_failed(*this, "peer certificate not verified", true);
    return close("peer certificate not verified");
  }
  if (kind_ != Kind::kInbound && verify_server && !peer_) {
    ep->on_handshake_failed(*this, "server presented no verified certificate", true);
    return close("server presented no verified certificate");
  }
  if (check_server) {
    std::string chain;
    if (STACK_OF(X509)* sk = SSL_get_peer_cert_chain(ssl)) {  // client side: leaf first
      for (int i = 0; i < sk_X509_num(sk); ++i) chain += x509_pem(sk_X509_value(sk, i));
    }
    Status s = check_server(chain);
    if (!s.ok()) {
      ep->on_handshake_failed(*this, "server refused by the caller's check: " + s.message(), true);
      for (uint64_t call : std::set<uint64_t>(calls_)) ep->finish_call(call, s, {});
      return close("server refused by the caller's check: " + s.message());
    }
  }
  state_ = State::kOpen;
  was_open = true;
  ep->on_open(shared_from_this());
  if (state_ != State::kOpen) return;
  read();
  if (!outbox_.empty() && !writing_) write();
}

void Connection::read() {
  stream_->async_read_some(asio::buffer(read_buf_), [self = shared_from_this()](const error_code& e, size_t n) {
    if (self->state_ == State::kClosed) return;
    if (e) {
      const bool quiet = e == asio::error::eof || e == ssl::error::stream_truncated ||
                         e == asio::error::connection_reset || e == asio::error::operation_aborted;
      return self->close(quiet ? "connection closed by the peer" : "read failed: " + e.message());
    }
    if (self->state_ == State::kDraining) return self->read();  // ignore what arrives after a refusal
    auto ep = self->ep();
    if (!ep) return self->close("endpoint stopped");
    Status s = self->decoder_.feed(std::string_view(self->read_buf_.data(), n));
    if (!s.ok()) {
      ep->on_bad_frame(*self, s);
      return self->close(s.message());
    }
    while (self->state_ == State::kOpen) {
      auto f = self->decoder_.next();
      if (!f) break;
      ep->on_frame(self, std::move(*f));
    }
    if (self->state_ == State::kOpen || self->state_ == State::kDraining) self->read();
  });
}

bool Connection::enqueue(FrameType type, std::string frame, size_t limit) {
  if (state_ == State::kClosed || state_ == State::kDraining) return false;
  if (outbox_bytes_ + frame.size() > limit) return false;
  outbox_bytes_ += frame.size();
  outbox_.push_back({type, std::move(frame)});
  if (state_ == State::kOpen && !writing_) write_soon();
  return true;
}

// Frames queued in one turn of the loop (a leader's appends, a burst of forwarded writes) leave
// in one write at the end of the turn, rather than the first alone and the rest after it.
void Connection::write_soon() {
  if (write_posted_) return;
  write_posted_ = true;
  asio::post(io_, [self = shared_from_this()] {
    self->write_posted_ = false;
    // Draining: a refusal queued just before close_after_flush() still goes out.
    const bool may_write = self->state_ == State::kOpen || self->state_ == State::kDraining;
    if (may_write && !self->writing_ && !self->outbox_.empty()) self->write();
  });
}

size_t Connection::drop_queued(FrameType type) {
  size_t dropped = 0;
  for (auto it = outbox_.begin(); it != outbox_.end();) {
    // While a write is in progress, its frames are the first write_frames_ entries: keep them.
    if (it->type == type && !(writing_ && static_cast<size_t>(it - outbox_.begin()) < write_frames_)) {
      outbox_bytes_ -= it->bytes.size();
      it = outbox_.erase(it);
      ++dropped;
    } else {
      ++it;
    }
  }
  return dropped;
}

void Connection::write() {
  // Batch small frames into one TLS write; at least one frame, at most ~256 KiB otherwise.
  constexpr size_t kBatch = 256 * 1024;
  write_buf_.clear();
  write_frames_ = 0;
  for (const auto& q : outbox_) {
    if (write_frames_ > 0 && write_buf_.size() + q.bytes.size() > kBatch) break;
    write_buf_ += q.bytes;
    ++write_frames_;
  }
  writing_ = true;
  asio::async_write(*stream_, asio::buffer(write_buf_), [self = shared_from_this()](const error_code& e, size_t) {
    self->writing_ = false;
    if (self->state_ == State::kClosed) return;
    if (e) return self->close("write failed: " + e.message());
    for (size_t i = 0; i < self->write_frames_; ++i) {
      self->outbox_bytes_ -= self->outbox_.front().bytes.size();
      self->outbox_.pop_front();
    }
    if (auto ep = self->ep()) ep->count_frames_out(self->write_frames_);
    self->write_frames_ = 0;
    if (!self->outbox_.empty()) return self->write();
    if (self->state_ == State::kDraining) self->finish_drain();
  });
}

void Connection::close_after_flush(const std::string& reason) {
  if (state_ == State::kClosed || state_ == State::kDraining) return;
  if (state_ != State::kOpen) return close(reason);
  state_ = State::kDraining;
  close_reason_ = reason;
  if (!writing_ && outbox_.empty()) finish_drain();
}

void Connection::finish_drain() {
  // Our side is done: half-close so the peer reads the refusal, then close for good when the
  // peer closes or after a short grace period.
  error_code ignored;
  stream_->lowest_layer().shutdown(tcp::socket::shutdown_send, ignored);
  timer_.expires_after(std::chrono::seconds(1));
  timer_.async_wait([self = shared_from_this()](const error_code& e) {
    if (!e) self->close(self->close_reason_);
  });
}

void Connection::close(const std::string& reason) {
  if (state_ == State::kClosed) return;
  const bool draining = state_ == State::kDraining;
  state_ = State::kClosed;
  error_code ignored;
  timer_.cancel();
  if (resolver_) resolver_->cancel();
  if (stream_) stream_->lowest_layer().close(ignored);
  if (auto ep = this->ep()) ep->on_closed(shared_from_this(), draining ? close_reason_ : reason);
}

// ---- EndpointImpl: implementation -------------------------------------------------------------

std::string EndpointImpl::conn_text(const Connection& c) const {
  switch (c.kind()) {
    case Connection::Kind::kInbound:
      if (c.peer()) return "connection from " + c.remote() + " (" + describe(*c.peer()) + ")";
      return "connection from " + c.remote() + (c.was_open ? " (no certificate)" : "");
    case Connection::Kind::kPeer:
      return "connection to node " + ca::node_id_text(c.expected_node) + " at " + c.remote();
    case Connection::Kind::kAddress:
      return "connection to " + c.remote();
  }
  return "connection";
}

Status EndpointImpl::start() {
  if (!identity_error_.ok()) return identity_error_;
  if (started_) return Status::failed_precondition("endpoint already started");
  if (stopped_) return Status::failed_precondition("endpoint was stopped; make a new one");
  started_ = true;
  if (opts_.listen_address.empty()) return {};
  if (!ctx_.server) return Status::failed_precondition("cannot listen without a node certificate");
  auto hp = split_host_port(opts_.listen_address);
  if (!hp.ok()) return hp.status();
  error_code ec;
  const auto addr = asio::ip::make_address(hp->first, ec);
  if (ec) return Status::invalid_argument("listen address '" + opts_.listen_address + "': " + ec.message());
  const tcp::endpoint at(addr, hp->second);
  auto acceptor = std::make_unique<tcp::acceptor>(io_);
  if (acceptor->open(at.protocol(), ec); ec) {
    return Status::io_error("cannot open a socket for " + opts_.listen_address + ": " + ec.message());
  }
  acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (acceptor->bind(at, ec); ec) {
    std::string hint = ec == asio::error::address_in_use ? " (is another node already listening there?)" : "";
    return Status::io_error("cannot listen on " + opts_.listen_address + ": " + ec.message() + hint);
  }
  if (acceptor->listen(asio::socket_base::max_listen_connections, ec); ec) {
    return Status::io_error("cannot listen on " + opts_.listen_address + ": " + ec.message());
  }
  acceptor_ = std::move(acceptor);
  spdlog::info("net {}: {} of cluster {} listening on {}:{}", name(),
               ctx_.self ? std::string(ca::role_ou(ctx_.self->role)) : std::string("no certificate"), opts_.cluster_id, hp->first,
               listen_port());
  accept();
  return {};
}

void EndpointImpl::accept() {
  acceptor_->async_accept([w = weak_from_this()](const error_code& e, tcp::socket socket) {
    auto self = w.lock();
    if (!self || self->stopped_ || !self->acceptor_) return;
    if (e) {
      if (e == asio::error::operation_aborted) return;
      spdlog::warn("net {}: accept failed: {}; retrying in 100 ms", self->name(), e.message());
      auto timer = std::make_shared<asio::steady_timer>(self->io_, std::chrono::milliseconds(100));
      timer->async_wait([w, timer](const error_code&) {
        if (auto s = w.lock(); s && !s->stopped_ && s->acceptor_) s->accept();
      });
      return;
    }
    if (self->inbound_.size() >= self->opts_.max_inbound_connections) {
      if (self->warn_limit_.allow()) {
        spdlog::warn("net {}: refusing a connection: {} inbound connections is the limit", self->name(),
                     self->opts_.max_inbound_connections);
      }
      error_code ignored;
      socket.close(ignored);
    } else if (self->ctx_.server) {
      set_socket_options(socket, self->opts_.dead_peer_timeout);
      auto c = self->make_connection(Connection::Kind::kInbound);
      self->inbound_.insert(c);
      try {
        c->start_inbound(std::move(socket), self->ctx_.server, self->opts_.handshake_timeout);
      } catch (const std::exception& x) {
        c->close(std::string("cannot make a TLS connection: ") + x.what());
      }
    }
    self->accept();
  });
}

std::shared_ptr<Connection> EndpointImpl::make_connection(Connection::Kind kind) {
  const auto max_body = static_cast<uint32_t>(std::min<size_t>(opts_.max_frame_body, UINT32_MAX));
  return std::make_shared<Connection>(weak_from_this(), io_, kind, max_body);
}

void EndpointImpl::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (acceptor_) {
    error_code ignored;
    acceptor_->close(ignored);
    acceptor_.reset();
  }
  std::vector<std::shared_ptr<Connection>> all(inbound_.begin(), inbound_.end());
  all.insert(all.end(), address_conns_.begin(), address_conns_.end());
  for (auto& [id, p] : peers_) {
    if (p.conn) all.push_back(p.conn);
  }
  for (auto& c : all) c->close("endpoint stopped");
  peers_.clear();
  inbound_.clear();
  address_conns_.clear();
  std::vector<uint64_t> ids;
  for (const auto& [id, call] : calls_) ids.push_back(id);
  for (uint64_t id : ids) finish_call(id, Status::unavailable("the endpoint was stopped"), {});
}

uint16_t EndpointImpl::listen_port() const {
  if (!acceptor_) return 0;
  error_code ec;
  auto ep = acceptor_->local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void EndpointImpl::set_peer_address(NodeId id, std::string host_port) {
  Peer& p = peers_[id];
  if (p.address == host_port) return;
  p.address = std::move(host_port);
  p.backoff = Duration{0};
  if (auto c = std::move(p.conn)) c->close("the peer's address changed");
}

void EndpointImpl::forget_peer(NodeId id) {
  auto it = peers_.find(id);
  if (it == peers_.end()) return;
  auto c = std::move(it->second.conn);
  peers_.erase(it);
  if (c) c->close("peer forgotten");
}

Status EndpointImpl::set_identity(TlsIdentity identity) {
  auto c = make_contexts(identity, opts_);
  if (!c.ok()) {
    spdlog::error("net {}: new TLS identity refused, keeping the current one: {}", name(), c.status().message());
    return c.status();
  }
  const bool had_server = ctx_.server != nullptr;
  ctx_ = std::move(*c);
  identity_ = std::move(identity);
  identity_error_ = {};
  spdlog::info("net {}: new TLS identity ({} trusted root(s)) for new connections", name(),
               identity_.trusted_roots_pem.size());
  if (!had_server && started_ && !stopped_ && !acceptor_ && !opts_.listen_address.empty()) {
    spdlog::warn("net {}: a certificate arrived after start(); call start() on a new endpoint to listen", name());
  }
  return {};
}

bool EndpointImpl::verify_identity(Connection& c, const PeerIdentity& id, std::string* reason) const {
  if (id.cluster_id != opts_.cluster_id) {
    *reason = "certificate of " + describe(id) + " is for cluster '" + id.cluster_id + "', not '" +
              opts_.cluster_id + "'";
    return false;
  }
  if (c.kind() == Connection::Kind::kPeer && id.node_id != c.expected_node) {
    *reason = "its certificate names " + describe(id) + ", not node " + ca::node_id_text(c.expected_node);
    return false;
  }
  return true;
}

void EndpointImpl::on_handshake_failed(Connection& c, const std::string& reason, bool refused) {
  if (refused) ++refused_handshakes_;
  if (c.kind() == Connection::Kind::kPeer) {
    auto it = peers_.find(c.expected_node);
    if (it != peers_.end() && it->second.conn.get() == &c) {
      if (!it->second.reported_down || refused) {
        spdlog::warn("net {}: {}: {}", name(), conn_text(c), reason);
        it->second.reported_down = true;
      } else {
        spdlog::debug("net {}: {}: {}", name(), conn_text(c), reason);
      }
      return;
    }
  }
  if (warn_limit_.allow()) spdlog::warn("net {}: refused {}: {}", name(), conn_text(c), reason);
}

void EndpointImpl::on_open(const std::shared_ptr<Connection>& c) {
  ++connects_;
  if (c->kind() == Connection::Kind::kPeer) {
    auto it = peers_.find(c->expected_node);
    if (it != peers_.end() && it->second.conn == c) {
      it->second.backoff = Duration{0};
      it->second.reported_down = false;
    }
    spdlog::info("net {}: connected to {} at {}", name(), describe(c->peer()), c->remote());
    if (c->peer() && c->peer()->role != NodeRole::kManager) {
      if (size_t n = c->drop_queued(FrameType::kRaft); n > 0) {
        refused_frames_ += n;
        spdlog::warn("net {}: dropped {} raft frame(s) for {}: raft travels only between managers", name(), n,
                     describe(c->peer()));
      }
    }
  } else if (c->kind() == Connection::Kind::kInbound) {
    spdlog::debug("net {}: accepted {}", name(), conn_text(*c));
  }
}

void EndpointImpl::on_bad_frame(Connection& c, const Status& why) {
  ++bad_frames_;
  if (warn_limit_.allow()) spdlog::warn("net {}: closing {}: {}", name(), conn_text(c), why.message());
}

void EndpointImpl::on_closed(const std::shared_ptr<Connection>& c, const std::string& reason) {
  const std::string failure = c->was_open ? "connection lost before the reply (" + reason + ")"
                                          : "cannot reach " + c->remote() + ": " + reason;
  for (uint64_t id : std::set<uint64_t>(c->calls())) finish_call(id, Status::unavailable(failure), {});
  switch (c->kind()) {
    case Connection::Kind::kInbound:
      inbound_.erase(c);
      if (c->was_open) spdlog::debug("net {}: {} closed: {}", name(), conn_text(*c), reason);
      return;
    case Connection::Kind::kAddress:
      address_conns_.erase(c);
      return;
    case Connection::Kind::kPeer:
      break;
  }
  auto it = peers_.find(c->expected_node);
  if (it == peers_.end() || it->second.conn != c || stopped_) return;
  Peer& p = it->second;
  if (c->was_open) {
    spdlog::info("net {}: {} closed: {}", name(), conn_text(*c), reason);
    p.backoff = opts_.reconnect_min;
  } else {
    p.backoff = p.backoff.count() == 0 ? opts_.reconnect_min : std::min(p.backoff * 2, opts_.reconnect_max);
    if (!p.reported_down) {
      spdlog::warn("net {}: {}: {}; retrying with backoff up to {}", name(), conn_text(*c), reason,
                   ms_text(opts_.reconnect_max));
      p.reported_down = true;
    }
  }
  // The next attempt: a fresh connection that waits out the backoff, queueing meanwhile.
  p.conn = nullptr;
  auto next = make_connection(Connection::Kind::kPeer);
  next->expected_node = it->first;
  next->start_backoff(p.backoff, p.address);
  p.conn = std::move(next);
}

std::shared_ptr<Connection> EndpointImpl::peer_connection(NodeId to) {
  auto it = peers_.find(to);
  if (it == peers_.end() || it->second.address.empty()) return nullptr;
  Peer& p = it->second;
  if (!ctx_.client) return nullptr;
  if (!p.conn || p.conn->closed()) {
    p.conn = make_connection(Connection::Kind::kPeer);
    p.conn->expected_node = to;
  }
  return p.conn;
}

void EndpointImpl::kick(const std::shared_ptr<Connection>& c, NodeId to) {
  if (c->state() != Connection::State::kIdle) return;
  auto it = peers_.find(to);
  if (it == peers_.end()) return;
  try {
    c->start_outbound(it->second.address, ctx_.client, opts_.handshake_timeout);
  } catch (const std::exception& x) {
    c->close(std::string("cannot make a TLS connection: ") + x.what());
  }
}

void EndpointImpl::send_raft(NodeId to, std::string payload) {
  if (stopped_) return;
  if (payload.size() > opts_.max_frame_body) {
    spdlog::error("net {}: raft message of {} bytes to node {} exceeds the frame limit of {}; dropped", name(),
                  payload.size(), ca::node_id_text(to), opts_.max_frame_body);
    return;
  }
  auto c = peer_connection(to);
  if (!c) {
    spdlog::debug("net {}: raft message to node {} dropped: no address or no certificate", name(),
                  ca::node_id_text(to));
    return;
  }
  if (c->open() && c->peer() && c->peer()->role != NodeRole::kManager) {
    ++refused_frames_;
    spdlog::debug("net {}: raft message to {} dropped: raft travels only between managers", name(),
                  describe(c->peer()));
    return;
  }
  Peer& p = peers_[to];
  if (!c->enqueue(FrameType::kRaft, wire::encode_frame(FrameType::kRaft, payload), opts_.max_queued_bytes_per_peer)) {
    ++dropped_queue_full_;
    if (!p.reported_full) {
      spdlog::warn("net {}: send queue to node {} is full ({} bytes); dropping raft messages", name(),
                   ca::node_id_text(to), c->queued_bytes());
      p.reported_full = true;
    }
    return;
  }
  p.reported_full = false;
  kick(c, to);
}

void EndpointImpl::on_frame(const std::shared_ptr<Connection>& c, wire::Frame frame) {
  ++frames_in_;
  switch (frame.type) {
    case FrameType::kRaft: {
      if (!c->peer()) return refuse(c, 0, "a raft frame from a connection without a certificate");
      if (c->peer()->role != NodeRole::kManager) {
        return refuse(c, 0, "a raft frame from a " + std::string(ca::role_ou(c->peer()->role)) +
                                " certificate (raft is for managers)");
      }
      if (raft_handler_) {
        const PeerIdentity from = *c->peer();  // the connection may close inside the handler
        raft_handler_(from, frame.body);
      }
      return;
    }
    case FrameType::kGossip:
      ++refused_frames_;
      spdlog::debug("net {}: gossip frame from {} ignored (no gossip yet)", name(), conn_text(*c));
      return;
    case FrameType::kRpc: {
      rpcpb::RpcFrame msg;
      if (!msg.ParseFromString(frame.body) || msg.kind_case() == rpcpb::RpcFrame::KIND_NOT_SET) {
        on_bad_frame(*c, Status::invalid_argument("an RPC frame that does not parse"));
        return c->close("an RPC frame that does not parse");
      }
      if (msg.has_request()) return handle_request(c, std::move(*msg.mutable_request()));
      return handle_response(c, msg.response());
    }
  }
}

// Sends a permission_denied reply (for an RPC) and closes the connection after it.
void EndpointImpl::refuse(const std::shared_ptr<Connection>& c, uint64_t rpc_id, const std::string& why) {
  ++refused_frames_;
  if (warn_limit_.allow()) spdlog::warn("net {}: closing {}: refused {}", name(), conn_text(*c), why);
  if (rpc_id != 0) send_response(c, rpc_id, Status::permission_denied("refused " + why), {});
  c->close_after_flush("refused " + why);
}

void EndpointImpl::handle_request(const std::shared_ptr<Connection>& c, rpcpb::RpcRequest req) {
  const uint64_t id = req.id();
  auto m = methods_.find(req.method());
  if (!c->peer()) {
    if (m == methods_.end() || m->second.access != Access::kAnonymous) {
      return refuse(c, id, "a call of '" + req.method() +
                               "' from a connection without a certificate (such a connection may only "
                               "fetch the CA and join)");
    }
  } else if (m == methods_.end()) {
    return send_response(c, id, Status::not_found("node " + name() + " serves no method '" + req.method() + "'"), {});
  } else if (m->second.access == Access::kManagerOnly && c->peer()->role != NodeRole::kManager) {
    ++refused_frames_;
    spdlog::info("net {}: '{}' refused to {}: needs a manager certificate", name(), req.method(),
                 describe(*c->peer()));
    return send_response(c, id,
                         Status::permission_denied(
                             "this operation needs a manager certificate (OU=swarm-manager); the caller presented " +
                             std::string(ca::role_ou(c->peer()->role))),
                         {});
  }
  std::optional<PeerIdentity> from = c->peer();
  auto once = std::make_shared<bool>(false);
  Endpoint::Reply reply = [w = weak_from_this(), wc = std::weak_ptr<Connection>(c), id, once,
                           method = req.method()](Status s, std::string body) {
    SHOAL_CHECK(!*once, "RPC handler for '%s' replied twice", method.c_str());
    *once = true;
    if (auto self = w.lock()) self->send_response(wc, id, s, std::move(body));
  };
  // Copy the handler: it may replace itself (serve) while running.
  Endpoint::RpcHandler handler = m->second.handler;
  handler(from ? &*from : nullptr, std::move(*req.mutable_body()), std::move(reply));
}

void EndpointImpl::send_response(const std::weak_ptr<Connection>& wc, uint64_t id, const Status& s, std::string body) {
  auto c = wc.lock();
  if (!c || !c->open() || stopped_) {
    spdlog::debug("net {}: reply to call {} dropped: the caller's connection is gone", name(), id);
    return;
  }
  rpcpb::RpcFrame msg;
  auto* resp = msg.mutable_response();
  resp->set_id(id);
  if (s.ok() && body.size() + 64 > opts_.max_frame_body) {
    resp->set_code(static_cast<int32_t>(StatusCode::kInvalidArgument));
    resp->set_message("the reply of " + std::to_string(body.size()) + " bytes exceeds the frame limit");
  } else {
    resp->set_code(static_cast<int32_t>(s.code()));
    if (!s.ok()) resp->set_message(s.message());
    if (s.ok()) resp->set_body(std::move(body));
  }
  std::string frame = wire::encode_frame(FrameType::kRpc, msg.SerializeAsString());
  if (!c->enqueue(FrameType::kRpc, std::move(frame), opts_.max_queued_bytes_per_peer)) {
    ++dropped_queue_full_;
    spdlog::warn("net {}: reply to call {} dropped: the send queue of {} is full", name(), id, conn_text(*c));
  }
}

void EndpointImpl::handle_response(const std::shared_ptr<Connection>& c, const rpcpb::RpcResponse& resp) {
  auto it = calls_.find(resp.id());
  if (it == calls_.end() || it->second.conn.lock() != c) {
    spdlog::debug("net {}: reply to unknown call {} from {} (timed out?)", name(), resp.id(), conn_text(*c));
    return;
  }
  Status s;
  const int32_t code = resp.code();
  if (code < 0 || code > static_cast<int32_t>(StatusCode::kDeadlineExceeded)) {
    s = Status::io_error("peer replied with unknown status code " + std::to_string(code) + ": " + resp.message());
  } else if (code != 0) {
    s = Status(static_cast<StatusCode>(code), resp.message());
  }
  finish_call(resp.id(), std::move(s), resp.body());
  if (c->kind() == Connection::Kind::kAddress && c->calls().empty()) c->close("call finished");
}

uint64_t EndpointImpl::start_call(const std::shared_ptr<Connection>& c, std::string method, std::string body,
                                  Duration timeout, Endpoint::Reply done, std::string what) {
  const uint64_t id = next_call_id_++;
  rpcpb::RpcFrame msg;
  auto* req = msg.mutable_request();
  req->set_id(id);
  req->set_method(std::move(method));
  req->set_body(std::move(body));
  std::string frame = wire::encode_frame(FrameType::kRpc, msg.SerializeAsString());
  if (frame.size() - wire::kFrameHeaderSize > opts_.max_frame_body) {
    post_done(std::move(done), Status::invalid_argument(what + ": request exceeds the frame limit of " +
                                                        std::to_string(opts_.max_frame_body) + " bytes"));
    return 0;
  }
  if (!c->enqueue(FrameType::kRpc, std::move(frame), opts_.max_queued_bytes_per_peer)) {
    ++dropped_queue_full_;
    post_done(std::move(done), Status::unavailable(what + ": the send queue is full"));
    return 0;
  }
  PendingCall pc;
  pc.done = std::move(done);
  pc.conn = c;
  pc.what = what;
  pc.timer = std::make_unique<asio::steady_timer>(io_, timeout);
  pc.timer->async_wait([w = weak_from_this(), id, timeout](const error_code& e) {
    if (e) return;
    auto self = w.lock();
    if (!self) return;
    auto it = self->calls_.find(id);
    if (it == self->calls_.end()) return;
    ++self->call_timeouts_;
    std::string what = it->second.what;
    spdlog::info("net {}: {} timed out after {}", self->name(), what, ms_text(timeout));
    auto conn = it->second.conn.lock();
    self->finish_call(id, Status::deadline_exceeded(what + ": no reply within " + ms_text(timeout)), {});
    if (conn && conn->kind() == Connection::Kind::kAddress && conn->calls().empty()) conn->close("call timed out");
  });
  calls_.emplace(id, std::move(pc));
  c->calls().insert(id);
  return id;
}

void EndpointImpl::finish_call(uint64_t id, Status s, std::string body) {
  auto it = calls_.find(id);
  if (it == calls_.end()) return;
  PendingCall pc = std::move(it->second);
  calls_.erase(it);
  pc.timer->cancel();
  if (auto c = pc.conn.lock()) c->calls().erase(id);
  // Always later, on the loop: never inside a method the caller is running.
  asio::post(io_, [done = std::move(pc.done), s = std::move(s), body = std::move(body)]() mutable {
    done(std::move(s), std::move(body));
  });
}

void EndpointImpl::call(NodeId to, std::string method, std::string body, Duration timeout, Endpoint::Reply done) {
  std::string what = "call '" + method + "' to node " + ca::node_id_text(to);
  if (stopped_) return post_done(std::move(done), Status::unavailable(what + ": endpoint stopped"));
  if (!ctx_.client) {
    return post_done(std::move(done),
                     Status::failed_precondition(what + ": this node has no certificate (join the cluster first)"));
  }
  auto c = peer_connection(to);
  if (!c) return post_done(std::move(done), Status::unavailable(what + ": no address known for that node"));
  if (start_call(c, std::move(method), std::move(body), timeout, std::move(done), std::move(what)) != 0) kick(c, to);
}

void EndpointImpl::call_address(std::string host_port, bool anonymous,
                                std::function<Status(std::string_view)> check_server, std::string method,
                                std::string body, Duration timeout, Endpoint::Reply done) {
  std::string what = "call '" + method + "' to " + host_port;
  if (stopped_) return post_done(std::move(done), Status::unavailable(what + ": endpoint stopped"));
  auto ctx = anonymous ? ctx_.anon_client : ctx_.client;
  if (!ctx) {
    return post_done(std::move(done),
                     Status::failed_precondition(what + ": this node has no certificate (call anonymously)"));
  }
  auto c = make_connection(Connection::Kind::kAddress);
  c->verify_server = !anonymous;
  c->check_server = std::move(check_server);
  if (start_call(c, std::move(method), std::move(body), timeout, std::move(done), std::move(what)) == 0) return;
  address_conns_.insert(c);
  try {
    c->start_outbound(std::move(host_port), std::move(ctx), std::min(timeout, opts_.handshake_timeout));
  } catch (const std::exception& x) {
    c->close(std::string("cannot make a TLS connection: ") + x.what());
  }
}

Endpoint::Stats EndpointImpl::stats() const {
  Endpoint::Stats s;
  s.frames_in = frames_in_;
  s.frames_out = frames_out_;
  s.bad_frames = bad_frames_;
  s.refused_handshakes = refused_handshakes_;
  s.refused_frames = refused_frames_;
  s.dropped_queue_full = dropped_queue_full_;
  s.connects = connects_;
  s.call_timeouts = call_timeouts_;
  return s;
}

}  // namespace internal

// ---- Endpoint ---------------------------------------------------------------------------------

Endpoint::Endpoint(asio::io_context& io, EndpointOptions options, TlsIdentity identity)
    : impl_(std::make_shared<internal::EndpointImpl>(io, std::move(options), std::move(identity))) {}
Endpoint::~Endpoint() { impl_->stop(); }
Status Endpoint::start() { return impl_->start(); }
void Endpoint::stop() { impl_->stop(); }
uint16_t Endpoint::listen_port() const { return impl_->listen_port(); }
void Endpoint::set_peer_address(NodeId id, std::string host_port) { impl_->set_peer_address(id, std::move(host_port)); }
void Endpoint::forget_peer(NodeId id) { impl_->forget_peer(id); }
Status Endpoint::set_identity(TlsIdentity identity) { return impl_->set_identity(std::move(identity)); }
Transport& Endpoint::raft_transport() { return impl_->raft_transport(); }
void Endpoint::serve(std::string method, Access access, RpcHandler handler) {
  impl_->serve(std::move(method), access, std::move(handler));
}
void Endpoint::call(NodeId to, std::string method, std::string body, Duration timeout, Reply done) {
  impl_->call(to, std::move(method), std::move(body), timeout, std::move(done));
}
void Endpoint::call_address(std::string host_port, bool anonymous,
                            std::function<Status(std::string_view)> check_server, std::string method,
                            std::string body, Duration timeout, Reply done) {
  impl_->call_address(std::move(host_port), anonymous, std::move(check_server), std::move(method), std::move(body),
                      timeout, std::move(done));
}
Endpoint::Stats Endpoint::stats() const { return impl_->stats(); }

}  // namespace shoal::net
