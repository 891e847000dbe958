// gossip::Membership on hand-driven seams: one member (id 1) and scripted peers. Covers the SWIM
// rules one at a time: suspicion timing, refutation, alive/dead ordering by incarnation, the buddy
// system, the retransmit limit, leave, and that bad input changes nothing.
#include <gtest/gtest.h>

#include "tests/core/gossip/gossip_test_util.h"

namespace shoal::gossip {
namespace {

using std::chrono::milliseconds;
using testing::alive;
using testing::dead;
using testing::packet;
using testing::Rig;
using testing::suspect;

TEST(Membership, LearnsMembersFromAliveMessagesAndReportsJoins) {
  std::vector<NodeId> joined;
  Rig rig(1, {}, {.on_join = [&](const MemberInfo& i) { joined.push_back(i.id); }});
  rig.m->receive(2, packet({alive(2, 1), alive(3, 4, "worker")}));
  EXPECT_EQ(rig.m->num_alive(), 3u);
  EXPECT_EQ(joined, (std::vector<NodeId>{2, 3}));
  ASSERT_NE(rig.m->member(3), nullptr);
  EXPECT_EQ(rig.m->member(3)->incarnation, 4u);
  EXPECT_EQ(rig.m->member(3)->meta, "worker");
  EXPECT_EQ(rig.m->broken_invariant(), "");
}

TEST(Membership, SuspicionStartsAtMaxAndShrinksAsIndependentConfirmationsArrive) {
  // 10 members: min = 4 * log10(10) * 200 ms = 800 ms, max = 6 * min = 4.8 s, k = 2.
  std::vector<NodeId> gone;
  Rig rig(10, {}, {.on_leave = [&](const MemberInfo& i) { gone.push_back(i.id); }});
  rig.m->receive(2, packet({suspect(5, 1, 2)}));
  const Suspicion* s = rig.m->suspicion(5);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->k(), 2);
  EXPECT_EQ(s->min(), milliseconds(800));
  EXPECT_EQ(s->max(), milliseconds(4800));
  rig.timers.advance(milliseconds(1000));
  EXPECT_EQ(rig.m->member(5)->state, State::kSuspect);
  // A second accuser: 4.8 - log(2)/log(3) * 4.0 = 2.276 s from the start.
  rig.m->receive(3, packet({suspect(5, 1, 3)}));
  EXPECT_EQ(rig.m->suspicion(5)->confirmations(), 1);
  rig.timers.advance(milliseconds(1270));  // t = 2.270 s
  EXPECT_EQ(rig.m->member(5)->state, State::kSuspect);
  rig.timers.advance(milliseconds(10));  // t = 2.280 s
  EXPECT_EQ(rig.m->member(5)->state, State::kDead);
  EXPECT_EQ(gone, (std::vector<NodeId>{5}));
  EXPECT_EQ(rig.m->stats().deaths_declared, 1u);
  EXPECT_EQ(rig.m->broken_invariant(), "");
}

TEST(Membership, WithoutConfirmationsASuspicionLastsTheMaxTimeout) {
  Rig rig(10);
  rig.m->receive(2, packet({suspect(5, 1, 2)}));
  rig.m->receive(2, packet({suspect(5, 1, 2)}));  // the same accuser again: no confirmation
  rig.timers.advance(milliseconds(4790));
  EXPECT_EQ(rig.m->member(5)->state, State::kSuspect);
  rig.timers.advance(milliseconds(20));
  EXPECT_EQ(rig.m->member(5)->state, State::kDead);
}

TEST(Membership, KConfirmationsBringTheTimeoutDownToMin) {
  Rig rig(10);
  rig.m->receive(2, packet({suspect(5, 1, 2)}));
  rig.timers.advance(milliseconds(500));
  rig.m->receive(3, packet({suspect(5, 1, 3), suspect(5, 1, 4)}));
  rig.timers.advance(milliseconds(290));  // t = 790 ms < min
  EXPECT_EQ(rig.m->member(5)->state, State::kSuspect);
  rig.timers.advance(milliseconds(20));
  EXPECT_EQ(rig.m->member(5)->state, State::kDead);
}

TEST(Membership, AnAliveWithAHigherIncarnationClearsASuspicionAndOldNewsIsIgnored) {
  Rig rig(10);
  rig.m->receive(2, packet({suspect(5, 1, 2)}));
  rig.m->receive(5, packet({alive(5, 1)}));  // not newer: still suspect
  EXPECT_EQ(rig.m->member(5)->state, State::kSuspect);
  rig.m->receive(5, packet({alive(5, 2)}));
  EXPECT_EQ(rig.m->member(5)->state, State::kAlive);
  EXPECT_EQ(rig.m->suspicion(5), nullptr);
  rig.timers.advance(std::chrono::seconds(10));
  EXPECT_EQ(rig.m->member(5)->state, State::kAlive);
  rig.m->receive(2, packet({suspect(5, 1, 2), dead(5, 1, 3)}));  // about an older incarnation
  EXPECT_EQ(rig.m->member(5)->state, State::kAlive);
  EXPECT_EQ(rig.m->broken_invariant(), "");
}

TEST(Membership, ASuspicionOfANewerIncarnationStartsOverInsteadOfConfirming) {
  // We missed 5's refutation of incarnation 1 and now hear it suspected at incarnation 2: that is
  // no confirmation of our old suspicion (memberlist counts it as one, and declares the refuted
  // incarnation dead when k confirmations are reached).
  Rig rig(10);
  rig.m->receive(2, packet({suspect(5, 1, 2)}));
  rig.timers.advance(milliseconds(1000));
  rig.m->receive(3, packet({suspect(5, 2, 3), suspect(5, 2, 4)}));
  ASSERT_EQ(rig.m->member(5)->state, State::kSuspect);
  EXPECT_EQ(rig.m->member(5)->incarnation, 2u);
  EXPECT_EQ(rig.m->suspicion(5)->confirmations(), 1);  // 4 confirms 3's new suspicion
  rig.timers.advance(milliseconds(100));
  EXPECT_EQ(rig.m->member(5)->state, State::kSuspect);
}

TEST(Membership, AnOutdatedClaimIsAnsweredWithTheAliveThatClearedIt) {
  Rig rig(10);
  rig.m->receive(5, packet({alive(5, 3)}));
  rig.net.sent.clear();
  rig.m->receive(7, packet({suspect(5, 2, 7)}));  // 7 missed the alive at 3
  ASSERT_FALSE(rig.net.sent.empty());
  EXPECT_EQ(rig.net.sent[0].to, 7u);
  const auto& first = rig.net.sent[0].env.compound().parts(0);
  ASSERT_TRUE(first.has_alive());
  EXPECT_EQ(first.alive().node(), 5u);
  EXPECT_EQ(first.alive().incarnation(), 3u);
  EXPECT_EQ(rig.m->stats().stale_claims_corrected, 1u);
  EXPECT_EQ(rig.m->member(5)->state, State::kAlive);
}

TEST(Membership, APacketFromAStrangerStartsAPushPullWithIt) {
  Rig rig(3);
  rig.timers.advance(std::chrono::seconds(2));  // past the exchange 2's first packet started
  rig.net.sent.clear();
  gossippb::Part ping;
  ping.mutable_ping()->set_seq_no(9);
  ping.mutable_ping()->set_target(1);
  rig.m->receive(42, packet({ping}));
  bool pushed = false;
  for (const auto& s : rig.net.sent) pushed = pushed || (s.to == 42 && s.env.has_push_pull());
  EXPECT_TRUE(pushed);
}

TEST(Membership, ASuspectedMemberRefutesWithAHigherIncarnation) {
  Rig rig(10);
  EXPECT_EQ(rig.m->incarnation(), 1u);
  rig.m->receive(2, packet({suspect(1, 1, 2)}));
  EXPECT_EQ(rig.m->incarnation(), 2u);
  EXPECT_EQ(rig.m->stats().refutations, 1u);
  EXPECT_EQ(rig.m->health_score(), 1);  // Lifeguard: being suspected hints at our own trouble
  // A dead claim at a later incarnation is refuted above it.
  rig.m->receive(3, packet({dead(1, 5, 3)}));
  EXPECT_EQ(rig.m->incarnation(), 6u);
  EXPECT_EQ(rig.m->member(1)->state, State::kAlive);
  // The refutation goes out.
  rig.timers.advance(milliseconds(500));
  bool sent = false;
  for (const auto& [to, p] : rig.net.parts()) {
    sent = sent || (p.has_alive() && p.alive().node() == 1 && p.alive().incarnation() == 6);
  }
  EXPECT_TRUE(sent);
}

TEST(Membership, PlantedNeverRefuteStaysQuiet) {
  Config c;
  c.bugs.never_refute = true;
  Rig rig(10, c);
  rig.m->receive(2, packet({suspect(1, 1, 2)}));
  EXPECT_EQ(rig.m->incarnation(), 1u);
  EXPECT_EQ(rig.m->stats().refutations, 0u);
}

TEST(Membership, AFailedProbeMakesTheTargetSuspectAndAsksForIndirectProbes) {
  Rig rig(10);
  rig.net.answering.erase(5);  // 5 is gone
  rig.timers.advance(std::chrono::seconds(3));  // a full probe round and more
  ASSERT_EQ(rig.m->member(5)->state, State::kSuspect);
  size_t indirect = 0;
  for (const auto& [to, p] : rig.net.parts()) {
    if (p.has_indirect_ping() && p.indirect_ping().target() == 5) {
      ++indirect;
      EXPECT_TRUE(p.indirect_ping().nack());
      EXPECT_NE(to, 5u);
    }
  }
  EXPECT_GE(indirect, 3u);
  EXPECT_GE(rig.m->stats().probe_failures, 1u);
  // Every helper nacked: the helpers work, so the fault is the target's, not ours.
  EXPECT_EQ(rig.m->health_score(), 0);
}

TEST(Membership, MissingNacksRaiseTheLocalHealthScoreAndStretchTheProbeInterval) {
  Rig rig(10);
  rig.net.answering.erase(5);
  rig.net.nacks = false;  // as if our own packets were lost: no helper answers
  for (int i = 0; i < 1000 && rig.m->stats().probe_failures == 0; ++i) rig.timers.advance(milliseconds(10));
  ASSERT_EQ(rig.m->stats().probe_failures, 1u);
  EXPECT_GE(rig.m->health_score(), 3);  // three nacks missed per failed probe
  EXPECT_EQ(rig.m->probe_interval(), rig.m->config().probe_interval * (rig.m->health_score() + 1));
  // Successful probes bring it back down, one per probe.
  rig.net.answering.insert(5);
  rig.net.nacks = true;
  rig.timers.advance(std::chrono::seconds(60));
  EXPECT_EQ(rig.m->health_score(), 0);
}

TEST(Membership, BuddySystemTellsASuspectedMemberFirst) {
  Rig rig(4);
  rig.m->receive(2, packet({suspect(3, 1, 2)}));
  rig.timers.advance(std::chrono::seconds(2));  // 3 is probed within a round
  bool buddy = false;
  for (const auto& s : rig.net.sent) {
    if (s.to != 3 || !s.env.has_compound()) continue;
    const auto& parts = s.env.compound().parts();
    for (int i = 0; i + 1 < parts.size(); ++i) {
      if (parts[i].has_suspect() && parts[i].suspect().node() == 3 && parts[i + 1].has_ping()) buddy = true;
    }
  }
  EXPECT_TRUE(buddy);
}

TEST(Membership, ABroadcastIsSentAtMostTheRetransmitLimit) {
  // 10 members, retransmit mult 4: limit = 4 * ceil(log10(11)) = 8.
  Config c;
  c.retransmit_mult = 4;
  Rig rig(10, c);
  rig.timers.advance(std::chrono::seconds(5));  // drain the join broadcasts
  rig.net.sent.clear();
  rig.m->receive(7, packet({alive(7, 9)}));
  rig.timers.advance(std::chrono::seconds(10));
  int sends = 0;
  for (const auto& [to, p] : rig.net.parts()) sends += p.has_alive() && p.alive().node() == 7 ? 1 : 0;
  EXPECT_EQ(sends, 8);
}

TEST(Membership, LeaveBroadcastsDeadWithLeaveAndStopsProbing) {
  Rig rig(5);
  rig.timers.advance(std::chrono::seconds(1));
  rig.m->leave();
  rig.net.sent.clear();
  rig.timers.advance(std::chrono::seconds(2));
  bool told = false;
  for (const auto& [to, p] : rig.net.parts()) {
    EXPECT_FALSE(p.has_ping()) << "a member that left does not probe";
    told = told || (p.has_dead() && p.dead().node() == 1 && p.dead().from() == 1);
  }
  EXPECT_TRUE(told);
  EXPECT_EQ(rig.m->member(1)->state, State::kLeft);
  // A dead message about a member that left is no reason to refute.
  rig.m->receive(2, packet({dead(1, 1, 2)}));
  EXPECT_EQ(rig.m->stats().refutations, 0u);
  EXPECT_EQ(rig.m->broken_invariant(), "");
}

TEST(Membership, ADeadWithLeaveMarksTheMemberLeft) {
  std::vector<State> seen;
  Rig rig(5, {}, {.on_leave = [&](const MemberInfo& i) { seen.push_back(i.state); }});
  rig.m->receive(3, packet({dead(3, 1, 3)}));
  EXPECT_EQ(rig.m->member(3)->state, State::kLeft);
  EXPECT_EQ(seen, (std::vector<State>{State::kLeft}));
  EXPECT_EQ(rig.m->num_alive(), 4u);
}

TEST(Membership, MalformedInputIsDroppedCountedAndChangesNothing) {
  Rig rig(5);
  const auto before = rig.m->members();
  const size_t sent_before = rig.net.sent.size();
  auto envelope = [](uint32_t version, std::vector<gossippb::Part> parts) {
    gossippb::Envelope e;
    e.set_version(version);
    for (auto& p : parts) *e.mutable_compound()->add_parts() = std::move(p);
    return e.SerializeAsString();
  };
  gossippb::Part empty;
  gossippb::Part zero = alive(0, 1);
  gossippb::Part fat = alive(9, 1, std::string(513, 'x'));
  std::vector<gossippb::Part> many(300, alive(9, 1));
  gossippb::Envelope bad_state;
  bad_state.set_version(kWireVersion);
  auto* st = bad_state.mutable_push_pull()->add_states();
  st->set_node(9);
  st->set_state(static_cast<gossippb::MemberState>(42));
  gossippb::Envelope no_body;
  no_body.set_version(kWireVersion);

  const std::vector<std::pair<std::string, std::string>> cases = {
      {"\xff\xff\xff garbage", "unparsable"},
      {envelope(2, {alive(9, 1)}), "version"},
      {no_body.SerializeAsString(), "no-body"},
      {envelope(kWireVersion, {}), "no-body"},
      {envelope(kWireVersion, {alive(9, 1), empty}), "empty-part"},  // a good part does not pass
      {envelope(kWireVersion, {zero}), "zero-node"},
      {envelope(kWireVersion, {fat}), "meta-too-big"},
      {envelope(kWireVersion, many), "too-many-parts"},
      {bad_state.SerializeAsString(), "bad-state"},
      {std::string(9 << 20, 'x'), "too-big"},
      {packet({testing::alive(9, 1)}).substr(0, 5), "unparsable"},
  };
  uint64_t n = 0;
  for (const auto& [bytes, reason] : cases) {
    rig.m->receive(4, bytes);
    ++n;
    EXPECT_EQ(rig.m->stats().bad_messages, n) << reason;
    EXPECT_GE(rig.m->stats().bad_by_reason.count(reason), 1u) << reason;
  }
  // A ping for someone else is dropped too.
  gossippb::Part ping;
  ping.mutable_ping()->set_seq_no(1);
  ping.mutable_ping()->set_target(77);
  rig.m->receive(4, packet({ping}));
  EXPECT_EQ(rig.m->stats().bad_by_reason.at("misdirected-ping"), 1u);

  EXPECT_EQ(rig.net.sent.size(), sent_before);  // nothing answered
  const auto after = rig.m->members();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].id, before[i].id);
    EXPECT_EQ(after[i].state, before[i].state);
    EXPECT_EQ(after[i].incarnation, before[i].incarnation);
  }
  EXPECT_EQ(rig.m->member(9), nullptr);
  EXPECT_EQ(rig.m->broken_invariant(), "");
}

TEST(Membership, AnsweringAnIndirectProbeForwardsTheAckOrANack) {
  Rig rig(5);
  gossippb::Part ip;
  ip.mutable_indirect_ping()->set_seq_no(77);
  ip.mutable_indirect_ping()->set_target(3);
  ip.mutable_indirect_ping()->set_nack(true);
  rig.net.sent.clear();
  rig.m->receive(2, packet({ip}));  // 3 answers (the fake net acks for it)
  rig.timers.advance(milliseconds(5));
  bool acked = false;
  for (const auto& [to, p] : rig.net.parts()) acked = acked || (to == 2 && p.has_ack() && p.ack().seq_no() == 77);
  EXPECT_TRUE(acked);

  rig.net.answering.erase(4);
  ip.mutable_indirect_ping()->set_seq_no(78);
  ip.mutable_indirect_ping()->set_target(4);
  rig.net.sent.clear();
  rig.m->receive(2, packet({ip}));
  rig.timers.advance(milliseconds(150));
  bool nacked = false;
  for (const auto& [to, p] : rig.net.parts()) nacked = nacked || (to == 2 && p.has_nack() && p.nack().seq_no() == 78);
  EXPECT_TRUE(nacked);
  EXPECT_EQ(rig.m->stats().nacks_sent, 1u);
}

TEST(Membership, SetMetaBumpsTheIncarnationAndRefusesOversizedMeta) {
  Rig rig(3);
  ASSERT_TRUE(rig.m->set_meta("role=manager").ok());
  EXPECT_EQ(rig.m->incarnation(), 2u);
  EXPECT_FALSE(rig.m->set_meta(std::string(600, 'x')).ok());
  EXPECT_EQ(rig.m->incarnation(), 2u);
  EXPECT_EQ(rig.m->member(1)->meta, "role=manager");
}

}  // namespace
}  // namespace shoal::gossip
