// The Endpoint on Boost.Asio and OpenSSL: peers, the listener, the raft Transport and the
// RpcWire (every connection is a channel). One TLS connection is internal/connection.h; the TLS
// contexts and certificate identities are internal/tls_context.h.
//
// Lifetime: Endpoint owns the EndpointImpl through a shared_ptr; asynchronous handlers hold the
// Connection they serve (shared_ptr) and reach the EndpointImpl through a weak_ptr, so a handler
// that completes after the Endpoint is gone does nothing. Everything runs on one thread.
#include <utility>  // before Asio (Boost 1.74 with GCC 12 in C++20)

#include "io_real/net/endpoint.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <optional>
#include <set>

#include "core/ca/node_identity.h"
#include "core/wire/frame.h"
#include "io_real/net/host_port.h"
#include "io_real/net/internal/connection.h"
#include "io_real/net/internal/tls_context.h"
#include "io_real/net/log_limiter.h"

namespace shoal::real {

namespace internal {

class EndpointImpl final : public ConnectionOwner, public std::enable_shared_from_this<EndpointImpl> {
 public:
  EndpointImpl(asio::io_context& io, EndpointOptions opts, TlsIdentity identity)
      : io_(io), opts_(std::move(opts)), identity_(std::move(identity)), raft_(this) {
    auto c = make_tls_contexts(identity_, opts_.self, opts_.cluster_id);
    if (c.ok()) {
      ctx_ = std::move(*c);
      adopt_self();
    } else {
      identity_error_ = c.status();
      // Keep an anonymous client so a node without a usable certificate can still join.
      auto anon = make_tls_contexts(TlsIdentity{}, opts_.self, opts_.cluster_id);
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

  // ConnectionOwner: what connections tell the endpoint.
  std::shared_ptr<ssl::context> client_context() const override { return ctx_.client; }
  Duration handshake_timeout() const override { return opts_.handshake_timeout; }
  Duration dead_peer_timeout() const override { return opts_.dead_peer_timeout; }
  bool verify_identity(Connection& c, const PeerIdentity& id, std::string* reason) const override;
  void on_open(const std::shared_ptr<Connection>& c) override;
  void on_handshake_failed(Connection& c, const std::string& reason, bool refused) override;
  void on_frame(const std::shared_ptr<Connection>& c, wire::Frame frame) override;
  void on_bad_frame(Connection& c, const Status& why) override;
  void on_closed(const std::shared_ptr<Connection>& c, const std::string& reason) override;
  void count_frames_out(uint64_t n) override { frames_out_ += n; }
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
  TlsContexts ctx_;
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
  auto c = make_tls_contexts(identity, opts_.self, opts_.cluster_id);
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
      spdlog::debug("net {}: gossip frame from {} ignored (gossip has its own port)", name(), conn_text(*c));
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

Endpoint::Endpoint(boost::asio::io_context& io, EndpointOptions options, TlsIdentity identity)
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
