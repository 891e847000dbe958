// World determinism: same seed and calls -> same trace; different seeds differ, and the first
// divergence is named. Also a speed smoke test.
#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <set>
#include <sstream>

#include "io_sim/world/world.h"
#include "tests/io_sim/world_test_util.h"

namespace shoal::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A faulty run exercising every source of randomness and every fault.
void run_scenario(World& w) {
  w.start_all();
  w.at(milliseconds(100), [&] { w.partition({{1, 2}, {3, 4, 5}}); });
  w.at(milliseconds(200), [&] { w.crash(3); });
  w.at(milliseconds(250), [&] { w.pause(2, milliseconds(50)); });
  w.at(milliseconds(300), [&] { w.heal(); });
  w.at(milliseconds(350), [&] { w.jump_wall_clock(4, -seconds(3)); });
  w.at(milliseconds(360), [&] { w.set_clock_drift_ppm(5, 20'000); });
  w.at(milliseconds(400), [&] { w.restart(3); });
  w.at(milliseconds(450), [&] { w.block(1, 4); });
  w.at(milliseconds(500), [&] { w.disk_loss(5); });
  w.at(milliseconds(550), [&] { w.restart(5); });
  w.run_until(seconds(1));
}

WorldOptions faulty(uint64_t seed, bool keep) {
  WorldOptions o;
  o.nodes = 5;
  o.seed = seed;
  o.keep_trace = keep;
  o.link.drop = 0.05;
  o.link.duplicate = 0.05;
  o.link.reorder = 0.1;
  return o;
}

struct ScenarioRun {
  explicit ScenarioRun(uint64_t seed, bool keep = true) : world(faulty(seed, keep), testing::chatter_factory(5)) {
    run_scenario(world);
  }
  World world;
};

TEST(WorldDeterminismTest, SameSeedSameTrace) {
  ScenarioRun a(42), b(42);
  EXPECT_GT(a.world.trace().count(), 1000u);
  EXPECT_EQ(a.world.trace().hash(), b.world.trace().hash());
  EXPECT_EQ(a.world.trace().count(), b.world.trace().count());
  EXPECT_EQ(a.world.events_processed(), b.world.events_processed());
  EXPECT_EQ(first_divergence(a.world.trace(), b.world.trace()), std::nullopt);
  for (NodeId id = 1; id <= 5; ++id) EXPECT_EQ(a.world.disk(id).live(), b.world.disk(id).live());
}

TEST(WorldDeterminismTest, KeepingRecordsDoesNotChangeTheHash) {
  ScenarioRun kept(42, true), lean(42, false);
  EXPECT_EQ(kept.world.trace().hash(), lean.world.trace().hash());
  EXPECT_TRUE(lean.world.trace().records().empty());
}

TEST(WorldDeterminismTest, DifferentSeedsDifferAndTheDivergenceIsNamed) {
  ScenarioRun a(1), b(2);
  EXPECT_NE(a.world.trace().hash(), b.world.trace().hash());
  auto d = first_divergence(a.world.trace(), b.world.trace());
  ASSERT_TRUE(d.has_value());
  // Find the first differing record by hand and check the message points at it.
  const auto& ra = a.world.trace().records();
  const auto& rb = b.world.trace().records();
  size_t i = 0;
  while (i < ra.size() && i < rb.size() && ra[i] == rb[i]) ++i;
  ASSERT_LT(i, std::min(ra.size(), rb.size()));
  const std::string num = "event #" + std::to_string(i + 1);
  EXPECT_EQ(d->rfind(num, 0), 0u) << *d;
  EXPECT_TRUE(d->size() > num.size() && (*d)[num.size()] != '0' && !std::isdigit((*d)[num.size()])) << *d;
  EXPECT_NE(d->find(ra[i].detail), std::string::npos) << *d;
}

TEST(WorldDeterminismTest, ScenarioExercisesEveryRecordKind) {
  ScenarioRun a(7);
  std::set<std::string> kinds;
  for (const auto& r : a.world.trace().records()) kinds.insert(r.kind);
  for (const char* k : {"start", "send", "recv", "drop", "dup", "timer", "sync", "crash", "restart",
                        "pause", "resume", "partition", "heal", "block", "clock_jump", "drift",
                        "disk_loss"}) {
    EXPECT_EQ(kinds.count(k), 1u) << k;
  }
}

TEST(WorldDeterminismTest, NodeStreamsAreIndependentOfFaultStreams) {
  // Changing only the loss probability changes the net stream's use, not what node 1's rng
  // yields for its first timer: the first timer record of node 1 is identical.
  WorldOptions lossy = faulty(42, true);
  lossy.link.drop = 0.5;
  World a(faulty(42, true), testing::chatter_factory(5));
  World b(lossy, testing::chatter_factory(5));
  a.start_all();
  b.start_all();
  a.run_for(milliseconds(25));
  b.run_for(milliseconds(25));
  auto first_timer = [](const World& w) {
    for (const auto& r : w.trace().records()) {
      if (r.kind == "timer" && r.node == 1) return r;
    }
    return Trace::Record{};
  };
  EXPECT_EQ(first_timer(a).kind, "timer");
  EXPECT_EQ(first_timer(a), first_timer(b));
}

}  // namespace
}  // namespace shoal::sim
