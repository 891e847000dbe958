// SimRpc over a simulated World: calls answer, time out when the peer is gone, honour each
// method's access, and a node's calls to itself run on a later turn; Raft's channel on the same
// transport is kept apart.
#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "core/api/rpc.pb.h"
#include "io_sim/world/sim_rpc.h"
#include "io_sim/world/world.h"

namespace shoal::sim {
namespace {

using std::chrono::milliseconds;

// A node with an RPC endpoint: managers are nodes 1 and 2, node 3 a worker.
class RpcApp final : public NodeApp {
 public:
  RpcApp(NodeId id, Env& env)
      : mux(env.transport), rpc(env, mux, id, [](NodeId n) { return n <= 2 ? NodeRole::kManager : NodeRole::kWorker; }) {
    rpc.serve("slow", RpcAccess::kAnyNode, [&env](const PeerIdentity*, std::string, Rpc::Reply reply) {
      env.timers.after(milliseconds(300), [reply] { reply({}, "late"); });
    });
    rpc.serve("echo", RpcAccess::kAnyNode, [](const PeerIdentity* from, std::string body, Rpc::Reply reply) {
      reply({}, body + " from n" + std::to_string(from->node_id));
    });
    rpc.serve("secret", RpcAccess::kManagerOnly, [](const PeerIdentity*, std::string, Rpc::Reply reply) {
      reply({}, "for managers");
    });
    rpc.serve("never", RpcAccess::kAnyNode, [](const PeerIdentity*, std::string, Rpc::Reply) {});
    mux.raft().set_handler([this](const PeerIdentity&, std::string_view m) { raft_seen = std::string(m); });
  }
  ChannelMux mux;
  SimRpc rpc;
  std::string raft_seen;
};

struct Answer {
  Status status;
  std::string body;
};

class SimRpcTest : public ::testing::Test {
 protected:
  SimRpcTest()
      : world(options(), [](NodeId id, Env& env) { return std::make_unique<RpcApp>(id, env); }) {
    world.start_all();
  }
  static WorldOptions options() {
    WorldOptions o;
    o.nodes = 3;
    o.seed = 5;
    return o;
  }
  RpcApp& app(NodeId id) { return *static_cast<RpcApp*>(world.app(id)); }
  std::optional<Answer> call(NodeId from, NodeId to, const std::string& method, Duration timeout = milliseconds(500)) {
    auto out = std::make_shared<std::optional<Answer>>();
    app(from).rpc.call(to, method, "hi", timeout, [out](Status s, std::string b) { *out = Answer{s, b}; });
    world.run_for(std::chrono::seconds(1));
    return *out;
  }
  World world;
};

TEST_F(SimRpcTest, ACallIsAnsweredWithTheCallersIdentity) {
  auto a = call(1, 2, "echo");
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(a->status.ok()) << a->status.message();
  EXPECT_EQ(a->body, "hi from n1");
}

TEST_F(SimRpcTest, AWorkerIsRefusedAManagerOnlyMethodAndAManagerIsNot) {
  auto refused = call(3, 1, "secret");
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status.code(), StatusCode::kPermissionDenied);
  auto allowed = call(2, 1, "secret");
  ASSERT_TRUE(allowed.has_value());
  EXPECT_TRUE(allowed->status.ok());
}

TEST_F(SimRpcTest, AnUnknownMethodIsUnavailableAndASilentPeerTimesOut) {
  auto unknown = call(1, 2, "nothing");
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown->status.code(), StatusCode::kUnavailable);
  auto silent = call(1, 2, "never", milliseconds(300));
  ASSERT_TRUE(silent.has_value());
  EXPECT_EQ(silent->status.code(), StatusCode::kDeadlineExceeded);
}

TEST_F(SimRpcTest, ACallToACrashedNodeTimesOutAndOneToItselfRunsLocally) {
  world.crash(2);
  auto dead = call(1, 2, "echo", milliseconds(200));
  ASSERT_TRUE(dead.has_value());
  EXPECT_EQ(dead->status.code(), StatusCode::kDeadlineExceeded);
  world.isolate(1);  // a self-call never touches the network
  auto self = call(1, 1, "echo");
  ASSERT_TRUE(self.has_value());
  EXPECT_TRUE(self->status.ok());
  EXPECT_EQ(self->body, "hi from n1");
}

// Seed 932 of services_chaos: a leader answered a restarted agent's previous life's long poll
// after the restart, the World delivered the answer to the new life, and it completed the new
// life's status report of the same call number: the report was never applied.
TEST_F(SimRpcTest, AnAnswerToAPreviousLifesCallCompletesNothingAfterARestart) {
  std::optional<Answer> old_life;
  app(1).rpc.call(2, "slow", "hi", milliseconds(1000), [&](Status s, std::string b) { old_life = Answer{s, b}; });
  world.run_for(milliseconds(100));
  world.crash(1);
  world.restart(1);
  auto fresh = call(1, 2, "never", milliseconds(600));  // node 2 answers the old call meanwhile
  ASSERT_TRUE(fresh.has_value());
  EXPECT_EQ(fresh->status.code(), StatusCode::kDeadlineExceeded) << fresh->body;
  EXPECT_FALSE(old_life.has_value());  // its life is gone
}

// The other half of the restart fix: an answer counts only from the node that was called. Node 3
// learns node 1's call numbers from a call made to it and answers node 1's next call, made to
// node 2, in node 2's stead.
TEST_F(SimRpcTest, AnAnswerFromANodeThatWasNotCalledCompletesNothing) {
  uint64_t seen_id = 0;
  app(3).mux.set_rpc_handler([&](const PeerIdentity&, std::string_view payload) {
    rpcpb::RpcFrame f;
    if (f.ParseFromArray(payload.data(), static_cast<int>(payload.size())) && f.has_request()) seen_id = f.request().id();
  });
  app(1).rpc.call(3, "never", "hi", milliseconds(1000), [](Status, std::string) {});
  world.run_for(milliseconds(50));
  ASSERT_NE(seen_id, 0u);
  auto to_2 = std::make_shared<std::optional<Answer>>();
  app(1).rpc.call(2, "never", "hi", milliseconds(500), [to_2](Status s, std::string b) { *to_2 = Answer{s, b}; });
  rpcpb::RpcFrame forged;
  forged.mutable_response()->set_id(seen_id + 1);
  forged.mutable_response()->set_body("forged");
  app(3).mux.send_rpc(1, forged.SerializeAsString());
  world.run_for(std::chrono::seconds(1));
  ASSERT_TRUE(to_2->has_value());
  EXPECT_EQ((*to_2)->status.code(), StatusCode::kDeadlineExceeded) << (*to_2)->body;
}

TEST_F(SimRpcTest, RaftsChannelAndRpcsShareTheTransportWithoutMixing) {
  app(1).mux.raft().send(2, "append");
  auto a = call(1, 2, "echo");
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(a->status.ok());
  EXPECT_EQ(app(2).raft_seen, "append");
}

}  // namespace
}  // namespace shoal::sim
