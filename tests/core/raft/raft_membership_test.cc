// Membership changes one server at a time, with learners (Raft thesis 4.1, 4.2.1).
#include <gtest/gtest.h>

#include "core/raft/raft.h"
#include "tests/core/raft/raft_test_network.h"

namespace shoal::raft {
namespace {

using testnet::make_conf_state;
using testnet::make_storage;
using testnet::of_type;
using testnet::RaftTestNetwork;

constexpr int kElectionTick = 10;

raftpb::ConfChange conf_change(raftpb::ConfChangeType type, NodeId node) {
  raftpb::ConfChange cc;
  cc.set_type(type);
  cc.set_node_id(node);
  return cc;
}

// A brand-new node, as the simulator starts one: no Raft state at all.
void add_blank_node(RaftTestNetwork& net, NodeId id) {
  net.add_peer(id, std::make_unique<Storage>());
}

TEST(RaftMembership, BootstrapGivesABlankPeerItsFirstConfiguration) {
  Storage s;
  Config cfg;
  cfg.id = 2;
  Raft r(cfg, s, Rng(3));
  EXPECT_EQ(r.conf_state().voters_size(), 0);
  r.campaign_now();
  EXPECT_EQ(r.role(), Role::kFollower) << "a peer with no configuration campaigned";
  r.bootstrap({1, 2, 3});
  EXPECT_EQ(r.conf_state().voters_size(), 3);
  EXPECT_TRUE(r.is_voter(1));
  EXPECT_TRUE(r.is_voter(2));
  EXPECT_FALSE(r.is_learner(2));
  EXPECT_EQ(r.term(), 0u);
}

TEST(RaftMembershipDeathTest, BootstrapOfAPeerWithALogIsAProgrammerError) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto s = make_storage(make_conf_state({1}), testnet::entries_with_terms(1, {1}));
  Config cfg;
  cfg.id = 1;
  Raft r(cfg, *s, Rng(3));
  EXPECT_DEATH(r.bootstrap({1, 2}), "bootstrap");
}

TEST(RaftMembership, LearnerReceivesEntriesButNeitherVotesNorCounts) {
  RaftTestNetwork net({1, 2, 3});
  net.campaign(1);
  add_blank_node(net, 4);
  auto index = net.propose_conf_change(1, raftpb::CONF_ADD_LEARNER_NODE, 4);
  ASSERT_TRUE(index.ok());
  for (NodeId id : {1, 2, 3}) {
    EXPECT_TRUE(net.raft(id).is_learner(4)) << "node " << id;
    EXPECT_FALSE(net.raft(id).is_voter(4)) << "node " << id;
  }
  // It receives the log.
  ASSERT_TRUE(net.propose(1, "a").ok());
  EXPECT_EQ(net.storage(4).last_index(), net.raft(1).log().last_index());
  EXPECT_EQ(net.raft(4).log().committed(), net.raft(1).log().committed());
  ASSERT_TRUE(net.applied(4).count(net.raft(1).log().last_index()));

  // It does not campaign, and nobody asks for its vote.
  const uint64_t term = net.raft(4).term();
  net.raft(4).campaign_now();
  EXPECT_EQ(net.raft(4).role(), Role::kFollower);
  EXPECT_EQ(net.raft(4).term(), term);
  EXPECT_TRUE(net.handle_ready(4).empty());

  // It does not count toward the quorum: with both other voters cut off, the leader and the
  // learner hold the entry, and it stays uncommitted.
  net.cut(1, 2);
  net.cut(1, 3);
  const uint64_t committed = net.raft(1).log().committed();
  auto b = net.propose(1, "b");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(net.raft(1).progress(4)->match, *b) << "the learner did not acknowledge";
  EXPECT_EQ(net.raft(1).log().committed(), committed) << "a learner's copy made a quorum";
  net.recover();
  net.tick(1);
  EXPECT_EQ(net.raft(1).log().committed(), *b);

  // Vote requests go to voters only.
  net.raft(2).campaign_now();
  for (const auto& m : net.handle_ready(2)) EXPECT_NE(m.to(), 4u) << raftpb::MessageType_Name(m.type());
  EXPECT_TRUE(net.violations().empty());
}

TEST(RaftMembership, PromotedLearnerCountsTowardTheQuorum) {
  RaftTestNetwork net({1, 2, 3});
  net.campaign(1);
  add_blank_node(net, 4);
  ASSERT_TRUE(net.propose_conf_change(1, raftpb::CONF_ADD_LEARNER_NODE, 4).ok());
  ASSERT_TRUE(net.propose_conf_change(1, raftpb::CONF_ADD_NODE, 4).ok());
  for (NodeId id : {1, 2, 3}) {
    EXPECT_TRUE(net.raft(id).is_voter(4)) << "node " << id;
    EXPECT_FALSE(net.raft(id).is_learner(4)) << "node " << id;
    EXPECT_EQ(net.raft(id).conf_state().voters_size(), 4);
  }
  // Four voters: a quorum is three. Leader + node 2 no longer suffice...
  net.cut(1, 3);
  net.cut(1, 4);
  const uint64_t committed = net.raft(1).log().committed();
  auto x = net.propose(1, "x");
  ASSERT_TRUE(x.ok());
  EXPECT_EQ(net.raft(1).log().committed(), committed) << "2 of 4 voters committed";
  // ...and with node 4 back (node 3 still away), 1, 2 and 4 do.
  net.recover();
  net.cut(1, 3);
  net.tick(1);
  EXPECT_EQ(net.raft(1).log().committed(), *x);
  EXPECT_EQ(net.raft(1).progress(4)->match, *x);
}

TEST(RaftMembership, RemovedNodeNoLongerCountsOrHearsFromTheLeader) {
  RaftTestNetwork net({1, 2, 3});
  net.campaign(1);
  ASSERT_TRUE(net.propose_conf_change(1, raftpb::CONF_REMOVE_NODE, 3).ok());
  for (NodeId id : {1, 2}) {
    EXPECT_FALSE(net.raft(id).is_voter(3)) << "node " << id;
    EXPECT_EQ(net.raft(id).conf_state().voters_size(), 2);
  }
  EXPECT_EQ(net.raft(1).progress(3), nullptr);
  // No more heartbeats for node 3.
  net.raft(1).tick();
  for (const auto& m : net.handle_ready(1)) EXPECT_NE(m.to(), 3u) << raftpb::MessageType_Name(m.type());
  // The quorum of {1, 2} is both: node 3's copy would not help any more.
  net.cut(1, 2);
  const uint64_t committed = net.raft(1).log().committed();
  ASSERT_TRUE(net.propose(1, "y").ok());
  EXPECT_EQ(net.raft(1).log().committed(), committed);
  net.recover();
  net.tick(1);
  EXPECT_EQ(net.raft(1).log().committed(), net.raft(1).log().last_index());
}

TEST(RaftMembership, RemovedLeaderStepsDownAndTheRestElectANewOne) {
  RaftTestNetwork net({1, 2, 3});
  net.campaign(1);
  ASSERT_TRUE(net.propose_conf_change(1, raftpb::CONF_REMOVE_NODE, 1).ok());
  EXPECT_NE(net.raft(1).role(), Role::kLeader);
  for (NodeId id : {2, 3}) EXPECT_EQ(net.raft(id).conf_state().voters_size(), 2) << "node " << id;
  NodeId leader = 0;
  for (int round = 0; round < 4 * kElectionTick && leader == 0; ++round) {
    for (NodeId id : {1, 2, 3}) {
      net.tick(id);
      if (net.raft(id).role() == Role::kLeader) leader = id;
    }
  }
  ASSERT_TRUE(leader == 2 || leader == 3) << "leader " << leader;
  ASSERT_TRUE(net.propose(leader, "z").ok());
  EXPECT_EQ(net.raft(leader).log().committed(), net.raft(leader).log().last_index());
  EXPECT_TRUE(net.violations().empty());
}

// "One change at a time": while a configuration change is not yet applied, another is refused.
TEST(RaftMembership, OnlyOnePendingConfChangeAtATime) {
  RaftTestNetwork net({1, 2, 3});
  net.campaign(1);
  auto first = net.raft(1).propose_conf_change(conf_change(raftpb::CONF_ADD_LEARNER_NODE, 4));
  ASSERT_TRUE(first.ok());
  auto second = net.raft(1).propose_conf_change(conf_change(raftpb::CONF_ADD_LEARNER_NODE, 5));
  EXPECT_EQ(second.status().code(), StatusCode::kBusy);
  EXPECT_TRUE(net.raft(1).propose("normal entries are fine").ok());
  net.flush(1);  // commits and applies the first change
  ASSERT_TRUE(net.raft(1).is_learner(4));
  auto third = net.raft(1).propose_conf_change(conf_change(raftpb::CONF_ADD_LEARNER_NODE, 5));
  EXPECT_TRUE(third.ok());
}

TEST(RaftMembership, FollowerCannotProposeAConfChange) {
  RaftTestNetwork net({1, 2, 3});
  net.campaign(1);
  auto r = net.raft(2).propose_conf_change(conf_change(raftpb::CONF_ADD_LEARNER_NODE, 4));
  EXPECT_EQ(r.status().code(), StatusCode::kNotLeader);
}

// A node that joins by replication starts with an empty log (as the simulator's joiners do: only
// the founding voters get bootstrap_voters), so it must learn the founding voters from the log.
// RaftNode now writes them there as committed conf-change entries (RaftNode::bootstrap_log; the
// network's Bootstrap::kLog mirrors it). Had they stayed only in each founder's local index-0
// snapshot (Bootstrap::kSnapshot, RaftNode's first design), the joiner would learn only the later
// changes: after its promotion it would believe it is the only voter, and once cut off it would
// elect itself and commit alone — two histories.
TEST(RaftMembership, JoiningNodeLearnsTheFoundingVotersFromTheLog) {
  RaftTestNetwork net({1, 2, 3}, nullptr, 1, testnet::Bootstrap::kLog);
  net.campaign(1);
  add_blank_node(net, 4);
  ASSERT_TRUE(net.propose_conf_change(1, raftpb::CONF_ADD_LEARNER_NODE, 4).ok());
  ASSERT_TRUE(net.propose_conf_change(1, raftpb::CONF_ADD_NODE, 4).ok());
  ASSERT_TRUE(net.raft(1).is_voter(4));
  ASSERT_EQ(net.raft(4).log().committed(), net.raft(1).log().committed());
  const auto cs = net.raft(4).conf_state();
  EXPECT_EQ(cs.voters_size(), 4) << "node 4 believes the voters are " << cs.ShortDebugString();
  for (NodeId v : {1, 2, 3}) EXPECT_TRUE(net.raft(4).is_voter(v)) << "node 4 does not know " << v;

  // The consequence.
  net.isolate(4);
  net.tick(4, 3 * kElectionTick);
  EXPECT_NE(net.raft(4).role(), Role::kLeader) << "node 4 elected itself with its own vote only";
  if (net.raft(4).role() == Role::kLeader) {
    (void)net.propose(4, "rogue");
    ASSERT_TRUE(net.propose(1, "real").ok());
    EXPECT_TRUE(net.violations().empty()) << net.violations()[0];
  }
}

}  // namespace
}  // namespace shoal::raft
