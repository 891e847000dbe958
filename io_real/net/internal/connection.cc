#include "io_real/net/internal/connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <chrono>

#include "io_real/crypto/openssl_util.h"
#include "io_real/net/host_port.h"
#include "io_real/net/internal/tls_context.h"

namespace shoal::real::internal {

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
      self->start_outbound(self->host_port_, std::move(ctx), ep->handshake_timeout());
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
                                                                        ep->dead_peer_timeout());
                                                   }
                                                   self->handshake(ssl::stream_base::client);
                                                 });
                           });
}

void Connection::connect_to(const tcp::endpoint& to) {
  stream_->lowest_layer().async_connect(to, [self = shared_from_this()](const error_code& e) {
    if (self->state_ != State::kConnecting) return;
    if (e) return self->close("cannot connect: " + e.message());
    if (auto ep = self->ep()) set_socket_options(self->stream_->next_layer(), ep->dead_peer_timeout());
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
      for (int i = 0; i < sk_X509_num(sk); ++i) {
        auto pem = certificate_pem(sk_X509_value(sk, i));
        if (pem.ok()) chain += *pem;
      }
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
}  // namespace shoal::real::internal
