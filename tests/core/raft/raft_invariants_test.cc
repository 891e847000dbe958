// Raft::check_invariants(): the rules of a leader's Progress hold on correct code, and a planted
// bug that breaks one is caught (the simulator runs the same check after every event; the
// simulator's planted-bug tests show the inflight and snapshot rules catching theirs).
#include <gtest/gtest.h>

#include <string>

#include "core/raft/raft.h"
#include "tests/core/raft/raft_test_network.h"
#include "tests/core/scoped_check_handler.h"

namespace shoal::raft {
namespace {

using testnet::RaftTestNetwork;

using shoal::testing::CoreCheckFailure;
using shoal::testing::ScopedCheckHandler;

// A rejection of an append from follower 2, with the follower's hint of where its log ends.
raftpb::Message rejection(const Raft& leader, uint64_t index, uint64_t hint) {
  raftpb::Message m;
  m.set_type(raftpb::MSG_APP_RESP);
  m.set_from(2);
  m.set_to(1);
  m.set_term(leader.term());
  m.set_reject(true);
  m.set_index(index);
  m.set_reject_hint(hint);
  return m;
}

// Follower 2 has acknowledged the whole log, then a rejection sends the leader back to probing,
// and a stale rejection (sent before the acknowledgements) arrives with an old hint.
std::string stale_rejection_after_acks(bool planted) {
  ScopedCheckHandler handler;
  RaftTestNetwork net({1, 2, 3}, [planted](Config& c) { c.bugs.probe_ignores_match = planted; });
  net.campaign(1);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(net.propose(1, "x" + std::to_string(i)).ok());
    net.flush_all();
  }
  Raft& leader = net.raft(1);
  const uint64_t match = leader.progress(2)->match;
  EXPECT_GT(match, 1u);
  try {
    leader.step(rejection(leader, match + 1, match));  // past match: back to probe at match + 1
    EXPECT_EQ(leader.progress(2)->state, Progress::State::kProbe);
    leader.step(rejection(leader, match, 0));  // stale: the follower's log once ended at 0
    leader.check_invariants();
  } catch (const CoreCheckFailure& f) {
    return f.what;
  }
  EXPECT_GT(leader.progress(2)->next, leader.progress(2)->match);
  return "";
}

TEST(RaftInvariants, AStaleRejectionNeverTakesNextToOrBelowMatch) { EXPECT_EQ(stale_rejection_after_acks(false), ""); }

TEST(RaftInvariants, APlantedBugThatLetsNextFallToMatchIsCaught) {
  const std::string what = stale_rejection_after_acks(true);
  EXPECT_NE(what.find("has match"), std::string::npos) << what;
}

}  // namespace
}  // namespace shoal::raft
