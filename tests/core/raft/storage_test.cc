// Unit tests for raft::Storage: the stable log with its dummy entry at the snapshot point.
#include "core/raft/storage.h"

#include <gtest/gtest.h>

#include "tests/core/raft/raft_test_network.h"

namespace shoal::raft {
namespace {

using testnet::entries_with_terms;
using testnet::make_conf_state;

std::vector<uint64_t> terms_of(const Storage& s) {
  std::vector<uint64_t> out;
  if (s.last_index() < s.first_index()) return out;
  auto ents = s.entries(s.first_index(), s.last_index() + 1, UINT64_MAX);
  EXPECT_TRUE(ents.ok());
  for (const auto& e : *ents) out.push_back(e.term());
  return out;
}

TEST(Storage, EmptyStorageAnswersTermZeroAtIndexZeroOnly) {
  Storage s;
  EXPECT_EQ(s.first_index(), 1u);
  EXPECT_EQ(s.last_index(), 0u);
  auto t0 = s.term(0);
  ASSERT_TRUE(t0.ok());
  EXPECT_EQ(*t0, 0u);
  EXPECT_FALSE(s.term(1).ok());
}

TEST(Storage, AppendThenTermAndEntries) {
  Storage s;
  s.append(entries_with_terms(1, {1, 1, 2}));
  EXPECT_EQ(s.first_index(), 1u);
  EXPECT_EQ(s.last_index(), 3u);
  EXPECT_EQ(*s.term(3), 2u);
  EXPECT_EQ(*s.term(1), 1u);
  EXPECT_FALSE(s.term(4).ok());
  auto ents = s.entries(2, 4, UINT64_MAX);
  ASSERT_TRUE(ents.ok());
  ASSERT_EQ(ents->size(), 2u);
  EXPECT_EQ((*ents)[0].index(), 2u);
  EXPECT_EQ((*ents)[1].index(), 3u);
}

TEST(Storage, AppendReplacesConflictingSuffix) {
  Storage s;
  s.append(entries_with_terms(1, {1, 1, 1, 1, 1}));
  s.append(entries_with_terms(3, {2, 2}));
  EXPECT_EQ(s.last_index(), 4u);
  EXPECT_EQ(terms_of(s), (std::vector<uint64_t>{1, 1, 2, 2}));
}

TEST(Storage, AppendSkipsTheCompactedPrefix) {
  Storage s;
  s.append(entries_with_terms(1, {1, 1, 1, 1}));
  s.compact(3);
  // Entries 2..6: 2 and 3 are compacted away, 4 replaces the stored 4, 5 and 6 are new.
  s.append(entries_with_terms(2, {1, 1, 2, 2, 2}));
  EXPECT_EQ(s.first_index(), 4u);
  EXPECT_EQ(s.last_index(), 6u);
  EXPECT_EQ(terms_of(s), (std::vector<uint64_t>{2, 2, 2}));
  // Entirely compacted entries are ignored.
  s.append(entries_with_terms(1, {9, 9}));
  EXPECT_EQ(s.last_index(), 6u);
  EXPECT_EQ(terms_of(s), (std::vector<uint64_t>{2, 2, 2}));
}

TEST(Storage, CompactedTermLookups) {
  Storage s;
  s.append(entries_with_terms(1, {1, 2, 3, 4, 5}));
  s.compact(3);
  EXPECT_EQ(s.first_index(), 4u);
  EXPECT_EQ(s.last_index(), 5u);
  // The compaction point itself stays answerable (the dummy entry keeps its term).
  auto t3 = s.term(3);
  ASSERT_TRUE(t3.ok());
  EXPECT_EQ(*t3, 3u);
  EXPECT_FALSE(s.term(2).ok());
  EXPECT_FALSE(s.term(1).ok());
  EXPECT_EQ(*s.term(4), 4u);
  // Entries at or below the compaction point cannot be read.
  EXPECT_FALSE(s.entries(3, 5, UINT64_MAX).ok());
  EXPECT_FALSE(s.entries(1, 5, UINT64_MAX).ok());
  EXPECT_TRUE(s.entries(4, 6, UINT64_MAX).ok());
  // Compacting to an older point is a no-op.
  s.compact(2);
  EXPECT_EQ(s.first_index(), 4u);
}

TEST(Storage, EntriesRespectMaxBytesButReturnAtLeastOne) {
  Storage s;
  s.append(entries_with_terms(1, {1, 1, 1, 1}));
  const uint64_t one = (*s.entries(1, 2, UINT64_MAX))[0].ByteSizeLong();
  auto tiny = s.entries(1, 5, 1);
  ASSERT_TRUE(tiny.ok());
  EXPECT_EQ(tiny->size(), 1u);
  auto two = s.entries(1, 5, 2 * one);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->size(), 2u);
  auto all = s.entries(1, 5, UINT64_MAX);
  EXPECT_EQ(all->size(), 4u);
}

TEST(Storage, CreateSnapshotRecordsTermAndConfiguration) {
  Storage s;
  s.append(entries_with_terms(1, {1, 1, 2, 2}));
  s.create_snapshot(3, make_conf_state({1, 2, 3}), "state@3");
  EXPECT_EQ(s.snapshot().metadata().index(), 3u);
  EXPECT_EQ(s.snapshot().metadata().term(), 2u);
  EXPECT_EQ(s.snapshot().data(), "state@3");
  EXPECT_EQ(s.snapshot().metadata().conf_state().voters_size(), 3);
  // Creating the snapshot does not compact by itself.
  EXPECT_EQ(s.first_index(), 1u);
  // An older snapshot never replaces a newer one.
  s.create_snapshot(2, make_conf_state({1}), "state@2");
  EXPECT_EQ(s.snapshot().metadata().index(), 3u);
  EXPECT_EQ(s.snapshot().data(), "state@3");
}

TEST(Storage, ApplySnapshotReplacesTheWholeLog) {
  Storage s;
  s.append(entries_with_terms(1, {1, 1, 1}));
  raftpb::Snapshot snap;
  snap.mutable_metadata()->set_index(10);
  snap.mutable_metadata()->set_term(4);
  snap.set_data("ten");
  s.apply_snapshot(snap);
  EXPECT_EQ(s.first_index(), 11u);
  EXPECT_EQ(s.last_index(), 10u);
  EXPECT_EQ(*s.term(10), 4u);
  EXPECT_FALSE(s.term(3).ok());
  EXPECT_FALSE(s.term(11).ok());
  // The log continues after the snapshot.
  s.append(entries_with_terms(11, {4, 5}));
  EXPECT_EQ(s.last_index(), 12u);
  EXPECT_EQ(*s.term(12), 5u);
}

TEST(Storage, HardStateRoundTrips) {
  Storage s;
  s.set_hard_state(testnet::make_hard_state(7, 3, 2));
  EXPECT_EQ(s.hard_state().term(), 7u);
  EXPECT_EQ(s.hard_state().vote(), 3u);
  EXPECT_EQ(s.hard_state().commit(), 2u);
}

}  // namespace
}  // namespace shoal::raft
