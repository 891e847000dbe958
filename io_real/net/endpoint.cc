// The Endpoint on Boost.Asio and OpenSSL. Layout of this file:
//   helpers      addresses, certificate subjects and chains, TLS contexts, log limiting
//   Connection   one TLS connection: handshake (with the identity check in the verify callback),
//                read loop into a FrameDecoder, a bounded outbox written in batches, closing
//   EndpointImpl peers, the listener, the raft Transport and the RpcWire (channels are connections)
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

#include "core/ca/node_identity.h"
#include "core/env/check.h"
#include "core/wire/frame.h"
#include "io_real/net/host_port.h"
#include "io_real/net/log_limiter.h"

namespace shoal::real {

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
    if (!opts.cluster_id.empty() && self->cluster_id != opts.cluster_id) {
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
  // Its RpcWire channel id; and once closed, why (the refusal's own Status when the caller's
  // check refused the server, else unavailable).
  RpcWire::ChannelId id = 0;
  const Status& lost() const { return lost_; }

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
  bool has_work() const { return !outbox_.empty(); }
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
  std::string close_reason_;
  Status lost_;

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
      adopt_self();
    } else {
      identity_error_ = c.status();
      // Keep an anonymous client so a node without a usable certificate can still join.
      auto anon = make_contexts(TlsIdentity{}, opts_);
      if (anon.ok()) ctx_ = std::move(*anon);
    }
  }

  Status start();
  Status listen(const std::string& address) {
    opts_.listen_address = address;
    return start();
  }
  void stop();
  uint16_t listen_port() const;
  void set_peer_address(NodeId id, std::string host_port);
  void forget_peer(NodeId id);
  Status set_identity(TlsIdentity identity);
  Transport& raft_transport() { return raft_; }
  RpcWire& rpc_wire() { return wire_; }
  Endpoint::Stats stats() const;

  // From connections.
  bool verify_identity(Connection& c, const PeerIdentity& id, std::string* reason) const;
  void on_open(const std::shared_ptr<Connection>& c);
  void on_handshake_failed(Connection& c, const std::string& reason, bool refused);
  void on_frame(const std::shared_ptr<Connection>& c, wire::Frame frame);
  void on_bad_frame(Connection& c, const Status& why);
  void on_closed(const std::shared_ptr<Connection>& c, const std::string& reason);
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

  // The RpcWire: every connection is a channel.
  class Wire final : public RpcWire {
   public:
    explicit Wire(EndpointImpl* ep) : ep_(ep) {}
    void set_events(Events events) override { ep_->rpc_events_ = std::move(events); }
    Result<ChannelId> channel_to(NodeId to) override { return ep_->channel_to(to); }
    Result<ChannelId> open_channel(const std::string& address, bool anonymous, ServerCheck check,
                                   Duration connect_timeout) override {
      return ep_->open_channel(address, anonymous, std::move(check), connect_timeout);
    }
    Status send(ChannelId channel, std::string frame) override { return ep_->send_rpc(channel, std::move(frame)); }
    void close(ChannelId channel) override { ep_->close_channel(channel); }

   private:
    EndpointImpl* ep_;
  };

  struct Peer {
    std::string address;
    std::shared_ptr<Connection> conn;
    Duration backoff{0};
    bool reported_down = false;  // a failure was logged; further ones go to debug until a success
    bool reported_full = false;  // a full queue was logged; further drops are only counted
  };
  void accept();
  std::shared_ptr<Connection> make_connection(Connection::Kind kind);
  std::shared_ptr<Connection> peer_connection(NodeId to);
  void kick(const std::shared_ptr<Connection>& c, NodeId to);
  void send_raft(NodeId to, std::string payload);
  Result<RpcWire::ChannelId> channel_to(NodeId to);
  Result<RpcWire::ChannelId> open_channel(const std::string& address, bool anonymous, RpcWire::ServerCheck check,
                                          Duration connect_timeout);
  Status send_rpc(RpcWire::ChannelId channel, std::string frame);
  void close_channel(RpcWire::ChannelId channel);
  // Refuses what a connection sent (a raft frame it may not send) and closes it.
  void refuse(const std::shared_ptr<Connection>& c, const std::string& why);
  std::string conn_text(const Connection& c) const;
  // A node made before it had an identity takes its id and cluster from its first certificate.
  void adopt_self() {
    if (!ctx_.self) return;
    if (opts_.self == 0) opts_.self = ctx_.self->node_id;
    if (opts_.cluster_id.empty()) opts_.cluster_id = ctx_.self->cluster_id;
  }

  asio::io_context& io_;
  EndpointOptions opts_;
  TlsIdentity identity_;
  Contexts ctx_;
  Status identity_error_;
  RaftTransport raft_;
  Transport::Handler raft_handler_;
  Wire wire_{this};
  RpcWire::Events rpc_events_;
  std::map<RpcWire::ChannelId, std::weak_ptr<Connection>> channels_;
  RpcWire::ChannelId next_channel_ = 1;
  std::unique_ptr<tcp::acceptor> acceptor_;
  bool started_ = false;
  bool stopped_ = false;
  std::map<NodeId, Peer> peers_;
  std::set<std::shared_ptr<Connection>> inbound_;
  std::set<std::shared_ptr<Connection>> address_conns_;
  LogLimiter warn_limit_{"net", spdlog::level::warn};

  std::atomic<uint64_t> frames_in_{0}, frames_out_{0}, bad_frames_{0}, refused_handshakes_{0},
      refused_frames_{0}, dropped_queue_full_{0}, connects_{0};
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
      lost_ = s;
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
  auto c = std::make_shared<Connection>(weak_from_this(), io_, kind, max_body);
  c->id = next_channel_++;
  channels_[c->id] = c;
  return c;
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
  channels_.clear();
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
  adopt_self();
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
  channels_.erase(c->id);
  if (rpc_events_.on_lost) {
    const std::string failure = c->was_open ? "connection lost before the reply (" + reason + ")"
                                            : "cannot reach " + c->remote() + ": " + reason;
    rpc_events_.on_lost(c->id, c->lost().ok() ? Status::unavailable(failure) : c->lost());
  }
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
      if (!c->peer()) return refuse(c, "a raft frame from a connection without a certificate");
      if (c->peer()->role != NodeRole::kManager) {
        return refuse(c, "a raft frame from a " + std::string(ca::role_ou(c->peer()->role)) +
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
      if (!rpc_events_.on_frame) return;
      const std::optional<PeerIdentity> from = c->peer();  // the connection may close inside
      rpc_events_.on_frame(c->id, from ? &*from : nullptr, frame.body);
      return;
    }
  }
}

void EndpointImpl::refuse(const std::shared_ptr<Connection>& c, const std::string& why) {
  ++refused_frames_;
  if (warn_limit_.allow()) spdlog::warn("net {}: closing {}: refused {}", name(), conn_text(*c), why);
  c->close_after_flush("refused " + why);
}

Result<RpcWire::ChannelId> EndpointImpl::channel_to(NodeId to) {
  if (stopped_) return Status::unavailable("the endpoint is stopped");
  if (!ctx_.client) return Status::failed_precondition("this node has no certificate (join the cluster first)");
  auto c = peer_connection(to);
  if (!c) return Status::unavailable("no address known for that node");
  return c->id;
}

Result<RpcWire::ChannelId> EndpointImpl::open_channel(const std::string& address, bool anonymous,
                                                      RpcWire::ServerCheck check, Duration connect_timeout) {
  if (stopped_) return Status::unavailable("the endpoint is stopped");
  auto ctx = anonymous ? ctx_.anon_client : ctx_.client;
  if (!ctx) return Status::failed_precondition("this node has no certificate (call anonymously)");
  auto c = make_connection(Connection::Kind::kAddress);
  c->verify_server = !anonymous;
  c->check_server = std::move(check);
  address_conns_.insert(c);
  try {
    c->start_outbound(address, std::move(ctx), std::min(connect_timeout, opts_.handshake_timeout));
  } catch (const std::exception& x) {
    c->close(std::string("cannot make a TLS connection: ") + x.what());
  }
  return c->id;
}

Status EndpointImpl::send_rpc(RpcWire::ChannelId channel, std::string frame) {
  auto it = channels_.find(channel);
  std::shared_ptr<Connection> c = it == channels_.end() ? nullptr : it->second.lock();
  if (!c || c->closed()) return Status::unavailable("the connection is closed");
  if (frame.size() > opts_.max_frame_body) {
    return Status::invalid_argument("the frame of " + std::to_string(frame.size()) + " bytes exceeds the frame limit of " +
                                    std::to_string(opts_.max_frame_body) + " bytes");
  }
  if (!c->enqueue(FrameType::kRpc, wire::encode_frame(FrameType::kRpc, frame), opts_.max_queued_bytes_per_peer)) {
    ++dropped_queue_full_;
    return Status::unavailable("the send queue is full (" + conn_text(*c) + ")");
  }
  if (c->kind() == Connection::Kind::kPeer) kick(c, c->expected_node);
  return {};
}

void EndpointImpl::close_channel(RpcWire::ChannelId channel) {
  auto it = channels_.find(channel);
  if (it == channels_.end()) return;
  if (auto c = it->second.lock()) c->close_after_flush("closed by the RPC layer");
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
  return s;
}

}  // namespace internal

// ---- Endpoint ---------------------------------------------------------------------------------

Endpoint::Endpoint(asio::io_context& io, EndpointOptions options, TlsIdentity identity)
    : impl_(std::make_shared<internal::EndpointImpl>(io, std::move(options), std::move(identity))) {}
Endpoint::~Endpoint() { impl_->stop(); }
Status Endpoint::start() { return impl_->start(); }
Status Endpoint::listen(const std::string& address) { return impl_->listen(address); }
void Endpoint::stop() { impl_->stop(); }
uint16_t Endpoint::listen_port() const { return impl_->listen_port(); }
void Endpoint::set_peer_address(NodeId id, std::string host_port) { impl_->set_peer_address(id, std::move(host_port)); }
void Endpoint::forget_peer(NodeId id) { impl_->forget_peer(id); }
Status Endpoint::set_identity(TlsIdentity identity) { return impl_->set_identity(std::move(identity)); }
Transport& Endpoint::raft_transport() { return impl_->raft_transport(); }
RpcWire& Endpoint::rpc_wire() { return impl_->rpc_wire(); }
Endpoint::Stats Endpoint::stats() const { return impl_->stats(); }

}  // namespace shoal::real
