// A whole Node (core/node/node.h) on hand-driven seams: the simulator's crypto, cluster port,
// data directory and task runtime, a manual clock and timers, no gossip. One node inits a
// cluster and leads it; autolocked, it restarts locked, a wrong unlock key is refused and
// leaves it locked with nothing opened, and the cluster's own key opens it again.
#include "core/node/node.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "core/node/unlock_key.h"
#include "io_sim/world/sim_cluster_net.h"
#include "io_sim/world/sim_crypto.h"
#include "io_sim/world/sim_disk.h"
#include "io_sim/world/sim_node_storage.h"
#include "io_sim/world/sim_runtime.h"
#include "tests/core/manual_env.h"

namespace shoal::node {
namespace {

using std::chrono::milliseconds;
using test::ManualClock;
using test::ManualTimers;

constexpr NodeId kHost = 1;

// What outlives a node's process: the clock, the disk and its data directory, and the
// certificates each host shows.
struct Machine {
  ManualClock clock;
  test::RecordingLogSink sink;
  sim::SimDisk disk;
  sim::SimDataDir dir;
  sim::SimShownCerts shown;
};

// One life of the node's process, with timers of its own: what a life left pending dies with it.
struct Life {
  explicit Life(Machine& m, uint64_t seed, bool autolock)
      : machine(m),
        timers(m.clock),
        rng(seed),
        log(m.clock, m.sink),
        env{m.clock, timers, rng, transport, m.disk, log},
        crypto(seed),
        mux(transport),
        net(env, crypto, mux, m.shown, kHost),
        storage(m.disk, m.dir, "n1"),
        runtime(env, sim::TaskFaults{}) {
    // A sync completes a millisecond after it is asked for.
    m.disk.set_on_sync([this] {
      timers.after(milliseconds(1), [this] {
        if (auto done = machine.disk.complete_next_sync()) done->done(Status{});
      });
    });
    NodeOptions o;
    o.hostname = "n1";
    o.listen_addr = sim::sim_address(kHost);
    o.autolock = autolock;
    o.description.mutable_platform()->set_os("linux");
    node = std::make_unique<Node>(
        NodeSeams{m.clock, timers, rng, log, crypto, net, /*gossip=*/nullptr, storage, runtime}, o);
  }
  ~Life() {
    node.reset();
    machine.disk.set_on_sync({});
    machine.disk.drop_pending_syncs();
  }
  // Runs timers in small steps until `done()` or `limit` has passed; whether it got there.
  template <typename Done>
  bool run_until(Done done, Duration limit = std::chrono::seconds(20)) {
    for (Duration t{}; t < limit; t += milliseconds(10)) {
      if (done()) return true;
      timers.advance(milliseconds(10));
    }
    return done();
  }
  bool leads() { return node->manager() && node->manager()->is_leader(); }

  Machine& machine;
  ManualTimers timers;
  Rng rng;
  Log log;
  test::NoTransport transport;
  Env env;
  sim::SimCrypto crypto;
  sim::ChannelMux mux;
  sim::SimClusterNet net;
  sim::SimNodeStorage storage;
  sim::SimRuntime runtime;
  std::unique_ptr<Node> node;
};

// Inits a one-manager cluster on `m` and stops the node once it leads; its InitResult.
Result<InitResult> init(Machine& m, bool autolock) {
  Life life(m, 42, autolock);
  std::optional<Result<InitResult>> result;
  life.node->init([&](Result<InitResult> r) { result = std::move(r); });
  EXPECT_TRUE(life.run_until([&] { return result.has_value(); }));
  if (!result) return Status::deadline_exceeded("init did not finish");
  EXPECT_TRUE(life.leads());
  life.node->stop();
  return *result;
}

TEST(NodeTest, ASingleManagerInitsAClusterLeadsItAndFoundsItsStore) {
  Machine m;
  Life life(m, 42, /*autolock=*/false);
  std::optional<Result<InitResult>> result;
  life.node->init([&](Result<InitResult> r) { result = std::move(r); });
  EXPECT_FALSE(result.has_value());  // never inside init()
  ASSERT_TRUE(life.run_until([&] { return result.has_value(); }));
  ASSERT_TRUE(result->ok()) << result->status().message();
  const InitResult& r = **result;

  Node& node = *life.node;
  EXPECT_TRUE(node.running());
  EXPECT_FALSE(node.locked());
  EXPECT_EQ(node.id(), r.node_id);
  ASSERT_NE(node.manager(), nullptr);
  EXPECT_TRUE(node.manager()->is_leader());
  EXPECT_EQ(node.manager()->leader(), r.node_id);
  EXPECT_EQ(r.advertise_addr, "n1:2377");
  EXPECT_EQ(r.worker_token.rfind("SWMTKN-1-", 0), 0u);
  EXPECT_NE(r.worker_token, r.manager_token);
  EXPECT_FALSE(r.unlock_key.has_value());

  // The founding transaction: the cluster with the tokens it handed out, and this node.
  const store::Store& store = *node.store();
  ASSERT_NE(store.cluster(), nullptr);
  EXPECT_EQ(store.cluster()->id(), node.record()->cluster_id());
  EXPECT_EQ(store.cluster()->worker_token(), r.worker_token);
  EXPECT_FALSE(store.cluster()->autolock());
  const storepb::NodeObject* self = store.find_node(node_id_text(r.node_id));
  ASSERT_NE(self, nullptr);
  EXPECT_EQ(self->spec().desired_role(), storepb::MANAGER);
  EXPECT_EQ(self->hostname(), "n1");
  EXPECT_EQ(node.record()->role(), storepb::MANAGER);
  ASSERT_TRUE(m.dir.unlock_key_file.has_value());  // not autolocked: the key stays on disk
  EXPECT_EQ(*m.dir.unlock_key_file, m.dir.sealed_under);
  node.check_invariants();
}

TEST(NodeTest, InitRefusesADataDirectoryThatHoldsANode) {
  Machine m;
  ASSERT_TRUE(init(m, false).ok());
  Life second(m, 43, false);
  std::optional<Result<InitResult>> result;
  second.node->init([&](Result<InitResult> r) { result = std::move(r); });
  second.timers.advance(milliseconds(1));
  ASSERT_TRUE(result.has_value());
  ASSERT_FALSE(result->ok());
  EXPECT_EQ(result->status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(result->status().message().find("already holds a node"), std::string::npos) << result->status().message();
}

TEST(NodeTest, AnAutolockedManagerRestartsLockedAndOnlyTheClustersKeyUnlocksIt) {
  Machine m;
  auto founded = init(m, /*autolock=*/true);
  ASSERT_TRUE(founded.ok()) << founded.status().message();
  ASSERT_TRUE(founded->unlock_key.has_value());
  EXPECT_FALSE(m.dir.unlock_key_file.has_value());  // the key is the operator's to keep
  const AeadKey sealed_under = m.dir.sealed_under;

  Life life(m, 44, true);
  Node& node = *life.node;
  std::optional<Status> restarted;
  node.restart([&](Status s) { restarted = s; });
  life.timers.advance(milliseconds(1));
  ASSERT_TRUE(restarted.has_value());
  ASSERT_TRUE(restarted->ok()) << restarted->message();
  EXPECT_TRUE(node.locked());
  EXPECT_FALSE(node.running());
  EXPECT_EQ(node.record(), nullptr);

  AeadKey wrong = sealed_under;
  wrong[0] ^= 1;
  Status refused = node.unlock(wrong);
  EXPECT_EQ(refused.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(refused.message().find("wrong unlock key"), std::string::npos) << refused.message();
  EXPECT_TRUE(node.locked());
  EXPECT_FALSE(node.running());
  EXPECT_EQ(node.record(), nullptr);
  EXPECT_EQ(node.store(), nullptr);
  EXPECT_EQ(m.dir.sealed_under, sealed_under);

  auto key = parse_unlock_key(*founded->unlock_key);
  ASSERT_TRUE(key.ok()) << key.status().message();
  Status unlocked = node.unlock(*key);
  ASSERT_TRUE(unlocked.ok()) << unlocked.message();
  EXPECT_FALSE(node.locked());
  EXPECT_TRUE(node.running());
  EXPECT_EQ(node.id(), founded->node_id);
  ASSERT_TRUE(life.run_until([&] { return life.leads() && node.store()->cluster() != nullptr; }));
  EXPECT_TRUE(node.store()->cluster()->autolock());
  EXPECT_EQ(node.unlock(*key).code(), StatusCode::kFailedPrecondition);  // not locked any more
}

}  // namespace
}  // namespace shoal::node
