// Leadership transfer (Raft thesis 3.10).
#include <gtest/gtest.h>

#include "core/raft/raft.h"
#include "tests/core/raft/raft_test_network.h"

namespace shoal::raft {
namespace {

using testnet::of_type;
using testnet::RaftTestNetwork;

constexpr int kElectionTick = 10;

TEST(RaftLeadershipTransfer, ToAnUpToDateFollowerMakesItLeaderOfTheNextTerm) {
  RaftTestNetwork net({1, 2, 3});
  net.campaign(1);
  ASSERT_TRUE(net.propose(1, "x").ok());
  ASSERT_EQ(net.raft(1).progress(2)->match, net.raft(1).log().last_index());
  ASSERT_TRUE(net.raft(1).transfer_leadership(2).ok());
  auto out = net.handle_ready(1);
  EXPECT_EQ(of_type(out, raftpb::MSG_TIMEOUT_NOW).size(), 1u) << "an up-to-date target is told at once";
  net.send(out);
  EXPECT_EQ(net.raft(2).role(), Role::kLeader);
  EXPECT_EQ(net.raft(2).term(), 2u);
  for (NodeId id : {1, 3}) {
    EXPECT_EQ(net.raft(id).role(), Role::kFollower) << "node " << id;
    EXPECT_EQ(net.raft(id).leader(), 2u) << "node " << id;
  }
  ASSERT_TRUE(net.propose(2, "y").ok());
  EXPECT_EQ(net.raft(1).log().committed(), net.raft(2).log().last_index());
  EXPECT_TRUE(net.violations().empty());
}

TEST(RaftLeadershipTransfer, ALaggingTargetCatchesUpFirst) {
  RaftTestNetwork net({1, 2, 3});
  net.campaign(1);
  net.drop_if([](const raftpb::Message& m) { return m.to() == 2 && m.type() == raftpb::MSG_APP; });
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(net.propose(1, "p" + std::to_string(i)).ok());
  net.recover();
  const uint64_t last = net.raft(1).log().last_index();
  ASSERT_LT(net.raft(1).progress(2)->match, last);

  ASSERT_TRUE(net.raft(1).transfer_leadership(2).ok());
  EXPECT_EQ(net.raft(1).transferee(), 2u);
  auto out = net.handle_ready(1);
  EXPECT_TRUE(of_type(out, raftpb::MSG_TIMEOUT_NOW).empty()) << "told a lagging target to campaign";
  EXPECT_FALSE(of_type(out, raftpb::MSG_APP).empty());

  // While the transfer is under way, the leader takes no proposals.
  EXPECT_EQ(net.raft(1).propose("refused").status().code(), StatusCode::kBusy);
  raftpb::ConfChange cc;
  cc.set_type(raftpb::CONF_ADD_LEARNER_NODE);
  cc.set_node_id(9);
  EXPECT_EQ(net.raft(1).propose_conf_change(cc).status().code(), StatusCode::kBusy);

  net.send(out);
  EXPECT_EQ(net.raft(2).role(), Role::kLeader);
  EXPECT_EQ(net.raft(2).term(), 2u);
  // It won with the whole log: nothing of term 1 was lost.
  EXPECT_GE(net.raft(2).log().last_index(), last + 1);
  EXPECT_EQ(net.raft(2).log().term_or_zero(last), 1u);
  EXPECT_TRUE(net.violations().empty());
}

TEST(RaftLeadershipTransfer, AnUnfinishedTransferIsAbandonedAfterAnElectionTimeout) {
  RaftTestNetwork net({1, 2, 3});
  net.campaign(1);
  net.cut(1, 2);
  ASSERT_TRUE(net.raft(1).transfer_leadership(2).ok());
  net.flush(1);
  EXPECT_EQ(net.raft(1).propose("x").status().code(), StatusCode::kBusy);
  net.tick(1, kElectionTick);
  EXPECT_EQ(net.raft(1).role(), Role::kLeader);
  EXPECT_EQ(net.raft(1).transferee(), 0u);
  EXPECT_TRUE(net.raft(1).propose("x").ok());
}

TEST(RaftLeadershipTransfer, InvalidTargetsAndNonLeadersAreRefused) {
  RaftTestNetwork net({1, 2, 3});
  net.campaign(1);
  EXPECT_EQ(net.raft(1).transfer_leadership(1).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(net.raft(1).transfer_leadership(7).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(net.raft(2).transfer_leadership(3).code(), StatusCode::kNotLeader);
  EXPECT_EQ(net.raft(1).transferee(), 0u);
}

}  // namespace
}  // namespace shoal::raft
