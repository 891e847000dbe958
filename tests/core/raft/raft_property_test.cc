// Property test: random clusters under random schedules keep Raft's safety properties, and once
// the faults stop they elect a leader and commit a new proposal everywhere.
//
// A run draws a cluster of 1..5 peers and a sequence of operations: tick a peer, handle a peer's
// Ready (persist, apply, advance; its messages join a pending pool), deliver / drop / duplicate a
// pending message (any one, so messages are reordered), propose at a peer, compact a peer's log,
// isolate a peer, recover the network, crash a peer (rebuild its Raft from its Storage:
// everything it had not persisted is lost). After every operation:
//   * election safety: at most one leader per term, over the whole run;
//   * state-machine safety: no two peers ever apply different entries at one index.
// Compaction snapshots the applied state and keeps 0..2 entries, so lagging peers catch up by
// snapshot.
// Then the liveness phase: the network heals, every peer ticks and all messages are delivered,
// until a leader commits a final proposal and every peer has applied it.
//
// A companion test runs the same schedules with planted bugs and expects the checks to fire, so
// the property is known to be able to fail.
#include <gtest/gtest.h>
// rapidcheck's gtest glue needs gtest declared first.
#include <rapidcheck/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "core/env/check.h"
#include "core/raft/raft.h"
#include "tests/core/raft/raft_test_network.h"
#include "tests/core/scoped_check_handler.h"

namespace shoal::raft {
namespace {

using testnet::RaftTestNetwork;

// A failed SHOAL_CHECK inside Raft becomes a violation of the run (as in the simulator's
// runner), so rapidcheck can report and shrink it instead of the process aborting.
using shoal::testing::CoreCheckFailure;
using shoal::testing::ScopedCheckHandler;

struct Params {
  int n = 3;
  uint64_t seed = 1;
  bool pre_vote = true;
  bool check_quorum = true;
  size_t max_inflight = 4;
  uint64_t max_msg_bytes = 1 << 20;
  // RaftNode's bootstrap (configuration in the log, replayed after every restart) or the
  // snapshot-held one.
  testnet::Bootstrap bootstrap = testnet::Bootstrap::kLog;
  // Membership churn: peers 1..5 all run, the first n are the founding voters, the others start
  // blank; some proposals become random conf changes. Safety only (a random configuration may
  // lose its quorum for good, so liveness is not required).
  bool membership = false;
  PlantedBugs bugs;
};

// (roll in [0, 100) choosing the operation, peer index in [0, n), argument).
using Op = std::tuple<int, int, int>;

enum OpKind {
  kTick, kReady, kDeliver, kDrop, kDuplicate, kPropose, kIsolate, kRecover, kCrash, kCompact
};

OpKind kind_of(int roll) {
  if (roll < 22) return kTick;
  if (roll < 47) return kReady;
  if (roll < 79) return kDeliver;
  if (roll < 81) return kCompact;
  if (roll < 84) return kDrop;
  if (roll < 85) return kDuplicate;
  if (roll < 96) return kPropose;
  if (roll < 97) return kIsolate;
  if (roll < 98) return kRecover;
  return kCrash;
}

struct Outcome {
  std::vector<std::string> violations;  // safety, during faults or after
  bool live = false;                    // a final proposal was applied everywhere
  std::string state;                    // the peers at the end, for a failure message
  int leaders_elected = 0;              // terms that had a leader
  uint64_t commits_during_faults = 0;
  int conf_changes_applied = 0;         // by the peers, past the bootstrap entries
  uint64_t snapshots_installed = 0;     // from leaders' MSG_SNAP   // highest commit index reached, past the bootstrap
};

bool applied_final(RaftTestNetwork& net, NodeId id) {
  for (const auto& [index, e] : net.applied(id)) {
    if (e.data().rfind("final", 0) == 0) return true;
  }
  return false;
}

Outcome run_schedule_unguarded(const Params& p, const std::vector<Op>& ops, Outcome& out);

Outcome run_schedule(const Params& p, const std::vector<Op>& ops) {
  ScopedCheckHandler handler;
  Outcome out;
  try {
    return run_schedule_unguarded(p, ops, out);
  } catch (const CoreCheckFailure& f) {
    out.violations.push_back("core check: " + f.what);
    return out;
  }
}

Outcome run_schedule_unguarded(const Params& p, const std::vector<Op>& ops, Outcome& out) {
  std::vector<NodeId> founders;
  for (int i = 1; i <= p.n; ++i) founders.push_back(static_cast<NodeId>(i));
  RaftTestNetwork net(
      founders,
      [&](Config& c) {
        c.election_tick = 5;
        c.heartbeat_tick = 1;
        c.pre_vote = p.pre_vote;
        c.check_quorum = p.check_quorum;
        c.max_inflight = p.max_inflight;
        c.max_msg_bytes = p.max_msg_bytes;
        c.bugs = p.bugs;
      },
      p.seed, p.bootstrap);
  std::vector<NodeId> ids = founders;
  if (p.membership) {
    for (NodeId id = founders.size() + 1; id <= 5; ++id) {
      net.add_peer(id, std::make_unique<Storage>());
      ids.push_back(id);
    }
  }
  // With vote_twice_in_term a candidate that grants another candidate's vote fails
  // Raft::check_invariants ("candidate did not vote for itself") before a second leader appears;
  // turn that check off so the network's election-safety check is what catches the bug.
  net.set_check_invariants(!p.bugs.vote_twice_in_term);

  int proposals = 0;
  for (const auto& [roll, node, arg] : ops) {
    const NodeId id = ids[static_cast<size_t>(node) % ids.size()];
    auto& pending = net.pending();
    const size_t pick = pending.empty() ? 0 : static_cast<size_t>(arg) % pending.size();
    switch (kind_of(roll)) {
      case kTick:
        net.raft(id).tick();
        break;
      case kReady:
        net.handle_ready_to_pending(id);
        break;
      case kDeliver:
        if (!pending.empty()) net.deliver(pick);
        break;
      case kDrop:
        if (!pending.empty()) net.drop_pending(pick);
        break;
      case kDuplicate:
        if (!pending.empty()) pending.push_back(pending[pick]);
        break;
      case kPropose:
        if (net.raft(id).role() != Role::kLeader) break;
        if (p.membership && arg % 3 == 0) {
          static constexpr raftpb::ConfChangeType kTypes[] = {
              raftpb::CONF_ADD_LEARNER_NODE, raftpb::CONF_ADD_NODE, raftpb::CONF_REMOVE_NODE};
          raftpb::ConfChange cc;
          cc.set_type(kTypes[(arg / 3) % 3]);
          cc.set_node_id(static_cast<NodeId>((arg / 9) % 5 + 1));
          cc.set_id(static_cast<uint64_t>(proposals++));
          (void)net.raft(id).propose_conf_change(cc);
        } else {
          (void)net.raft(id).propose("p" + std::to_string(proposals++));
        }
        break;
      case kIsolate:
        net.isolate(id);
        break;
      case kRecover:
        net.recover();
        break;
      case kCrash:
        net.crash(id);
        break;
      case kCompact:
        net.compact(id, static_cast<uint64_t>(arg) % 3);
        break;
    }
    if (!net.violations().empty()) break;
  }
  const uint64_t bootstrap_entries = p.bootstrap == testnet::Bootstrap::kLog ? ids.size() : 0;
  for (NodeId id : ids) {
    const uint64_t c = net.raft(id).log().committed();
    out.commits_during_faults = std::max(out.commits_during_faults, c - std::min(c, bootstrap_entries));
  }

  // Liveness: no more faults.
  net.recover();
  uint64_t proposed_in_term = 0;
  for (int round = 0; round < 300 && !out.live && net.violations().empty(); ++round) {
    for (NodeId id : ids) net.raft(id).tick();
    net.settle_pending();
    uint64_t max_term = 0;
    for (NodeId id : ids) max_term = std::max(max_term, net.raft(id).term());
    for (NodeId id : ids) {
      Raft& r = net.raft(id);
      if (r.role() == Role::kLeader && r.term() == max_term && proposed_in_term != r.term()) {
        if (r.propose("final@" + std::to_string(r.term())).ok()) proposed_in_term = r.term();
        net.settle_pending();
      }
    }
    std::vector<NodeId> members = ids;
    if (p.membership) {
      // Only the members of the newest leader's configuration must have applied it.
      members.clear();
      for (NodeId id : ids) {
        const Raft& r = net.raft(id);
        if (r.role() != Role::kLeader || r.term() != max_term) continue;
        const auto cs = r.conf_state();
        members.assign(cs.voters().begin(), cs.voters().end());
        members.insert(members.end(), cs.learners().begin(), cs.learners().end());
      }
    }
    out.live = !members.empty();
    for (NodeId id : members) out.live = out.live && applied_final(net, id);
  }
  out.violations = net.violations();
  for (NodeId id : ids) out.snapshots_installed += net.peer(id).snapshots_applied;
  for (NodeId id : ids) {
    for (const auto& [index, e] : net.applied(id)) {
      if (e.type() == raftpb::ENTRY_CONF_CHANGE && index > bootstrap_entries) out.conf_changes_applied++;
    }
  }
  out.leaders_elected = static_cast<int>(net.leader_of_term().size());
  for (NodeId id : ids) {
    const Raft& r = net.raft(id);
    out.state += "node " + std::to_string(id) + " " + to_string(r.role()) + " term " +
                 std::to_string(r.term()) + " leader " + std::to_string(r.leader()) + " last " +
                 std::to_string(r.log().last_index()) + " committed " +
                 std::to_string(r.log().committed()) + "\n";
  }
  return out;
}

// Generators whose range does not shrink with rapidcheck's size ramp.
template <typename T>
rc::Gen<T> full_range(T lo, T hi) {
  return rc::gen::resize(100, rc::gen::inRange<T>(lo, hi));
}

RC_GTEST_PROP(RaftProperty, SafetyUnderFaultsThenLiveness, ()) {
  Params p;
  p.n = *full_range(1, 6);
  p.seed = *rc::gen::arbitrary<uint64_t>();
  p.pre_vote = *rc::gen::arbitrary<bool>();
  p.check_quorum = *rc::gen::arbitrary<bool>();
  p.max_inflight = *full_range<size_t>(1, 5);
  p.max_msg_bytes = *rc::gen::element<uint64_t>(uint64_t{1}, uint64_t{64}, uint64_t{1} << 20);
  p.bootstrap = *rc::gen::element(testnet::Bootstrap::kLog, testnet::Bootstrap::kSnapshot);
  const auto ops = *rc::gen::resize(
      2000, rc::gen::container<std::vector<Op>>(rc::gen::tuple(
               rc::gen::inRange(0, 100), rc::gen::inRange(0, 5), rc::gen::inRange(0, 1 << 20))));
  RC_TAG(p.n);
  const Outcome out = run_schedule(p, ops);
  std::string violations;
  for (const auto& v : out.violations) violations += v + "\n";
  if (!out.violations.empty()) RC_FAIL(violations);
  if (!out.live) RC_FAIL("no leader committed a final proposal everywhere:\n" + out.state);
}

// Random ops drawn from shoal::Rng, for the deterministic companion tests below.
std::vector<Op> random_ops(Rng& rng, size_t count) {
  std::vector<Op> ops;
  for (size_t i = 0; i < count; ++i) {
    ops.emplace_back(static_cast<int>(rng.uniform(0, 99)), static_cast<int>(rng.uniform(0, 4)),
                     static_cast<int>(rng.uniform(0, 1 << 20)));
  }
  return ops;
}

// The schedules do reach interesting states: leaders are elected, entries committed while faults
// are on, snapshots sent (otherwise the safety property would be vacuous).
TEST(RaftProperty, SchedulesElectAndCommitUnderFaults) {
  Rng rng(2024);
  int with_commit = 0;
  int multi_term = 0;
  int with_snapshot = 0;
  for (int run = 0; run < 50; ++run) {
    Params p;
    p.n = 3;
    p.seed = rng.next_u64();
    p.bootstrap = run % 2 == 0 ? testnet::Bootstrap::kLog : testnet::Bootstrap::kSnapshot;
    const Outcome out = run_schedule(p, random_ops(rng, 1000));
    EXPECT_TRUE(out.violations.empty()) << out.violations[0];
    EXPECT_TRUE(out.live) << out.state;
    with_commit += out.commits_during_faults > 1 ? 1 : 0;
    multi_term += out.leaders_elected > 1 ? 1 : 0;
    with_snapshot += out.snapshots_installed > 0 ? 1 : 0;
  }
  EXPECT_GT(with_snapshot, 5) << "too few schedules send a snapshot";
  EXPECT_GT(with_commit, 10) << "too few schedules commit anything while faults are on";
  EXPECT_GT(multi_term, 10) << "too few schedules change leaders";
}

// Membership churn under the same faults: random conf changes (add learner, add voter, remove)
// proposed by whoever leads; joiners start blank. Safety must hold throughout.
TEST(RaftProperty, MembershipChurnKeepsSafety) {
  Rng rng(4242);
  int live = 0;
  int changed = 0;
  for (int run = 0; run < 300; ++run) {
    Params p;
    p.n = static_cast<int>(rng.uniform(1, 3));
    p.seed = rng.next_u64();
    p.pre_vote = rng.chance(0.5);
    p.check_quorum = rng.chance(0.5);
    p.membership = true;
    p.bootstrap = testnet::Bootstrap::kLog;
    const Outcome out = run_schedule(p, random_ops(rng, 4000));
    ASSERT_TRUE(out.violations.empty()) << "run " << run << ": " << out.violations[0] << "\n"
                                        << out.state;
    live += out.live ? 1 : 0;
    changed += out.conf_changes_applied > 0 ? 1 : 0;
  }
  EXPECT_GT(changed, 100) << "too few runs applied a configuration change";
  EXPECT_GT(live, 150) << "too few runs recovered after the faults";
}

// A deterministic sweep over the whole parameter space (reproducible by seed, unlike the
// rapidcheck property above, whose seed is printed instead).
TEST(RaftProperty, DeterministicSweep) {
  Rng rng(77);
  for (int run = 0; run < 400; ++run) {
    Params p;
    p.n = static_cast<int>(rng.uniform(1, 5));
    p.seed = rng.next_u64();
    p.pre_vote = rng.chance(0.5);
    p.check_quorum = rng.chance(0.5);
    p.max_inflight = rng.uniform(1, 4);
    p.max_msg_bytes = rng.chance(0.5) ? 1 : uint64_t{1} << 20;
    p.bootstrap = rng.chance(0.5) ? testnet::Bootstrap::kLog : testnet::Bootstrap::kSnapshot;
    const Outcome out = run_schedule(p, random_ops(rng, 4000));
    ASSERT_TRUE(out.violations.empty()) << "run " << run << ": " << out.violations[0];
    ASSERT_TRUE(out.live) << "run " << run << " (n=" << p.n << ") is not live:\n" << out.state;
  }
}

// With a planted bug, the same checks fire on some schedule: the property can fail.
TEST(RaftProperty, PlantedBugsAreCaughtBySomeSchedule) {
  struct Case {
    const char* name;
    PlantedBugs bugs;
    bool pre_vote;
  };
  std::vector<Case> cases;
  cases.push_back({"vote_twice_in_term", PlantedBugs{.vote_twice_in_term = true}, false});
  // (commit_old_term_by_counting needs Figure 8's precise shape, which 300 random schedules do not
  // reach; RaftReplication.Figure8LeaderDoesNotCommitAnOldTermEntryByCounting builds it directly.)
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Rng rng(fnv1a64(c.name));
    int caught = 0;
    for (int run = 0; run < 300 && caught == 0; ++run) {
      Params p;
      p.n = 5;
      p.seed = rng.next_u64();
      p.pre_vote = c.pre_vote;
      p.check_quorum = false;
      p.bugs = c.bugs;
      const Outcome out = run_schedule(p, random_ops(rng, 1000));
      if (!out.violations.empty()) {
        ++caught;
        EXPECT_NE(out.violations[0].find("election safety"), std::string::npos) << out.violations[0];
      }
    }
    EXPECT_GT(caught, 0) << "no schedule exposed the planted bug";
  }
}

}  // namespace
}  // namespace shoal::raft
