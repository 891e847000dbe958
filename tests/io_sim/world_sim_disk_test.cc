#include "io_sim/world/sim_disk.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace shoal::sim {
namespace {

std::vector<std::string> keys(const SimDisk& d) {
  std::vector<std::string> out;
  d.scan("", "\xff", [&](std::string_view k, std::string_view) {
    out.emplace_back(k);
    return true;
  });
  return out;
}

TEST(SimDiskTest, ReadsSeeWritesAtOnce) {
  SimDisk d;
  d.put("b", "2");
  d.put("a", "1");
  d.put("c", "3");
  d.put("a", "1bis");
  EXPECT_EQ(d.get("a"), "1bis");
  EXPECT_EQ(d.get("zz"), std::nullopt);
  EXPECT_EQ(keys(d), (std::vector<std::string>{"a", "b", "c"}));
  d.erase("b");
  EXPECT_EQ(keys(d), (std::vector<std::string>{"a", "c"}));
  d.put("log/1", "x");
  d.put("log/2", "y");
  d.put("log/3", "z");
  d.erase_range("log/2", "log/9");
  EXPECT_EQ(keys(d), (std::vector<std::string>{"a", "c", "log/1"}));
  d.erase_range("z", "a");  // empty range: nothing
  EXPECT_EQ(keys(d).size(), 3u);
  // scan is [begin, end) and stops when fn returns false
  std::vector<std::string> seen;
  d.scan("a", "log/1", [&](std::string_view k, std::string_view) {
    seen.emplace_back(k);
    return true;
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "c"}));
  seen.clear();
  d.scan("", "\xff", [&](std::string_view k, std::string_view) {
    seen.emplace_back(k);
    return false;
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"a"}));
  EXPECT_TRUE(d.durable().empty());
  EXPECT_EQ(d.unsynced_ops(), 10u);  // every put, erase and erase_range, even the empty one
}

TEST(SimDiskTest, SyncCoversOnlyEarlierWritesAndCompletesInOrder) {
  int requests = 0;
  SimDisk d([&] { ++requests; });
  std::vector<int> done_order;
  d.put("a", "1");
  d.sync([&](Status s) {
    EXPECT_TRUE(s.ok());
    done_order.push_back(1);
  });
  d.put("b", "2");
  d.sync([&](Status) { done_order.push_back(2); });
  EXPECT_EQ(requests, 2);
  EXPECT_EQ(d.pending_syncs(), 2u);

  auto first = d.complete_next_sync();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->ops_made_durable, 1u);
  first->done(Status{});
  EXPECT_EQ(d.durable().count("a"), 1u);
  EXPECT_EQ(d.durable().count("b"), 0u);

  auto second = d.complete_next_sync();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->ops_made_durable, 1u);
  second->done(Status{});
  EXPECT_EQ(done_order, (std::vector<int>{1, 2}));
  EXPECT_EQ(d.durable(), d.live());
  EXPECT_FALSE(d.complete_next_sync().has_value());
}

TEST(SimDiskTest, CrashLosesUnsyncedWritesButKeepsSyncedOnes) {
  SimDisk d;
  Rng rng(1);
  d.put("synced", "1");
  d.put("gone", "x");
  d.erase("gone");
  d.sync([](Status) {});
  d.complete_next_sync()->done(Status{});
  d.put("unsynced", "2");
  d.erase("synced");
  auto r = d.crash(rng, /*torn_probability=*/0.0);
  EXPECT_EQ(r.unsynced_ops, 2u);
  EXPECT_EQ(r.kept_ops, 0u);
  EXPECT_EQ(d.get("synced"), "1");
  EXPECT_EQ(d.get("unsynced"), std::nullopt);
  EXPECT_EQ(d.get("gone"), std::nullopt);
  EXPECT_EQ(d.unsynced_ops(), 0u);
}

TEST(SimDiskTest, CrashForgetsPendingSyncs) {
  SimDisk d;
  Rng rng(1);
  bool called = false;
  d.put("k", "v");
  d.sync([&](Status) { called = true; });
  auto r = d.crash(rng, 0.0);
  EXPECT_EQ(r.dropped_syncs, 1u);
  EXPECT_FALSE(d.complete_next_sync().has_value());
  EXPECT_FALSE(called);
  EXPECT_EQ(d.get("k"), std::nullopt);
}

TEST(SimDiskTest, TornCrashKeepsANonEmptyPrefixOfUnsyncedOps) {
  std::set<size_t> kept_counts;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    SimDisk d;
    Rng rng(seed);
    d.put("base", "0");
    d.sync([](Status) {});
    d.complete_next_sync()->done(Status{});
    // Five ops where any non-prefix subset would be visible: k1..k4 then erase of base.
    for (int i = 1; i <= 4; ++i) d.put("k" + std::to_string(i), "v");
    d.erase("base");
    auto r = d.crash(rng, /*torn_probability=*/1.0);
    ASSERT_EQ(r.unsynced_ops, 5u);
    ASSERT_GE(r.kept_ops, 1u);
    ASSERT_LE(r.kept_ops, 5u);
    kept_counts.insert(r.kept_ops);
    for (size_t i = 1; i <= 4; ++i) {
      EXPECT_EQ(d.get("k" + std::to_string(i)).has_value(), i <= r.kept_ops) << "seed " << seed;
    }
    EXPECT_EQ(d.get("base").has_value(), r.kept_ops < 5) << "seed " << seed;
    EXPECT_EQ(d.durable(), d.live());
  }
  EXPECT_GE(kept_counts.size(), 3u);  // the prefix length really is random
}

TEST(SimDiskTest, TornProbabilityIsRespected) {
  int torn = 0;
  for (uint64_t seed = 1; seed <= 400; ++seed) {
    SimDisk d;
    Rng rng(seed);
    d.put("a", "1");
    if (d.crash(rng, 0.25).kept_ops > 0) ++torn;
  }
  EXPECT_GT(torn, 60);
  EXPECT_LT(torn, 140);
}

TEST(SimDiskTest, WipeLosesEverything) {
  SimDisk d;
  d.put("a", "1");
  d.sync([](Status) {});
  d.complete_next_sync()->done(Status{});
  d.put("b", "2");
  d.sync([](Status) {});
  d.wipe();
  EXPECT_TRUE(d.live().empty());
  EXPECT_TRUE(d.durable().empty());
  EXPECT_EQ(d.pending_syncs(), 0u);
}

}  // namespace
}  // namespace shoal::sim
