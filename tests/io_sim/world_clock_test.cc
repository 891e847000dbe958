// World clocks: drift, skew, wall jumps, and timers on the node's own clock.
#include <gtest/gtest.h>

#include <set>

#include "io_sim/world/world.h"
#include "tests/io_sim/world_test_util.h"

namespace shoal::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Journal;
using testing::probe;

WorldOptions exact_clocks(size_t n) {
  WorldOptions o;
  o.nodes = n;
  o.seed = 3;
  o.clock.max_drift_ppm = 0;
  o.clock.max_wall_skew = Duration::zero();
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

TEST(WorldClockTest, InitialDriftAndSkewAreDrawnWithinBounds) {
  WorldOptions o;
  o.nodes = 7;
  o.seed = 12;
  Fixture f(o);
  std::set<int64_t> drifts;
  std::set<int64_t> origins;
  for (NodeId id = 1; id <= 7; ++id) {
    const SimClock& c = f.world.clock(id);
    EXPECT_LE(std::llabs(c.drift_ppb()), 100'000) << id;
    EXPECT_LE(std::llabs(c.wall_now_unix_ns() - kSimEpochUnixNs), 10'000'000) << id;
    drifts.insert(c.drift_ppb());
    origins.insert(c.monotonic_now().count());
  }
  EXPECT_GE(drifts.size(), 6u);
  EXPECT_EQ(origins.size(), 7u);  // monotonic origins are per node
}

TEST(WorldClockTest, WallClockStartsAt2026) {
  Fixture f(exact_clocks(1));
  EXPECT_EQ(f.world.clock(1).wall_now_unix_ns(), 1767225600LL * 1000000000LL);
  f.world.run_for(seconds(2));
  EXPECT_EQ(f.world.clock(1).wall_now_unix_ns(), 1767225602LL * 1000000000LL);
}

TEST(WorldClockTest, DriftChangesTheMonotonicRate) {
  Fixture f(exact_clocks(2));
  const MonoTime a0 = f.world.clock(1).monotonic_now();
  const MonoTime b0 = f.world.clock(2).monotonic_now();
  f.world.set_clock_drift_ppm(1, 1000);  // 1 ms per second fast
  f.world.run_for(seconds(10));
  EXPECT_EQ(f.world.clock(1).monotonic_now() - a0, milliseconds(10010));
  EXPECT_EQ(f.world.clock(2).monotonic_now() - b0, seconds(10));
  EXPECT_EQ(f.world.clock(1).drift_ppb(), 1'000'000);
}

TEST(WorldClockTest, TimersFireOnTheNodesOwnClock) {
  Fixture f(exact_clocks(2));
  f.world.set_clock_drift_ppm(1, 100'000);  // 10% fast
  SimTime fired_fast{-1}, fired_exact{-1};
  probe(f.world, 1).env().timers.after(milliseconds(110), [&] { fired_fast = f.world.now(); });
  probe(f.world, 2).env().timers.after(milliseconds(110), [&] { fired_exact = f.world.now(); });
  f.world.run_for(seconds(1));
  EXPECT_EQ(fired_fast, milliseconds(100));
  EXPECT_EQ(fired_exact, milliseconds(110));
}

TEST(WorldClockTest, ClockSlowedAfterArmingNeverFiresATimerEarly) {
  Fixture f(exact_clocks(1));
  Clock& clock = probe(f.world, 1).env().clock;
  const MonoTime deadline = clock.monotonic_now() + milliseconds(100);
  SimTime fired_at{-1};
  MonoTime local_at_fire{0};
  probe(f.world, 1).env().timers.after(milliseconds(100), [&] {
    fired_at = f.world.now();
    local_at_fire = clock.monotonic_now();
  });
  f.world.after(milliseconds(10), [&] { f.world.set_clock_drift_ppm(1, -500'000); });  // half speed
  f.world.run_for(seconds(1));
  EXPECT_EQ(fired_at, milliseconds(190));
  EXPECT_GE(local_at_fire, deadline);
}

TEST(WorldClockTest, WallJumpMovesWallTimeOnly) {
  Fixture f(exact_clocks(2));
  f.world.run_for(seconds(1));
  SimClock& c = f.world.clock(1);
  const int64_t w0 = c.wall_now_unix_ns();
  const MonoTime m0 = c.monotonic_now();
  f.world.jump_wall_clock(1, -seconds(5));
  EXPECT_EQ(c.wall_now_unix_ns(), w0 - 5'000'000'000LL);
  EXPECT_EQ(c.monotonic_now(), m0);
  EXPECT_EQ(f.world.clock(2).wall_now_unix_ns(), w0);  // other nodes unaffected
  f.world.run_for(seconds(1));
  EXPECT_EQ(c.wall_now_unix_ns(), w0 - 4'000'000'000LL);
  EXPECT_EQ(c.monotonic_now(), m0 + seconds(1));
  f.world.jump_wall_clock(1, seconds(60));
  EXPECT_EQ(c.wall_now_unix_ns(), w0 + 56'000'000'000LL);
  const auto& last = f.world.trace();
  EXPECT_EQ(last.count(), f.world.trace().count());
}

TEST(WorldClockTest, MonotonicNeverGoesBackwardsUnderDriftChanges) {
  Fixture f(exact_clocks(1));
  Rng rng(99);
  MonoTime last = f.world.clock(1).monotonic_now();
  for (int i = 0; i < 1000; ++i) {
    f.world.set_clock_drift_ppm(1, static_cast<double>(rng.uniform(0, 1'800'000)) - 900'000.0);
    f.world.run_for(Duration(static_cast<int64_t>(rng.uniform(0, 5'000'000))));
    const MonoTime now = f.world.clock(1).monotonic_now();
    ASSERT_GE(now, last);
    last = now;
  }
}

}  // namespace
}  // namespace shoal::sim
