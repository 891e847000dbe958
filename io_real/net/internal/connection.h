// Connection: one TLS connection of the cluster port: the handshake (with the identity check in
// the verify callback), a read loop into a FrameDecoder, a bounded outbox written in batches,
// and closing (at once, or after the queue has gone out). Its owner (the Endpoint) hears of
// each event through ConnectionOwner. Internal to io_real/net.
//
// Lifetime: asynchronous handlers hold the Connection they serve (shared_ptr) and reach the
// owner through a weak_ptr, so a handler that completes after the owner is gone does nothing.
// Everything runs on the one thread that runs the io_context.
#pragma once
#include <utility>  // before Asio (Boost 1.74 with GCC 12 in C++20)

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <array>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/env/rpc_wire.h"
#include "core/env/status.h"
#include "core/env/time.h"
#include "core/wire/frame.h"

namespace shoal::real::internal {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using boost::system::error_code;
using wire::FrameType;

class Connection;

// What a connection tells its owner, and asks of it.
class ConnectionOwner {
 public:
  virtual ~ConnectionOwner() = default;
  // The client context to connect with now (null: this node has no certificate).
  virtual std::shared_ptr<ssl::context> client_context() const = 0;
  virtual Duration handshake_timeout() const = 0;
  virtual Duration dead_peer_timeout() const = 0;
  // Whether the verified peer may be on this connection; if not, why.
  virtual bool verify_identity(Connection& c, const PeerIdentity& id, std::string* reason) const = 0;
  virtual void on_handshake_failed(Connection& c, const std::string& reason, bool refused) = 0;
  virtual void on_open(const std::shared_ptr<Connection>& c) = 0;
  virtual void on_frame(const std::shared_ptr<Connection>& c, wire::Frame frame) = 0;
  virtual void on_bad_frame(Connection& c, const Status& why) = 0;
  virtual void on_closed(const std::shared_ptr<Connection>& c, const std::string& reason) = 0;
  virtual void count_frames_out(uint64_t n) = 0;
};

// TCP keepalive and a user timeout, so a peer that vanished without a reset (a partition, a
// powered-off host) is noticed within about `dead_after` instead of TCP's quarter of an hour.
void set_socket_options(tcp::socket& socket, Duration dead_after);

inline std::string ms_text(Duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}


class Connection : public std::enable_shared_from_this<Connection> {
 public:
  enum class Kind { kInbound, kPeer, kAddress };
  enum class State { kIdle, kBackoff, kConnecting, kOpen, kDraining, kClosed };

  Connection(std::weak_ptr<ConnectionOwner> owner, asio::io_context& io, Kind kind, uint32_t max_frame_body)
      : ep_(std::move(owner)), kind_(kind), io_(io), timer_(io), decoder_(max_frame_body) {}

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
  std::shared_ptr<ConnectionOwner> ep() const { return ep_.lock(); }

  std::weak_ptr<ConnectionOwner> ep_;
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

};
}  // namespace shoal::real::internal
