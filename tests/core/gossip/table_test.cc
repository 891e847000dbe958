// gossip::Table on one hand-driven Membership (member 1, peers 2..4 alive; tests/core/gossip/
// gossip_test_util.h): remote writes arrive as `entry` parts of datagrams from peer 2, or as the
// entries of a push-pull. Covers the local API and its limits, last-writer-wins by (ltime, owner),
// tombstones, the Lamport clock, owner refutation, visibility following membership, subscribers,
// reaping, bulk sync, and the codec's checks of entries. Every test ends with broken_invariant() empty.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/gossip/table.h"
#include "tests/core/gossip/gossip_test_util.h"

namespace shoal::gossip {
namespace {

using std::chrono::seconds;
using testing::alive;
using testing::dead;
using testing::packet;
using testing::Rig;
using testing::suspect;

// --- helpers -----------------------------------------------------------------------------------

gossippb::TableEntry entry(const std::string& table, const std::string& key, NodeId owner, uint64_t ltime,
                           const std::string& value) {
  gossippb::TableEntry e;
  e.set_table(table);
  e.set_key(key);
  e.set_owner(owner);
  e.set_ltime(ltime);
  e.set_value(value);
  return e;
}

gossippb::TableEntry tombstone(const std::string& table, const std::string& key, NodeId owner, uint64_t ltime) {
  gossippb::TableEntry e = entry(table, key, owner, ltime, "");
  e.set_deleted(true);
  return e;
}

gossippb::Part part(const gossippb::TableEntry& e) {
  gossippb::Part p;
  *p.mutable_entry() = e;
  return p;
}

// A push-pull datagram carrying no member states, only table entries and the sender's clock.
std::string push_pull(const std::vector<gossippb::TableEntry>& entries, uint64_t table_ltime, bool reply) {
  gossippb::Envelope env;
  env.set_version(kWireVersion);
  auto* pp = env.mutable_push_pull();
  pp->set_reply(reply);
  pp->set_table_ltime(table_ltime);
  for (const auto& e : entries) *pp->add_entries() = e;
  return env.SerializeAsString();
}

// "t/k=v by 2 @7", or "t/k deleted by 2 @7".
std::string show(const gossippb::TableEntry& e) {
  std::string s = e.table() + "/" + e.key();
  s += e.deleted() ? " deleted" : "=" + e.value();
  return s + " by " + std::to_string(e.owner()) + " @" + std::to_string(e.ltime());
}

// "put t/k=v by 2", "remove t/k=v by 2".
std::string show(const TableChange& c) {
  return std::string(c.kind == TableChange::Kind::kPut ? "put " : "remove ") + c.table + "/" + c.key + "=" +
         c.value + " by " + std::to_string(c.owner);
}

using Strings = std::vector<std::string>;
using List = std::map<std::string, std::string>;

class TableTest : public ::testing::Test {
 protected:
  // Member 1 with its Table and a subscriber that records what it hears; peers 2..n alive.
  struct World {
    World(size_t n, Config config) : rig(n, std::move(config)), table(rig.env, *rig.m) {
      table.subscribe([this](const TableChange& c) { heard.push_back(show(c)); });
    }
    Rig rig;
    Table table;
    Strings heard;
  };

  void SetUp() override { start(); }
  void TearDown() override {
    EXPECT_EQ(table().broken_invariant(), "");
    EXPECT_EQ(member().broken_invariant(), "");
  }
  // Starts over with `config` (member 1, peers 2..members alive).
  void start(Config config = {}, size_t members = 4) {
    w_.reset();
    w_ = std::make_unique<World>(members, std::move(config));
  }

  Table& table() { return w_->table; }
  Membership& member() { return *w_->rig.m; }
  testing::FakeNet& net() { return w_->rig.net; }
  const Strings& heard() const { return w_->heard; }
  void forget_heard() { w_->heard.clear(); }
  void advance(Duration d) { w_->rig.timers.advance(d); }

  // Remote writes piggybacked on one packet from peer 2.
  void deliver(const std::vector<gossippb::TableEntry>& entries) {
    std::vector<gossippb::Part> parts;
    for (const auto& e : entries) parts.push_back(part(e));
    member().receive(2, packet(std::move(parts)));
  }
  // Membership news (alive / suspect / dead parts) from peer 2.
  void hear(std::vector<gossippb::Part> parts) { member().receive(2, packet(std::move(parts))); }

  // Every version of (table, key) this member has sent on its packets so far (after flush()).
  std::set<std::string> gossiped(const std::string& t, const std::string& k) const {
    std::set<std::string> out;
    for (const auto& [to, p] : w_->rig.net.parts()) {
      if (p.has_entry() && p.entry().table() == t && p.entry().key() == k) out.insert(show(p.entry()));
    }
    return out;
  }
  // Lets the gossip loop send the queued broadcasts.
  void flush() { advance(seconds(1)); }

  static std::string join(const std::set<std::string>& s) {
    std::string out;
    for (const auto& x : s) out += "[" + x + "] ";
    return out;
  }

  std::unique_ptr<World> w_;
};

// --- 1. local writes ---------------------------------------------------------------------------

TEST_F(TableTest, PutGetListAndRemoveByTheOwner) {
  ASSERT_TRUE(table().put("eps", "a", "10.0.0.1").ok());
  ASSERT_TRUE(table().put("eps", "b", "10.0.0.2").ok());
  ASSERT_TRUE(table().put("other", "a", "x").ok());
  EXPECT_EQ(table().get("eps", "a"), "10.0.0.1");
  EXPECT_EQ(table().list("eps"), (List{{"a", "10.0.0.1"}, {"b", "10.0.0.2"}}));
  EXPECT_EQ(table().list("other"), (List{{"a", "x"}}));
  EXPECT_EQ(table().lamport_time(), 3u);

  ASSERT_TRUE(table().put("eps", "a", "10.0.0.9").ok());  // an overwrite
  EXPECT_EQ(table().get("eps", "a"), "10.0.0.9");

  ASSERT_TRUE(table().remove("eps", "a").ok());
  EXPECT_EQ(table().get("eps", "a"), std::nullopt);
  EXPECT_EQ(table().list("eps"), (List{{"b", "10.0.0.2"}}));
  EXPECT_EQ(table().entries_held(), 3u);  // the tombstone is kept
  EXPECT_EQ(table().lamport_time(), 5u);
}

TEST_F(TableTest, RemovingAMissingOrAlreadyDeletedKeyIsNotFound) {
  EXPECT_EQ(table().remove("eps", "nope").code(), StatusCode::kNotFound);
  ASSERT_TRUE(table().put("eps", "a", "v").ok());
  ASSERT_TRUE(table().remove("eps", "a").ok());
  EXPECT_EQ(table().remove("eps", "a").code(), StatusCode::kNotFound);
  EXPECT_EQ(table().lamport_time(), 2u);  // the refusals wrote nothing
}

TEST_F(TableTest, RemovingAnEntryOwnedByAnotherMemberIsAFailedPrecondition) {
  deliver({entry("eps", "a", 2, 3, "theirs")});
  EXPECT_EQ(table().remove("eps", "a").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(table().get("eps", "a"), "theirs");
  EXPECT_EQ(table().lamport_time(), 3u);
}

TEST_F(TableTest, PutRefusesEmptyNamesAndOverLongNamesOrValuesAndChangesNothing) {
  const Config& c = member().config();
  const size_t queued = member().broadcasts_queued();
  const std::string longest_key(c.max_entry_name_bytes - 1, 'k');  // "t" + key: exactly the limit
  EXPECT_EQ(table().put("", "k", "v").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(table().put("t", "", "v").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(table().put("t", longest_key + "k", "v").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(table().put("t", "k", std::string(c.max_entry_value_bytes + 1, 'v')).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(table().entries_held(), 0u);
  EXPECT_EQ(table().lamport_time(), 0u);
  EXPECT_EQ(member().broadcasts_queued(), queued);
  EXPECT_EQ(heard(), Strings{});

  // Exactly at the limits is fine.
  EXPECT_TRUE(table().put("t", longest_key, "v").ok());
  EXPECT_TRUE(table().put("t", "k", std::string(c.max_entry_value_bytes, 'v')).ok());
  EXPECT_EQ(table().entries_held(), 2u);
}

TEST_F(TableTest, AFullTableRefusesANewKeyWithBusyButTakesOverwrites) {
  Config c;
  c.max_table_entries = 2;
  start(c);
  ASSERT_TRUE(table().put("t", "a", "1").ok());
  ASSERT_TRUE(table().put("t", "b", "2").ok());
  EXPECT_EQ(table().put("t", "c", "3").code(), StatusCode::kBusy);
  EXPECT_EQ(table().get("t", "c"), std::nullopt);
  EXPECT_EQ(table().entries_held(), 2u);
  EXPECT_EQ(table().lamport_time(), 2u);
  EXPECT_TRUE(table().put("t", "a", "1b").ok());
  EXPECT_EQ(table().get("t", "a"), "1b");
  // Tombstones count: the table stays full after a delete.
  ASSERT_TRUE(table().remove("t", "b").ok());
  EXPECT_EQ(table().put("t", "c", "3").code(), StatusCode::kBusy);
}

TEST_F(TableTest, AFullTableDropsANewRemoteKeyAndCountsALimitHit) {
  Config c;
  c.max_table_entries = 2;
  start(c);
  ASSERT_TRUE(table().put("t", "a", "1").ok());
  ASSERT_TRUE(table().put("t", "b", "2").ok());
  deliver({entry("t", "c", 2, 5, "remote")});
  EXPECT_EQ(table().get("t", "c"), std::nullopt);
  EXPECT_EQ(table().entries_held(), 2u);
  EXPECT_EQ(table().stats().limit_hits, 1u);
  EXPECT_EQ(table().stats().applied, 0u);
  // A newer version of a key it holds still gets in.
  deliver({entry("t", "a", 2, 9, "remote-a")});
  EXPECT_EQ(table().get("t", "a"), "remote-a");
  EXPECT_EQ(table().stats().limit_hits, 1u);
}

// --- 2. last-writer-wins -------------------------------------------------------------------------

TEST_F(TableTest, TheLaterLamportTimeWinsInEitherArrivalOrder) {
  const auto older = entry("t", "k", 3, 5, "older");
  const auto newer = entry("t", "k", 2, 7, "newer");  // a smaller owner, but a later time
  deliver({older});
  deliver({newer});
  EXPECT_EQ(table().get("t", "k"), "newer");
  EXPECT_EQ(table().stats().stale, 0u);
  EXPECT_EQ(table().stats().applied, 2u);

  start();
  deliver({newer});
  deliver({older});
  EXPECT_EQ(table().get("t", "k"), "newer");
  EXPECT_EQ(table().stats().stale, 1u);
  EXPECT_EQ(table().stats().applied, 1u);
  EXPECT_EQ(table().visible().at({"t", "k"}), std::make_pair(NodeId{2}, std::string("newer")));
}

TEST_F(TableTest, OnEqualLamportTimesTheLargerOwnerWinsInEitherArrivalOrder) {
  const auto low = entry("t", "k", 2, 7, "from-2");
  const auto high = entry("t", "k", 3, 7, "from-3");
  deliver({low, high});
  EXPECT_EQ(table().get("t", "k"), "from-3");

  start();
  deliver({high, low});
  EXPECT_EQ(table().get("t", "k"), "from-3");
  EXPECT_EQ(table().stats().stale, 1u);
}

TEST_F(TableTest, AnOlderOrEqualVersionArrivingLaterIsStaleAndChangesNothing) {
  deliver({entry("t", "k", 2, 8, "current")});
  forget_heard();
  deliver({entry("t", "k", 2, 6, "old"), entry("t", "k", 2, 8, "same-time-other-value")});
  EXPECT_EQ(table().get("t", "k"), "current");
  EXPECT_EQ(table().stats().stale, 2u);
  EXPECT_EQ(table().stats().applied, 1u);
  EXPECT_EQ(table().entries_held(), 1u);
  EXPECT_EQ(heard(), Strings{});  // subscribers hear nothing of a stale write
}

TEST_F(TableTest, ANewerTombstoneRemovesTheEntryAndAnOlderLiveCopyCannotBringItBack) {
  deliver({entry("t", "k", 2, 5, "v")});
  deliver({tombstone("t", "k", 2, 8)});
  EXPECT_EQ(table().get("t", "k"), std::nullopt);
  EXPECT_EQ(table().list("t"), List{});
  EXPECT_EQ(table().entries_held(), 1u);

  deliver({entry("t", "k", 2, 6, "v")});  // still travelling from before the delete
  EXPECT_EQ(table().get("t", "k"), std::nullopt);
  EXPECT_EQ(table().stats().stale, 1u);
  EXPECT_EQ(heard(), (Strings{"put t/k=v by 2", "remove t/k=v by 2"}));
}

TEST_F(TableTest, ATakenRemoteWriteIsGossipedOnAndAStaleOneIsNot) {
  deliver({entry("t", "k", 2, 5, "v5")});
  deliver({entry("t", "k", 2, 3, "v3")});
  flush();
  EXPECT_EQ(gossiped("t", "k"), (std::set<std::string>{"t/k=v5 by 2 @5"}));
}

// --- 3. the Lamport clock ------------------------------------------------------------------------

TEST_F(TableTest, ALocalWriteIsLaterThanEveryRemoteTimeWitnessed) {
  deliver({entry("t", "x", 2, 50, "remote")});
  EXPECT_EQ(table().lamport_time(), 50u);
  ASSERT_TRUE(table().put("t", "y", "local").ok());
  EXPECT_EQ(table().lamport_time(), 51u);
  flush();
  EXPECT_EQ(gossiped("t", "y"), (std::set<std::string>{"t/y=local by 1 @51"}));
}

TEST_F(TableTest, EvenAStaleRemoteWriteAdvancesTheClock) {
  deliver({entry("t", "k", 3, 40, "winner")});
  deliver({entry("t", "k", 2, 40, "loser")});  // stale: same time, smaller owner
  ASSERT_EQ(table().stats().stale, 1u);
  ASSERT_TRUE(table().put("t", "z", "v").ok());
  EXPECT_EQ(table().lamport_time(), 41u);
}

// --- 4. owner refutation -------------------------------------------------------------------------

TEST_F(TableTest, ANewerRemoteCopyOfAnOwnEntryIsRefutedWithTheOwnValueAtANewerTime) {
  ASSERT_TRUE(table().put("t", "k", "mine").ok());  // ltime 1
  forget_heard();
  net().sent.clear();
  deliver({entry("t", "k", 1, 20, "from-a-past-life")});
  EXPECT_EQ(table().get("t", "k"), "mine");
  EXPECT_EQ(table().stats().refutations, 1u);
  EXPECT_EQ(table().stats().applied, 0u);
  EXPECT_EQ(table().lamport_time(), 21u);
  EXPECT_EQ(heard(), Strings{});  // what get() returns never changed
  flush();
  const auto sent = gossiped("t", "k");
  EXPECT_EQ(sent.count("t/k=mine by 1 @21"), 1u) << join(sent);
  EXPECT_EQ(sent.count("t/k=from-a-past-life by 1 @20"), 0u) << join(sent);
}

TEST_F(TableTest, ARemoteCopyOfAnOwnEntryNeverWrittenIsRefutedWithATombstone) {
  deliver({entry("t", "ghost", 1, 5, "before-restart")});
  EXPECT_EQ(table().get("t", "ghost"), std::nullopt);
  EXPECT_EQ(table().stats().refutations, 1u);
  EXPECT_EQ(table().entries_held(), 1u);  // the tombstone
  EXPECT_EQ(heard(), Strings{});
  flush();
  EXPECT_EQ(gossiped("t", "ghost"), (std::set<std::string>{"t/ghost deleted by 1 @6"}));
  // The same stale copy again is now older than the tombstone: stale, no second refutation.
  deliver({entry("t", "ghost", 1, 5, "before-restart")});
  EXPECT_EQ(table().stats().refutations, 1u);
  EXPECT_EQ(table().stats().stale, 1u);
}

TEST_F(TableTest, ANewerLiveCopyOfAnOwnDeletedEntryIsRefutedWithTheTombstone) {
  ASSERT_TRUE(table().put("t", "k", "v").ok());
  ASSERT_TRUE(table().remove("t", "k").ok());  // ltime 2
  net().sent.clear();
  deliver({entry("t", "k", 1, 9, "v")});
  EXPECT_EQ(table().get("t", "k"), std::nullopt);
  EXPECT_EQ(table().stats().refutations, 1u);
  flush();
  const auto sent = gossiped("t", "k");
  EXPECT_EQ(sent.count("t/k deleted by 1 @10"), 1u) << join(sent);
}

TEST_F(TableTest, AnEchoOfAnOwnWriteIsStaleNotARefutation) {
  ASSERT_TRUE(table().put("t", "k", "mine").ok());
  deliver({entry("t", "k", 1, 1, "mine")});
  EXPECT_EQ(table().stats().refutations, 0u);
  EXPECT_EQ(table().stats().stale, 1u);
  EXPECT_EQ(table().lamport_time(), 1u);
}

TEST_F(TableTest, APushPullCarryingANewerCopyOfAnOwnEntryIsRefutedToo) {
  ASSERT_TRUE(table().put("t", "k", "mine").ok());
  member().receive(2, push_pull({entry("t", "k", 1, 30, "stale-life")}, 30, /*reply=*/true));
  EXPECT_EQ(table().get("t", "k"), "mine");
  EXPECT_EQ(table().stats().refutations, 1u);
  EXPECT_EQ(table().lamport_time(), 31u);
}

// --- 5. visibility follows membership ------------------------------------------------------------

TEST_F(TableTest, ADeadOwnersEntriesDisappearAndComeBackWhenItIsAliveAgain) {
  deliver({entry("eps", "a", 3, 4, "10.0.0.3"), entry("eps", "b", 2, 5, "10.0.0.2")});
  EXPECT_EQ(table().list("eps"), (List{{"a", "10.0.0.3"}, {"b", "10.0.0.2"}}));
  forget_heard();

  hear({dead(3, 1, 2)});
  ASSERT_EQ(member().member(3)->state, State::kDead);
  EXPECT_EQ(table().get("eps", "a"), std::nullopt);
  EXPECT_EQ(table().list("eps"), (List{{"b", "10.0.0.2"}}));
  EXPECT_EQ(table().entries_held(), 2u);  // hidden, not forgotten
  EXPECT_EQ(heard(), (Strings{"remove eps/a=10.0.0.3 by 3"}));

  hear({alive(3, 2)});
  ASSERT_EQ(member().member(3)->state, State::kAlive);
  EXPECT_EQ(table().get("eps", "a"), "10.0.0.3");
  EXPECT_EQ(heard(), (Strings{"remove eps/a=10.0.0.3 by 3", "put eps/a=10.0.0.3 by 3"}));
}

TEST_F(TableTest, ADeadOwnersTombstonesStaySilentWhenItDiesAndComesBack) {
  deliver({tombstone("eps", "gone", 3, 4)});
  hear({dead(3, 1, 2)});
  hear({alive(3, 2)});
  EXPECT_EQ(heard(), Strings{});
  EXPECT_EQ(table().get("eps", "gone"), std::nullopt);
}

TEST_F(TableTest, ASuspectOwnersEntriesStayVisibleUntilTheSuspicionExpires) {
  deliver({entry("eps", "a", 3, 4, "10.0.0.3")});
  hear({suspect(3, 1, 2)});
  ASSERT_EQ(member().member(3)->state, State::kSuspect);
  EXPECT_EQ(table().get("eps", "a"), "10.0.0.3");
  // 4 members, no confirmations: the suspicion lasts its max, 6 * 4 * 200 ms = 4.8 s.
  advance(seconds(5));
  ASSERT_EQ(member().member(3)->state, State::kDead);
  EXPECT_EQ(table().get("eps", "a"), std::nullopt);
  EXPECT_EQ(heard(), (Strings{"put eps/a=10.0.0.3 by 3", "remove eps/a=10.0.0.3 by 3"}));
}

TEST_F(TableTest, AnOwnerThatLeftHidesItsEntries) {
  deliver({entry("eps", "a", 3, 4, "10.0.0.3")});
  forget_heard();
  member().receive(3, packet({dead(3, 1, 3)}));  // dead-with-leave
  ASSERT_EQ(member().member(3)->state, State::kLeft);
  EXPECT_EQ(table().get("eps", "a"), std::nullopt);
  EXPECT_EQ(heard(), (Strings{"remove eps/a=10.0.0.3 by 3"}));
}

TEST_F(TableTest, AnEntryOfAnUnknownOwnerIsHiddenUntilTheOwnerIsKnown) {
  deliver({entry("eps", "a", 9, 4, "10.0.0.9")});
  ASSERT_EQ(member().member(9), nullptr);
  EXPECT_EQ(table().get("eps", "a"), std::nullopt);
  EXPECT_EQ(table().visible().size(), 0u);
  EXPECT_EQ(table().entries_held(), 1u);
  EXPECT_EQ(heard(), Strings{});

  hear({alive(9, 1)});
  EXPECT_EQ(table().get("eps", "a"), "10.0.0.9");
  EXPECT_EQ(heard(), (Strings{"put eps/a=10.0.0.9 by 9"}));
}

TEST_F(TableTest, RemoveOfAnEntryWhoseOwnerIsDeadIsNotFound) {
  deliver({entry("eps", "a", 3, 4, "10.0.0.3")});
  hear({dead(3, 1, 2)});
  EXPECT_EQ(table().remove("eps", "a").code(), StatusCode::kNotFound);
}

// --- 6. subscribers ------------------------------------------------------------------------------

TEST_F(TableTest, SubscribersHearPutsRemovesAndOwnerChangesButNotStaleOrSameValueWrites) {
  ASSERT_TRUE(table().put("t", "own", "1").ok());
  deliver({entry("t", "k", 2, 5, "a")});
  deliver({entry("t", "k", 2, 6, "b")});  // new value
  deliver({entry("t", "k", 2, 7, "b")});  // same value, same owner: nothing to tell
  deliver({entry("t", "k", 3, 8, "b")});  // same value, new owner
  deliver({entry("t", "k", 2, 4, "z")});  // stale
  ASSERT_TRUE(table().remove("t", "own").ok());
  EXPECT_EQ(heard(), (Strings{"put t/own=1 by 1", "put t/k=a by 2", "put t/k=b by 2", "put t/k=b by 3",
                              "remove t/own=1 by 1"}));
}

TEST_F(TableTest, AWriteByADeadOwnerOverAVisibleEntryIsHeardAsARemove) {
  hear({dead(3, 1, 2)});
  deliver({entry("t", "k", 2, 5, "a")});
  deliver({entry("t", "k", 3, 6, "from-the-dead")});  // newer, but its owner is dead
  EXPECT_EQ(table().get("t", "k"), std::nullopt);
  EXPECT_EQ(heard(), (Strings{"put t/k=a by 2", "remove t/k=a by 2"}));
}

// --- 7. reaping ----------------------------------------------------------------------------------

TEST_F(TableTest, ATombstoneIsForgottenAfterTheTtlPlusAReapIntervalNotBefore) {
  Config c;
  c.tombstone_ttl = seconds(30);
  c.table_reap_interval = seconds(10);  // reaps at 10, 20, 30, 40 s ...
  start(c);
  advance(seconds(5));
  ASSERT_TRUE(table().put("t", "k", "v").ok());
  ASSERT_TRUE(table().put("t", "live", "v").ok());
  ASSERT_TRUE(table().remove("t", "k").ok());  // a tombstone written at 5 s
  advance(seconds(29));                        // 34 s: ttl not yet over
  EXPECT_EQ(table().entries_held(), 2u);
  EXPECT_EQ(table().stats().reaped, 0u);
  advance(seconds(11));  // 45 s: ttl + one reap interval after the delete
  EXPECT_EQ(table().entries_held(), 1u);
  EXPECT_EQ(table().stats().reaped, 1u);
  EXPECT_EQ(table().get("t", "live"), "v");
  // Forgotten for good: remove now finds nothing and the key can be written again.
  EXPECT_EQ(table().remove("t", "k").code(), StatusCode::kNotFound);
  EXPECT_TRUE(table().put("t", "k", "again").ok());
}

TEST_F(TableTest, ADeadOwnersEntriesAreForgottenTheTtlAfterItsDeathNotAfterTheirWrite) {
  Config c;
  c.tombstone_ttl = seconds(30);
  c.table_reap_interval = seconds(10);
  start(c);
  deliver({entry("t", "a", 3, 4, "v"), entry("t", "b", 2, 5, "v")});  // taken at 0 s
  advance(seconds(12));
  hear({dead(3, 1, 2)});  // dies at 12 s
  advance(seconds(29));   // 41 s: 41 s after the write, 29 s after the death
  EXPECT_EQ(table().entries_held(), 2u);
  EXPECT_EQ(table().stats().reaped, 0u);
  advance(seconds(11));  // 52 s: ttl + one reap interval after the death
  EXPECT_EQ(table().entries_held(), 1u);
  EXPECT_EQ(table().stats().reaped, 1u);
  EXPECT_EQ(table().get("t", "b"), "v");  // the live owner's entry stays
  EXPECT_EQ(heard(), (Strings{"put t/a=v by 3", "put t/b=v by 2", "remove t/a=v by 3"}));
}

TEST_F(TableTest, AReapedOwnerComingBackDoesNotResurrectItsEntries) {
  Config c;
  c.tombstone_ttl = seconds(30);
  c.table_reap_interval = seconds(10);
  start(c);
  deliver({entry("t", "a", 3, 4, "v")});
  hear({dead(3, 1, 2)});
  advance(seconds(45));
  ASSERT_EQ(table().entries_held(), 0u);
  forget_heard();
  hear({alive(3, 2)});
  EXPECT_EQ(table().get("t", "a"), std::nullopt);
  EXPECT_EQ(heard(), Strings{});
}

// --- 8. bulk sync ------------------------------------------------------------------------------

TEST_F(TableTest, MergingAPushPullAppliesItsEntriesAndWitnessesItsClock) {
  member().receive(2, push_pull({entry("eps", "a", 2, 7, "10.0.0.2"), tombstone("eps", "b", 3, 9),
                                 entry("eps", "c", 3, 8, "10.0.0.3")},
                                /*table_ltime=*/100, /*reply=*/true));
  EXPECT_EQ(table().list("eps"), (List{{"a", "10.0.0.2"}, {"c", "10.0.0.3"}}));
  EXPECT_EQ(table().entries_held(), 3u);
  EXPECT_EQ(table().stats().applied, 3u);
  EXPECT_EQ(table().lamport_time(), 100u);
  ASSERT_TRUE(table().put("eps", "d", "mine").ok());
  EXPECT_EQ(table().lamport_time(), 101u);
}

TEST_F(TableTest, APushPullSentCarriesEveryEntryTombstonesIncludedAndTheClock) {
  ASSERT_TRUE(table().put("eps", "a", "1").ok());
  ASSERT_TRUE(table().put("eps", "b", "2").ok());
  ASSERT_TRUE(table().remove("eps", "b").ok());
  deliver({entry("eps", "c", 3, 10, "3")});
  hear({dead(3, 1, 2)});  // hidden entries go too
  net().sent.clear();
  member().receive(2, push_pull({}, 0, /*reply=*/false));  // 2 starts an exchange; 1 answers

  const gossippb::PushPull* answer = nullptr;
  for (const auto& s : net().sent) {
    if (s.to == 2 && s.env.has_push_pull()) answer = &s.env.push_pull();
  }
  ASSERT_NE(answer, nullptr);
  EXPECT_TRUE(answer->reply());
  EXPECT_EQ(answer->table_ltime(), 10u);
  EXPECT_EQ(answer->table_ltime(), table().lamport_time());
  std::set<std::string> carried;
  for (const auto& e : answer->entries()) carried.insert(show(e));
  EXPECT_EQ(carried, (std::set<std::string>{"eps/a=1 by 1 @1", "eps/b deleted by 1 @3", "eps/c=3 by 3 @10"}));
}

TEST_F(TableTest, LocalStateFillsAPushPullDirectly) {
  ASSERT_TRUE(table().put("eps", "a", "1").ok());
  ASSERT_TRUE(table().remove("eps", "a").ok());
  gossippb::PushPull pp;
  table().local_state(pp);
  ASSERT_EQ(pp.entries_size(), 1);
  EXPECT_EQ(show(pp.entries(0)), "eps/a deleted by 1 @2");
  EXPECT_EQ(pp.table_ltime(), 2u);
}

// --- 9. the codec's checks of entries ------------------------------------------------------------

TEST(TableCodec, DecodeRefusesMalformedEntryPartsWithTheirReason) {
  Config c;
  auto reason = [&](const gossippb::TableEntry& e) {
    auto r = decode(packet({part(e)}), c);
    return r.ok() ? std::string("ok") : r.status().message();
  };
  auto with_value = [](gossippb::TableEntry e, std::string v) {
    e.set_value(std::move(v));
    return e;
  };
  EXPECT_EQ(reason(entry("t", "k", 2, 1, "v")), "ok");
  EXPECT_EQ(reason(entry("t", "k", 0, 1, "v")), "zero-node");
  EXPECT_EQ(reason(entry("", "k", 2, 1, "v")), "bad-entry");
  EXPECT_EQ(reason(entry("t", "", 2, 1, "v")), "bad-entry");
  EXPECT_EQ(reason(entry("t", "k", 2, 0, "v")), "bad-entry");
  EXPECT_EQ(reason(with_value(tombstone("t", "k", 2, 1), "v")), "bad-entry");
  EXPECT_EQ(reason(entry("t", "k", 2, 1, std::string(c.max_entry_value_bytes + 1, 'v'))), "entry-too-big");
  EXPECT_EQ(reason(entry("t", std::string(c.max_entry_name_bytes, 'k'), 2, 1, "v")), "entry-too-big");
  EXPECT_EQ(reason(entry("t", "k", 2, 1, std::string(c.max_entry_value_bytes, 'v'))), "ok");
}

TEST(TableCodec, DecodeRefusesAPushPullWithTooManyOrMalformedEntries) {
  Config c;
  c.max_table_entries = 2;
  auto reason = [&](const std::string& bytes) {
    auto r = decode(bytes, c);
    return r.ok() ? std::string("ok") : r.status().message();
  };
  const auto a = entry("t", "a", 2, 1, "v");
  const auto b = entry("t", "b", 2, 2, "v");
  const auto d = entry("t", "d", 2, 3, "v");
  EXPECT_EQ(reason(push_pull({a, b}, 3, true)), "ok");
  EXPECT_EQ(reason(push_pull({a, b, d}, 3, true)), "too-many-entries");
  EXPECT_EQ(reason(push_pull({a, entry("t", "k", 2, 0, "v")}, 3, true)), "bad-entry");
  EXPECT_EQ(reason(push_pull({entry("t", "k", 0, 1, "v")}, 3, true)), "zero-node");
}

TEST_F(TableTest, AMembershipDropsDatagramsWithMalformedEntriesAndTheTableIsUnchanged) {
  Config c;
  c.max_table_entries = 2;
  start(c);
  ASSERT_TRUE(table().put("t", "mine", "v").ok());
  forget_heard();
  const auto good = entry("t", "k", 2, 5, "v");
  auto fat_tombstone = tombstone("t", "k", 2, 6);
  fat_tombstone.set_value("v");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {packet({part(good), part(entry("t", "k", 0, 6, "v"))}), "zero-node"},  // a good part does not pass
      {packet({part(entry("t", "", 2, 6, "v"))}), "bad-entry"},
      {packet({part(entry("t", "k", 2, 0, "v"))}), "bad-entry"},
      {packet({part(fat_tombstone)}), "bad-entry"},
      {packet({part(entry("t", "k", 2, 6, std::string(c.max_entry_value_bytes + 1, 'v')))}), "entry-too-big"},
      {push_pull({good, entry("t", "a", 2, 6, "v"), entry("t", "b", 2, 7, "v")}, 50, true), "too-many-entries"},
  };
  const uint64_t bad_before = member().stats().bad_messages;
  uint64_t n = 0;
  for (const auto& [bytes, reason] : cases) {
    member().receive(2, bytes);
    ++n;
    EXPECT_EQ(member().stats().bad_messages, bad_before + n) << reason;
    EXPECT_GE(member().stats().bad_by_reason.count(reason), 1u) << reason;
  }
  EXPECT_EQ(member().stats().bad_by_reason.at("bad-entry"), 3u);
  EXPECT_EQ(table().entries_held(), 1u);
  EXPECT_EQ(table().get("t", "k"), std::nullopt);
  EXPECT_EQ(table().lamport_time(), 1u);  // not even the clock moved
  EXPECT_EQ(table().stats().applied, 0u);
  EXPECT_EQ(table().stats().stale, 0u);
  EXPECT_EQ(heard(), Strings{});
}

// --- regression cases ----------------------------------------------------------------------

// A refutation on a full table must respect max_table_entries: a table grown past its limit
// would make every push-pull this member sends carry more entries than a peer's codec accepts
// ("too-many-entries"). The tombstone is sent but not kept.
TEST_F(TableTest, ARefutationOnAFullTableKeepsItWithinMaxTableEntries) {
  Config c;
  c.max_table_entries = 2;
  start(c);
  ASSERT_TRUE(table().put("t", "a", "1").ok());
  ASSERT_TRUE(table().put("t", "b", "2").ok());
  deliver({entry("t", "ghost", 1, 9, "from-a-past-life")});  // an own entry it does not hold
  EXPECT_LE(table().entries_held(), c.max_table_entries);
  gossippb::Envelope env;
  env.set_version(kWireVersion);
  table().local_state(*env.mutable_push_pull());
  auto r = decode(env.SerializeAsString(), member().config());
  EXPECT_TRUE(r.ok()) << r.status().message();
}

// The Lamport clock must not wrap: after an entry at UINT64_MAX, a local write would wrap the
// clock to 0 and be written at ltime 0, which every peer's codec refuses ("bad-entry"), dropping
// the whole packet it rides on (pings and acks included). The codec refuses times over
// kMaxLamportTime, and a clock at that bound refuses further writes instead of wrapping.
TEST_F(TableTest, ARemoteLtimeAtTheTopOfItsRangeCannotWrapTheLamportClock) {
  deliver({entry("t", "w", 2, std::numeric_limits<uint64_t>::max(), "v")});
  EXPECT_EQ(table().lamport_time(), 0u);  // refused by the codec
  constexpr uint64_t kMax = kMaxLamportTime;
  deliver({entry("t", "x", 2, kMax, "v")});
  ASSERT_EQ(table().lamport_time(), kMax);
  EXPECT_EQ(table().put("t", "y", "mine").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(table().lamport_time(), kMax);
  EXPECT_EQ(table().broken_invariant(), "");
  gossippb::PushPull pp;
  table().local_state(pp);
  for (const auto& e : pp.entries()) EXPECT_NE(e.ltime(), 0u) << show(e);
}

}  // namespace
}  // namespace shoal::gossip
