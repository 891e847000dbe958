// Unit tests for raft::Progress and raft::Inflights: the leader's view of one follower.
#include "core/raft/progress.h"

#include <gtest/gtest.h>

namespace shoal::raft {
namespace {

Progress make(Progress::State state, uint64_t match, uint64_t next, size_t window = 4) {
  Progress pr{.match = match, .next = next, .inflights = Inflights(window)};
  pr.state = state;
  return pr;
}

TEST(ProgressInflights, FillsUpToCapacityAndFreesAPrefix) {
  Inflights in(3);
  EXPECT_FALSE(in.full());
  in.add(5);
  in.add(7);
  EXPECT_FALSE(in.full());
  in.add(9);
  EXPECT_TRUE(in.full());
  EXPECT_EQ(in.count(), 3u);
  in.free_le(4);  // nothing at or below 4
  EXPECT_EQ(in.count(), 3u);
  in.free_le(7);  // frees 5 and 7
  EXPECT_EQ(in.count(), 1u);
  EXPECT_FALSE(in.full());
  in.free_le(100);
  EXPECT_EQ(in.count(), 0u);
  in.add(10);
  in.reset();
  EXPECT_EQ(in.count(), 0u);
}

TEST(ProgressInflights, ZeroCapacityIsAlwaysFull) {
  Inflights in(0);
  EXPECT_TRUE(in.full());
}

TEST(Progress, MaybeUpdateMovesMatchAndNextForward) {
  Progress pr = make(Progress::State::kReplicate, 3, 6);
  EXPECT_TRUE(pr.maybe_update(4));
  EXPECT_EQ(pr.match, 4u);
  EXPECT_EQ(pr.next, 6u);  // next stays ahead
  EXPECT_TRUE(pr.maybe_update(8));
  EXPECT_EQ(pr.match, 8u);
  EXPECT_EQ(pr.next, 9u);
  // A stale acknowledgement moves nothing back.
  EXPECT_FALSE(pr.maybe_update(2));
  EXPECT_EQ(pr.match, 8u);
  EXPECT_EQ(pr.next, 9u);
}

TEST(Progress, MaybeUpdateClearsAProbeInFlight) {
  Progress pr = make(Progress::State::kProbe, 0, 5);
  pr.probe_sent = true;
  EXPECT_TRUE(pr.is_paused());
  EXPECT_TRUE(pr.maybe_update(4));
  EXPECT_FALSE(pr.probe_sent);
  EXPECT_FALSE(pr.is_paused());
}

TEST(Progress, ReplicateIgnoresStaleRejections) {
  Progress pr = make(Progress::State::kReplicate, 5, 10);
  // A rejection of an append at or below what is known to match is an old message.
  EXPECT_FALSE(pr.maybe_decr_to(5, 2));
  EXPECT_FALSE(pr.maybe_decr_to(3, 2));
  EXPECT_EQ(pr.next, 10u);
  // A fresh rejection sends next back to just after match.
  EXPECT_TRUE(pr.maybe_decr_to(9, 9));
  EXPECT_EQ(pr.next, 6u);
}

TEST(Progress, ProbeIgnoresRejectionsOfOtherProbes) {
  Progress pr = make(Progress::State::kProbe, 0, 10);
  pr.probe_sent = true;
  // Only the answer to the probe at next-1 = 9 counts.
  EXPECT_FALSE(pr.maybe_decr_to(8, 3));
  EXPECT_EQ(pr.next, 10u);
  EXPECT_TRUE(pr.probe_sent);
  EXPECT_TRUE(pr.maybe_decr_to(9, 3));
  // The follower's log ends at 3: try 4 next.
  EXPECT_EQ(pr.next, 4u);
  EXPECT_FALSE(pr.probe_sent);
}

TEST(Progress, ProbeDecrementsByOneWhenTheHintIsLonger) {
  Progress pr = make(Progress::State::kProbe, 0, 10);
  EXPECT_TRUE(pr.maybe_decr_to(9, 20));
  EXPECT_EQ(pr.next, 9u);
}

TEST(Progress, ProbeNeverDecrementsBelowOne) {
  Progress pr = make(Progress::State::kProbe, 0, 1);
  EXPECT_TRUE(pr.maybe_decr_to(0, 0));
  EXPECT_EQ(pr.next, 1u);
}

TEST(Progress, ProbeToReplicateAndBack) {
  Progress pr = make(Progress::State::kProbe, 0, 10);
  pr.maybe_update(9);
  pr.become_replicate();
  EXPECT_EQ(pr.state, Progress::State::kReplicate);
  EXPECT_EQ(pr.next, 10u);
  pr.inflights.add(12);
  pr.next = 13;
  pr.become_probe();
  EXPECT_EQ(pr.state, Progress::State::kProbe);
  EXPECT_EQ(pr.next, 10u);  // back to match + 1
  EXPECT_EQ(pr.inflights.count(), 0u);
  EXPECT_FALSE(pr.probe_sent);
}

TEST(Progress, SnapshotToProbeResumesAfterTheSnapshot) {
  Progress pr = make(Progress::State::kProbe, 3, 4);
  pr.become_snapshot(20);
  EXPECT_EQ(pr.state, Progress::State::kSnapshot);
  EXPECT_EQ(pr.pending_snapshot, 20u);
  EXPECT_TRUE(pr.is_paused());
  pr.become_probe();
  EXPECT_EQ(pr.state, Progress::State::kProbe);
  EXPECT_EQ(pr.next, 21u);
  EXPECT_EQ(pr.pending_snapshot, 0u);
}

TEST(Progress, IsPausedByState) {
  Progress probe = make(Progress::State::kProbe, 0, 1);
  EXPECT_FALSE(probe.is_paused());
  probe.probe_sent = true;
  EXPECT_TRUE(probe.is_paused());

  Progress rep = make(Progress::State::kReplicate, 0, 1, /*window=*/2);
  EXPECT_FALSE(rep.is_paused());
  rep.inflights.add(1);
  EXPECT_FALSE(rep.is_paused());
  rep.inflights.add(2);
  EXPECT_TRUE(rep.is_paused());
  rep.inflights.free_le(1);
  EXPECT_FALSE(rep.is_paused());

  Progress snap = make(Progress::State::kSnapshot, 0, 1);
  EXPECT_TRUE(snap.is_paused());
}

TEST(Progress, StateNames) {
  EXPECT_STREQ(to_string(Progress::State::kProbe), "probe");
  EXPECT_STREQ(to_string(Progress::State::kReplicate), "replicate");
  EXPECT_STREQ(to_string(Progress::State::kSnapshot), "snapshot");
}

}  // namespace
}  // namespace shoal::raft
