// The PKI on real processes: a worker's certificate cannot call a manager-only operation, an
// expired certificate is refused, certificates renew by themselves, and the root CA rotates with
// every node still talking.
#include <gtest/gtest.h>
#include <signal.h>

#include <utility>  // before Asio (Boost 1.74 under C++20)

#include <boost/asio/io_context.hpp>
#include <optional>

#include "core/api/manager.pb.h"
#include "core/ca/node_identity.h"
#include "core/rpc/rpc_peer.h"
#include "io_real/crypto/openssl_crypto.h"
#include "io_real/env/real_env.h"
#include "io_real/net/endpoint.h"
#include "tests/integration/cluster_harness.h"

namespace shoal::integration {
namespace {
using namespace std::chrono_literals;
using nlohmann::json;

// The RPC layer on an endpoint's wire, as shoald has it.
struct RpcOn {
  RpcOn(boost::asio::io_context& io, real::Endpoint& ep, PeerIdentity self)
      : timers(io), rpc(timers, rng, log, ep.rpc_wire(), std::move(self)) {}
  real::SystemClock clock;
  real::AsioTimers timers;
  Rng rng{1};
  NullLogSink sink;
  Log log{clock, sink};
  RpcPeer rpc;
};

// A node made inside the test: it joins with a token over an anonymous connection, exactly as
// shoald does, and then holds a real certificate of the cluster.
struct InProcessNode {
  boost::asio::io_context io;
  real::OpenSslCrypto crypto;
  managerpb::JoinResponse joined;
  std::string key_pem;

  std::pair<Status, std::string> call_address(real::Endpoint& ep, const std::string& addr, const std::string& method,
                                              std::string body) {
    std::optional<std::pair<Status, std::string>> out;
    RpcOn on(io, ep, PeerIdentity{});
    on.rpc.call_address(addr, true, [](std::string_view) { return Status{}; }, method, std::move(body), 5s,
                    [&](Status s, std::string b) { out.emplace(s, std::move(b)); });
    for (int i = 0; i < 200 && !out; ++i) {
      io.restart();
      io.run_for(50ms);
    }
    return out.value_or(std::make_pair(Status::deadline_exceeded("test: no answer"), std::string()));
  }

  Status join(const std::string& addr, const std::string& token) {
    real::Endpoint anon(io, {}, {});
    auto key = crypto.generate_key();
    key_pem = key->private_key_pem;
    managerpb::JoinRequest req;
    req.set_token(token);
    req.set_csr_pem(*crypto.make_csr(key_pem));
    req.set_hostname("in-process");
    auto [s, body] = call_address(anon, addr, "node.join", req.SerializeAsString());
    anon.stop();
    if (s.ok() && !joined.ParseFromString(body)) return Status::corruption("join answer does not parse");
    return s;
  }

  // Calls `method` on the manager `manager_id` at `addr` with this node's certificate.
  Status call_as_node(const std::string& addr, NodeId manager_id, const std::string& method, std::string body) {
    real::Endpoint ep(io, {.self = joined.node_id(), .cluster_id = joined.cluster_id()},
                     {joined.cert_chain_pem(), key_pem, {joined.trusted_roots_pem().begin(), joined.trusted_roots_pem().end()}});
    ep.set_peer_address(manager_id, addr);
    std::optional<Status> out;
    RpcOn on(io, ep, PeerIdentity{joined.node_id(), NodeRole::kWorker, joined.cluster_id()});
    on.rpc.call(manager_id, method, std::move(body), 3s, [&](Status s, std::string) { out = s; });
    for (int i = 0; i < 100 && !out; ++i) {
      io.restart();
      io.run_for(50ms);
    }
    ep.stop();
    io.restart();
    io.run_for(50ms);
    return out.value_or(Status::deadline_exceeded("test: no answer"));
  }
};

TEST(PkiTest, WorkerCertificateIsRefusedOnManagerOnlyCalls) {
  ClusterHarness h;
  NodeProc& m1 = h.init("m1");
  InProcessNode w;
  ASSERT_TRUE(w.join(m1.addr, h.worker_token(m1)).ok());
  EXPECT_EQ(w.joined.role(), storepb::WORKER);
  const NodeId m1_id = *ca::parse_node_id(h.node_id(m1));

  // A worker may ask about itself...
  EXPECT_TRUE(w.call_as_node(m1.addr, m1_id, "node.info", "").ok());
  // ...but not forward a write: the manager refuses on its role before any handler runs.
  Status s = w.call_as_node(m1.addr, m1_id, "manager.propose", "");
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s.message();
  EXPECT_NE(s.message().find("manager"), std::string::npos) << s.message();
}

TEST(PkiTest, ShortLivedCertificatesRenewByThemselvesAndExpiredOnesAreRefused) {
  ClusterHarness h;
  NodeProc& m1 = h.init("m1", {"--cert-expiry", "1m"});
  InProcessNode w;
  ASSERT_TRUE(w.join(m1.addr, h.worker_token(m1)).ok());
  const NodeId m1_id = *ca::parse_node_id(h.node_id(m1));
  ASSERT_TRUE(w.call_as_node(m1.addr, m1_id, "node.info", "").ok());
  // The manager renews its own certificate before it runs out, with nobody asking.
  EXPECT_TRUE(eventually([&] { return h.read_log(m1).find("certificate renewed") != std::string::npos; }, 90s))
      << h.read_log(m1);
  // The in-process worker never renews: once its certificate expires it is refused.
  auto info = w.crypto.parse_certificate(w.joined.cert_chain_pem());
  ASSERT_TRUE(info.ok());
  ASSERT_TRUE(eventually([&] { return std::time(nullptr) > info->not_after_unix_s + 1; }, 100s));
  Status s = w.call_as_node(m1.addr, m1_id, "node.info", "");
  EXPECT_FALSE(s.ok());
  // And the manager, on its renewed certificate, still serves.
  EXPECT_EQ(h.call(m1, "POST", "/configs/create", json{{"Name", "after-renewal"}, {"Data", ""}}.dump())->status, 201);
}

TEST(PkiTest, RootRotationMovesEveryNodeToTheNewRootWithoutDowntime) {
  ClusterHarness h;
  NodeProc& m1 = h.init("m1");
  NodeProc& m2 = h.join("m2", h.manager_token(m1), m1);
  NodeProc& w1 = h.join("w1", h.worker_token(m1), m1);
  ASSERT_TRUE(eventually([&] { auto n = h.get_json(m1, "/nodes"); return n.is_array() && n.size() == 3; }, 15s));
  auto before = h.get_json(m1, "/swarm");
  const std::string old_root = before["TLSInfo"]["TrustRoot"];
  const std::string old_token = before["JoinTokens"]["Worker"];
  json spec = before["Spec"];
  spec["CAConfig"]["ForceRotate"] = 1;
  auto r = h.call(m1, "POST", "/swarm/update?version=" + std::to_string(before["Version"]["Index"].get<uint64_t>()),
                  spec.dump());
  ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "");
  // Writes keep working while the rotation runs.
  int during = 0;
  const bool done = eventually(
      [&] {
        auto c = h.call(m2, "POST", "/configs/create", json{{"Name", "during-" + std::to_string(during)}}.dump());
        if (c && c->status == 201) ++during;
        auto s = h.get_json(m1, "/swarm");
        return s.is_object() && s["TLSInfo"]["TrustRoot"] != old_root && !s["RootRotationInProgress"].get<bool>();
      },
      40s);
  ASSERT_TRUE(done) << h.read_log(m1) << h.read_log(w1);
  EXPECT_GT(during, 0);
  // Every node, the worker included, now holds a certificate of the new root, and they still talk.
  auto after = h.call(m2, "POST", "/configs/create", json{{"Name", "after-rotation"}}.dump());
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 201) << after->body;
  EXPECT_NE(h.read_log(w1).find("certificate renewed"), std::string::npos);
  // The join tokens name the new root: the old one is refused, the new one admits.
  EXPECT_NE(h.worker_token(m1), old_token);
  auto [code, out] = h.join_expect_failure("w-old", old_token, m1.addr);
  EXPECT_NE(code, 0) << out;
  h.join("w2", h.worker_token(m1), m1);
  EXPECT_TRUE(eventually([&] { auto n = h.get_json(m1, "/nodes"); return n.is_array() && n.size() == 4; }, 15s));
}

}  // namespace
}  // namespace shoal::integration
