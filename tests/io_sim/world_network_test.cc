// World network: latency, identity, partitions, one-way blocks, loss, duplication, reordering.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "io_sim/world/world.h"
#include "tests/io_sim/world_test_util.h"

namespace shoal::sim {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using testing::Journal;
using testing::probe;

struct Fixture {
  explicit Fixture(size_t n, uint64_t seed = 7, LinkOptions link = {})
      : world(WorldOptions{.nodes = n, .seed = seed, .link = link, .disk = {}, .clock = {}, .keep_trace = true},
              testing::probe_factory(journal)) {
    journal.world = &world;
    world.start_all();
  }
  Journal journal;
  World world;
};

int count_at(const Journal& j, NodeId at, NodeId from) {
  return static_cast<int>(std::count_if(j.received.begin(), j.received.end(),
                                        [&](const auto& r) { return r.at == at && r.from == from; }));
}

TEST(WorldNetworkTest, DeliversAfterLanLatencyWithSenderIdentity) {
  Fixture f(3);
  for (int i = 0; i < 50; ++i) probe(f.world, 1).send(2, "hello");
  f.world.run_for(milliseconds(10));
  ASSERT_EQ(f.journal.received.size(), 50u);
  for (const auto& r : f.journal.received) {
    EXPECT_EQ(r.at, 2u);
    EXPECT_EQ(r.from, 1u);
    EXPECT_EQ(r.payload, "hello");
    EXPECT_GE(r.t, microseconds(200));
    EXPECT_LE(r.t, microseconds(1000));
  }
  const PeerIdentity& id = probe(f.world, 2).last_identity;
  EXPECT_EQ(id.node_id, 1u);
  EXPECT_EQ(id.role, NodeRole::kManager);
  EXPECT_EQ(id.cluster_id, "sim");
  EXPECT_EQ(f.world.stats(1).messages_sent, 50u);
  EXPECT_EQ(f.world.stats(1).bytes_sent, 250u);
  EXPECT_EQ(f.world.stats(2).messages_received, 50u);
  EXPECT_EQ(f.world.stats(2).bytes_received, 250u);
  EXPECT_EQ(f.world.stats(1).messages_dropped, 0u);
}

TEST(WorldNetworkTest, PartitionBlocksAcrossGroupsAndHealRestores) {
  Fixture f(5);
  f.world.partition({{1, 2}, {3, 4, 5}});
  for (NodeId from = 1; from <= 5; ++from) {
    for (NodeId to = 1; to <= 5; ++to) {
      if (from != to) probe(f.world, from).send(to, "p");
    }
  }
  f.world.run_for(milliseconds(5));
  for (NodeId from = 1; from <= 5; ++from) {
    for (NodeId to = 1; to <= 5; ++to) {
      if (from == to) continue;
      const bool same_side = (from <= 2) == (to <= 2);
      EXPECT_EQ(count_at(f.journal, to, from), same_side ? 1 : 0) << from << "->" << to;
    }
  }
  f.world.heal();
  f.journal.received.clear();
  probe(f.world, 1).send(5, "after");
  probe(f.world, 4).send(2, "after");
  f.world.run_for(milliseconds(5));
  EXPECT_EQ(count_at(f.journal, 5, 1), 1);
  EXPECT_EQ(count_at(f.journal, 2, 4), 1);
}

TEST(WorldNetworkTest, NodeOutsideEveryGroupIsCutOff) {
  Fixture f(3);
  f.world.partition({{1, 2}});
  probe(f.world, 1).send(2, "x");
  probe(f.world, 1).send(3, "x");
  probe(f.world, 3).send(2, "x");
  f.world.run_for(milliseconds(5));
  EXPECT_EQ(count_at(f.journal, 2, 1), 1);
  EXPECT_EQ(count_at(f.journal, 3, 1), 0);
  EXPECT_EQ(count_at(f.journal, 2, 3), 0);
}

TEST(WorldNetworkTest, PartitionDropsMessagesAlreadyInFlight) {
  Fixture f(2, 7, LinkOptions{.base_latency = milliseconds(5), .jitter = {}});
  probe(f.world, 1).send(2, "in-flight");
  f.world.run_for(milliseconds(1));
  f.world.partition({{1}, {2}});
  f.world.run_for(milliseconds(10));
  EXPECT_TRUE(f.journal.received.empty());
  const auto& recs = f.world.trace().records();
  ASSERT_FALSE(recs.empty());
  EXPECT_EQ(recs.back().kind, "drop");
  EXPECT_EQ(recs.back().detail, "1->2 bytes=9 partition");
  EXPECT_EQ(recs.back().t, milliseconds(5));
  EXPECT_EQ(f.world.stats(1).messages_dropped, 1u);
}

TEST(WorldNetworkTest, OneWayBlockCutsOnlyOneDirection) {
  Fixture f(3);
  f.world.block(1, 2);
  probe(f.world, 1).send(2, "blocked");
  probe(f.world, 2).send(1, "open");
  probe(f.world, 1).send(3, "open");
  f.world.run_for(milliseconds(5));
  EXPECT_EQ(count_at(f.journal, 2, 1), 0);
  EXPECT_EQ(count_at(f.journal, 1, 2), 1);
  EXPECT_EQ(count_at(f.journal, 3, 1), 1);
  f.world.unblock(1, 2);
  probe(f.world, 1).send(2, "unblocked");
  f.world.run_for(milliseconds(5));
  EXPECT_EQ(count_at(f.journal, 2, 1), 1);
}

TEST(WorldNetworkTest, IsolateCutsBothWays) {
  Fixture f(3);
  f.world.isolate(3);
  probe(f.world, 3).send(1, "x");
  probe(f.world, 2).send(3, "x");
  probe(f.world, 2).send(1, "x");
  f.world.run_for(milliseconds(5));
  EXPECT_EQ(count_at(f.journal, 1, 3), 0);
  EXPECT_EQ(count_at(f.journal, 3, 2), 0);
  EXPECT_EQ(count_at(f.journal, 1, 2), 1);
}

TEST(WorldNetworkTest, DropProbabilityIsRoughlyRespected) {
  Fixture f(2, 11, LinkOptions{.drop = 0.3});
  constexpr int kSent = 10000;
  for (int i = 0; i < kSent; ++i) probe(f.world, 1).send(2, "m");
  f.world.run_for(milliseconds(10));
  const int got = count_at(f.journal, 2, 1);
  EXPECT_GT(got, 6700);
  EXPECT_LT(got, 7300);
  EXPECT_EQ(f.world.stats(1).messages_dropped, static_cast<uint64_t>(kSent - got));
}

TEST(WorldNetworkTest, PerLinkSettingsOverrideTheDefault) {
  Fixture f(3);
  f.world.network().set_link(1, 2, LinkOptions{.drop = 1.0});
  for (int i = 0; i < 20; ++i) {
    probe(f.world, 1).send(2, "m");
    probe(f.world, 1).send(3, "m");
    probe(f.world, 2).send(1, "m");
  }
  f.world.run_for(milliseconds(10));
  EXPECT_EQ(count_at(f.journal, 2, 1), 0);
  EXPECT_EQ(count_at(f.journal, 3, 1), 20);
  EXPECT_EQ(count_at(f.journal, 1, 2), 20);
  f.world.network().clear_link(1, 2);
  probe(f.world, 1).send(2, "m");
  f.world.run_for(milliseconds(10));
  EXPECT_EQ(count_at(f.journal, 2, 1), 1);
}

TEST(WorldNetworkTest, DuplicationDeliversTwice) {
  Fixture f(2, 3, LinkOptions{.duplicate = 1.0});
  for (int i = 0; i < 10; ++i) probe(f.world, 1).send(2, "d" + std::to_string(i));
  f.world.run_for(milliseconds(10));
  EXPECT_EQ(f.journal.received.size(), 20u);
  for (int i = 0; i < 10; ++i) {
    const auto p = f.journal.payloads_at(2);
    EXPECT_EQ(std::count(p.begin(), p.end(), "d" + std::to_string(i)), 2);
  }
}

TEST(WorldNetworkTest, FixedLatencyKeepsOrderAndReorderingBreaksIt) {
  auto order_kept = [](LinkOptions link) {
    Fixture f(2, 5, link);
    for (int i = 0; i < 100; ++i) probe(f.world, 1).send(2, std::to_string(1000 + i));
    f.world.run_for(milliseconds(100));
    auto p = f.journal.payloads_at(2);
    EXPECT_EQ(p.size(), 100u);
    return std::is_sorted(p.begin(), p.end());
  };
  EXPECT_TRUE(order_kept(LinkOptions{.base_latency = milliseconds(1), .jitter = {}}));
  EXPECT_FALSE(order_kept(LinkOptions{.base_latency = milliseconds(1), .jitter = {}, .reorder = 0.5,
                                      .reorder_delay = milliseconds(10)}));
}

TEST(WorldNetworkTest, MessagesToDownOrRestartedNodesAreDropped) {
  Fixture f(3, 7, LinkOptions{.base_latency = milliseconds(5), .jitter = {}});
  f.world.crash(2);
  probe(f.world, 1).send(2, "to-crashed");
  probe(f.world, 1).send(3, "in-flight-across-restart");
  f.world.run_for(milliseconds(1));
  f.world.crash(3);
  f.world.restart(3);
  f.world.run_for(milliseconds(10));
  EXPECT_TRUE(f.journal.received.empty());
  EXPECT_EQ(f.world.stats(1).messages_dropped, 2u);
  // A message sent by a node that crashed afterwards is still delivered.
  probe(f.world, 1).send(3, "from-the-dead");
  f.world.crash(1);
  f.world.run_for(milliseconds(10));
  ASSERT_EQ(f.journal.received.size(), 1u);
  EXPECT_EQ(f.journal.received[0].payload, "from-the-dead");
}

TEST(WorldNetworkTest, TraceRecordsSendRecvAndDrop) {
  Fixture f(2, 7, LinkOptions{.base_latency = milliseconds(1), .jitter = {}});
  f.world.block(2, 1);
  probe(f.world, 1).send(2, "abc");
  probe(f.world, 2).send(1, "xy");
  f.world.run_for(milliseconds(5));
  std::vector<std::string> lines;
  for (const auto& r : f.world.trace().records()) {
    if (r.kind == "send" || r.kind == "recv" || r.kind == "drop") {
      lines.push_back(format_sim_time(r.t) + " n" + std::to_string(r.node) + " " + r.kind + " " + r.detail);
    }
  }
  EXPECT_EQ(lines, (std::vector<std::string>{
                       "0.000000s n1 send 1->2 bytes=3",
                       "0.000000s n2 send 2->1 bytes=2",
                       "0.000000s n2 drop 2->1 bytes=2 partition",
                       "0.001000s n2 recv 1->2 bytes=3",
                   }));
}

}  // namespace
}  // namespace shoal::sim
