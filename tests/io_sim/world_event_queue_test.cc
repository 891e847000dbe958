#include "io_sim/world/event_queue.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace shoal::sim {
namespace {

using std::chrono::milliseconds;

TEST(EventQueueTest, RunsInTimeOrderAndTiesInSchedulingOrder) {
  EventQueue q;
  std::vector<std::string> ran;
  std::vector<SimTime> times;
  auto note = [&](std::string s) {
    return [&, s] {
      ran.push_back(s);
      times.push_back(q.now());
    };
  };
  q.schedule(milliseconds(3), -1, note("c"));
  q.schedule(milliseconds(1), -1, note("a1"));
  q.schedule(milliseconds(2), 0, note("b"));
  q.schedule(milliseconds(1), 1, note("a2"));
  q.schedule(milliseconds(1), -1, note("a3"));
  EXPECT_EQ(q.pending(), 5u);
  while (q.run_next()) {
  }
  EXPECT_EQ(ran, (std::vector<std::string>{"a1", "a2", "a3", "b", "c"}));
  EXPECT_EQ(times, (std::vector<SimTime>{milliseconds(1), milliseconds(1), milliseconds(1),
                                          milliseconds(2), milliseconds(3)}));
  EXPECT_EQ(q.pending(), 0u);
  EXPECT_EQ(q.now(), milliseconds(3));
}

TEST(EventQueueTest, EventScheduledForNowRunsAfterAlreadyQueuedPeers) {
  EventQueue q;
  std::vector<std::string> ran;
  q.schedule(milliseconds(1), -1, [&] {
    ran.push_back("first");
    q.schedule(q.now(), -1, [&] { ran.push_back("spawned"); });
  });
  q.schedule(milliseconds(1), -1, [&] { ran.push_back("second"); });
  while (q.run_next()) {
  }
  EXPECT_EQ(ran, (std::vector<std::string>{"first", "second", "spawned"}));
}

TEST(EventQueueTest, CancelPreventsRunAndIsIdempotent) {
  EventQueue q;
  int a = 0, b = 0;
  EventId ia = q.schedule(milliseconds(1), -1, [&] { ++a; });
  EventId ib = q.schedule(milliseconds(2), -1, [&] { ++b; });
  EXPECT_NE(ia, kNoEvent);
  EXPECT_NE(ia, ib);
  EXPECT_TRUE(q.cancel(ia));
  EXPECT_FALSE(q.cancel(ia));
  EXPECT_FALSE(q.cancel(kNoEvent));
  EXPECT_FALSE(q.cancel(0xdeadbeef00000123ULL));
  EXPECT_EQ(q.pending(), 1u);
  EXPECT_EQ(q.next_time(), milliseconds(2));
  while (q.run_next()) {
  }
  EXPECT_EQ(a, 0);
  EXPECT_EQ(b, 1);
  EXPECT_FALSE(q.cancel(ib));  // already ran
}

TEST(EventQueueTest, ReusedSlotDoesNotHonourStaleId) {
  EventQueue q;
  int runs = 0;
  EventId old_id = q.schedule(milliseconds(1), -1, [] {});
  ASSERT_TRUE(q.run_next());
  EventId new_id = q.schedule(milliseconds(2), -1, [&] { ++runs; });  // likely reuses the slot
  EXPECT_NE(old_id, new_id);
  EXPECT_FALSE(q.cancel(old_id));
  ASSERT_TRUE(q.run_next());
  EXPECT_EQ(runs, 1);
}

TEST(EventQueueTest, PopNextCarriesTagsAndAdvancesTime) {
  EventQueue q;
  q.schedule(milliseconds(5), 3, [] {}, 42);
  auto ev = q.pop_next();
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->node, 3);
  EXPECT_EQ(ev->epoch, 42u);
  EXPECT_EQ(ev->at, milliseconds(5));
  EXPECT_EQ(q.now(), milliseconds(5));
  EXPECT_FALSE(q.pop_next().has_value());
}

TEST(EventQueueTest, AdvanceToMovesTimeButNotPastPendingEvents) {
  EventQueue q;
  q.advance_to(milliseconds(7));
  EXPECT_EQ(q.now(), milliseconds(7));
  q.schedule(milliseconds(9), -1, [] {});
  EXPECT_DEATH(q.advance_to(milliseconds(10)), "skip a pending event");
  EXPECT_DEATH(q.schedule(milliseconds(6), -1, [] {}), "in the past");
  EXPECT_DEATH(q.advance_to(milliseconds(6)), "backwards");
}

TEST(EventQueueTest, FormatSimTime) {
  EXPECT_EQ(format_sim_time(SimTime(1234567891)), "1.234567s");
  EXPECT_EQ(format_sim_time(SimTime(0)), "0.000000s");
  EXPECT_EQ(format_sim_time(SimTime(-1500000)), "-0.001500s");
}

}  // namespace
}  // namespace shoal::sim
