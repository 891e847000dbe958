// Unit tests for raft::RaftLog: stable storage plus the unstable tail, commit and apply marks.
#include "core/raft/raft_log.h"

#include <gtest/gtest.h>

#include "tests/core/raft/raft_test_network.h"

namespace shoal::raft {
namespace {

using testnet::entries_with_terms;
using testnet::make_entry;

std::vector<uint64_t> terms_of(const RaftLog& log) {
  std::vector<uint64_t> out;
  for (uint64_t i = log.first_index(); i <= log.last_index(); ++i) out.push_back(log.term_or_zero(i));
  return out;
}

TEST(RaftLog, StartsFromStorage) {
  Storage s;
  s.append(entries_with_terms(1, {1, 1, 2}));
  RaftLog log(s);
  EXPECT_EQ(log.first_index(), 1u);
  EXPECT_EQ(log.last_index(), 3u);
  EXPECT_EQ(log.last_term(), 2u);
  EXPECT_EQ(log.last_stable_index(), 3u);
  // Nothing is known to be committed until the hard state says so.
  EXPECT_EQ(log.committed(), 0u);
  EXPECT_EQ(log.applied(), 0u);
}

TEST(RaftLog, MaybeAppendRejectsAMismatchedPrevious) {
  Storage s;
  s.append(entries_with_terms(1, {1, 2, 3}));
  RaftLog log(s);
  // (3, 2) does not match our (3, 3): the leader must back up.
  EXPECT_FALSE(log.maybe_append(3, 2, 3, entries_with_terms(4, {4})).has_value());
  // Beyond our last index: nothing to match against.
  EXPECT_FALSE(log.maybe_append(4, 3, 3, entries_with_terms(5, {4})).has_value());
  EXPECT_EQ(log.last_index(), 3u);
  EXPECT_EQ(log.committed(), 0u);
}

TEST(RaftLog, MaybeAppendAppendsAfterAMatchAndCommitsUpToTheLastNewEntry) {
  Storage s;
  s.append(entries_with_terms(1, {1, 2, 3}));
  RaftLog log(s);
  auto last = log.maybe_append(3, 3, 10, entries_with_terms(4, {4, 4}));
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(*last, 5u);
  EXPECT_EQ(log.last_index(), 5u);
  // The leader's commit (10) is capped at the last entry this message vouched for (5).
  EXPECT_EQ(log.committed(), 5u);
  // The new entries are unstable until the host persists them.
  EXPECT_EQ(log.last_stable_index(), 3u);
  ASSERT_EQ(log.unstable_entries().size(), 2u);
  EXPECT_EQ(log.unstable_entries()[0].index(), 4u);
}

TEST(RaftLog, CommitFromAShortAppendIsCappedAtItsLastEntry) {
  // etcd's "commit = min(leader commit, index of last new entry)": an old, short append must not
  // commit our entries beyond it, which may not match the leader's.
  Storage s;
  s.append(entries_with_terms(1, {1, 1, 1}));
  RaftLog log(s);
  auto last = log.maybe_append(0, 0, 3, entries_with_terms(1, {1}));
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(*last, 1u);
  EXPECT_EQ(log.committed(), 1u);
}

TEST(RaftLog, AStaleShortAppendDoesNotTruncateMatchingEntries) {
  Storage s;
  s.append(entries_with_terms(1, {1, 1, 1}));
  RaftLog log(s);
  auto last = log.maybe_append(0, 0, 0, entries_with_terms(1, {1}));
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(log.last_index(), 3u);
  EXPECT_TRUE(log.unstable_entries().empty());
}

TEST(RaftLog, ConflictTruncatesTheSuffixFromTheFirstMismatch) {
  Storage s;
  s.append(entries_with_terms(1, {1, 1, 1, 1}));
  RaftLog log(s);
  auto last = log.maybe_append(1, 1, 0, entries_with_terms(2, {2, 2}));
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(*last, 3u);
  EXPECT_EQ(log.last_index(), 3u);
  EXPECT_EQ(terms_of(log), (std::vector<uint64_t>{1, 2, 2}));
  // Entry 4 is gone (the stored copy is replaced when the host persists).
  EXPECT_FALSE(log.term(4).has_value());
  // Only entry 1 is still stable.
  EXPECT_EQ(log.last_stable_index(), 1u);
}

TEST(RaftLog, ConflictInsideTheUnstableTailKeepsItsPrefix) {
  Storage s;
  s.append(entries_with_terms(1, {1}));
  RaftLog log(s);
  log.append(entries_with_terms(2, {1, 1, 1}));
  ASSERT_TRUE(log.maybe_append(2, 1, 0, entries_with_terms(3, {3})).has_value());
  EXPECT_EQ(terms_of(log), (std::vector<uint64_t>{1, 1, 3}));
  ASSERT_EQ(log.unstable_entries().size(), 2u);
  EXPECT_EQ(log.unstable_entries()[0].index(), 2u);
  EXPECT_EQ(log.unstable_entries()[1].term(), 3u);
}

TEST(RaftLogDeathTest, ConflictWithinTheCommittedPrefixIsAProgrammerError) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Storage s;
  s.append(entries_with_terms(1, {1, 1, 1}));
  RaftLog log(s);
  log.commit_to(2);
  EXPECT_DEATH((void)log.maybe_append(1, 1, 2, entries_with_terms(2, {2})), "conflict");
}

TEST(RaftLog, CommitToNeverGoesBack) {
  Storage s;
  s.append(entries_with_terms(1, {1, 1, 1}));
  RaftLog log(s);
  log.commit_to(3);
  log.commit_to(1);
  EXPECT_EQ(log.committed(), 3u);
}

TEST(RaftLog, MaybeCommitOnlyCommitsEntriesOfTheGivenTerm) {
  Storage s;
  s.append(entries_with_terms(1, {1, 1, 2}));
  RaftLog log(s);
  EXPECT_FALSE(log.maybe_commit(2, 2, false));  // entry 2 is of term 1
  EXPECT_EQ(log.committed(), 0u);
  EXPECT_TRUE(log.maybe_commit(3, 2, false));
  EXPECT_EQ(log.committed(), 3u);
  EXPECT_FALSE(log.maybe_commit(3, 2, false));  // nothing new
  EXPECT_FALSE(log.maybe_commit(2, 2, false));  // never backwards
}

TEST(RaftLog, MaybeCommitByCountingOldTermsIsThePlantedBug) {
  Storage s;
  s.append(entries_with_terms(1, {1, 1, 2}));
  RaftLog log(s);
  EXPECT_TRUE(log.maybe_commit(2, 2, /*count_old_terms=*/true));
  EXPECT_EQ(log.committed(), 2u);
}

TEST(RaftLog, IsUpToDateComparesLastTermThenLength) {
  Storage s;
  s.append(entries_with_terms(1, {1, 2, 2}));  // last (3, 2)
  RaftLog log(s);
  EXPECT_TRUE(log.is_up_to_date(3, 2));   // same
  EXPECT_TRUE(log.is_up_to_date(4, 2));   // longer, same term
  EXPECT_TRUE(log.is_up_to_date(1, 3));   // shorter but a later term
  EXPECT_FALSE(log.is_up_to_date(2, 2));  // shorter, same term
  EXPECT_FALSE(log.is_up_to_date(9, 1));  // longer but an older term
}

TEST(RaftLog, StableToMovesTheStablePointAndIgnoresReplacedEntries) {
  Storage s;
  s.append(entries_with_terms(1, {1}));
  RaftLog log(s);
  log.append(entries_with_terms(2, {2, 2, 2}));
  EXPECT_EQ(log.last_stable_index(), 1u);
  s.append(entries_with_terms(2, {2}));  // the host persisted entry 2
  log.stable_to(2, 2);
  EXPECT_EQ(log.last_stable_index(), 2u);
  // A persisted batch whose entry was meanwhile replaced (different term) is not stable.
  log.stable_to(4, 1);
  EXPECT_EQ(log.last_stable_index(), 2u);
  // An index beyond the log is ignored too.
  log.stable_to(9, 2);
  EXPECT_EQ(log.last_stable_index(), 2u);
  s.append(entries_with_terms(3, {2, 2}));
  log.stable_to(4, 2);
  EXPECT_EQ(log.last_stable_index(), 4u);
  EXPECT_TRUE(log.unstable_entries().empty());
}

TEST(RaftLog, StableToAfterATruncationDoesNotMarkTheNewEntriesStable) {
  Storage s;
  s.append(entries_with_terms(1, {1}));
  RaftLog log(s);
  log.append(entries_with_terms(2, {1, 1, 1}));
  // Handed to the host: entries 2..4 of term 1. Meanwhile 3.. is replaced by term 3.
  ASSERT_TRUE(log.maybe_append(2, 1, 0, entries_with_terms(3, {3, 3})).has_value());
  s.append(entries_with_terms(2, {1, 1, 1}));
  log.stable_to(4, 1);  // the host's write of the old batch finished
  EXPECT_EQ(log.last_stable_index(), 1u);
  EXPECT_EQ(log.unstable_entries().size(), 3u);
}

TEST(RaftLog, CompactedTermsAndEntriesAreUnavailable) {
  Storage s;
  s.append(entries_with_terms(1, {1, 1, 2, 2, 3}));
  s.compact(2);
  RaftLog log(s);
  EXPECT_EQ(log.first_index(), 3u);
  EXPECT_FALSE(log.term(1).has_value());
  ASSERT_TRUE(log.term(2).has_value());  // the compaction point
  EXPECT_EQ(*log.term(2), 1u);
  EXPECT_FALSE(log.entries_from(2, UINT64_MAX).has_value());
  EXPECT_FALSE(log.entries_from(1, UINT64_MAX).has_value());
  auto from3 = log.entries_from(3, UINT64_MAX);
  ASSERT_TRUE(from3.has_value());
  EXPECT_EQ(from3->size(), 3u);
  auto past = log.entries_from(6, UINT64_MAX);
  ASSERT_TRUE(past.has_value());
  EXPECT_TRUE(past->empty());
  // The constructor starts the commit and apply marks at the compaction point.
  EXPECT_EQ(log.committed(), 2u);
  EXPECT_EQ(log.applied(), 2u);
}

TEST(RaftLog, EntriesFromSpansStableAndUnstableUnderTheByteLimit) {
  Storage s;
  s.append(entries_with_terms(1, {1, 1}));
  RaftLog log(s);
  log.append(entries_with_terms(3, {1, 1}));
  const uint64_t one = make_entry(1, 1, "e1t1").ByteSizeLong();
  auto all = log.entries_from(1, UINT64_MAX);
  ASSERT_TRUE(all.has_value());
  ASSERT_EQ(all->size(), 4u);
  for (uint64_t i = 0; i < 4; ++i) EXPECT_EQ((*all)[i].index(), i + 1);
  auto three = log.entries_from(1, 3 * one);
  ASSERT_TRUE(three.has_value());
  EXPECT_EQ(three->size(), 3u);
  auto one_only = log.entries_from(2, 1);
  ASSERT_TRUE(one_only.has_value());
  EXPECT_EQ(one_only->size(), 1u);
}

TEST(RaftLog, NextCommittedAndAppliedTo) {
  Storage s;
  s.append(entries_with_terms(1, {1, 1, 1}));
  RaftLog log(s);
  EXPECT_FALSE(log.has_next_committed());
  log.commit_to(2);
  EXPECT_TRUE(log.has_next_committed());
  auto next = log.next_committed(UINT64_MAX);
  ASSERT_EQ(next.size(), 2u);
  EXPECT_EQ(next.front().index(), 1u);
  log.applied_to(2);
  EXPECT_FALSE(log.has_next_committed());
  EXPECT_TRUE(log.next_committed(UINT64_MAX).empty());
  log.commit_to(3);
  next = log.next_committed(UINT64_MAX);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next.front().index(), 3u);
}

TEST(RaftLog, NextCommittedIncludesCommittedButUnstableEntries) {
  // Entries committed on a quorum may be applied before this peer's own write finishes.
  Storage s;
  RaftLog log(s);
  ASSERT_TRUE(log.maybe_append(0, 0, 2, entries_with_terms(1, {1, 1})).has_value());
  EXPECT_EQ(log.last_stable_index(), 0u);
  EXPECT_EQ(log.next_committed(UINT64_MAX).size(), 2u);
}

TEST(RaftLog, RestoreInstallsAnUnstableSnapshot) {
  Storage s;
  s.append(entries_with_terms(1, {1, 1}));
  RaftLog log(s);
  raftpb::Snapshot snap;
  snap.mutable_metadata()->set_index(10);
  snap.mutable_metadata()->set_term(4);
  log.restore(snap);
  EXPECT_EQ(log.first_index(), 11u);
  EXPECT_EQ(log.last_index(), 10u);
  EXPECT_EQ(log.committed(), 10u);
  EXPECT_EQ(log.term_or_zero(10), 4u);
  EXPECT_FALSE(log.term(2).has_value());
  ASSERT_TRUE(log.unstable_snapshot().has_value());
  EXPECT_EQ(log.snapshot().metadata().index(), 10u);
  EXPECT_FALSE(log.has_next_committed());  // a snapshot replaces entries 1..10
  // New entries follow the snapshot.
  log.append(entries_with_terms(11, {4}));
  EXPECT_EQ(log.last_index(), 11u);
  log.stable_snap_to(10);
  EXPECT_FALSE(log.unstable_snapshot().has_value());
}

// A restored snapshot at index 5 over a stored log that is LONGER (a divergent, uncommitted tail
// up to 10): until the host persists the snapshot, the log ends at 5, so nothing exists beyond 5.
// RaftLog::term() falls through to the stale storage for i > 5 and reports the dropped entries'
// terms; last_stable_index() reports storage's 10 although the log ends at 5. See the report.
// Disabled: a real defect of RaftLog, but no Raft-level failure could be built from it (log
// matching keeps a leader from ever matching one of the stale entries).
TEST(RaftLog, RestoredSnapshotHidesTheStaleStoredTail) {
  Storage s;
  s.append(entries_with_terms(1, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1}));
  RaftLog log(s);
  log.commit_to(2);
  raftpb::Snapshot snap;
  snap.mutable_metadata()->set_index(5);
  snap.mutable_metadata()->set_term(2);
  log.restore(snap);
  ASSERT_EQ(log.last_index(), 5u);
  EXPECT_FALSE(log.term(7).has_value()) << "term(7) answered beyond last_index() 5";
  EXPECT_FALSE(log.match_term(7, 1));
  EXPECT_LE(log.last_stable_index(), log.last_index());
}

}  // namespace
}  // namespace shoal::raft
