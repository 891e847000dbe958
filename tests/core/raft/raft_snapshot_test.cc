// Log compaction and InstallSnapshot (Raft paper section 7).
#include <gtest/gtest.h>

#include "core/raft/raft.h"
#include "tests/core/raft/raft_test_network.h"

namespace shoal::raft {
namespace {

using testnet::entries_with_terms;
using testnet::make_conf_state;
using testnet::make_hard_state;
using testnet::make_storage;
using testnet::of_type;
using testnet::RaftTestNetwork;

// Elects 1 in {1, 2, 3}, lets node 3 fall behind by `n` entries, then compacts the leader's
// storage up to what it has applied. Returns the snapshot index.
uint64_t lag_and_compact(RaftTestNetwork& net, int n) {
  net.campaign(1);
  EXPECT_EQ(net.raft(1).role(), Role::kLeader);
  net.isolate(3);
  for (int i = 0; i < n; ++i) EXPECT_TRUE(net.propose(1, "v" + std::to_string(i)).ok());
  const uint64_t applied = net.peer(1).applied_index;
  EXPECT_EQ(applied, net.raft(1).log().committed());
  Storage& s1 = net.storage(1);
  s1.create_snapshot(applied, net.raft(1).conf_state(), "state@" + std::to_string(applied));
  s1.compact(applied);
  EXPECT_GT(s1.first_index(), net.raft(1).progress(3)->match + 1);
  return applied;
}

// "The leader uses a new RPC called InstallSnapshot to send snapshots to followers that are too
// far behind": the entries the follower needs are gone from the leader's log.
TEST(RaftSnapshot, LaggingFollowerGetsTheSnapshotThenLaterEntries) {
  RaftTestNetwork net({1, 2, 3});
  const uint64_t snap_index = lag_and_compact(net, 10);
  net.recover();
  std::vector<raftpb::Message> snaps;
  net.drop_if([&](const raftpb::Message& m) {
    if (m.type() == raftpb::MSG_SNAP) snaps.push_back(m);
    return false;
  });
  net.tick(1);  // node 3 answers a heartbeat; the leader finds its next entry compacted

  ASSERT_EQ(snaps.size(), 1u);
  EXPECT_EQ(snaps[0].to(), 3u);
  EXPECT_EQ(snaps[0].snapshot().metadata().index(), snap_index);
  EXPECT_EQ(snaps[0].snapshot().metadata().conf_state().voters_size(), 3);
  EXPECT_EQ(net.peer(3).snapshots_applied, 1u);
  EXPECT_EQ(net.storage(3).snapshot().metadata().index(), snap_index);
  EXPECT_EQ(net.storage(3).snapshot().data(), "state@" + std::to_string(snap_index));
  EXPECT_EQ(net.raft(3).log().committed(), snap_index);
  EXPECT_EQ(net.peer(3).applied_index, snap_index);
  EXPECT_EQ(net.raft(1).progress(3)->match, snap_index);
  EXPECT_EQ(net.raft(1).progress(3)->state, Progress::State::kReplicate);

  // Entries after the snapshot arrive by ordinary appends.
  auto later = net.propose(1, "later");
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(net.storage(3).last_index(), *later);
  ASSERT_TRUE(net.applied(3).count(*later));
  EXPECT_EQ(net.applied(3).at(*later).data(), "later");
  EXPECT_EQ(net.peer(3).snapshots_applied, 1u);
  EXPECT_TRUE(net.violations().empty());

  // A restart from storage starts from the snapshot, with its configuration.
  net.crash(3);
  EXPECT_EQ(net.raft(3).log().first_index(), snap_index + 1);
  EXPECT_EQ(net.raft(3).conf_state().voters_size(), 3);
  net.flush(3);
  EXPECT_TRUE(net.applied(3).count(*later));
}

// A snapshot message that is lost leaves the follower in Snapshot state; the next heartbeat
// answer sends it again.
TEST(RaftSnapshot, ALostSnapshotIsSentAgain) {
  RaftTestNetwork net({1, 2, 3});
  const uint64_t snap_index = lag_and_compact(net, 5);
  net.recover();
  net.ignore(raftpb::MSG_SNAP);
  net.tick(1);
  EXPECT_EQ(net.raft(1).progress(3)->state, Progress::State::kSnapshot);
  EXPECT_EQ(net.peer(3).snapshots_applied, 0u);
  net.recover();
  net.tick(1, 2);
  EXPECT_EQ(net.peer(3).snapshots_applied, 1u);
  EXPECT_EQ(net.raft(3).log().committed(), snap_index);
  EXPECT_EQ(net.raft(1).progress(3)->state, Progress::State::kReplicate);
}

// A snapshot no newer than the follower's commit index is ignored; the answer tells the leader
// where the follower is.
TEST(RaftSnapshot, StaleSnapshotIsIgnored) {
  RaftTestNetwork net({1, 2, 3});
  net.campaign(1);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(net.propose(1, "v" + std::to_string(i)).ok());
  const uint64_t committed = net.raft(2).log().committed();
  ASSERT_EQ(committed, 5u);
  raftpb::Message m;
  m.set_type(raftpb::MSG_SNAP);
  m.set_from(1);
  m.set_to(2);
  m.set_term(net.raft(1).term());
  m.mutable_snapshot()->mutable_metadata()->set_index(3);
  m.mutable_snapshot()->mutable_metadata()->set_term(1);
  *m.mutable_snapshot()->mutable_metadata()->mutable_conf_state() = make_conf_state({1, 2, 3});
  net.raft(2).step(m);
  Ready rd = net.raft(2).ready();
  EXPECT_FALSE(rd.snapshot.has_value());
  auto resp = of_type(rd.messages, raftpb::MSG_APP_RESP);
  ASSERT_EQ(resp.size(), 1u);
  EXPECT_EQ(resp[0].index(), committed);
  EXPECT_FALSE(resp[0].reject());
  net.raft(2).advance(rd);
  EXPECT_EQ(net.raft(2).log().last_index(), 5u);
}

// A snapshot whose last entry the follower already holds only moves its commit index: the log
// after it is kept.
TEST(RaftSnapshot, SnapshotOfEntriesAlreadyHeldFastForwardsTheCommit) {
  RaftTestNetwork net(nullptr, 1);
  const auto cs = make_conf_state({1, 2});
  net.add_peer(1, make_storage(cs, entries_with_terms(1, {1, 1, 1, 1}), make_hard_state(1, 1, 4)));
  net.add_peer(2, make_storage(cs, entries_with_terms(1, {1, 1, 1, 1}), make_hard_state(1, 1, 1)));
  raftpb::Message m;
  m.set_type(raftpb::MSG_SNAP);
  m.set_from(1);
  m.set_to(2);
  m.set_term(1);
  m.mutable_snapshot()->mutable_metadata()->set_index(3);
  m.mutable_snapshot()->mutable_metadata()->set_term(1);
  *m.mutable_snapshot()->mutable_metadata()->mutable_conf_state() = cs;
  net.raft(2).step(m);
  Ready rd = net.raft(2).ready();
  EXPECT_FALSE(rd.snapshot.has_value());
  auto resp = of_type(rd.messages, raftpb::MSG_APP_RESP);
  ASSERT_EQ(resp.size(), 1u);
  EXPECT_EQ(resp[0].index(), 3u);
  EXPECT_EQ(net.raft(2).log().committed(), 3u);
  EXPECT_EQ(net.raft(2).log().last_index(), 4u);
  net.raft(2).advance(rd);
}

}  // namespace
}  // namespace shoal::raft
