#include "io_sim/world/trace.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace shoal::sim {
namespace {

void fill(Trace& t) {
  t.record_at(SimTime(1000), 1, "send", "1->2 bytes=10");
  t.record_at(SimTime(2000), 2, "recv", "1->2 bytes=10");
  t.record_at(SimTime(1234567000), 3, "recv", "2->3 bytes=40");
  t.record_at(SimTime(1234568000), 0, "heal", "");
}

TEST(TraceTest, HashDoesNotDependOnKeepingRecords) {
  Trace kept, lean;
  kept.set_keep(true);
  fill(kept);
  fill(lean);
  EXPECT_EQ(kept.hash(), lean.hash());
  EXPECT_EQ(kept.count(), 4u);
  EXPECT_EQ(lean.count(), 4u);
  EXPECT_EQ(kept.records().size(), 4u);
  EXPECT_TRUE(lean.records().empty());
}

TEST(TraceTest, HashIsSixteenHexDigitsAndChangesWithEveryField) {
  Trace base;
  base.record_at(SimTime(5), 1, "ab", "c");
  const std::string h = base.hash();
  EXPECT_EQ(h.size(), 16u);
  EXPECT_EQ(h.find_first_not_of("0123456789abcdef"), std::string::npos);

  auto hash_of = [](SimTime t, NodeId n, std::string k, std::string d) {
    Trace x;
    x.record_at(t, n, k, d);
    return x.hash();
  };
  EXPECT_EQ(hash_of(SimTime(5), 1, "ab", "c"), h);
  EXPECT_NE(hash_of(SimTime(6), 1, "ab", "c"), h);
  EXPECT_NE(hash_of(SimTime(5), 2, "ab", "c"), h);
  EXPECT_NE(hash_of(SimTime(5), 1, "ab", "d"), h);
  EXPECT_NE(hash_of(SimTime(5), 1, "a", "bc"), h);  // kind/detail boundary is part of the hash
}

TEST(TraceTest, RecordUsesTheClock) {
  SimTime now(777);
  Trace t([&] { return now; });
  t.set_keep(true);
  t.record(4, "leader", "term=2");
  now = SimTime(999);
  t.record(4, "commit", "index=7");
  ASSERT_EQ(t.records().size(), 2u);
  EXPECT_EQ(t.records()[0].t, SimTime(777));
  EXPECT_EQ(t.records()[1].t, SimTime(999));
  EXPECT_EQ(t.records()[1].kind, "commit");
}

TEST(TraceTest, JsonlIsOneValidObjectPerLineWithEscaping) {
  Trace t;
  t.set_keep(true);
  t.record_at(SimTime(42), 7, "note", "quote\" backslash\\ newline\n tab\t ctl\x01 end");
  t.record_at(SimTime(43), 0, "heal", "");
  std::ostringstream out;
  t.write_jsonl(out);
  std::istringstream in(out.str());
  std::string line;
  std::getline(in, line);
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["t_ns"], 42);
  EXPECT_EQ(j["node"], 7);
  EXPECT_EQ(j["kind"], "note");
  EXPECT_EQ(j["detail"], "quote\" backslash\\ newline\n tab\t ctl\x01 end");
  std::getline(in, line);
  EXPECT_EQ(nlohmann::json::parse(line)["kind"], "heal");
  EXPECT_FALSE(std::getline(in, line));
}

TEST(TraceTest, FirstDivergenceNamesTheFirstDifferingRecord) {
  Trace a, b;
  a.set_keep(true);
  b.set_keep(true);
  fill(a);
  fill(b);
  EXPECT_EQ(first_divergence(a, b), std::nullopt);

  a.record_at(SimTime(2000000000), 3, "recv", "2->3 bytes=40");
  b.record_at(SimTime(2000000000), 3, "drop", "2->3 bytes=40 partition");
  a.record_at(SimTime(3000000000), 1, "x", "");
  b.record_at(SimTime(3000000000), 1, "y", "");
  auto d = first_divergence(a, b);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(*d, "event #5 at t=2.000000s node 3: 'recv 2->3 bytes=40' vs 'drop 2->3 bytes=40 partition'");
}

TEST(TraceTest, FirstDivergenceShowsBothSidesWhenTimeOrNodeDiffer) {
  Trace a, b;
  a.set_keep(true);
  b.set_keep(true);
  a.record_at(SimTime(1000), 1, "timer", "id=1");
  b.record_at(SimTime(2000), 2, "timer", "id=1");
  auto d = first_divergence(a, b);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(*d, "event #1: t=0.000001s node 1: 'timer id=1' vs t=0.000002s node 2: 'timer id=1'");
}

TEST(TraceTest, FirstDivergenceReportsAShorterTrace) {
  Trace a, b;
  a.set_keep(true);
  b.set_keep(true);
  fill(a);
  fill(b);
  b.record_at(SimTime(1234569000), 2, "crash", "unsynced=0");
  auto d = first_divergence(a, b);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(*d, "event #5: first trace ended after 4 events vs t=1.234569s node 2: 'crash unsynced=0'");
}

TEST(TraceTest, FirstDivergenceWithoutRecordsSaysSo) {
  Trace a, b;
  fill(a);
  b.record_at(SimTime(1), 1, "other", "");
  auto d = first_divergence(a, b);
  ASSERT_TRUE(d.has_value());
  EXPECT_NE(d->find("not among the kept records"), std::string::npos) << *d;
}

TEST(TraceTest, KeepSwitchedOnLateNumbersFromTheCurrentCount) {
  Trace t;
  fill(t);
  t.set_keep(true);
  t.record_at(SimTime(5000000000), 1, "late", "");
  EXPECT_EQ(t.first_kept_index(), 4u);
  ASSERT_EQ(t.records().size(), 1u);
  EXPECT_EQ(t.records()[0].kind, "late");
  EXPECT_EQ(t.count(), 5u);
}

}  // namespace
}  // namespace shoal::sim
