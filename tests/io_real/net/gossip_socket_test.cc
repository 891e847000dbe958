// real::GossipSocket on loopback: real UDP and TCP on one port. One io_context runs in the test
// thread; every wait is a bounded loop of io.run_for() slices until a condition holds (no sleeps
// as synchronization). Misbehaving peers are raw Asio sockets written by the test.
#include <utility>  // before Asio (Boost 1.74 with GCC 12 in C++20)

#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io_real/net/gossip_socket.h"
#include "tests/io_real/net/io_test_util.h"

namespace shoal::real {
namespace {

namespace asio = boost::asio;
using tcp = boost::asio::ip::tcp;
using udp = boost::asio::ip::udp;
using boost::system::error_code;
using namespace std::chrono_literals;

constexpr NodeId kB = 2;

using testing::LogCapture;
using testing::run_for;
using testing::run_until;

// What a socket's handler received.
struct Inbox {
  std::vector<std::string> msgs;
  std::vector<NodeId> senders;
  void attach(GossipSocket& s) {
    s.set_handler([this](const PeerIdentity& from, std::string_view payload) {
      senders.push_back(from.node_id);
      msgs.emplace_back(payload);
    });
  }
};

// Reads from a raw socket until the other side closes it; records how and when it ended.
struct CloseWatch {
  std::array<char, 256> buf{};
  std::optional<error_code> ended;
  std::chrono::steady_clock::time_point at{};
  void watch(tcp::socket& s) {
    s.async_read_some(asio::buffer(buf), [this, &s](const error_code& e, size_t) {
      if (e) {
        ended = e;
        at = std::chrono::steady_clock::now();
        return;
      }
      watch(s);
    });
  }
  bool closed_by_peer() const {
    return ended && (*ended == asio::error::eof || *ended == asio::error::connection_reset);
  }
};

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7 + i / 251) % 256);
  return s;
}

std::string length_prefix(uint32_t n) {
  return {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8), static_cast<char>(n)};
}

class GossipSocketTest : public ::testing::Test {
 protected:
  static GossipSocketOptions loopback(std::string listen = "127.0.0.1:0") {
    GossipSocketOptions o;
    o.listen_address = std::move(listen);
    o.stream_timeout = 2s;
    return o;
  }
  static std::string at(const GossipSocket& s) { return "127.0.0.1:" + std::to_string(s.port()); }
  tcp::socket raw_connect(uint16_t port) {
    tcp::socket raw(io_);
    raw.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    return raw;
  }

  asio::io_context io_;
};

TEST_F(GossipSocketTest, SmallPayloadTravelsByUdp) {
  GossipSocket a(io_, loopback()), b(io_, loopback());
  ASSERT_TRUE(a.start().ok());
  ASSERT_TRUE(b.start().ok());
  ASSERT_NE(b.port(), 0);
  ASSERT_NE(a.port(), b.port());
  Inbox inbox;
  inbox.attach(b);
  ASSERT_TRUE(a.set_address(kB, at(b)).ok());

  a.send(kB, "probe 1");
  ASSERT_TRUE(run_until(io_, [&] { return inbox.msgs.size() == 1 && a.stats().udp_sent == 1; }));
  EXPECT_EQ(inbox.msgs[0], "probe 1");
  EXPECT_EQ(inbox.senders[0], 0u);  // the carrier cannot tell who sent it
  EXPECT_EQ(b.stats().udp_received, 1u);
  EXPECT_EQ(a.stats().streams_sent, 0u);
  EXPECT_EQ(b.stats().streams_received, 0u);
  EXPECT_EQ(a.stats().send_failures, 0u);
}

TEST_F(GossipSocketTest, UdpUpToTheLimitAndTcpBeyondIt) {
  GossipSocket a(io_, loopback()), b(io_, loopback());
  ASSERT_TRUE(a.start().ok());
  ASSERT_TRUE(b.start().ok());
  Inbox inbox;
  inbox.attach(b);
  ASSERT_TRUE(a.set_address(kB, at(b)).ok());

  a.send(kB, pattern(1400));  // max_udp_payload: still a datagram
  a.send(kB, pattern(1401));  // one more: a stream
  ASSERT_TRUE(run_until(io_, [&] { return inbox.msgs.size() == 2 && a.stats().streams_sent == 1; }));
  std::sort(inbox.msgs.begin(), inbox.msgs.end(), [](const auto& x, const auto& y) { return x.size() < y.size(); });
  EXPECT_TRUE(inbox.msgs[0] == pattern(1400));
  EXPECT_TRUE(inbox.msgs[1] == pattern(1401));
  EXPECT_EQ(a.stats().udp_sent, 1u);
  EXPECT_EQ(b.stats().udp_received, 1u);
  EXPECT_EQ(a.stats().streams_sent, 1u);
  EXPECT_EQ(b.stats().streams_received, 1u);
}

TEST_F(GossipSocketTest, LargePayloadArrivesIntactByTcp) {
  GossipSocket a(io_, loopback()), b(io_, loopback());
  ASSERT_TRUE(a.start().ok());
  ASSERT_TRUE(b.start().ok());
  Inbox inbox;
  inbox.attach(b);
  ASSERT_TRUE(a.set_address(kB, at(b)).ok());

  const std::string big = pattern(100 * 1000);
  a.send(kB, big);
  ASSERT_TRUE(run_until(io_, [&] { return inbox.msgs.size() == 1 && a.stats().streams_sent == 1; }));
  ASSERT_EQ(inbox.msgs[0].size(), big.size());
  EXPECT_TRUE(inbox.msgs[0] == big) << "the bytes differ";
  EXPECT_EQ(inbox.senders[0], 0u);
  EXPECT_EQ(b.stats().streams_received, 1u);
  EXPECT_EQ(a.stats().udp_sent, 0u);
  EXPECT_EQ(b.stats().udp_received, 0u);
  EXPECT_EQ(a.stats().send_failures, 0u);
  EXPECT_EQ(b.stats().refused_streams, 0u);
}

TEST_F(GossipSocketTest, NoAddressIsDroppedAndCounted) {
  GossipSocket a(io_, loopback()), b(io_, loopback());
  ASSERT_TRUE(a.start().ok());
  ASSERT_TRUE(b.start().ok());
  Inbox inbox;
  inbox.attach(b);

  a.send(kB, "small");
  a.send(kB, pattern(5000));
  EXPECT_EQ(a.stats().dropped_no_address, 2u);
  ASSERT_TRUE(a.set_address(kB, at(b)).ok());
  a.forget_address(kB);
  a.send(kB, "after forget");
  EXPECT_EQ(a.stats().dropped_no_address, 3u);
  run_for(io_, 50ms);
  EXPECT_TRUE(inbox.msgs.empty());
  EXPECT_EQ(a.stats().udp_sent, 0u);
  EXPECT_EQ(a.stats().streams_sent, 0u);
  EXPECT_EQ(a.stats().send_failures, 0u);
}

TEST_F(GossipSocketTest, OverlongStreamIsRefusedBeforeItsBody) {
  LogCapture log;
  GossipSocketOptions o = loopback();
  o.max_stream_payload = 1000;
  GossipSocket b(io_, o);
  ASSERT_TRUE(b.start().ok());
  Inbox inbox;
  inbox.attach(b);

  // Exactly the limit is accepted: the refusal below is about the length, nothing else.
  tcp::socket ok_raw = raw_connect(b.port());
  asio::write(ok_raw, asio::buffer(length_prefix(1000) + pattern(1000)));
  ASSERT_TRUE(run_until(io_, [&] { return inbox.msgs.size() == 1; }));
  EXPECT_TRUE(inbox.msgs[0] == pattern(1000));
  EXPECT_EQ(b.stats().streams_received, 1u);

  tcp::socket raw = raw_connect(b.port());
  asio::write(raw, asio::buffer(length_prefix(1001) + "abc"));
  CloseWatch w;
  w.watch(raw);
  ASSERT_TRUE(run_until(io_, [&] { return w.ended.has_value(); }));
  EXPECT_TRUE(w.closed_by_peer()) << w.ended->message();
  EXPECT_EQ(b.stats().refused_streams, 1u);
  run_for(io_, 50ms);
  EXPECT_EQ(inbox.msgs.size(), 1u);
  EXPECT_EQ(b.stats().streams_received, 1u);
  EXPECT_TRUE(log.contains("announces 1001 bytes, the limit is 1000"));
}

TEST_F(GossipSocketTest, StalledStreamIsClosedAfterTheTimeout) {
  LogCapture log;
  GossipSocketOptions o = loopback();
  o.stream_timeout = 200ms;
  GossipSocket b(io_, o);
  ASSERT_TRUE(b.start().ok());
  Inbox inbox;
  inbox.attach(b);

  const auto began = std::chrono::steady_clock::now();
  tcp::socket raw = raw_connect(b.port());
  asio::write(raw, asio::buffer(std::string("\x00\x00", 2)));  // half a length, then nothing
  CloseWatch w;
  w.watch(raw);
  ASSERT_TRUE(run_until(io_, [&] { return w.ended.has_value(); }, 3000ms));
  EXPECT_TRUE(w.closed_by_peer()) << w.ended->message();
  const auto waited_ms = std::chrono::duration_cast<std::chrono::milliseconds>(w.at - began).count();
  EXPECT_GE(waited_ms, 200);
  EXPECT_LT(waited_ms, 1500);
  EXPECT_EQ(b.stats().refused_streams, 1u);
  EXPECT_EQ(b.stats().streams_received, 0u);
  EXPECT_TRUE(inbox.msgs.empty());
  EXPECT_TRUE(log.contains("no complete message within 200 ms"));
}

TEST_F(GossipSocketTest, SlowBodyIsClosedAfterTheTimeoutToo) {
  GossipSocketOptions o = loopback();
  o.stream_timeout = 200ms;
  GossipSocket b(io_, o);
  ASSERT_TRUE(b.start().ok());
  Inbox inbox;
  inbox.attach(b);

  tcp::socket raw = raw_connect(b.port());
  asio::write(raw, asio::buffer(length_prefix(100) + pattern(60)));  // 60 of 100 bytes, then nothing
  CloseWatch w;
  w.watch(raw);
  ASSERT_TRUE(run_until(io_, [&] { return w.ended.has_value(); }, 3000ms));
  EXPECT_TRUE(w.closed_by_peer()) << w.ended->message();
  EXPECT_EQ(b.stats().refused_streams, 1u);
  EXPECT_TRUE(inbox.msgs.empty());
}

TEST_F(GossipSocketTest, InboundStreamsBeyondTheLimitAreClosedAtOnce) {
  GossipSocketOptions o = loopback();
  o.max_inbound_streams = 1;
  o.stream_timeout = 10s;
  GossipSocket b(io_, o);
  ASSERT_TRUE(b.start().ok());
  Inbox inbox;
  inbox.attach(b);

  tcp::socket first = raw_connect(b.port());  // holds the one slot, sending nothing
  CloseWatch w1;
  w1.watch(first);
  run_for(io_, 50ms);
  tcp::socket second = raw_connect(b.port());
  CloseWatch w2;
  w2.watch(second);
  ASSERT_TRUE(run_until(io_, [&] { return w2.ended.has_value(); }, 2000ms));
  EXPECT_TRUE(w2.closed_by_peer()) << w2.ended->message();
  EXPECT_EQ(b.stats().refused_streams, 1u);
  EXPECT_FALSE(w1.ended.has_value());  // the first is still open

  // Once the first finishes its message, its slot is free again.
  asio::write(first, asio::buffer(length_prefix(3) + "one"));
  ASSERT_TRUE(run_until(io_, [&] { return inbox.msgs.size() == 1 && w1.ended.has_value(); }));
  EXPECT_EQ(inbox.msgs[0], "one");
  tcp::socket third = raw_connect(b.port());
  asio::write(third, asio::buffer(length_prefix(5) + "three"));
  ASSERT_TRUE(run_until(io_, [&] { return inbox.msgs.size() == 2; }));
  EXPECT_EQ(inbox.msgs[1], "three");
  EXPECT_EQ(b.stats().refused_streams, 1u);
}

TEST_F(GossipSocketTest, OutboundStreamsBeyondTheLimitAreDropped) {
  GossipSocketOptions o = loopback();
  o.max_outbound_streams = 1;
  GossipSocket a(io_, o), b(io_, loopback());
  ASSERT_TRUE(a.start().ok());
  ASSERT_TRUE(b.start().ok());
  Inbox inbox;
  inbox.attach(b);
  ASSERT_TRUE(a.set_address(kB, at(b)).ok());

  a.send(kB, pattern(3000));
  a.send(kB, pattern(4000));  // the first is still connecting: over the limit
  EXPECT_EQ(a.stats().send_failures, 1u);
  ASSERT_TRUE(run_until(io_, [&] { return inbox.msgs.size() == 1 && a.stats().streams_sent == 1; }));
  EXPECT_TRUE(inbox.msgs[0] == pattern(3000));
  // Its slot is free again.
  a.send(kB, pattern(5000));
  ASSERT_TRUE(run_until(io_, [&] { return inbox.msgs.size() == 2; }));
  EXPECT_TRUE(inbox.msgs[1] == pattern(5000));
  EXPECT_EQ(a.stats().send_failures, 1u);
}

TEST_F(GossipSocketTest, StreamToAClosedPortIsAFailure) {
  GossipSocket a(io_, loopback());
  ASSERT_TRUE(a.start().ok());
  uint16_t closed_port = 0;
  {
    GossipSocket gone(io_, loopback());
    ASSERT_TRUE(gone.start().ok());
    closed_port = gone.port();
  }
  ASSERT_TRUE(a.set_address(kB, "127.0.0.1:" + std::to_string(closed_port)).ok());
  a.send(kB, pattern(2000));
  ASSERT_TRUE(run_until(io_, [&] { return a.stats().send_failures == 1; }));
  EXPECT_EQ(a.stats().streams_sent, 0u);
}

TEST_F(GossipSocketTest, BusyPortIsAClearError) {
  GossipSocket a(io_, loopback());
  ASSERT_TRUE(a.start().ok());
  const std::string port = std::to_string(a.port());

  GossipSocket b(io_, loopback("127.0.0.1:" + port));
  Status s = b.start();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_NE(s.message().find("127.0.0.1:" + port), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("in use"), std::string::npos) << s.message();
  EXPECT_EQ(b.port(), 0);

  // Only TCP taken (by someone else) is just as clear.
  tcp::acceptor other(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const uint16_t tcp_port = other.local_endpoint().port();
  {
    udp::socket probe(io_, udp::v4());  // the test needs this UDP port free
    error_code ec;
    probe.bind(udp::endpoint(asio::ip::make_address("127.0.0.1"), tcp_port), ec);
    if (ec) GTEST_SKIP() << "UDP port " << tcp_port << " is taken by someone else";
  }
  GossipSocket c(io_, loopback("127.0.0.1:" + std::to_string(tcp_port)));
  Status s2 = c.start();
  ASSERT_FALSE(s2.ok());
  EXPECT_EQ(s2.code(), StatusCode::kIoError);
  EXPECT_NE(s2.message().find("TCP 127.0.0.1:" + std::to_string(tcp_port)), std::string::npos) << s2.message();
  // The UDP port it took on the way was let go.
  udp::socket again(io_, udp::v4());
  error_code ec;
  again.bind(udp::endpoint(asio::ip::make_address("127.0.0.1"), tcp_port), ec);
  EXPECT_FALSE(ec) << ec.message();
}

TEST_F(GossipSocketTest, StartStopRules) {
  GossipSocket a(io_, loopback());
  EXPECT_EQ(a.port(), 0);
  ASSERT_TRUE(a.start().ok());
  Status again = a.start();
  EXPECT_EQ(again.code(), StatusCode::kFailedPrecondition);
  a.stop();
  a.stop();  // idempotent
  Status after = a.start();
  EXPECT_EQ(after.code(), StatusCode::kFailedPrecondition);

  GossipSocket bad(io_, loopback("gossip.example:7946"));
  Status s = bad.start();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("must be an IP address"), std::string::npos) << s.message();
  GossipSocket worse(io_, loopback("nonsense"));
  EXPECT_EQ(worse.start().code(), StatusCode::kInvalidArgument);
}

TEST_F(GossipSocketTest, SetAddressRefusesGarbage) {
  GossipSocket a(io_, loopback());
  ASSERT_TRUE(a.start().ok());
  for (const char* bad : {"garbage", "127.0.0.1", "127.0.0.1:", ":7946", "127.0.0.1:99999", "127.0.0.1:79x6",
                          "127.0.0.1:0", "bad host!:7946", "::1:7946", "[127.0.0.1]:7946", "[::1:7946",
                          "[]:7946", "-leading-dash:7946"}) {
    Status s = a.set_address(kB, bad);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << "'" << bad << "' gave: " << s.to_string();
  }
  a.send(kB, "nowhere");  // none of them was kept
  EXPECT_EQ(a.stats().dropped_no_address, 1u);
  EXPECT_TRUE(a.set_address(kB, "127.0.0.1:7946").ok());
  EXPECT_TRUE(a.set_address(kB, "[::1]:7946").ok());
}

TEST_F(GossipSocketTest, NoHandlerRunsAfterDestruction) {
  GossipSocket a(io_, loopback());
  ASSERT_TRUE(a.start().ok());
  int delivered = 0;
  auto b = std::make_unique<GossipSocket>(io_, loopback());
  ASSERT_TRUE(b->start().ok());
  b->set_handler([&](const PeerIdentity&, std::string_view) { ++delivered; });
  ASSERT_TRUE(a.set_address(kB, at(*b)).ok());
  a.send(kB, "small");
  a.send(kB, pattern(20000));
  run_for(io_, 1ms);  // at most a slice: some of it may be under way inside b
  const int before = delivered;
  b->stop();
  b->stop();
  b.reset();
  a.send(kB, "late");
  a.send(kB, pattern(20000));
  run_for(io_, 100ms);
  EXPECT_EQ(delivered, before);
}

TEST_F(GossipSocketTest, HostNamesAreResolvedOnceAndIpv4IsPreferred) {
  GossipSocket a(io_, loopback()), b(io_, loopback());
  ASSERT_TRUE(a.start().ok());
  ASSERT_TRUE(b.start().ok());
  Inbox inbox;
  inbox.attach(b);
  const std::string name = "localhost:" + std::to_string(b.port());
  Status s = a.set_address(kB, name);
  if (!s.ok()) GTEST_SKIP() << "'localhost' does not resolve here: " << s.message();
  EXPECT_TRUE(a.set_address(kB, name).ok());  // the same again: nothing to do
  a.send(kB, "by name");          // our socket is IPv4: localhost's IPv4 address it must be
  a.send(kB, pattern(3000));
  ASSERT_TRUE(run_until(io_, [&] { return inbox.msgs.size() == 2 && a.stats().streams_sent == 1; }));
  EXPECT_EQ(a.stats().udp_sent, 1u);
  EXPECT_EQ(a.stats().send_failures, 0u);
}

TEST_F(GossipSocketTest, DualStackSocketReachesIpv4Peers) {
  GossipSocket a(io_, loopback("[::]:0")), b(io_, loopback());
  Status sa = a.start();
  if (!sa.ok()) GTEST_SKIP() << "no IPv6 here: " << sa.message();
  ASSERT_TRUE(b.start().ok());
  Inbox at_a, at_b;
  at_a.attach(a);
  at_b.attach(b);
  ASSERT_TRUE(a.set_address(kB, at(b)).ok());
  ASSERT_TRUE(b.set_address(1, "127.0.0.1:" + std::to_string(a.port())).ok());

  a.send(kB, "v6 socket to v4 peer");  // a datagram from [::] to an IPv4 address (sent v4-mapped)
  a.send(kB, pattern(2000));
  b.send(1, "v4 peer to [::]");        // and [::] hears IPv4
  ASSERT_TRUE(run_until(io_, [&] {
    return at_b.msgs.size() == 2 && at_a.msgs.size() == 1 && a.stats().streams_sent == 1;
  }));
  EXPECT_EQ(a.stats().udp_sent, 1u);
  EXPECT_EQ(a.stats().send_failures, 0u);
  EXPECT_EQ(at_a.msgs[0], "v4 peer to [::]");
}

TEST_F(GossipSocketTest, Ipv4SocketTakesMappedAddressesAndRefusesIpv6Ones) {
  GossipSocket a(io_, loopback()), b(io_, loopback());
  ASSERT_TRUE(a.start().ok());
  ASSERT_TRUE(b.start().ok());
  Inbox inbox;
  inbox.attach(b);
  // An IPv4-mapped address names an IPv4 peer: the datagram goes out as plain IPv4.
  ASSERT_TRUE(a.set_address(kB, "[::ffff:127.0.0.1]:" + std::to_string(b.port())).ok());
  a.send(kB, "mapped");
  ASSERT_TRUE(run_until(io_, [&] { return inbox.msgs.size() == 1; }));
  EXPECT_EQ(inbox.msgs[0], "mapped");
  EXPECT_EQ(a.stats().send_failures, 0u);
  // A real IPv6 address cannot be reached from an IPv4 socket: dropped and counted at once.
  ASSERT_TRUE(a.set_address(kB, "[::1]:" + std::to_string(b.port())).ok());
  a.send(kB, "v6");
  EXPECT_EQ(a.stats().send_failures, 1u);
  run_for(io_, 50ms);
  EXPECT_EQ(inbox.msgs.size(), 1u);
  EXPECT_EQ(a.stats().udp_sent, 1u);
}

TEST_F(GossipSocketTest, Ipv6Loopback) {
  GossipSocket a(io_, loopback("[::1]:0")), b(io_, loopback("[::1]:0"));
  Status sa = a.start();
  if (!sa.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << sa.message();
  ASSERT_TRUE(b.start().ok());
  Inbox inbox;
  inbox.attach(b);
  ASSERT_TRUE(a.set_address(kB, "[::1]:" + std::to_string(b.port())).ok());

  a.send(kB, "over v6");
  a.send(kB, pattern(30000));
  ASSERT_TRUE(run_until(io_, [&] { return inbox.msgs.size() == 2 && a.stats().streams_sent == 1; }));
  std::sort(inbox.msgs.begin(), inbox.msgs.end(), [](const auto& x, const auto& y) { return x.size() < y.size(); });
  EXPECT_EQ(inbox.msgs[0], "over v6");
  EXPECT_TRUE(inbox.msgs[1] == pattern(30000));
  EXPECT_EQ(a.stats().udp_sent, 1u);
  EXPECT_EQ(b.stats().streams_received, 1u);
}

}  // namespace
}  // namespace shoal::real
