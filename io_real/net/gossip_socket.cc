// The GossipSocket on Boost.Asio. Layout of this file:
//   helpers           host names, log limiting (addresses: host_port.h)
//   InboundStream     one accepted TCP connection: a 4-byte length, then the body, under a deadline
//   OutboundStream    one TCP send: connect, the length and the bytes, close, under a deadline
//   GossipSocketImpl  the UDP socket and its receive loop, the acceptor and its accept loop, the
//                     address book, the stream limits and the stats
//
// Lifetime: GossipSocket owns the GossipSocketImpl through a shared_ptr. Asynchronous handlers
// hold the stream or buffer they work on (shared_ptr) and reach the GossipSocketImpl through a
// weak_ptr; every handler returns at once when the impl is gone or stopped, so the Transport
// handler never runs after stop() (which the destructor calls). Everything runs on one thread.
#include <utility>  // before Asio (Boost 1.74 with GCC 12 in C++20)

#include "io_real/net/gossip_socket.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <vector>

#include "core/ca/node_identity.h"
#include "io_real/net/host_port.h"
#include "io_real/net/log_limiter.h"

namespace shoal::real {

namespace asio = boost::asio;
using tcp = boost::asio::ip::tcp;
using udp = boost::asio::ip::udp;
using boost::system::error_code;

namespace internal {

namespace {

// ---- helpers ----------------------------------------------------------------------------------

constexpr size_t kDatagramBuffer = 64 * 1024;  // more than the largest UDP payload (65,527 bytes)
constexpr size_t kBodyChunk = 64 * 1024;       // a stream's body grows by what arrived, at most this at a time
// Datagrams handed to the kernel whose completion has not run yet. Almost always 0 or a few (a
// send to a non-full socket completes at once); beyond it the socket is backed up and new
// datagrams are dropped instead of queueing without end.
constexpr size_t kMaxDatagramsInFlight = 4096;
// With port 0, how many ephemeral UDP ports to try before giving up because TCP has each one.
constexpr int kEphemeralAttempts = 16;
constexpr auto kRetryDelay = std::chrono::milliseconds(100);  // after a failed accept or receive

// A DNS name as RFC 1123 allows it (letters, digits, '-', '.'), so garbage never reaches the
// resolver.
bool plausible_hostname(std::string_view host) {
  if (host.empty() || host.size() > 253 || host.front() == '.' || host.front() == '-') return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
  });
}

template <typename Endpoint>
std::string endpoint_text(const Endpoint& ep) {
  const auto a = ep.address();
  return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(ep.port());
}

std::string remote_text(const tcp::socket& socket) {
  error_code ec;
  const auto ep = socket.remote_endpoint(ec);
  return ec ? std::string("(unknown)") : endpoint_text(ep);
}

std::string ms_text(Duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

// The same datagram destination written for the family of our socket: an IPv4 address becomes
// IPv4-mapped on an IPv6 socket, a mapped one plain again on an IPv4 socket. nullopt: an IPv6
// destination cannot be reached from an IPv4 socket.
std::optional<udp::endpoint> for_family(const asio::ip::address& ip, uint16_t port, bool socket_v6) {
  if (socket_v6 && ip.is_v4()) return udp::endpoint(asio::ip::make_address_v6(asio::ip::v4_mapped, ip.to_v4()), port);
  if (!socket_v6 && ip.is_v6()) {
    if (!ip.to_v6().is_v4_mapped()) return std::nullopt;
    return udp::endpoint(asio::ip::make_address_v4(asio::ip::v4_mapped, ip.to_v6()), port);
  }
  return udp::endpoint(ip, port);
}

// Where a node listens: what was given, and the address it names.
struct Address {
  std::string text;
  asio::ip::address ip;
  uint16_t port = 0;
};

// One accepted connection carrying one message. Owned by the impl's inbound_ set while open and
// by the handlers in flight.
struct InboundStream {
  InboundStream(tcp::socket s, asio::io_context& io) : socket(std::move(s)), timer(io) {}
  tcp::socket socket;
  asio::steady_timer timer;  // the deadline for the whole message
  std::string remote;
  std::array<unsigned char, 4> length_bytes{};
  size_t length = 0;    // announced
  size_t received = 0;  // bytes of the body so far
  std::string body;     // the body's bytes (room for the next read beyond `received` while one is pending)
  bool closed = false;
};

// One message sent over a connection of its own. Owned like InboundStream (outbound_ set).
struct OutboundStream {
  explicit OutboundStream(asio::io_context& io) : socket(io), timer(io) {}
  tcp::socket socket;
  asio::steady_timer timer;  // the deadline for connect and write together
  NodeId to = 0;
  std::string remote;
  std::array<unsigned char, 4> length_bytes{};
  std::string payload;
  bool done = false;
};

}  // namespace

// ---- GossipSocketImpl -------------------------------------------------------------------------

class GossipSocketImpl : public std::enable_shared_from_this<GossipSocketImpl> {
 public:
  GossipSocketImpl(asio::io_context& io, GossipSocketOptions opts)
      : io_(io), opts_(std::move(opts)), udp_retry_(io), accept_retry_(io) {
    auto hp = split_host_port(opts_.listen_address);
    error_code ec;
    if (hp.ok()) listen_v6_ = asio::ip::make_address(hp->first, ec).is_v6() && !ec;
  }

  Status start();
  void stop();
  uint16_t port() const { return port_; }
  size_t max_datagram() const { return opts_.max_udp_payload; }
  Status set_address(NodeId id, const std::string& host_port);
  void forget_address(NodeId id) { book_.erase(id); }
  void send(NodeId to, std::string payload);
  void set_handler(Transport::Handler handler) { handler_ = std::move(handler); }
  const GossipSocketStats& stats() const { return stats_; }

 private:
  void receive();
  void accept();
  void deliver(std::string_view bytes);
  void send_datagram(NodeId to, const Address& addr, std::string payload);
  void send_stream(NodeId to, const Address& addr, std::string payload);
  void finish_outbound(const std::shared_ptr<OutboundStream>& s, bool sent, const std::string& why);
  void start_inbound(tcp::socket socket);
  void read_length(const std::shared_ptr<InboundStream>& s);
  void read_body(const std::shared_ptr<InboundStream>& s);
  void refuse_inbound(const std::shared_ptr<InboundStream>& s, const std::string& why);
  void close_inbound(const std::shared_ptr<InboundStream>& s);
  const std::string& name() const { return name_; }

  asio::io_context& io_;
  const GossipSocketOptions opts_;
  bool listen_v6_ = false;   // the listen address is IPv6 (our UDP socket's family once started)
  std::string name_ = "gossip (not started)";  // "gossip 10.0.0.1:7946", for log lines
  bool started_ = false;
  bool stopped_ = false;
  uint16_t port_ = 0;
  Transport::Handler handler_;
  std::map<NodeId, Address> book_;

  std::unique_ptr<udp::socket> udp_;
  std::vector<char> recv_buf_ = std::vector<char>(kDatagramBuffer);
  udp::endpoint recv_from_;
  size_t datagrams_in_flight_ = 0;
  asio::steady_timer udp_retry_;

  std::unique_ptr<tcp::acceptor> acceptor_;
  asio::steady_timer accept_retry_;
  std::set<std::shared_ptr<InboundStream>> inbound_;
  std::set<std::shared_ptr<OutboundStream>> outbound_;

  LogLimiter warn_limit_{"gossip", spdlog::level::warn};
  LogLimiter debug_limit_{"gossip", spdlog::level::debug};
  GossipSocketStats stats_;
};

Status GossipSocketImpl::start() {
  if (stopped_) return Status::failed_precondition("gossip socket was stopped; make a new one");
  if (started_) return Status::failed_precondition("gossip socket already started");
  auto hp = split_host_port(opts_.listen_address);
  if (!hp.ok()) return Status::invalid_argument("gossip listen address: " + hp.status().message());
  error_code ec;
  const auto ip = asio::ip::make_address(hp->first, ec);
  if (ec) {
    return Status::invalid_argument("gossip listen address '" + opts_.listen_address +
                                    "': the host must be an IP address (" + ec.message() + ")");
  }
  const uint16_t wanted = hp->second;
  const int attempts = wanted == 0 ? kEphemeralAttempts : 1;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    // UDP first: with port 0 it picks the port, and TCP must take the same one.
    auto u = std::make_unique<udp::socket>(io_);
    const udp::endpoint uat(ip, wanted);
    if (u->open(uat.protocol(), ec); ec) {
      return Status::io_error("cannot open a UDP socket for gossip on " + opts_.listen_address + ": " + ec.message());
    }
    // "[::]" serves IPv4 too, whatever the host's default (net.ipv6.bindv6only).
    const bool dual_stack = ip.is_v6() && ip.is_unspecified();
    error_code ignored;
    if (dual_stack) u->set_option(asio::ip::v6_only(false), ignored);
    if (u->bind(uat, ec); ec) {
      std::string hint = ec == asio::error::address_in_use ? " (is another node already using this port?)" : "";
      return Status::io_error("cannot bind gossip UDP on " + endpoint_text(uat) + ": " + ec.message() + hint);
    }
    const uint16_t port = u->local_endpoint(ec).port();
    if (ec) return Status::io_error("cannot read the gossip UDP port: " + ec.message());

    auto a = std::make_unique<tcp::acceptor>(io_);
    const tcp::endpoint tat(ip, port);
    if (a->open(tat.protocol(), ec); ec) {
      return Status::io_error("cannot open a TCP socket for gossip on " + opts_.listen_address + ": " + ec.message());
    }
    // Lets a restarted node listen while old connections linger in TIME_WAIT; a port another
    // socket listens on is still refused.
    a->set_option(tcp::acceptor::reuse_address(true), ignored);
    if (dual_stack) a->set_option(asio::ip::v6_only(false), ignored);
    if (a->bind(tat, ec); ec) {
      if (ec == asio::error::address_in_use && wanted == 0 && attempt < attempts) {
        spdlog::debug("gossip: TCP port {} is taken although UDP {} was free; trying another port", port, port);
        continue;  // closes this UDP socket; the next one gets another ephemeral port
      }
      std::string hint = ec == asio::error::address_in_use ? " (is another node already using this port?)" : "";
      return Status::io_error("cannot listen for gossip on TCP " + endpoint_text(tat) + ": " + ec.message() + hint);
    }
    if (a->listen(asio::socket_base::max_listen_connections, ec); ec) {
      return Status::io_error("cannot listen for gossip on TCP " + endpoint_text(tat) + ": " + ec.message());
    }
    // A larger receive buffer rides out bursts (push-pull replies, broadcasts); best effort.
    u->set_option(asio::socket_base::receive_buffer_size(2 << 20), ignored);

    udp_ = std::move(u);
    acceptor_ = std::move(a);
    port_ = port;
    started_ = true;
    name_ = "gossip " + endpoint_text(tat);
    spdlog::info("{}: listening (UDP and TCP)", name());
    receive();
    accept();
    return {};
  }
  return Status::io_error("cannot find a free port for gossip on " + opts_.listen_address + ": " +
                          std::to_string(attempts) + " ephemeral UDP ports were each taken on TCP");
}

void GossipSocketImpl::stop() {
  if (stopped_) return;
  stopped_ = true;
  error_code ignored;
  udp_retry_.cancel();
  accept_retry_.cancel();
  if (udp_) udp_->close(ignored);
  if (acceptor_) acceptor_->close(ignored);
  // Handlers still queued for these see `closed`/`done` (or a stopped impl) and do nothing.
  for (const auto& s : inbound_) {
    s->closed = true;
    s->timer.cancel();
    s->socket.close(ignored);
  }
  for (const auto& s : outbound_) {
    s->done = true;
    s->timer.cancel();
    s->socket.close(ignored);
  }
  const size_t streams = inbound_.size() + outbound_.size();
  inbound_.clear();
  outbound_.clear();
  if (started_) spdlog::info("{}: stopped ({} open stream(s) closed)", name(), streams);
}

Status GossipSocketImpl::set_address(NodeId id, const std::string& host_port) {
  // Members re-announce their address with every alive message: the same text again is a no-op
  // (no lookup). A name is resolved once; set it anew after forget_address() to look it up again.
  if (auto it = book_.find(id); it != book_.end() && it->second.text == host_port) return {};
  auto hp = split_host_port(host_port);
  if (!hp.ok()) return hp.status();
  if (hp->second == 0) return Status::invalid_argument("address '" + host_port + "' has port 0");
  Address addr{host_port, {}, hp->second};
  error_code ec;
  addr.ip = asio::ip::make_address(hp->first, ec);
  if (ec) {
    if (!plausible_hostname(hp->first)) {
      return Status::invalid_argument("address '" + host_port + "': '" + hp->first +
                                      "' is neither an IP address nor a host name");
    }
    // Addresses change rarely (a node joins or moves), so a synchronous lookup is acceptable.
    udp::resolver resolver(io_);
    const auto results = resolver.resolve(hp->first, std::to_string(hp->second), ec);
    if (ec || results.empty()) {
      const std::string why = ec ? ec.message() : std::string("no addresses");
      if (ec == asio::error::host_not_found) {
        return Status::invalid_argument("address '" + host_port + "': no such host (" + why + ")");
      }
      return Status::unavailable("address '" + host_port + "': cannot resolve '" + hp->first + "': " + why);
    }
    // On an IPv4 socket prefer an IPv4 address; an IPv6 socket reaches both.
    addr.ip = results.begin()->endpoint().address();
    for (const auto& r : results) {
      if (listen_v6_ || r.endpoint().address().is_v4()) {
        addr.ip = r.endpoint().address();
        break;
      }
    }
  }
  book_[id] = std::move(addr);
  return {};
}

void GossipSocketImpl::send(NodeId to, std::string payload) {
  if (!started_ || stopped_) {
    ++stats_.send_failures;
    spdlog::debug("{}: message to node {} dropped: the gossip socket is {}", name(), ca::node_id_text(to),
                  stopped_ ? "stopped" : "not started");
    return;
  }
  auto it = book_.find(to);
  if (it == book_.end()) {
    ++stats_.dropped_no_address;
    if (debug_limit_.allow()) {
      spdlog::debug("{}: message to node {} dropped: no address known", name(), ca::node_id_text(to));
    }
    return;
  }
  if (payload.size() <= opts_.max_udp_payload) return send_datagram(to, it->second, std::move(payload));
  send_stream(to, it->second, std::move(payload));
}

// ---- UDP ----------------------------------------------------------------------------------------

void GossipSocketImpl::send_datagram(NodeId to, const Address& addr, std::string payload) {
  const auto dest = for_family(addr.ip, addr.port, listen_v6_);
  if (!dest) {
    ++stats_.send_failures;
    if (warn_limit_.allow()) {
      spdlog::warn("{}: datagram to node {} dropped: its address {} is IPv6 and gossip listens on IPv4", name(),
                   ca::node_id_text(to), addr.text);
    }
    return;
  }
  if (datagrams_in_flight_ >= kMaxDatagramsInFlight) {
    ++stats_.send_failures;
    if (warn_limit_.allow()) {
      spdlog::warn("{}: datagram to node {} dropped: {} datagrams already wait for the socket", name(),
                   ca::node_id_text(to), datagrams_in_flight_);
    }
    return;
  }
  ++datagrams_in_flight_;
  auto bytes = std::make_shared<std::string>(std::move(payload));  // stays put until the send completes
  udp_->async_send_to(asio::buffer(*bytes), *dest, [w = weak_from_this(), bytes, to](const error_code& e, size_t) {
    auto self = w.lock();
    if (!self) return;
    --self->datagrams_in_flight_;
    if (self->stopped_) return;
    if (e) {
      ++self->stats_.send_failures;
      if (self->debug_limit_.allow()) {
        spdlog::debug("{}: datagram of {} bytes to node {} failed: {}", self->name(), bytes->size(),
                      ca::node_id_text(to), e.message());
      }
      return;
    }
    ++self->stats_.udp_sent;
  });
}

void GossipSocketImpl::receive() {
  udp_->async_receive_from(asio::buffer(recv_buf_), recv_from_, [w = weak_from_this()](const error_code& e, size_t n) {
    auto self = w.lock();
    if (!self || self->stopped_) return;
    if (e) {
      if (e == asio::error::operation_aborted) return;
      // ICMP errors reported on the socket (some platforms), a lack of buffers, ...: keep going,
      // after a pause in case the error persists.
      if (self->warn_limit_.allow()) {
        spdlog::warn("{}: UDP receive failed: {}; retrying in {}", self->name(), e.message(), ms_text(kRetryDelay));
      }
      self->udp_retry_.expires_after(kRetryDelay);
      self->udp_retry_.async_wait([w](const error_code& e2) {
        auto s = w.lock();
        if (!e2 && s && !s->stopped_) s->receive();
      });
      return;
    }
    ++self->stats_.udp_received;
    self->deliver(std::string_view(self->recv_buf_.data(), n));
    if (!self->stopped_) self->receive();
  });
}

void GossipSocketImpl::deliver(std::string_view bytes) {
  if (!handler_) return;
  // A copy: the handler may replace itself (set_handler) or stop this socket while it runs.
  Transport::Handler handler = handler_;
  handler(PeerIdentity{}, bytes);
}

// ---- TCP out ------------------------------------------------------------------------------------

void GossipSocketImpl::send_stream(NodeId to, const Address& addr, std::string payload) {
  const size_t limit = std::min<size_t>(opts_.max_stream_payload, UINT32_MAX);
  if (payload.size() > limit) {
    ++stats_.send_failures;
    if (warn_limit_.allow()) {
      spdlog::warn("{}: message of {} bytes to node {} dropped: larger than the stream limit of {} bytes", name(),
                   payload.size(), ca::node_id_text(to), limit);
    }
    return;
  }
  if (outbound_.size() >= opts_.max_outbound_streams) {
    ++stats_.send_failures;
    if (warn_limit_.allow()) {
      spdlog::warn("{}: message of {} bytes to node {} dropped: {} outgoing streams is the limit", name(),
                   payload.size(), ca::node_id_text(to), opts_.max_outbound_streams);
    }
    return;
  }
  auto s = std::make_shared<OutboundStream>(io_);
  s->to = to;
  s->remote = addr.text;
  const auto n = static_cast<uint32_t>(payload.size());
  s->length_bytes = {static_cast<unsigned char>(n >> 24), static_cast<unsigned char>(n >> 16),
                     static_cast<unsigned char>(n >> 8), static_cast<unsigned char>(n)};
  s->payload = std::move(payload);
  outbound_.insert(s);

  const auto w = weak_from_this();
  s->timer.expires_after(opts_.stream_timeout);
  s->timer.async_wait([w, s, timeout = opts_.stream_timeout](const error_code& e) {
    if (e || s->done) return;
    if (auto self = w.lock()) self->finish_outbound(s, false, "not sent within " + ms_text(timeout));
  });
  s->socket.async_connect(tcp::endpoint(addr.ip, addr.port), [w, s](const error_code& e) {
    if (s->done) return;
    auto self = w.lock();
    if (!self) return;
    if (e) return self->finish_outbound(s, false, "cannot connect: " + e.message());
    error_code ignored;
    s->socket.set_option(tcp::no_delay(true), ignored);
    const std::array<asio::const_buffer, 2> bufs{asio::buffer(s->length_bytes), asio::buffer(s->payload)};
    asio::async_write(s->socket, bufs, [w, s](const error_code& e2, size_t) {
      if (s->done) return;
      auto self2 = w.lock();
      if (!self2) return;
      if (e2) return self2->finish_outbound(s, false, "write failed: " + e2.message());
      self2->finish_outbound(s, true, {});
    });
  });
}

void GossipSocketImpl::finish_outbound(const std::shared_ptr<OutboundStream>& s, bool sent, const std::string& why) {
  if (s->done) return;
  s->done = true;
  error_code ignored;
  s->timer.cancel();
  // Everything written is in the kernel's hands; it still goes out, then FIN.
  s->socket.shutdown(tcp::socket::shutdown_send, ignored);
  s->socket.close(ignored);
  outbound_.erase(s);
  if (sent) {
    ++stats_.streams_sent;
    return;
  }
  ++stats_.send_failures;
  if (debug_limit_.allow()) {
    spdlog::debug("{}: message of {} bytes to node {} at {} dropped: {}", name(), s->payload.size(),
                  ca::node_id_text(s->to), s->remote, why);
  }
}

// ---- TCP in -------------------------------------------------------------------------------------

void GossipSocketImpl::accept() {
  acceptor_->async_accept([w = weak_from_this()](const error_code& e, tcp::socket socket) {
    auto self = w.lock();
    if (!self || self->stopped_) return;
    if (e) {
      if (e == asio::error::operation_aborted) return;
      // Out of file descriptors, say: wait a little rather than spin.
      if (self->warn_limit_.allow()) {
        spdlog::warn("{}: accept failed: {}; retrying in {}", self->name(), e.message(), ms_text(kRetryDelay));
      }
      self->accept_retry_.expires_after(kRetryDelay);
      self->accept_retry_.async_wait([w](const error_code& e2) {
        auto s = w.lock();
        if (!e2 && s && !s->stopped_) s->accept();
      });
      return;
    }
    self->start_inbound(std::move(socket));
    self->accept();
  });
}

void GossipSocketImpl::start_inbound(tcp::socket socket) {
  error_code ignored;
  if (inbound_.size() >= opts_.max_inbound_streams) {
    ++stats_.refused_streams;
    if (warn_limit_.allow()) {
      spdlog::warn("{}: refused a stream from {}: {} open streams is the limit", name(), remote_text(socket),
                   opts_.max_inbound_streams);
    }
    socket.close(ignored);
    return;
  }
  auto s = std::make_shared<InboundStream>(std::move(socket), io_);
  s->remote = remote_text(s->socket);
  inbound_.insert(s);
  s->timer.expires_after(opts_.stream_timeout);
  s->timer.async_wait([w = weak_from_this(), s, timeout = opts_.stream_timeout](const error_code& e) {
    if (e || s->closed) return;
    auto self = w.lock();
    if (!self) return;
    const std::string got = s->length == 0 && s->received == 0
                                ? "no complete length"
                                : std::to_string(s->received) + " of " + std::to_string(s->length) + " bytes";
    self->refuse_inbound(s, "no complete message within " + ms_text(timeout) + " (" + got + ")");
  });
  read_length(s);
}

void GossipSocketImpl::read_length(const std::shared_ptr<InboundStream>& s) {
  asio::async_read(s->socket, asio::buffer(s->length_bytes), [w = weak_from_this(), s](const error_code& e, size_t) {
    if (s->closed) return;
    auto self = w.lock();
    if (!self) return;
    if (e) {
      spdlog::debug("{}: stream from {} ended before its length: {}", self->name(), s->remote, e.message());
      return self->close_inbound(s);
    }
    const auto& b = s->length_bytes;
    s->length = (size_t{b[0]} << 24) | (size_t{b[1]} << 16) | (size_t{b[2]} << 8) | size_t{b[3]};
    if (s->length > self->opts_.max_stream_payload) {
      return self->refuse_inbound(s, "it announces " + std::to_string(s->length) + " bytes, the limit is " +
                                         std::to_string(self->opts_.max_stream_payload));
    }
    self->read_body(s);
  });
}

void GossipSocketImpl::read_body(const std::shared_ptr<InboundStream>& s) {
  if (s->received == s->length) {
    // Complete: close first, so the handler sees a socket with one stream fewer open.
    std::string body = std::move(s->body);
    close_inbound(s);
    ++stats_.streams_received;
    deliver(body);
    return;
  }
  // The buffer grows by what arrives (at most a chunk at a time), so a peer that only announces
  // a large message costs no memory.
  const size_t room = std::min(s->length - s->received, kBodyChunk);
  s->body.resize(s->received + room);
  s->socket.async_read_some(asio::buffer(s->body.data() + s->received, room),
                            [w = weak_from_this(), s](const error_code& e, size_t n) {
                              if (s->closed) return;
                              auto self = w.lock();
                              if (!self) return;
                              s->received += n;
                              s->body.resize(s->received);
                              if (e) {
                                spdlog::debug("{}: stream from {} ended after {} of {} bytes: {}", self->name(),
                                              s->remote, s->received, s->length, e.message());
                                return self->close_inbound(s);
                              }
                              self->read_body(s);
                            });
}

void GossipSocketImpl::refuse_inbound(const std::shared_ptr<InboundStream>& s, const std::string& why) {
  ++stats_.refused_streams;
  if (warn_limit_.allow()) spdlog::warn("{}: refused a stream from {}: {}", name(), s->remote, why);
  close_inbound(s);
}

void GossipSocketImpl::close_inbound(const std::shared_ptr<InboundStream>& s) {
  if (s->closed) return;
  s->closed = true;
  error_code ignored;
  s->timer.cancel();
  s->socket.close(ignored);
  inbound_.erase(s);
}

}  // namespace internal

// ---- GossipSocket -----------------------------------------------------------------------------

GossipSocket::GossipSocket(asio::io_context& io, GossipSocketOptions options)
    : impl_(std::make_shared<internal::GossipSocketImpl>(io, std::move(options))) {}
GossipSocket::~GossipSocket() { impl_->stop(); }
Status GossipSocket::start() { return impl_->start(); }
void GossipSocket::stop() { impl_->stop(); }
size_t GossipSocket::max_datagram() const { return impl_->max_datagram(); }
uint16_t GossipSocket::port() const { return impl_->port(); }
Status GossipSocket::set_address(NodeId id, const std::string& host_port) { return impl_->set_address(id, host_port); }
void GossipSocket::forget_address(NodeId id) { impl_->forget_address(id); }
void GossipSocket::send(NodeId to, std::string payload) { impl_->send(to, std::move(payload)); }
void GossipSocket::set_handler(Handler handler) { impl_->set_handler(std::move(handler)); }
const GossipSocketStats& GossipSocket::stats() const { return impl_->stats(); }

}  // namespace shoal::real
