// World node faults: crash (memory, timers, syncs, disk), restart, disk loss, pause.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "io_sim/world/world.h"
#include "tests/io_sim/world_test_util.h"

namespace shoal::sim {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using testing::Journal;
using testing::probe;

WorldOptions opts(size_t n, uint64_t seed = 9) {
  WorldOptions o;
  o.nodes = n;
  o.seed = seed;
  o.keep_trace = true;
  o.link.base_latency = milliseconds(1);
  o.link.jitter = Duration::zero();
  o.disk.torn = 0.0;
  return o;
}

struct Fixture {
  explicit Fixture(WorldOptions o) : world(std::move(o), testing::probe_factory(journal)) {
    journal.world = &world;
    world.start_all();
  }
  Journal journal;
  World world;
};

int count_kind(const Trace& t, NodeId node, std::string_view kind) {
  int n = 0;
  for (const auto& r : t.records()) n += (r.node == node && r.kind == kind);
  return n;
}

TEST(WorldCrashTest, CrashLosesUnsyncedWritesButKeepsSyncedOnes) {
  Fixture f(opts(1));
  Disk& disk = probe(f.world, 1).env().disk;
  bool synced = false;
  disk.put("term", "3");
  disk.sync([&](Status s) {
    EXPECT_TRUE(s.ok());
    synced = true;
  });
  f.world.run_for(milliseconds(5));
  ASSERT_TRUE(synced);
  probe(f.world, 1).env().disk.put("vote", "2");
  probe(f.world, 1).env().disk.put("term", "4");
  EXPECT_EQ(probe(f.world, 1).env().disk.get("term"), "4");

  EXPECT_TRUE(f.world.crash(1));
  EXPECT_FALSE(f.world.is_up(1));
  EXPECT_EQ(f.world.app(1), nullptr);
  EXPECT_EQ(f.journal.apps_destroyed, 1);
  EXPECT_TRUE(f.world.restart(1));
  EXPECT_EQ(f.journal.apps_created, 2);
  Disk& after = probe(f.world, 1).env().disk;
  EXPECT_EQ(after.get("term"), "3");
  EXPECT_EQ(after.get("vote"), std::nullopt);
}

TEST(WorldCrashTest, SyncCallbackNeverFiresAfterCrashButWorksAfterRestart) {
  Fixture f(opts(2));
  int callbacks = 0;
  probe(f.world, 1).env().disk.put("k", "v");
  probe(f.world, 1).env().disk.sync([&](Status) { ++callbacks; });
  f.world.crash(1);
  f.world.run_for(milliseconds(50));
  EXPECT_EQ(callbacks, 0);
  EXPECT_EQ(count_kind(f.world.trace(), 1, "sync"), 0);
  EXPECT_EQ(f.world.disk(1).get("k"), std::nullopt);

  f.world.restart(1);
  probe(f.world, 1).env().disk.put("k", "v2");
  probe(f.world, 1).env().disk.sync([&](Status) { ++callbacks; });
  f.world.run_for(milliseconds(50));
  EXPECT_EQ(callbacks, 1);
  EXPECT_EQ(f.world.disk(1).durable().at("k"), "v2");
}

TEST(WorldCrashTest, SyncLatencyIsWithinConfiguredBoundsAndFifo) {
  WorldOptions o = opts(1);
  o.disk.min_sync_latency = microseconds(300);
  o.disk.max_sync_latency = milliseconds(3);
  Fixture f(o);
  std::vector<SimTime> done_at;
  std::vector<int> order;
  for (int i = 0; i < 30; ++i) {
    probe(f.world, 1).env().disk.put("k" + std::to_string(i), "v");
    probe(f.world, 1).env().disk.sync([&, i](Status) {
      done_at.push_back(f.world.now());
      order.push_back(i);
    });
  }
  f.world.run_for(milliseconds(100));
  ASSERT_EQ(order.size(), 30u);
  EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
  EXPECT_GE(done_at.front(), microseconds(300));
  EXPECT_LE(done_at.back(), milliseconds(3));
}

TEST(WorldCrashTest, TornCrashKeepsAPrefixOfUnsyncedWrites) {
  WorldOptions o = opts(1, 5);
  o.disk.torn = 1.0;
  Fixture f(o);
  for (int i = 0; i < 8; ++i) probe(f.world, 1).env().disk.put("log/" + std::to_string(i), "e");
  f.world.crash(1);
  const auto& live = f.world.disk(1).live();
  ASSERT_FALSE(live.empty());
  size_t i = 0;
  for (const auto& [k, v] : live) EXPECT_EQ(k, "log/" + std::to_string(i++));
  const auto& crash = f.world.trace().records().back();
  EXPECT_EQ(crash.kind, "crash");
  EXPECT_EQ(crash.detail, "unsynced=8 torn_kept=" + std::to_string(live.size()) + " syncs_lost=0");
}

TEST(WorldCrashTest, CrashCancelsTimersForGood) {
  Fixture f(opts(2));
  int fired = 0;
  probe(f.world, 1).env().timers.after(milliseconds(10), [&] { ++fired; });
  probe(f.world, 2).env().timers.after(milliseconds(10), [&] { ++fired; });
  f.world.run_for(milliseconds(5));
  f.world.crash(1);
  f.world.run_for(milliseconds(1));
  f.world.restart(1);
  f.world.run_for(milliseconds(100));
  EXPECT_EQ(fired, 1);  // node 2's only
  EXPECT_EQ(count_kind(f.world.trace(), 1, "timer"), 0);
  EXPECT_EQ(count_kind(f.world.trace(), 2, "timer"), 1);
}

TEST(WorldCrashTest, CancelledTimerDoesNotFire) {
  Fixture f(opts(1));
  int fired = 0;
  Timers& timers = probe(f.world, 1).env().timers;
  TimerId a = timers.after(milliseconds(10), [&] { fired += 1; });
  timers.after(milliseconds(20), [&] { fired += 10; });
  timers.cancel(a);
  timers.cancel(a);
  timers.cancel(9999);
  f.world.run_for(milliseconds(100));
  EXPECT_EQ(fired, 10);
}

TEST(WorldCrashTest, NodeMayCrashFromInsideItsOwnEvent) {
  Fixture f(opts(2));
  testing::ProbeApp* app2 = &probe(f.world, 2);
  app2->on_receive = [&f, app2](const PeerIdentity&, std::string_view) {
    f.world.crash(2);
    // The app stays alive until this handler returns; the world already sees it as down.
    EXPECT_EQ(f.journal.apps_destroyed, 0);
    EXPECT_EQ(app2->id(), 2u);
    EXPECT_EQ(f.world.app(2), nullptr);
  };
  probe(f.world, 1).send(2, "die");
  f.world.run_for(milliseconds(5));
  EXPECT_EQ(f.journal.apps_destroyed, 1);
  EXPECT_FALSE(f.world.is_up(2));
  EXPECT_TRUE(f.world.restart(2));
  EXPECT_TRUE(f.world.is_up(2));
}

TEST(WorldCrashTest, DiskLossCrashesAndWipes) {
  Fixture f(opts(1));
  probe(f.world, 1).env().disk.put("k", "v");
  probe(f.world, 1).env().disk.sync([](Status) {});
  f.world.run_for(milliseconds(5));
  ASSERT_EQ(f.world.disk(1).durable().size(), 1u);
  f.world.disk_loss(1);
  EXPECT_FALSE(f.world.is_up(1));
  f.world.restart(1);
  EXPECT_EQ(probe(f.world, 1).env().disk.get("k"), std::nullopt);
}

TEST(WorldCrashTest, IncarnationChangesOnEveryUpAndDown) {
  Fixture f(opts(1));
  const uint64_t i0 = f.world.incarnation(1);
  f.world.crash(1);
  EXPECT_FALSE(f.world.crash(1));
  const uint64_t i1 = f.world.incarnation(1);
  f.world.restart(1);
  EXPECT_FALSE(f.world.restart(1));
  EXPECT_LT(i0, i1);
  EXPECT_LT(i1, f.world.incarnation(1));
}

TEST(WorldCrashTest, AfterOnIsVoidedByCrash) {
  Fixture f(opts(1));
  int ran = 0;
  f.world.after_on(1, milliseconds(5), [&] { ++ran; });
  f.world.after_on(1, milliseconds(5), [&] { ++ran; });
  f.world.run_for(milliseconds(10));
  EXPECT_EQ(ran, 2);
  f.world.after_on(1, milliseconds(5), [&] { ++ran; });
  f.world.crash(1);
  f.world.restart(1);
  f.world.run_for(milliseconds(10));
  EXPECT_EQ(ran, 2);
}

// Destroyed inside a callback the app handed to the world; notes whether the app still lived.
struct Witness {
  Journal* journal;
  int* destroyed_after_app;
  ~Witness() {
    if (journal != nullptr && journal->apps_destroyed > 0) ++*destroyed_after_app;
  }
};

TEST(WorldCrashTest, TeardownDestroysPendingCallbacksBeforeTheApps) {
  int destroyed_after_app = 0;
  {
    Fixture f(opts(2));
    Env& env = probe(f.world, 1).env();
    auto witness = [&] { return std::make_shared<Witness>(Witness{&f.journal, &destroyed_after_app}); };
    env.timers.after(std::chrono::seconds(10), [w = witness()] {});
    env.disk.put("k", "v");
    env.disk.sync([w = witness()](Status) {});
    f.world.after_on(1, std::chrono::seconds(10), [w = witness()] {});
    f.world.pause(1, std::chrono::seconds(1));
    f.world.after_on(1, Duration::zero(), [w = witness()] {});
    f.world.run_for(milliseconds(1));  // the last one is now deferred by the pause
    EXPECT_EQ(f.journal.apps_destroyed, 0);
  }
  EXPECT_EQ(destroyed_after_app, 0);
}

TEST(WorldPauseTest, PauseDefersEventsAndKeepsTheirOrder) {
  Fixture f(opts(3));
  f.world.pause(2, milliseconds(50));
  EXPECT_TRUE(f.world.is_paused(2));
  EXPECT_TRUE(f.world.is_up(2));
  std::vector<std::string> seen;
  probe(f.world, 2).on_receive = [&](const PeerIdentity&, std::string_view p) { seen.emplace_back(p); };
  probe(f.world, 2).env().timers.after(milliseconds(3), [&] { seen.push_back("timer"); });
  f.world.after(milliseconds(1), [&] { probe(f.world, 1).send(2, "a"); });  // due at 2ms
  f.world.after(milliseconds(2), [&] { probe(f.world, 3).send(2, "b"); });  // due at 3ms, after the timer
  f.world.after(milliseconds(5), [&] { probe(f.world, 1).send(2, "c"); });  // due at 6ms
  f.world.after(milliseconds(5), [&] { probe(f.world, 1).send(3, "x"); });  // node 3 is not paused
  f.world.run_for(milliseconds(49));
  EXPECT_TRUE(seen.empty());
  EXPECT_EQ(f.journal.payloads_at(3), (std::vector<std::string>{"x"}));
  f.world.run_for(milliseconds(2));
  EXPECT_FALSE(f.world.is_paused(2));
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "timer", "b", "c"}));
  for (const auto& r : f.journal.received) {
    if (r.at == 2) {
      EXPECT_EQ(r.t, milliseconds(50));
    }
  }
}

TEST(WorldPauseTest, CrashDuringPauseDiscardsDeferredEvents) {
  Fixture f(opts(2));
  int fired = 0;
  probe(f.world, 2).env().timers.after(milliseconds(1), [&] { ++fired; });
  f.world.pause(2, milliseconds(20));
  probe(f.world, 1).send(2, "lost");
  f.world.run_for(milliseconds(10));
  f.world.crash(2);
  EXPECT_FALSE(f.world.is_paused(2));
  f.world.restart(2);
  f.world.run_for(milliseconds(50));
  EXPECT_EQ(fired, 0);
  EXPECT_TRUE(f.journal.received.empty());
  int drops = 0;
  for (const auto& r : f.world.trace().records()) {
    if (r.kind == "drop" && r.detail == "1->2 bytes=4 down") ++drops;
  }
  EXPECT_EQ(drops, 1);  // the deferred message is dropped, and says so
}

TEST(WorldPauseTest, LongerPauseExtendsAndResumeEndsEarly) {
  Fixture f(opts(2));
  f.world.pause(2, milliseconds(10));
  f.world.pause(2, milliseconds(30));
  f.world.run_for(milliseconds(20));
  EXPECT_TRUE(f.world.is_paused(2));
  EXPECT_TRUE(f.world.resume(2));
  EXPECT_FALSE(f.world.resume(2));
  probe(f.world, 1).send(2, "now");
  f.world.run_for(milliseconds(2));
  EXPECT_EQ(f.journal.payloads_at(2), (std::vector<std::string>{"now"}));
}

}  // namespace
}  // namespace shoal::sim
