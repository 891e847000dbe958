// real::Endpoint on loopback: real TCP, real TLS 1.3, certificates from a test CA made with the
// Crypto seam's PKI functions. One io_context runs in the test thread; every wait is a bounded
// loop of io.run_for() slices until a condition holds (no sleeps as synchronization).
#include <utility>  // before Asio (Boost 1.74 with GCC 12 in C++20)

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <array>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/env/random.h"
#include "core/rpc/rpc_peer.h"
#include "core/wire/frame.h"
#include "io_real/crypto/openssl_crypto.h"
#include "io_real/env/real_env.h"
#include "io_real/env/spdlog_sink.h"
#include "io_real/net/endpoint.h"
#include "tests/io_real/net/test_pki.h"
#include "tests/io_real/net/io_test_util.h"

namespace shoal::real {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using testing::TestPki;

constexpr NodeId kM1 = 0x1111;
constexpr NodeId kM2 = 0x2222;
constexpr NodeId kM3 = 0x3333;
constexpr NodeId kW1 = 0x4444;
constexpr std::string_view kManager = "swarm-manager";
constexpr std::string_view kWorker = "swarm-worker";

using testing::LogCapture;
using testing::run_for;
using testing::run_until;

// Raft messages an endpoint received.
struct Inbox {
  std::vector<std::pair<PeerIdentity, std::string>> msgs;
  void attach(Endpoint& e) {
    e.raft_transport().set_handler(
        [this](const PeerIdentity& from, std::string_view payload) { msgs.emplace_back(from, std::string(payload)); });
  }
};

using Access = RpcAccess;

// An endpoint with the node's RPC layer on its wire, as shoald puts them together.
class TestNode : public Endpoint {
 public:
  TestNode(asio::io_context& io, EndpointOptions o, TlsIdentity tls)
      : Endpoint(io, o, std::move(tls)), timers_(io), rpc(timers_, rng_, log_, rpc_wire(), PeerIdentity{o.self, NodeRole::kManager, o.cluster_id}) {}
  void serve(std::string method, Access access, Rpc::Handler handler) {
    rpc.serve(std::move(method), access, std::move(handler));
  }
  void call(NodeId to, std::string method, std::string body, Duration timeout, Rpc::Reply done) {
    rpc.call(to, std::move(method), std::move(body), timeout, std::move(done));
  }
  void call_address(const std::string& address, bool anonymous, RpcWire::ServerCheck check, std::string method,
                    std::string body, Duration timeout, Rpc::Reply done) {
    rpc.call_address(address, anonymous, std::move(check), std::move(method), std::move(body), timeout,
                     std::move(done));
  }

 private:
  real::SystemClock clock_;
  real::AsioTimers timers_;
  Rng rng_{7};
  real::SpdlogSink sink_;
  Log log_{clock_, sink_};

 public:
  RpcPeer rpc;
};

// The outcome of one call.
struct CallResult {
  int calls = 0;
  Status status;
  std::string body;
  bool done() const { return calls > 0; }
  Rpc::Reply cb() {
    return [this](Status s, std::string b) {
      ++calls;
      status = std::move(s);
      body = std::move(b);
    };
  }
};

// A TLS client that speaks no Shoal: connects, handshakes (not verifying the server), writes
// whatever bytes it is given and notices when the server closes.
class RawTlsClient {
 public:
  RawTlsClient(asio::io_context& io, const TlsIdentity* id) : ctx_(ssl::context::tls_client) {
    SSL_CTX_set_min_proto_version(ctx_.native_handle(), TLS1_3_VERSION);
    ctx_.set_verify_mode(ssl::verify_none);
    if (id != nullptr) {
      ctx_.use_certificate_chain(asio::buffer(id->cert_chain_pem));
      ctx_.use_private_key(asio::buffer(id->key_pem), ssl::context::pem);
    }
    stream_ = std::make_unique<ssl::stream<tcp::socket>>(io, ctx_);
  }
  void connect(uint16_t port) {
    stream_->lowest_layer().async_connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), [this](const boost::system::error_code& e) {
          if (e) {
            closed = true;
            return;
          }
          stream_->async_handshake(ssl::stream_base::client, [this](const boost::system::error_code& e2) {
            if (e2) {
              closed = true;
              return;
            }
            handshaken = true;
            read();
          });
        });
  }
  void send(std::string bytes) {
    out_.push_back(std::move(bytes));
    asio::async_write(*stream_, asio::buffer(out_.back()), [](const boost::system::error_code&, size_t) {});
  }
  bool handshaken = false;
  bool closed = false;

 private:
  void read() {
    stream_->async_read_some(asio::buffer(buf_), [this](const boost::system::error_code& e, size_t) {
      if (e) {
        closed = true;
        return;
      }
      read();
    });
  }
  ssl::context ctx_;
  std::unique_ptr<ssl::stream<tcp::socket>> stream_;
  std::array<char, 4096> buf_{};
  std::deque<std::string> out_;
};

class TlsEndpointTest : public ::testing::Test {
 protected:
  std::unique_ptr<TestNode> make(NodeId id, TlsIdentity tls, EndpointOptions o = {}) {
    o.self = id;
    if (o.cluster_id.empty()) o.cluster_id = pki_.cluster_id();
    if (o.listen_address.empty()) o.listen_address = "127.0.0.1:0";
    auto e = std::make_unique<TestNode>(io_, o, std::move(tls));
    Status s = e->start();
    EXPECT_TRUE(s.ok()) << s.message();
    return e;
  }
  static std::string addr(const Endpoint& e) { return "127.0.0.1:" + std::to_string(e.listen_port()); }

  // Sends `payload` from `from` to `to` (by node id) until `inbox` grows; bounded.
  bool deliver(Endpoint& from, NodeId to, const std::string& payload, const Inbox& inbox) {
    const size_t before = inbox.msgs.size();
    from.raft_transport().send(to, payload);
    return run_until(io_, [&] { return inbox.msgs.size() > before; });
  }

  asio::io_context io_;
  LogCapture logs_;
  TestPki pki_{"cluster-a"};
};

TEST_F(TlsEndpointTest, TwoManagersExchangeRaftFramesWithVerifiedIdentities) {
  auto a = make(kM1, pki_.node(kM1, kManager));
  auto b = make(kM2, pki_.node(kM2, kManager));
  Inbox ia, ib;
  ia.attach(*a);
  ib.attach(*b);
  a->set_peer_address(kM2, addr(*b));
  b->set_peer_address(kM1, addr(*a));

  a->raft_transport().send(kM2, "append-entries");
  ASSERT_TRUE(run_until(io_, [&] { return ib.msgs.size() == 1; }));
  EXPECT_EQ(ib.msgs[0].first.node_id, kM1);
  EXPECT_EQ(ib.msgs[0].first.role, NodeRole::kManager);
  EXPECT_EQ(ib.msgs[0].first.cluster_id, "cluster-a");
  EXPECT_EQ(ib.msgs[0].second, "append-entries");

  b->raft_transport().send(kM1, "append-response");
  ASSERT_TRUE(run_until(io_, [&] { return ia.msgs.size() == 1; }));
  EXPECT_EQ(ia.msgs[0].first.node_id, kM2);
  EXPECT_EQ(ia.msgs[0].second, "append-response");

  // Many frames, some large, arrive whole and in order.
  for (int i = 0; i < 200; ++i) a->raft_transport().send(kM2, std::to_string(i) + std::string(i * 1000, 'x'));
  ASSERT_TRUE(run_until(io_, [&] { return ib.msgs.size() == 201; }));
  for (int i = 0; i < 200; ++i) EXPECT_EQ(ib.msgs[i + 1].second, std::to_string(i) + std::string(i * 1000, 'x'));
  EXPECT_GE(a->stats().frames_out, 201u);
  EXPECT_EQ(b->stats().frames_in, 201u);
  EXPECT_EQ(a->stats().connects, 2u);  // a's outgoing and b's outgoing, each counted at both ends
  EXPECT_EQ(a->stats().refused_handshakes + b->stats().refused_handshakes, 0u);
}

TEST_F(TlsEndpointTest, ALeafIssuedByAnIntermediateIsAcceptedWithItsChain) {
  auto a = make(kM1, pki_.node(kM1, kManager, {.via_intermediate = true}));
  auto b = make(kM2, pki_.node(kM2, kManager, {.via_intermediate = true}));
  Inbox ib;
  ib.attach(*b);
  a->set_peer_address(kM2, addr(*b));
  ASSERT_TRUE(deliver(*a, kM2, "hello", ib));
  EXPECT_EQ(ib.msgs[0].first.node_id, kM1);
}

TEST_F(TlsEndpointTest, RpcsGoToTheNamedNodeAndCarryTheCallersIdentity) {
  auto a = make(kM1, pki_.node(kM1, kManager));
  auto b = make(kM2, pki_.node(kM2, kManager));
  b->serve("echo", Access::kAnyNode, [](const PeerIdentity* from, std::string body, Rpc::Reply reply) {
    ASSERT_NE(from, nullptr);
    reply({}, body + " from " + std::to_string(from->node_id));
  });
  b->serve("fail", Access::kAnyNode, [](const PeerIdentity*, std::string, Rpc::Reply reply) {
    reply(Status::failed_precondition("the store is locked"), "ignored");
  });
  a->set_peer_address(kM2, addr(*b));
  CallResult r1, r2, r3;
  a->call(kM2, "echo", "hi", std::chrono::seconds(5), r1.cb());
  a->call(kM2, "fail", "", std::chrono::seconds(5), r2.cb());
  a->call(kM2, "no.such.method", "", std::chrono::seconds(5), r3.cb());
  EXPECT_FALSE(r1.done());  // never inside call()
  ASSERT_TRUE(run_until(io_, [&] { return r1.done() && r2.done() && r3.done(); }));
  EXPECT_TRUE(r1.status.ok()) << r1.status.message();
  EXPECT_EQ(r1.body, "hi from " + std::to_string(kM1));
  EXPECT_EQ(r2.status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(r2.status.message(), "the store is locked");
  EXPECT_EQ(r3.status.code(), StatusCode::kNotFound);
  EXPECT_EQ(r1.calls + r2.calls + r3.calls, 3);

  // A call to a node whose certificate is another node's is refused before anything is sent.
  a->set_peer_address(kM3, addr(*b));  // b is kM2, not kM3
  CallResult r4;
  a->call(kM3, "echo", "hi", std::chrono::seconds(5), r4.cb());
  ASSERT_TRUE(run_until(io_, [&] { return r4.done(); }));
  EXPECT_EQ(r4.status.code(), StatusCode::kUnavailable);
  EXPECT_GE(a->stats().refused_handshakes, 1u);
  EXPECT_TRUE(logs_.contains("its certificate names node 0000000000002222 (swarm-manager), not node 0000000000003333")) << r4.status.message();
}

TEST_F(TlsEndpointTest, ACertificateFromAnotherCaIsRefused) {
  TestPki other("cluster-a");  // same cluster id, different root
  auto a = make(kM1, pki_.node(kM1, kManager));
  Inbox ia;
  ia.attach(*a);
  int handled = 0;
  a->serve("echo", Access::kAnyNode, [&](const PeerIdentity*, std::string b, Rpc::Reply reply) {
    ++handled;
    reply({}, b);
  });
  // c trusts a's root, so c accepts a; a must refuse c.
  TlsIdentity foreign = other.node(kM3, kManager);
  foreign.trusted_roots_pem = {pki_.root_pem()};
  auto c = make(kM3, foreign);
  c->set_peer_address(kM1, addr(*a));
  c->raft_transport().send(kM1, "vote for me");
  CallResult r;
  c->call(kM1, "echo", "x", std::chrono::seconds(5), r.cb());
  ASSERT_TRUE(run_until(io_, [&] { return r.done(); }));
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable) << r.status.message();
  EXPECT_GE(a->stats().refused_handshakes, 1u);
  EXPECT_TRUE(ia.msgs.empty());
  EXPECT_EQ(handled, 0);
  EXPECT_TRUE(logs_.contains("failed verification")) << "the refusal's reason is logged";

  // The other way: a, calling c, refuses c's server certificate.
  a->set_peer_address(kM3, addr(*c));
  CallResult r2;
  const auto refused_before = a->stats().refused_handshakes;
  a->call(kM3, "echo", "x", std::chrono::seconds(5), r2.cb());
  ASSERT_TRUE(run_until(io_, [&] { return r2.done(); }));
  EXPECT_EQ(r2.status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(a->stats().refused_handshakes, refused_before + 1);
}

TEST_F(TlsEndpointTest, AnotherClustersCertificateIsRefused) {
  auto a = make(kM1, pki_.node(kM1, kManager));
  Inbox ia;
  ia.attach(*a);
  // Signed by this cluster's CA but naming another cluster (O): a refuses it as a client...
  TlsIdentity stranger = pki_.node(kM3, kManager, {.organization = "cluster-b"});
  RawTlsClient raw(io_, &stranger);
  raw.connect(a->listen_port());
  ASSERT_TRUE(run_until(io_, [&] { return raw.handshaken || raw.closed; }));
  raw.send(wire::encode_frame(wire::FrameType::kRaft, "vote for me"));
  ASSERT_TRUE(run_until(io_, [&] { return raw.closed; }));
  EXPECT_EQ(a->stats().refused_handshakes, 1u);
  EXPECT_TRUE(ia.msgs.empty());
  EXPECT_TRUE(logs_.contains("is for cluster 'cluster-b', not 'cluster-a'"));

  // ...and a node of cluster-b refuses a as a server.
  auto b = make(kM3, stranger, {.cluster_id = "cluster-b"});
  b->set_peer_address(kM1, addr(*a));
  CallResult r;
  b->call(kM1, "echo", "", std::chrono::seconds(5), r.cb());
  ASSERT_TRUE(run_until(io_, [&] { return r.done(); }));
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(b->stats().refused_handshakes, 1u);
  EXPECT_TRUE(logs_.contains("is for cluster 'cluster-a', not 'cluster-b'"));
}

TEST_F(TlsEndpointTest, AnExpiredCertificateIsRefused) {
  auto a = make(kM1, pki_.node(kM1, kManager));
  Inbox ia;
  ia.attach(*a);
  auto e = make(kM3, pki_.node(kM3, kManager, {.expired = true}));
  e->set_peer_address(kM1, addr(*a));
  CallResult r;
  e->raft_transport().send(kM1, "vote for me");
  e->call(kM1, "echo", "", std::chrono::seconds(5), r.cb());
  ASSERT_TRUE(run_until(io_, [&] { return r.done(); }));
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable);
  EXPECT_GE(a->stats().refused_handshakes, 1u);
  EXPECT_TRUE(ia.msgs.empty());
  EXPECT_TRUE(logs_.contains("certificate has expired"));

  // An expired server certificate is refused by the client.
  a->set_peer_address(kM3, addr(*e));
  CallResult r2;
  a->call(kM3, "echo", "", std::chrono::seconds(5), r2.cb());
  ASSERT_TRUE(run_until(io_, [&] { return r2.done(); }));
  EXPECT_EQ(r2.status.code(), StatusCode::kUnavailable);
  EXPECT_TRUE(r2.status.message().find("expired") != std::string::npos) << r2.status.message();
}

TEST_F(TlsEndpointTest, AWorkerMayCallAnyNodeMethodsButNotManagerOnlyOnesNorSendRaft) {
  auto a = make(kM1, pki_.node(kM1, kManager));
  Inbox ia;
  ia.attach(*a);
  int writes = 0;
  a->serve("node.renew", Access::kAnyNode, [](const PeerIdentity* from, std::string, Rpc::Reply reply) {
    reply({}, "renewed " + std::string(role_name(from->role)));
  });
  a->serve("store.write", Access::kManagerOnly, [&](const PeerIdentity*, std::string, Rpc::Reply reply) {
    ++writes;
    reply({}, "");
  });
  auto w = make(kW1, pki_.node(kW1, kWorker));
  Inbox iw;
  iw.attach(*w);
  w->set_peer_address(kM1, addr(*a));

  CallResult renew, write;
  w->call(kM1, "node.renew", "", std::chrono::seconds(5), renew.cb());
  w->call(kM1, "store.write", "", std::chrono::seconds(5), write.cb());
  ASSERT_TRUE(run_until(io_, [&] { return renew.done() && write.done(); }));
  EXPECT_TRUE(renew.status.ok()) << renew.status.message();
  EXPECT_EQ(renew.body, "renewed worker");
  EXPECT_EQ(write.status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(write.status.message(),
            "this operation needs a manager certificate (OU=swarm-manager); the caller presented a worker's");
  EXPECT_EQ(writes, 0);
  EXPECT_EQ(a->rpc.stats().refused, 1u);

  // A raft frame from a worker closes its connection.
  w->raft_transport().send(kM1, "vote for me");
  ASSERT_TRUE(run_until(io_, [&] { return a->stats().refused_frames == 1; }));
  run_for(io_, std::chrono::milliseconds(50));
  EXPECT_TRUE(ia.msgs.empty());
  EXPECT_TRUE(logs_.contains("a raft frame from a swarm-worker certificate"));

  // Raft frames from a manager to a worker are not sent.
  a->set_peer_address(kW1, addr(*w));
  a->raft_transport().send(kW1, "append-entries");
  ASSERT_TRUE(run_until(io_, [&] { return a->stats().refused_frames == 2; }));
  a->raft_transport().send(kW1, "append-entries");  // now on the open connection
  EXPECT_EQ(a->stats().refused_frames, 3u);
  run_for(io_, std::chrono::milliseconds(50));
  EXPECT_TRUE(iw.msgs.empty());
}

TEST_F(TlsEndpointTest, AnAnonymousClientMayOnlyCallAnonymousRpcs) {
  const TlsIdentity a_tls = pki_.node(kM1, kManager);
  auto a = make(kM1, a_tls);
  Inbox ia;
  ia.attach(*a);
  int root_calls = 0, renew_calls = 0;
  bool anonymous_seen = false;
  a->serve("ca.root", Access::kAnonymous, [&](const PeerIdentity* from, std::string, Rpc::Reply reply) {
    ++root_calls;
    anonymous_seen = from == nullptr;
    reply({}, pki_.root_pem());
  });
  a->serve("node.renew", Access::kAnyNode, [&](const PeerIdentity*, std::string, Rpc::Reply reply) {
    ++renew_calls;
    reply({}, "");
  });
  // A joining node: no certificate, does not listen.
  auto x = std::make_unique<TestNode>(io_, EndpointOptions{.cluster_id = "cluster-a"}, TlsIdentity{});
  ASSERT_TRUE(x->start().ok());

  std::string chain;
  CallResult r;
  x->call_address(
      addr(*a), true,
      [&](std::string_view server_chain) {
        chain = std::string(server_chain);
        return Status{};
      },
      "ca.root", "", std::chrono::seconds(5), r.cb());
  ASSERT_TRUE(run_until(io_, [&] { return r.done(); }));
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.body, pki_.root_pem());
  EXPECT_TRUE(anonymous_seen);
  real::OpenSslCrypto crypto;
  auto seen = crypto.certificate_digest(chain);
  auto expected = crypto.certificate_digest(a_tls.cert_chain_pem);
  ASSERT_TRUE(seen.ok() && expected.ok()) << chain;
  EXPECT_EQ(*seen, *expected) << "check_server sees the server's own certificate first";

  // check_server refuses: the call fails with its Status and nothing reaches the server.
  const auto frames_before = a->stats().frames_in;
  CallResult refused;
  x->call_address(
      addr(*a), true, [](std::string_view) { return Status::permission_denied("root CA digest does not match"); },
      "ca.root", "", std::chrono::seconds(5), refused.cb());
  ASSERT_TRUE(run_until(io_, [&] { return refused.done(); }));
  EXPECT_EQ(refused.status.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(refused.status.message().find("root CA digest does not match"), std::string::npos)
      << refused.status.message();
  run_for(io_, std::chrono::milliseconds(50));
  EXPECT_EQ(root_calls, 1);
  EXPECT_EQ(a->stats().frames_in, frames_before);

  // A node-only method is refused to an anonymous caller, which is then disconnected.
  CallResult renew;
  x->call_address(addr(*a), true, nullptr, "node.renew", "", std::chrono::seconds(5), renew.cb());
  ASSERT_TRUE(run_until(io_, [&] { return renew.done(); }));
  EXPECT_EQ(renew.status.code(), StatusCode::kPermissionDenied) << renew.status.message();
  EXPECT_EQ(renew_calls, 0);
  EXPECT_EQ(a->rpc.stats().refused, 1u);

  // So is a raft frame.
  RawTlsClient raw(io_, nullptr);
  raw.connect(a->listen_port());
  ASSERT_TRUE(run_until(io_, [&] { return raw.handshaken || raw.closed; }));
  ASSERT_TRUE(raw.handshaken);
  raw.send(wire::encode_frame(wire::FrameType::kRaft, "vote for me"));
  ASSERT_TRUE(run_until(io_, [&] { return raw.closed; }));
  EXPECT_TRUE(ia.msgs.empty());
  EXPECT_EQ(a->stats().refused_frames, 1u);
  EXPECT_TRUE(logs_.contains("a raft frame from a connection without a certificate"));

  // Without anonymity, x (no certificate) cannot call.
  CallResult named;
  x->call_address(addr(*a), false, nullptr, "ca.root", "", std::chrono::seconds(5), named.cb());
  ASSERT_TRUE(run_until(io_, [&] { return named.done(); }));
  EXPECT_EQ(named.status.code(), StatusCode::kFailedPrecondition);
}

TEST_F(TlsEndpointTest, MalformedFramesCloseOnlyThatConnection) {
  auto a = make(kM1, pki_.node(kM1, kManager, {}), {.max_frame_body = 1 << 20});
  auto b = make(kM2, pki_.node(kM2, kManager));
  Inbox ia, ib;
  ia.attach(*a);
  ib.attach(*b);
  a->set_peer_address(kM2, addr(*b));
  b->set_peer_address(kM1, addr(*a));
  ASSERT_TRUE(deliver(*b, kM1, "before", ia));
  ASSERT_TRUE(deliver(*a, kM2, "before", ib));

  auto header = [](std::string magic, char version, char type, uint32_t len) {
    std::string h = std::move(magic);
    h += version;
    h += type;
    h += std::string(2, '\0');
    for (int shift = 24; shift >= 0; shift -= 8) h += static_cast<char>((len >> shift) & 0xff);
    return h;
  };
  struct Case {
    std::string bytes;
    std::string logged;
  };
  const std::vector<Case> cases = {
      {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "bad magic"},
      {header("SHOX", 1, 1, 1) + "x", "bad magic"},
      {header("SHOL", 9, 1, 1) + "x", "unsupported version 9"},
      {header("SHOL", 1, 77, 1) + "x", "unknown type 77"},
      {header("SHOL", 1, 1, (1 << 20) + 1), "exceeds the limit of 1048576"},
      {header("SHOL", 1, 3, 3) + "\xff\xff\xff", "an RPC frame that does not parse"},
  };
  const TlsIdentity m3 = pki_.node(kM3, kManager);
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].logged);
    RawTlsClient raw(io_, &m3);
    raw.connect(a->listen_port());
    ASSERT_TRUE(run_until(io_, [&] { return raw.handshaken || raw.closed; }));
    ASSERT_TRUE(raw.handshaken);
    raw.send(cases[i].bytes);
    ASSERT_TRUE(run_until(io_, [&] { return raw.closed; }));
    // The last case's frame is whole, so the RPC layer is the one that finds it bad.
    EXPECT_EQ(a->stats().bad_frames + a->rpc.stats().bad_frames, i + 1);
    EXPECT_TRUE(logs_.contains(cases[i].logged));
    // The node keeps serving its peers, both ways.
    ASSERT_TRUE(deliver(*b, kM1, "after " + std::to_string(i), ia));
    ASSERT_TRUE(deliver(*a, kM2, "after " + std::to_string(i), ib));
  }
  EXPECT_EQ(a->stats().refused_handshakes, 0u);
}

TEST_F(TlsEndpointTest, ReconnectsAfterThePeerRestarts) {
  const TlsIdentity b_tls = pki_.node(kM2, kManager);
  auto a = make(kM1, pki_.node(kM1, kManager),
                {.reconnect_min = std::chrono::milliseconds(10), .reconnect_max = std::chrono::milliseconds(100)});
  auto b = make(kM2, b_tls);
  Inbox ib;
  ib.attach(*b);
  const uint16_t port = b->listen_port();
  a->set_peer_address(kM2, addr(*b));
  ASSERT_TRUE(deliver(*a, kM2, "first", ib));

  b.reset();  // the peer goes away...
  for (int i = 0; i < 20; ++i) {  // ...while a keeps sending for a while (connect refused, backoff)
    a->raft_transport().send(kM2, "into the void");
    run_for(io_, std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(logs_.contains("retrying with backoff"));
  b = make(kM2, b_tls, {.listen_address = "127.0.0.1:" + std::to_string(port)});  // ...and comes back
  Inbox ib2;
  ib2.attach(*b);
  ASSERT_TRUE(run_until(io_, [&] {
    a->raft_transport().send(kM2, "again");
    return !ib2.msgs.empty();
  }));
  EXPECT_EQ(ib2.msgs.back().second, "again");
  EXPECT_EQ(ib2.msgs[0].first.node_id, kM1);
  EXPECT_GE(a->stats().connects, 2u);
}

TEST_F(TlsEndpointTest, CallsTimeOutAndALostConnectionFailsThem) {
  auto a = make(kM1, pki_.node(kM1, kManager));
  auto b = make(kM2, pki_.node(kM2, kManager));
  std::vector<Rpc::Reply> held;  // b never answers by itself
  b->serve("slow", Access::kAnyNode,
           [&](const PeerIdentity*, std::string, Rpc::Reply reply) { held.push_back(std::move(reply)); });
  a->set_peer_address(kM2, addr(*b));

  CallResult r;
  const auto t0 = std::chrono::steady_clock::now();
  a->call(kM2, "slow", "", std::chrono::milliseconds(100), r.cb());
  ASSERT_TRUE(run_until(io_, [&] { return r.done(); }));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(100));
  EXPECT_EQ(r.status.code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(a->rpc.stats().timeouts, 1u);
  ASSERT_EQ(held.size(), 1u);
  held[0]({}, "too late");  // a late reply is ignored
  run_for(io_, std::chrono::milliseconds(50));
  EXPECT_EQ(r.calls, 1);

  CallResult r2;
  a->call(kM2, "slow", "", std::chrono::seconds(30), r2.cb());
  ASSERT_TRUE(run_until(io_, [&] { return held.size() == 2; }));
  b->stop();
  ASSERT_TRUE(run_until(io_, [&] { return r2.done(); }));
  EXPECT_EQ(r2.status.code(), StatusCode::kUnavailable) << r2.status.message();
  held[1]({}, "after stop");  // replying on a stopped endpoint goes nowhere
  run_for(io_, std::chrono::milliseconds(20));
  EXPECT_EQ(r2.calls, 1);

  // A call to a node with no address fails at once (later, not inside call()).
  CallResult r3;
  a->call(0x9999, "slow", "", std::chrono::seconds(5), r3.cb());
  EXPECT_FALSE(r3.done());
  ASSERT_TRUE(run_until(io_, [&] { return r3.done(); }));
  EXPECT_EQ(r3.status.code(), StatusCode::kUnavailable);
}

TEST_F(TlsEndpointTest, AFullSendQueueDropsAndCounts) {
  // A port where nobody listens: an endpoint that has gone.
  auto gone = make(kM2, pki_.node(kM2, kManager));
  const std::string dead = addr(*gone);
  gone.reset();

  auto a = make(kM1, pki_.node(kM1, kManager), {.max_queued_bytes_per_peer = 64 * 1024});
  a->set_peer_address(kM2, dead);
  const std::string payload(4096, 'x');  // 4108 bytes framed: 15 fit in 64 KiB
  for (int i = 0; i < 100; ++i) a->raft_transport().send(kM2, payload);
  EXPECT_EQ(a->stats().dropped_queue_full, 85u);
  EXPECT_TRUE(logs_.contains("send queue to node 0000000000002222 is full"));

  CallResult r;  // a request larger than the 3916 bytes left
  a->call(kM2, "anything", std::string(4000, 'y'), std::chrono::seconds(5), r.cb());
  ASSERT_TRUE(run_until(io_, [&] { return r.done(); }));
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status.message().find("send queue is full"), std::string::npos) << r.status.message();
  EXPECT_EQ(a->stats().dropped_queue_full, 86u);

  // Once the connection attempt fails the queue is empty again: a call waits for the next one.
  run_for(io_, std::chrono::milliseconds(50));
  CallResult r2;
  a->call(kM2, "anything", "", std::chrono::seconds(5), r2.cb());
  ASSERT_TRUE(run_until(io_, [&] { return r2.done(); }));
  EXPECT_EQ(r2.status.code(), StatusCode::kUnavailable);
  EXPECT_NE(r2.status.message().find("cannot reach"), std::string::npos) << r2.status.message();
  EXPECT_EQ(a->stats().dropped_queue_full, 86u);
}

TEST_F(TlsEndpointTest, RootRotationTakesEffectForNewHandshakes) {
  TestPki next("cluster-a");
  auto a = make(kM1, pki_.node(kM1, kManager));
  Inbox ia;
  ia.attach(*a);
  TlsIdentity c_tls = next.node(kM3, kManager);
  c_tls.trusted_roots_pem = {next.root_pem(), pki_.root_pem()};
  auto c = make(kM3, c_tls, {.reconnect_min = std::chrono::milliseconds(5),
                             .reconnect_max = std::chrono::milliseconds(20)});
  c->set_peer_address(kM1, addr(*a));
  c->raft_transport().send(kM1, "refused");
  ASSERT_TRUE(run_until(io_, [&] { return a->stats().refused_handshakes >= 1; }));

  // Another node's certificate is not this node's identity.
  Status wrong = a->set_identity(pki_.node(kM2, kManager));
  EXPECT_EQ(wrong.code(), StatusCode::kInvalidArgument);

  TlsIdentity a2 = pki_.node(kM1, kManager);
  a2.trusted_roots_pem = {pki_.root_pem(), next.root_pem()};
  ASSERT_TRUE(a->set_identity(a2).ok());
  ASSERT_TRUE(run_until(io_, [&] {
    c->raft_transport().send(kM1, "accepted");
    return !ia.msgs.empty();
  }));
  EXPECT_EQ(ia.msgs[0].first.node_id, kM3);
}

TEST_F(TlsEndpointTest, StartReportsABusyAddress) {
  auto a = make(kM1, pki_.node(kM1, kManager));
  Endpoint b(io_, {.self = kM2, .cluster_id = "cluster-a", .listen_address = addr(*a)}, pki_.node(kM2, kManager));
  Status s = b.start();
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_NE(s.message().find("cannot listen on " + addr(*a)), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("in use"), std::string::npos) << s.message();

  Endpoint bad(io_, {.self = kM2, .cluster_id = "cluster-a", .listen_address = "127.0.0.1:0"},
               TlsIdentity{"not a certificate", "not a key", {pki_.root_pem()}});
  EXPECT_EQ(bad.start().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace shoal::real
