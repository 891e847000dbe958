// Log replication and the commit rule (Raft paper 5.3, 5.4.2), and the Ready contract.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/raft/raft.h"
#include "io_sim/checkers/raft_checker.h"
#include "tests/core/raft/raft_test_network.h"

namespace shoal::raft {
namespace {

using testnet::entries_with_terms;
using testnet::make_conf_state;
using testnet::make_hard_state;
using testnet::make_storage;
using testnet::of_type;
using testnet::RaftTestNetwork;

std::vector<raftpb::Entry> stored(const Storage& s) {
  if (s.last_index() < s.first_index()) return {};
  auto ents = s.entries(s.first_index(), s.last_index() + 1, UINT64_MAX);
  EXPECT_TRUE(ents.ok());
  return *ents;
}

std::vector<uint64_t> stored_terms(const Storage& s) {
  std::vector<uint64_t> out;
  for (const auto& e : stored(s)) out.push_back(e.term());
  return out;
}

bool has_entry_of_term(const raftpb::Message& m, uint64_t term) {
  for (const auto& e : m.entries()) {
    if (e.term() == term) return true;
  }
  return false;
}

// "A log entry is committed once the leader that created the entry has replicated it on a
// majority of the servers" — and a follower acknowledges only what it has persisted: the
// acknowledgement leaves in the same Ready as the entries it covers.
TEST(RaftReplication, ProposalCommitsOnceAQuorumPersistedIt) {
  RaftTestNetwork net({1, 2, 3, 4, 5});
  net.campaign(1);
  ASSERT_EQ(net.raft(1).role(), Role::kLeader);
  const uint64_t before = net.raft(1).log().committed();

  auto index = net.raft(1).propose("x");
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(*index, before + 1);
  auto apps = of_type(net.handle_ready(1), raftpb::MSG_APP);
  ASSERT_EQ(apps.size(), 4u);
  EXPECT_EQ(net.raft(1).log().committed(), before) << "committed with only the leader's copy";

  size_t acks = 0;
  for (const auto& app : apps) {
    if (app.to() != 2 && app.to() != 3) continue;
    Raft& follower = net.raft(app.to());
    follower.step(app);
    ASSERT_TRUE(follower.has_ready());
    Ready rd = follower.ready();
    // The entry to persist and its acknowledgement travel in one Ready.
    ASSERT_EQ(rd.entries.size(), 1u);
    EXPECT_EQ(rd.entries[0].index(), *index);
    EXPECT_TRUE(rd.must_sync());
    auto resps = of_type(rd.messages, raftpb::MSG_APP_RESP);
    ASSERT_EQ(resps.size(), 1u);
    EXPECT_EQ(resps[0].index(), *index);
    EXPECT_FALSE(resps[0].reject());
    net.storage(app.to()).append(rd.entries);
    if (rd.hard_state) net.storage(app.to()).set_hard_state(*rd.hard_state);
    follower.advance(rd);

    net.raft(1).step(resps[0]);
    ++acks;
    if (acks == 1) {
      EXPECT_EQ(net.raft(1).log().committed(), before) << "2 of 5 is not a quorum";
    }
  }
  EXPECT_EQ(net.raft(1).log().committed(), *index) << "3 of 5 is a quorum";
  // Nodes 4 and 5 never saw the entry.
  EXPECT_LT(net.storage(4).last_index(), *index);
}

// etcd's MustSync: a Ready whose one durable change is the commit index asks for no sync (a node
// that forgets it in a crash learns it again from the leader); entries, a term or a vote do.
TEST(RaftReplication, ACommitIndexChangeAloneNeedsNoSync) {
  RaftTestNetwork net({1, 2, 3});
  net.campaign(1);
  ASSERT_EQ(net.raft(1).role(), Role::kLeader);
  auto index = net.raft(1).propose("x");
  ASSERT_TRUE(index.ok());
  auto apps = of_type(net.handle_ready(1), raftpb::MSG_APP);
  std::vector<raftpb::Message> to_two;
  for (auto& m : apps) if (m.to() == 2) to_two.push_back(m);
  ASSERT_EQ(to_two.size(), 1u);

  // Node 2 persists the entry (a sync) and acknowledges it.
  net.raft(2).step(to_two[0]);
  Ready rd2 = net.raft(2).ready();
  EXPECT_TRUE(rd2.must_sync()) << "new entries are synced before the acknowledgement leaves";
  net.storage(2).append(rd2.entries);
  if (rd2.hard_state) net.storage(2).set_hard_state(*rd2.hard_state);
  auto acks = of_type(rd2.messages, raftpb::MSG_APP_RESP);
  net.raft(2).advance(rd2);
  ASSERT_EQ(acks.size(), 1u);

  // The leader commits: its Ready carries the new commit index but needs no sync.
  net.raft(1).step(acks[0]);
  ASSERT_TRUE(net.raft(1).has_ready());
  Ready rd1 = net.raft(1).ready();
  ASSERT_TRUE(rd1.hard_state.has_value());
  EXPECT_EQ(rd1.hard_state->commit(), *index);
  EXPECT_TRUE(rd1.entries.empty());
  EXPECT_FALSE(rd1.must_sync());
  auto commits = of_type(rd1.messages, raftpb::MSG_APP);
  net.raft(1).advance(rd1);

  // So does node 2's, when it learns the commit.
  for (auto& m : commits) {
    if (m.to() != 2) continue;
    net.raft(2).step(m);
    Ready learned = net.raft(2).ready();
    ASSERT_TRUE(learned.hard_state.has_value());
    EXPECT_EQ(learned.hard_state->commit(), *index);
    EXPECT_FALSE(learned.must_sync());
    net.raft(2).advance(learned);
  }
}

TEST(RaftReplication, CommittedEntriesReachEveryFollower) {
  RaftTestNetwork net({1, 2, 3});
  net.campaign(1);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(net.propose(1, "v" + std::to_string(i)).ok());
  const uint64_t last = net.raft(1).log().last_index();
  for (NodeId id : {1, 2, 3}) {
    EXPECT_EQ(net.raft(id).log().committed(), last) << "node " << id;
    ASSERT_TRUE(net.applied(id).count(last));
    EXPECT_EQ(net.applied(id).at(last).data(), "v4");
  }
  EXPECT_TRUE(net.violations().empty());
}

// "In Raft, the leader handles inconsistencies by forcing the followers' logs to duplicate its
// own. This means that conflicting entries in follower logs will be overwritten."
TEST(RaftReplication, FollowerConflictingSuffixIsOverwritten) {
  RaftTestNetwork net(nullptr, 1);
  const auto cs = make_conf_state({1, 2, 3});
  net.add_peer(1, make_storage(cs, entries_with_terms(1, {1, 3}), make_hard_state(3, 0, 1)));
  // Node 2 holds entries of a term-2 leader that never committed them.
  net.add_peer(2, make_storage(cs, entries_with_terms(1, {1, 2, 2}), make_hard_state(3, 0, 1)));
  net.add_peer(3, make_storage(cs, entries_with_terms(1, {1, 3}), make_hard_state(3, 0, 1)));
  net.campaign(1);
  ASSERT_EQ(net.raft(1).role(), Role::kLeader);
  ASSERT_EQ(net.raft(1).term(), 4u);
  EXPECT_EQ(stored_terms(net.storage(1)), (std::vector<uint64_t>{1, 3, 4}));
  EXPECT_EQ(stored_terms(net.storage(2)), (std::vector<uint64_t>{1, 3, 4}));
  auto leader_log = stored(net.storage(1));
  auto follower_log = stored(net.storage(2));
  ASSERT_EQ(leader_log.size(), follower_log.size());
  for (size_t i = 0; i < leader_log.size(); ++i) {
    EXPECT_EQ(leader_log[i].SerializeAsString(), follower_log[i].SerializeAsString()) << i;
  }
  EXPECT_EQ(net.raft(2).log().committed(), 3u);
  EXPECT_TRUE(net.violations().empty());
}

// Figure 8 of the paper. S1 leads term 4 with (2, term 2) from its own term-2 reign; it
// replicates that entry to S2 and S3, a majority with itself, but its own term-4 entry does not
// get out. "Raft never commits log entries from previous terms by counting replicas": index 2
// must stay uncommitted, because S5, holding (2, term 3), can still be elected by S2, S3, S4 and
// overwrite it. With commit_old_term_by_counting the leader commits (and applies) it anyway, and
// the state-machine safety check sees S5's term overwrite an applied entry.
TEST(RaftReplication, Figure8LeaderDoesNotCommitAnOldTermEntryByCounting) {
  for (bool bug : {false, true}) {
    SCOPED_TRACE(bug ? "commit_old_term_by_counting" : "correct");
    RaftTestNetwork net(
        [&](Config& c) {
          c.pre_vote = false;
          c.check_quorum = false;
          c.max_msg_bytes = 1;  // one entry per append, so (2, 2) travels without (3, 4)
          c.bugs.commit_old_term_by_counting = bug;
        },
        1);
    const auto cs = make_conf_state({1, 2, 3, 4, 5});
    net.add_peer(1, make_storage(cs, entries_with_terms(1, {1, 2}), make_hard_state(3, 0, 1)));
    for (NodeId id : {2, 3, 4}) {
      net.add_peer(id, make_storage(cs, entries_with_terms(1, {1}), make_hard_state(3, 0, 1)));
    }
    net.add_peer(5, make_storage(cs, entries_with_terms(1, {1, 3}), make_hard_state(3, 5, 1)));

    // S1 reaches S4 and S5 with votes only; no follower may take an entry of term 4; no
    // heartbeat may carry S1's commit index out.
    net.drop_if([](const raftpb::Message& m) {
      return m.from() == 1 && (m.to() == 4 || m.to() == 5) && m.type() == raftpb::MSG_APP;
    });
    net.drop_if([&net](const raftpb::Message& m) {
      return m.type() == raftpb::MSG_APP && has_entry_of_term(m, 4) &&
             net.raft(m.to()).log().match_term(m.index(), m.log_term());
    });
    net.drop_if([](const raftpb::Message& m) { return m.type() == raftpb::MSG_HEARTBEAT; });
    net.campaign(1);
    ASSERT_EQ(net.raft(1).role(), Role::kLeader);
    ASSERT_EQ(net.raft(1).term(), 4u);
    // (2, 2) is on S1, S2, S3: a majority of five.
    for (NodeId id : {2, 3}) {
      ASSERT_EQ(stored_terms(net.storage(id)), (std::vector<uint64_t>{1, 2})) << "node " << id;
    }
    ASSERT_EQ(net.raft(1).progress(2)->match, 2u);
    ASSERT_EQ(net.raft(1).progress(3)->match, 2u);
    if (!bug) {
      EXPECT_EQ(net.raft(1).log().committed(), 1u) << "committed an old-term entry by counting";
      EXPECT_FALSE(net.applied(1).count(2));
    } else {
      EXPECT_EQ(net.raft(1).log().committed(), 2u) << "the planted bug did not commit";
      ASSERT_TRUE(net.applied(1).count(2));
      EXPECT_EQ(net.applied(1).at(2).term(), 2u);
    }

    // Figure 8 (d): S1 crashes; S5 wins term 5 with S2, S3, S4 and overwrites index 2.
    net.recover();
    net.isolate(1);
    // S5's first try may land in term 4, where everyone already voted for S1.
    for (int i = 0; i < 3 && net.raft(5).role() != Role::kLeader; ++i) net.campaign(5);
    ASSERT_EQ(net.raft(5).role(), Role::kLeader);
    ASSERT_EQ(net.raft(5).term(), 5u);
    for (NodeId id : {2, 3, 4, 5}) {
      EXPECT_EQ(stored_terms(net.storage(id)), (std::vector<uint64_t>{1, 3, 5})) << "node " << id;
      EXPECT_EQ(net.raft(id).log().committed(), 3u);
    }
    if (!bug) {
      EXPECT_TRUE(net.violations().empty());
    } else {
      ASSERT_FALSE(net.violations().empty());
      EXPECT_NE(net.violations()[0].find("state-machine safety"), std::string::npos)
          << net.violations()[0];
    }

    // The simulator's RaftChecker, fed this same history (S1's applies, then S5's election,
    // then everyone's applies), must name the planted bug too, and stay quiet without it.
    shoal::sim::RaftChecker checker([] { return shoal::sim::SimTime{0}; });
    for (const auto& [index, e] : net.applied(1)) checker.on_apply(1, e);
    checker.on_soft_state(5, net.raft(5).term(), Role::kLeader, net.raft(5));
    for (NodeId id : {2, 3, 4, 5}) {
      for (const auto& [index, e] : net.applied(id)) checker.on_apply(id, e);
    }
    std::set<std::string> fired;
    for (const auto& v : checker.violations()) fired.insert(v.checker);
    if (!bug) {
      EXPECT_TRUE(fired.empty()) << checker.violations().front().what;
    } else {
      EXPECT_TRUE(fired.count("leader-completeness")) << "checker missed S5 leading without (2, 2)";
      EXPECT_TRUE(fired.count("state-machine-safety")) << "checker missed index 2 applied twice";
    }
  }
}

// Batching: an append carries at most max_msg_bytes of entries (but always at least one).
TEST(RaftReplication, MaxMsgBytesLimitsEntriesPerAppend) {
  const auto cs = make_conf_state({1, 2, 3});
  std::vector<uint64_t> ten_terms(10, 1);
  const uint64_t entry_bytes = entries_with_terms(1, {1})[0].ByteSizeLong();
  for (uint64_t limit : {uint64_t{1}, 2 * entry_bytes + 1, uint64_t{1} << 20}) {
    SCOPED_TRACE("max_msg_bytes=" + std::to_string(limit));
    RaftTestNetwork net([&](Config& c) { c.max_msg_bytes = limit; }, 1);
    net.add_peer(1, make_storage(cs, entries_with_terms(1, ten_terms), make_hard_state(1, 0, 0)));
    net.add_peer(2, make_storage(cs, {}, make_hard_state(1, 0, 0)));
    net.add_peer(3, make_storage(cs, entries_with_terms(1, ten_terms), make_hard_state(1, 0, 0)));
    std::vector<raftpb::Message> to2;
    net.drop_if([&](const raftpb::Message& m) {
      if (m.type() == raftpb::MSG_APP && m.to() == 2 && m.entries_size() > 0) to2.push_back(m);
      return false;
    });
    net.campaign(1);
    ASSERT_EQ(net.raft(1).role(), Role::kLeader);
    EXPECT_EQ(net.storage(2).last_index(), 11u) << "node 2 did not catch up";
    size_t most = 0;
    for (const auto& m : to2) {
      uint64_t bytes = 0;
      for (const auto& e : m.entries()) bytes += e.ByteSizeLong();
      EXPECT_TRUE(m.entries_size() == 1 || bytes <= limit)
          << m.entries_size() << " entries, " << bytes << " bytes";
      most = std::max<size_t>(most, m.entries_size());
    }
    if (limit == 1) {
      EXPECT_EQ(most, 1u);
    } else if (limit == 2 * entry_bytes + 1) {
      EXPECT_EQ(most, 2u);
    } else {
      EXPECT_EQ(most, 11u) << "one append should carry it all";
    }
  }
}

// Pipelining: at most max_inflight append messages to one follower are unacknowledged.
TEST(RaftReplication, MaxInflightLimitsUnackedAppends) {
  RaftTestNetwork net({1, 2, 3}, [](Config& c) { c.max_inflight = 3; });
  net.campaign(1);
  ASSERT_EQ(net.raft(1).progress(2)->state, Progress::State::kReplicate);
  std::vector<raftpb::Message> to2;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(net.raft(1).propose("p" + std::to_string(i)).ok());
    for (auto& m : of_type(net.handle_ready(1), raftpb::MSG_APP)) {
      if (m.to() == 2) to2.push_back(m);
    }
  }
  EXPECT_EQ(to2.size(), 3u) << "appends sent to node 2 with no acknowledgement";
  EXPECT_TRUE(net.raft(1).progress(2)->is_paused());
  EXPECT_EQ(net.raft(1).progress(2)->inflights.count(), 3u);

  // One acknowledgement frees one slot; the leader fills it with everything that is left.
  net.raft(2).step(to2[0]);
  auto acks = of_type(net.handle_ready(2), raftpb::MSG_APP_RESP);
  ASSERT_EQ(acks.size(), 1u);
  net.raft(1).step(acks[0]);
  auto more = of_type(net.handle_ready(1), raftpb::MSG_APP);
  size_t more_to2 = 0;
  for (const auto& m : more) {
    if (m.to() != 2 || m.entries_size() == 0) continue;
    ++more_to2;
    EXPECT_EQ(m.entries(m.entries_size() - 1).index(), net.raft(1).log().last_index());
  }
  EXPECT_EQ(more_to2, 1u);
  EXPECT_LE(net.raft(1).progress(2)->inflights.count(), 3u);
}

// A heartbeat answer acknowledges no append. etcd frees ONE inflight slot when the window is full
// (Inflights.FreeFirstOne) so a stalled pipeline can probe once per heartbeat; Shoal frees the
// whole window (raft.cc, MSG_HEARTBEAT_RESP: inflights.free_le(pr.next)), so every heartbeat
// lets another max_inflight appends out with none acknowledged. Disabled: flow control only, not
// safety; see the report.
TEST(RaftReplication, HeartbeatAnswerReopensAtMostOneInflightSlot) {
  RaftTestNetwork net({1, 2, 3}, [](Config& c) { c.max_inflight = 3; });
  net.campaign(1);
  // Node 2 never sees (so never acknowledges) an append, but answers heartbeats.
  size_t unacked_to_2 = 0;
  net.drop_if([&](const raftpb::Message& m) {
    if (m.type() != raftpb::MSG_APP || m.to() != 2) return false;
    if (m.entries_size() > 0) ++unacked_to_2;
    return true;
  });
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(net.propose(1, "p").ok());
    net.tick(1);  // heartbeat out, answer back
  }
  EXPECT_LE(unacked_to_2, 3u + 3u) << "at most the window plus one probe per heartbeat";
}

// The leader counts its own log toward the quorum only once it is persisted (etcd #14370):
// in a single-node cluster a proposal is in Ready.entries, and becomes committed only after
// advance() confirms the write.
TEST(RaftReplication, LeaderCountsItsOwnEntryOnlyAfterAdvance) {
  for (bool bug : {false, true}) {
    SCOPED_TRACE(bug ? "self_ack_before_persist" : "correct");
    Config cfg;
    cfg.id = 1;
    cfg.bugs.self_ack_before_persist = bug;
    auto storage = make_storage(make_conf_state({1}));
    Raft r(cfg, *storage, Rng(7));
    auto settle = [&] {
      while (r.has_ready()) {
        Ready rd = r.ready();
        storage->append(rd.entries);
        if (rd.hard_state) storage->set_hard_state(*rd.hard_state);
        r.advance(rd);
      }
    };
    r.campaign_now();
    settle();
    ASSERT_EQ(r.role(), Role::kLeader);
    ASSERT_EQ(r.log().committed(), 1u);

    auto index = r.propose("x");
    ASSERT_TRUE(index.ok());
    ASSERT_EQ(*index, 2u);
    Ready rd = r.ready();
    ASSERT_EQ(rd.entries.size(), 1u);
    EXPECT_EQ(rd.entries[0].index(), 2u);
    if (!bug) {
      EXPECT_TRUE(rd.committed_entries.empty()) << "applied before its own write was durable";
      EXPECT_EQ(r.log().committed(), 1u);
      EXPECT_TRUE(!rd.hard_state || rd.hard_state->commit() == 1u);
    } else {
      ASSERT_EQ(rd.committed_entries.size(), 1u) << "the planted bug did not self-ack";
      EXPECT_EQ(rd.committed_entries[0].index(), 2u);
    }
    storage->append(rd.entries);
    if (rd.hard_state) storage->set_hard_state(*rd.hard_state);
    r.advance(rd);
    EXPECT_EQ(r.log().committed(), 2u);
    if (!bug) {
      ASSERT_TRUE(r.has_ready());
      Ready next = r.ready();
      ASSERT_EQ(next.committed_entries.size(), 1u);
      EXPECT_EQ(next.committed_entries[0].index(), 2u);
      ASSERT_TRUE(next.hard_state.has_value());
      EXPECT_EQ(next.hard_state->commit(), 2u);
      r.advance(next);
    }
  }
}

// Ready contract: the HardState recording a vote is in the same Ready as the vote's response,
// so a host that persists before sending never grants a vote it could forget.
TEST(RaftReplication, ReadyCarriesTheNewVoteWithTheVoteResponse) {
  RaftTestNetwork net({1, 2, 3}, [](Config& c) { c.pre_vote = false; });
  net.raft(1).campaign_now();
  auto votes = of_type(net.handle_ready(1), raftpb::MSG_VOTE);
  ASSERT_EQ(votes.size(), 2u);
  Raft& r2 = net.raft(votes[0].to());
  r2.step(votes[0]);
  ASSERT_TRUE(r2.has_ready());
  Ready rd = r2.ready();
  ASSERT_TRUE(rd.hard_state.has_value());
  EXPECT_EQ(rd.hard_state->term(), 1u);
  EXPECT_EQ(rd.hard_state->vote(), 1u);
  EXPECT_TRUE(rd.must_sync());
  auto resps = of_type(rd.messages, raftpb::MSG_VOTE_RESP);
  ASSERT_EQ(resps.size(), 1u);
  EXPECT_FALSE(resps[0].reject());
  r2.advance(rd);
  EXPECT_FALSE(r2.has_ready());
}

// A granted pre-vote promises nothing and needs no write.
TEST(RaftReplication, PreVoteResponseNeedsNoHardState) {
  RaftTestNetwork net({1, 2, 3});
  net.raft(1).campaign_now();
  auto pre_votes = of_type(net.handle_ready(1), raftpb::MSG_PRE_VOTE);
  ASSERT_EQ(pre_votes.size(), 2u);
  Raft& r2 = net.raft(pre_votes[0].to());
  r2.step(pre_votes[0]);
  Ready rd = r2.ready();
  EXPECT_FALSE(rd.hard_state.has_value());
  auto resps = of_type(rd.messages, raftpb::MSG_PRE_VOTE_RESP);
  ASSERT_EQ(resps.size(), 1u);
  EXPECT_FALSE(resps[0].reject());
  EXPECT_EQ(resps[0].term(), 1u);
  r2.advance(rd);
}

// A follower restarted from its Storage keeps what it persisted, and replays its committed
// entries from the start.
TEST(RaftReplication, RestartedFollowerRecoversFromStorage) {
  RaftTestNetwork net({1, 2, 3});
  net.campaign(1);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(net.propose(1, "v" + std::to_string(i)).ok());
  const uint64_t last = net.raft(1).log().last_index();
  net.crash(2);
  EXPECT_EQ(net.raft(2).term(), net.raft(1).term());
  EXPECT_EQ(net.raft(2).log().last_index(), last);
  EXPECT_EQ(net.raft(2).log().committed(), last);
  net.flush(2);
  EXPECT_EQ(net.applied(2).size(), last);
  ASSERT_TRUE(net.propose(1, "after").ok());
  EXPECT_EQ(net.raft(2).log().committed(), last + 1);
  EXPECT_TRUE(net.violations().empty());
}

}  // namespace
}  // namespace shoal::raft
