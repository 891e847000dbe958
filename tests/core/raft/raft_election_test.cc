// Leader election (Raft paper section 5.2, 5.4.1; thesis 9.6 pre-vote, 6.2 check-quorum/lease).
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

constexpr int kElectionTick = 10;  // Config's default

raftpb::Message vote_request(raftpb::MessageType type, NodeId from, NodeId to, uint64_t term,
                             uint64_t last_index, uint64_t last_term) {
  raftpb::Message m;
  m.set_type(type);
  m.set_from(from);
  m.set_to(to);
  m.set_term(term);
  m.set_index(last_index);
  m.set_log_term(last_term);
  return m;
}

void no_pre_vote(Config& c) { c.pre_vote = false; }

// "If a follower receives no communication over a period of time called the election timeout,
// then it assumes there is no viable leader and begins an election" — with pre-vote it first
// asks whether it could win, without touching its term.
TEST(RaftElection, FollowerTimesOutIntoPreVoteThenBecomesLeaderOfTerm1) {
  RaftTestNetwork net({1, 2, 3});
  Raft& r1 = net.raft(1);
  int ticks = 0;
  while (r1.role() == Role::kFollower && ticks < 2 * kElectionTick) {
    r1.tick();
    ++ticks;
  }
  // The randomized timeout lies in [election_tick, 2 * election_tick - 1].
  EXPECT_GE(ticks, kElectionTick);
  ASSERT_EQ(r1.role(), Role::kPreCandidate);
  EXPECT_EQ(r1.term(), 0u) << "a pre-candidate does not bump its term";

  auto msgs = net.handle_ready(1);
  auto pre_votes = of_type(msgs, raftpb::MSG_PRE_VOTE);
  ASSERT_EQ(pre_votes.size(), 2u);
  for (const auto& m : pre_votes) {
    EXPECT_EQ(m.term(), 1u) << "asks for the term it would campaign in";
    EXPECT_TRUE(m.to() == 2 || m.to() == 3);
  }
  EXPECT_EQ(net.storage(1).hard_state().term(), 0u);
  EXPECT_EQ(net.storage(1).hard_state().vote(), 0u);

  net.send(msgs);
  EXPECT_EQ(r1.role(), Role::kLeader);
  EXPECT_EQ(r1.term(), 1u);
  for (NodeId id : {2, 3}) {
    EXPECT_EQ(net.raft(id).role(), Role::kFollower);
    EXPECT_EQ(net.raft(id).term(), 1u);
    EXPECT_EQ(net.raft(id).leader(), 1u);
    EXPECT_EQ(net.storage(id).hard_state().vote(), 1u);
    // The leader's empty entry of term 1 is committed everywhere.
    EXPECT_EQ(net.raft(id).log().committed(), 1u);
  }
  EXPECT_TRUE(net.violations().empty());
}

TEST(RaftElection, SingleNodeClusterElectsItself) {
  RaftTestNetwork net({1});
  net.tick(1, kElectionTick - 1);
  EXPECT_EQ(net.raft(1).role(), Role::kFollower) << "campaigned before the election timeout";
  net.tick(1, kElectionTick);
  EXPECT_EQ(net.raft(1).role(), Role::kLeader);
  EXPECT_EQ(net.raft(1).term(), 1u);
  EXPECT_EQ(net.raft(1).leader(), 1u);
  EXPECT_EQ(net.raft(1).log().committed(), 1u);
  EXPECT_EQ(net.storage(1).hard_state().vote(), 1u);
}

// "Each server will vote for at most one candidate in a given term, on a first-come-first-served
// basis."
TEST(RaftElection, OneVotePerTerm) {
  RaftTestNetwork net({1, 2, 3}, no_pre_vote);
  net.raft(3).step(vote_request(raftpb::MSG_VOTE, 1, 3, 1, 0, 0));
  auto out = net.handle_ready(3);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type(), raftpb::MSG_VOTE_RESP);
  EXPECT_EQ(out[0].to(), 1u);
  EXPECT_FALSE(out[0].reject());
  EXPECT_EQ(net.storage(3).hard_state().vote(), 1u);

  // A second candidate of the same term, with an equally good log, is turned down.
  net.raft(3).step(vote_request(raftpb::MSG_VOTE, 2, 3, 1, 0, 0));
  out = net.handle_ready(3);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].to(), 2u);
  EXPECT_TRUE(out[0].reject());
  EXPECT_EQ(net.storage(3).hard_state().vote(), 1u);

  // The same candidate asking again (a retransmission) gets the same answer.
  net.raft(3).step(vote_request(raftpb::MSG_VOTE, 1, 3, 1, 0, 0));
  out = net.handle_ready(3);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].reject());
}

// The planted bug vote_twice_in_term breaks exactly the rule above.
TEST(RaftElection, VoteTwiceInTermSwitchGrantsTwoCandidates) {
  RaftTestNetwork net({1, 2, 3}, [](Config& c) {
    c.pre_vote = false;
    c.bugs.vote_twice_in_term = true;
  });
  net.raft(3).step(vote_request(raftpb::MSG_VOTE, 1, 3, 1, 0, 0));
  auto out = net.handle_ready(3);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].reject());
  net.raft(3).step(vote_request(raftpb::MSG_VOTE, 2, 3, 1, 0, 0));
  out = net.handle_ready(3);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].to(), 2u);
  EXPECT_FALSE(out[0].reject()) << "the switch should let node 3 vote twice in term 1";
  EXPECT_EQ(net.storage(3).hard_state().vote(), 2u);
  EXPECT_EQ(net.storage(3).hard_state().term(), 1u);
}

// With the switch on, two candidates of one term both win, and the network's election-safety
// check notices; with it off, only one can.
TEST(RaftElection, VoteTwiceInTermLetsTwoLeadersShareATerm) {
  for (bool bug : {false, true}) {
    SCOPED_TRACE(bug ? "vote_twice_in_term" : "correct");
    RaftTestNetwork net({1, 2, 3}, [&](Config& c) {
      c.pre_vote = false;
      c.bugs.vote_twice_in_term = bug;
    });
    // Raft::check_invariants() would abort first: a candidate that grants another candidate's
    // vote no longer "voted for itself" (see the report); let the election-safety check judge.
    net.set_check_invariants(!bug);
    // Nodes 1 and 2 campaign in term 1 at the same moment.
    net.raft(1).campaign_now();
    net.raft(2).campaign_now();
    net.handle_ready_to_pending(1);
    net.handle_ready_to_pending(2);
    net.settle_pending();
    size_t leaders_of_term_1 = 0;
    for (NodeId id : {1, 2}) {
      if (net.raft(id).term() == 1 && net.raft(id).role() == Role::kLeader) leaders_of_term_1++;
    }
    if (bug) {
      EXPECT_EQ(leaders_of_term_1, 2u);
      ASSERT_FALSE(net.violations().empty());
      EXPECT_NE(net.violations()[0].find("election safety"), std::string::npos)
          << net.violations()[0];
    } else {
      EXPECT_EQ(leaders_of_term_1, 1u);
      EXPECT_TRUE(net.violations().empty());
    }
  }
}

// "The RequestVote RPC ... the voter denies its vote if its own log is more up-to-date than that
// of the candidate."
TEST(RaftElection, CandidateWithAStaleLogLoses) {
  for (bool pre_vote : {true, false}) {
    SCOPED_TRACE(pre_vote ? "pre-vote" : "no pre-vote");
    RaftTestNetwork net([&](Config& c) { c.pre_vote = pre_vote; }, 1);
    const auto cs = make_conf_state({1, 2, 3});
    net.add_peer(1, make_storage(cs, entries_with_terms(1, {1}), make_hard_state(2, 0, 1)));
    net.add_peer(2, make_storage(cs, entries_with_terms(1, {1, 2}), make_hard_state(2, 0, 1)));
    net.add_peer(3, make_storage(cs, entries_with_terms(1, {1, 2}), make_hard_state(2, 0, 1)));
    net.campaign(1);
    EXPECT_NE(net.raft(1).role(), Role::kLeader);
    EXPECT_TRUE(net.leaders().empty());
    EXPECT_NE(net.storage(2).hard_state().vote(), 1u);
    EXPECT_NE(net.storage(3).hard_state().vote(), 1u);
    if (pre_vote) {
      // A failed pre-election leaves every term where it was.
      for (NodeId id : {1, 2, 3}) EXPECT_EQ(net.raft(id).term(), 2u);
    }
    // A candidate with the up-to-date log wins, with node 1's vote.
    net.campaign(2);
    EXPECT_EQ(net.raft(2).role(), Role::kLeader);
    EXPECT_EQ(net.raft(1).leader(), 2u);
    EXPECT_TRUE(net.violations().empty());
  }
}

// A shorter log with a later last term is more up to date (paper 5.4.1).
TEST(RaftElection, LaterLastTermBeatsLongerLog) {
  RaftTestNetwork net(no_pre_vote, 1);
  const auto cs = make_conf_state({1, 2, 3});
  net.add_peer(1, make_storage(cs, entries_with_terms(1, {1, 3}), make_hard_state(3, 0, 1)));
  net.add_peer(2, make_storage(cs, entries_with_terms(1, {1, 2, 2, 2}), make_hard_state(3, 0, 1)));
  net.add_peer(3, make_storage(cs, entries_with_terms(1, {1, 2, 2, 2}), make_hard_state(3, 0, 1)));
  net.campaign(1);
  EXPECT_EQ(net.raft(1).role(), Role::kLeader);
  EXPECT_EQ(net.storage(2).hard_state().vote(), 1u);
}

// Pre-vote (thesis 9.6): a node partitioned away keeps failing pre-elections without raising its
// term, so when it rejoins it does not force the healthy leader to step down.
TEST(RaftElection, PreVoteKeepsARejoiningNodeFromBumpingTheTerm) {
  RaftTestNetwork net({1, 2, 3});
  net.campaign(1);
  ASSERT_EQ(net.raft(1).role(), Role::kLeader);
  net.isolate(3);
  net.tick(3, 10 * kElectionTick);
  EXPECT_EQ(net.raft(3).term(), 1u);
  EXPECT_EQ(net.raft(3).role(), Role::kPreCandidate);
  net.recover();
  net.tick(1);  // a heartbeat reaches node 3
  EXPECT_EQ(net.raft(1).role(), Role::kLeader);
  for (NodeId id : {1, 2, 3}) {
    EXPECT_EQ(net.raft(id).term(), 1u);
    EXPECT_EQ(net.raft(id).leader(), 1u);
  }
}

// The same story without pre-vote disrupts the cluster: the test above can tell the difference.
TEST(RaftElection, WithoutPreVoteARejoiningNodeBumpsTheTerm) {
  RaftTestNetwork net({1, 2, 3}, no_pre_vote);
  net.campaign(1);
  ASSERT_EQ(net.raft(1).role(), Role::kLeader);
  net.isolate(3);
  net.tick(3, 10 * kElectionTick);
  EXPECT_GT(net.raft(3).term(), 1u);
  net.recover();
  net.tick(1);
  EXPECT_GT(net.raft(1).term(), 1u) << "the old leader learned the higher term";
  EXPECT_NE(net.raft(1).role(), Role::kLeader);
}

// Check-quorum: a leader that hears from no quorum for an election timeout steps down.
TEST(RaftElection, CheckQuorumLeaderStepsDownWhenCutOff) {
  RaftTestNetwork net({1, 2, 3});
  net.campaign(1);
  ASSERT_EQ(net.raft(1).role(), Role::kLeader);
  net.isolate(1);
  net.tick(1, kElectionTick - 1);
  EXPECT_EQ(net.raft(1).role(), Role::kLeader) << "stepped down before an election timeout";
  net.tick(1, kElectionTick + 1);  // at most two check rounds: the first may count old replies
  EXPECT_EQ(net.raft(1).role(), Role::kFollower);
  EXPECT_EQ(net.raft(1).leader(), 0u);
  EXPECT_EQ(net.raft(1).term(), 1u);
}

TEST(RaftElection, CheckQuorumLeaderWithAQuorumStaysLeader) {
  RaftTestNetwork net({1, 2, 3});
  net.campaign(1);
  net.isolate(3);
  net.tick(1, 5 * kElectionTick);
  EXPECT_EQ(net.raft(1).role(), Role::kLeader);
}

TEST(RaftElection, WithoutCheckQuorumACutOffLeaderStaysLeader) {
  RaftTestNetwork net({1, 2, 3}, [](Config& c) { c.check_quorum = false; });
  net.campaign(1);
  net.isolate(1);
  net.tick(1, 5 * kElectionTick);
  EXPECT_EQ(net.raft(1).role(), Role::kLeader);
}

// Leader lease: a follower that heard from its leader within the election timeout ignores a vote
// request of a higher term (it must not help depose a live leader).
TEST(RaftElection, LeaderLeaseIgnoresHigherTermVoteRequests) {
  RaftTestNetwork net({1, 2, 3});
  net.campaign(1);
  ASSERT_EQ(net.raft(2).leader(), 1u);
  const uint64_t li = net.raft(2).log().last_index();
  const uint64_t lt = net.raft(2).log().last_term();
  for (auto type : {raftpb::MSG_VOTE, raftpb::MSG_PRE_VOTE}) {
    net.raft(2).step(vote_request(type, 3, 2, 5, li, lt));
    EXPECT_TRUE(net.handle_ready(2).empty()) << "answered a " << raftpb::MessageType_Name(type);
    EXPECT_EQ(net.raft(2).term(), 1u);
    EXPECT_EQ(net.raft(2).leader(), 1u);
  }
}

TEST(RaftElection, WithoutCheckQuorumThereIsNoLease) {
  RaftTestNetwork net({1, 2, 3}, [](Config& c) { c.check_quorum = false; });
  net.campaign(1);
  const uint64_t li = net.raft(2).log().last_index();
  const uint64_t lt = net.raft(2).log().last_term();
  net.raft(2).step(vote_request(raftpb::MSG_VOTE, 3, 2, 5, li, lt));
  auto out = net.handle_ready(2);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].reject());
  EXPECT_EQ(net.raft(2).term(), 5u);
}

// The lease gives way to a leadership transfer: the leader itself asked for the election.
TEST(RaftElection, LeaderLeaseYieldsToLeadershipTransfer) {
  RaftTestNetwork net({1, 2, 3});
  net.campaign(1);
  ASSERT_TRUE(net.raft(1).transfer_leadership(3).ok());
  auto from1 = net.handle_ready(1);
  auto timeout_now = of_type(from1, raftpb::MSG_TIMEOUT_NOW);
  ASSERT_EQ(timeout_now.size(), 1u);
  net.raft(3).step(timeout_now[0]);
  auto votes = of_type(net.handle_ready(3), raftpb::MSG_VOTE);
  ASSERT_EQ(votes.size(), 2u);
  for (const auto& v : votes) {
    if (v.to() != 2) continue;
    EXPECT_EQ(v.term(), 2u);
    net.raft(2).step(v);  // node 2 still has a live leader (node 1)
    auto out = of_type(net.handle_ready(2), raftpb::MSG_VOTE_RESP);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_FALSE(out[0].reject());
    EXPECT_EQ(net.raft(2).term(), 2u);
    EXPECT_EQ(net.storage(2).hard_state().vote(), 3u);
  }
}

// A node with a higher term that rejoins tells a stale leader its term through the response to
// an append, so the stale leader steps down (and does not stay stuck behind pre-vote).
TEST(RaftElection, StaleLeaderLearnsHigherTermFromAppendResponse) {
  RaftTestNetwork net({1, 2, 3});
  net.campaign(1);
  net.isolate(1);
  // 2 and 3 time out and elect one of them.
  NodeId new_leader = 0;
  for (int round = 0; round < 10 * kElectionTick && new_leader == 0; ++round) {
    for (NodeId id : {2, 3}) {
      net.tick(id);
      if (net.raft(id).role() == Role::kLeader) new_leader = id;
    }
  }
  ASSERT_NE(new_leader, 0u);
  const uint64_t new_term = net.raft(new_leader).term();
  ASSERT_GE(new_term, 2u);
  EXPECT_EQ(net.raft(1).role(), Role::kLeader) << "old leader in its own partition";
  net.recover();
  net.tick(1);  // its heartbeat reaches 2 and 3, who answer with term 2
  EXPECT_EQ(net.raft(1).role(), Role::kFollower);
  EXPECT_EQ(net.raft(1).term(), new_term);
  EXPECT_TRUE(net.violations().empty());
}

}  // namespace
}  // namespace shoal::raft
