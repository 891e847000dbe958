// The node's RPC layer (RpcPeer) on the simulator's wire (SimRpcWire) over a simulated World:
// calls answer, time out when the peer is gone, honour each method's access, and a node's calls
// to itself run on a later turn; conversations opened to an address carry anonymous callers;
// Raft's channel on the same transport is kept apart.
#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "core/api/rpc.pb.h"
#include "core/rpc/rpc_peer.h"
#include "io_sim/world/sim_rpc_wire.h"
#include "io_sim/world/world.h"

namespace shoal::sim {
namespace {

using std::chrono::milliseconds;

PeerIdentity identity(NodeId n) { return PeerIdentity{n, n <= 2 ? NodeRole::kManager : NodeRole::kWorker, "sim"}; }

// A node with an RPC endpoint: managers are nodes 1 and 2, node 3 a worker.
class RpcApp final : public NodeApp {
 public:
  RpcApp(NodeId id, Env& env)
      : mux(env.transport),
        wire(mux.rpc(), id, [](NodeId n) { return n; }, [](NodeId n) { return std::optional<PeerIdentity>(identity(n)); },
             [](NodeId n) { return "chain of n" + std::to_string(n); }),
        rpc(env.timers, env.rng, env.log, wire, identity(id)) {
    rpc.serve("slow", RpcAccess::kAnyNode, [&env](const PeerIdentity*, std::string, Rpc::Reply reply) {
      env.timers.after(milliseconds(300), [reply] { reply({}, "late"); });
    });
    rpc.serve("echo", RpcAccess::kAnyNode, [](const PeerIdentity* from, std::string body, Rpc::Reply reply) {
      reply({}, body + " from n" + std::to_string(from->node_id));
    });
    rpc.serve("secret", RpcAccess::kManagerOnly, [](const PeerIdentity*, std::string, Rpc::Reply reply) {
      reply({}, "for managers");
    });
    rpc.serve("hello", RpcAccess::kAnonymous, [](const PeerIdentity* from, std::string, Rpc::Reply reply) {
      reply({}, from ? "from n" + std::to_string(from->node_id) : "from someone anonymous");
    });
    rpc.serve("never", RpcAccess::kAnyNode, [](const PeerIdentity*, std::string, Rpc::Reply) {});
    mux.raft().set_handler([this](const PeerIdentity&, std::string_view m) { raft_seen = std::string(m); });
  }
  ChannelMux mux;
  SimRpcWire wire;
  RpcPeer rpc;
  std::string raft_seen;
};

struct Answer {
  Status status;
  std::string body;
};

class SimRpcWireTest : public ::testing::Test {
 protected:
  SimRpcWireTest()
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

TEST_F(SimRpcWireTest, ACallIsAnsweredWithTheCallersIdentity) {
  auto a = call(1, 2, "echo");
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(a->status.ok()) << a->status.message();
  EXPECT_EQ(a->body, "hi from n1");
}

TEST_F(SimRpcWireTest, AWorkerIsRefusedAManagerOnlyMethodAndAManagerIsNot) {
  auto refused = call(3, 1, "secret");
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status.code(), StatusCode::kPermissionDenied);
  auto allowed = call(2, 1, "secret");
  ASSERT_TRUE(allowed.has_value());
  EXPECT_TRUE(allowed->status.ok());
}

TEST_F(SimRpcWireTest, AnUnknownMethodIsNotFoundAndASilentPeerTimesOut) {
  auto unknown = call(1, 2, "nothing");
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown->status.code(), StatusCode::kNotFound);
  auto silent = call(1, 2, "never", milliseconds(300));
  ASSERT_TRUE(silent.has_value());
  EXPECT_EQ(silent->status.code(), StatusCode::kDeadlineExceeded);
}

TEST_F(SimRpcWireTest, ACallToACrashedNodeTimesOutAndOneToItselfRunsLocally) {
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

// The World delivers to a restarted node an answer sent to its previous life (a real process
// would never see it: its connection died with it). It must complete none of the new life's
// calls, such as an agent's status report that would then never be applied.
TEST_F(SimRpcWireTest, AnAnswerToAPreviousLifesCallCompletesNothingAfterARestart) {
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
TEST_F(SimRpcWireTest, AnAnswerFromANodeThatWasNotCalledCompletesNothing) {
  uint64_t seen_id = 0;
  RpcWire::Events spy;
  spy.on_frame = [&](RpcWire::ChannelId, const PeerIdentity*, std::string_view payload) {
    rpcpb::RpcFrame f;
    if (f.ParseFromArray(payload.data(), static_cast<int>(payload.size())) && f.has_request()) seen_id = f.request().id();
  };
  app(3).wire.set_events(spy);
  app(1).rpc.call(3, "never", "hi", milliseconds(1000), [](Status, std::string) {});
  world.run_for(milliseconds(50));
  ASSERT_NE(seen_id, 0u);
  auto to_2 = std::make_shared<std::optional<Answer>>();
  app(1).rpc.call(2, "never", "hi", milliseconds(500), [to_2](Status s, std::string b) { *to_2 = Answer{s, b}; });
  rpcpb::RpcFrame forged;
  forged.mutable_response()->set_id(seen_id + 1);
  forged.mutable_response()->set_body("forged");
  ASSERT_TRUE(app(3).wire.send(1, forged.SerializeAsString()).ok());
  world.run_for(std::chrono::seconds(1));
  ASSERT_TRUE(to_2->has_value());
  EXPECT_EQ((*to_2)->status.code(), StatusCode::kDeadlineExceeded) << (*to_2)->body;
  EXPECT_EQ(app(1).rpc.stats().stray_answers, 1u);
}

// A joining node calls a manager by address, anonymously: only kAnonymous methods answer it.
TEST_F(SimRpcWireTest, AnAnonymousConversationMayOnlyCallAnonymousMethods) {
  auto hello = std::make_shared<std::optional<Answer>>();
  auto secret = std::make_shared<std::optional<Answer>>();
  app(3).rpc.call_address(sim_address(1), /*anonymous=*/true, {}, "hello", "", milliseconds(500),
                          [hello](Status s, std::string b) { *hello = Answer{s, b}; });
  app(3).rpc.call_address(sim_address(1), /*anonymous=*/true, {}, "echo", "", milliseconds(500),
                          [secret](Status s, std::string b) { *secret = Answer{s, b}; });
  world.run_for(std::chrono::seconds(1));
  ASSERT_TRUE(hello->has_value() && secret->has_value());
  EXPECT_TRUE((*hello)->status.ok()) << (*hello)->status.message();
  EXPECT_EQ((*hello)->body, "from someone anonymous");
  EXPECT_EQ((*secret)->status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(app(1).rpc.stats().refused, 1u);
  // Not anonymous: the callee sees who calls.
  auto named = std::make_shared<std::optional<Answer>>();
  app(3).rpc.call_address(sim_address(1), /*anonymous=*/false, {}, "hello", "", milliseconds(500),
                          [named](Status s, std::string b) { *named = Answer{s, b}; });
  world.run_for(std::chrono::seconds(1));
  ASSERT_TRUE(named->has_value());
  EXPECT_EQ((*named)->body, "from n3");
}

// The caller's check of the server's chain refuses before anything is sent, with its own status.
TEST_F(SimRpcWireTest, AServerCheckThatRefusesEndsTheCallWithItsOwnStatus) {
  std::string shown;
  auto answer = std::make_shared<std::optional<Answer>>();
  app(3).rpc.call_address(
      sim_address(2), true,
      [&](std::string_view chain) {
        shown = std::string(chain);
        return Status::permission_denied("not the CA the token names");
      },
      "hello", "", milliseconds(500), [answer](Status s, std::string b) { *answer = Answer{s, b}; });
  world.run_for(std::chrono::seconds(1));
  EXPECT_EQ(shown, "chain of n2");
  ASSERT_TRUE(answer->has_value());
  EXPECT_EQ((*answer)->status.code(), StatusCode::kPermissionDenied);
  EXPECT_NE((*answer)->status.message().find("not the CA the token names"), std::string::npos);
  EXPECT_EQ(parse_sim_address("n12:2377"), 12u);
  EXPECT_EQ(parse_sim_address("10.0.0.1:2377"), 0u);
}

TEST_F(SimRpcWireTest, RaftsChannelAndRpcsShareTheTransportWithoutMixing) {
  app(1).mux.raft().send(2, "append");
  auto a = call(1, 2, "echo");
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(a->status.ok());
  EXPECT_EQ(app(2).raft_seen, "append");
}

}  // namespace
}  // namespace shoal::sim
