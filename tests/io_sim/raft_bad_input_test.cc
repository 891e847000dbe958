// Rule 3 for Raft traffic: garbage, forged and non-member messages are dropped and counted, and
// the cluster goes on committing as if they never came.
#include <gtest/gtest.h>

#include "core/env/random.h"
#include "io_sim/cluster/raft_cluster.h"

namespace shoal::sim {
namespace {

// A peer that sprays the managers with garbage: truncated and bit-rotted messages, forged
// senders, and appends whose entries do not follow on.
class GarbagePeer final : public NodeApp {
 public:
  GarbagePeer(NodeId id, Env& env) : id_(id), env_(env), rng_(env.rng.next_u64()) { arm(); }
  ~GarbagePeer() override { env_.timers.cancel(timer_); }
  uint64_t sent() const { return sent_; }

 private:
  void arm() {
    timer_ = env_.timers.after(std::chrono::milliseconds(2), [this] {
      spray();
      arm();
    });
  }
  void spray() {
    const NodeId to = rng_.uniform(1, 3);
    raft::raftpb::Message m;
    const bool forged = rng_.chance(0.5);
    // Raft trusts authenticated managers, so the unforged garbage is malformed appends (a
    // well-formed message from an authenticated peer is, by design, believed).
    m.set_type(forged ? static_cast<raft::raftpb::MessageType>(rng_.uniform(0, 11)) : raft::raftpb::MSG_APP);
    m.set_to(to);
    m.set_from(forged ? rng_.uniform(1, 3) : id_);
    m.set_term(rng_.uniform(0, 1000));
    m.set_index(rng_.uniform(0, 1000));
    m.set_log_term(rng_.uniform(0, 1000));
    m.set_commit(rng_.uniform(0, 100000));
    // Unforged messages carry appends that do not follow on from their index.
    for (uint64_t i = 0, n = forged ? rng_.uniform(0, 3) : 2; i < n; ++i) {
      auto* e = m.add_entries();
      e->set_index(m.index() + 2 + i * 2);
      e->set_term(rng_.uniform(0, 1000));
      e->set_data("x=" + std::to_string(rng_.next_u64()));
    }
    std::string bytes = m.SerializeAsString();
    switch (forged ? rng_.uniform(0, 2) : 2) {
      case 0: bytes.resize(rng_.uniform(0, bytes.size())); break;  // truncated
      case 1:
        m.set_from(rng_.uniform(1, 3));  // rotted messages also claim another sender
        bytes = m.SerializeAsString();
        for (auto& c : bytes) c = rng_.chance(0.1) ? static_cast<char>(rng_.next_u64()) : c;
        break;  // bit rot
      default: break;  // parses, but forged or not following on
    }
    env_.transport.send(to, std::move(bytes));
    ++sent_;
  }

  NodeId id_;
  Env& env_;
  Rng rng_;
  TimerId timer_ = 0;
  uint64_t sent_ = 0;
};

TEST(RaftBadInput, GarbageFromAPeerIsDroppedAndChangesNothing) {
  RaftChecker checker([] { return SimTime{0}; });
  std::unique_ptr<World> world;
  world = std::make_unique<World>(
      WorldOptions{.nodes = 4, .seed = 5, .link = {}, .disk = {}, .clock = {}, .keep_trace = false},
      [&](NodeId id, Env& env) -> std::unique_ptr<NodeApp> {
        if (id == 4) return std::make_unique<GarbagePeer>(id, env);
        raft::RaftNodeOptions o;
        o.raft.id = id;
        o.bootstrap_voters = {1, 2, 3};
        raft::RaftNodeEvents ev;
        ev.on_apply = [&checker, id](const raft::raftpb::Entry& e) { checker.on_apply(id, e); };
        return std::make_unique<RaftHost>(id, env, o, ev);
      });
  world->start_all();
  world->run_for(std::chrono::seconds(2));

  // Propose a write through whoever leads, repeatedly, while the garbage flows.
  int acked = 0;
  for (int i = 0; i < 50; ++i) {
    for (NodeId id = 1; id <= 3; ++id) {
      auto* h = static_cast<RaftHost*>(world->app(id));
      if (h->node().raft().role() == raft::Role::kLeader) {
        h->node().propose("k=" + std::to_string(i), [&](Status s, uint64_t) { acked += s.ok(); });
      }
    }
    world->run_for(std::chrono::milliseconds(100));
  }
  uint64_t dropped = 0;
  for (NodeId id = 1; id <= 3; ++id) {
    auto* h = static_cast<RaftHost*>(world->app(id));
    dropped += h->node().bad_messages();
    EXPECT_TRUE(h->node().status().ok());
    EXPECT_LT(h->node().raft().term(), 100u) << "a garbage message moved n" << id << "'s term";
  }
  const auto* garbage = static_cast<GarbagePeer*>(world->app(4));
  EXPECT_GT(garbage->sent(), 2000u);
  EXPECT_GT(dropped, garbage->sent() / 2) << "garbage was not recognised as such";
  EXPECT_EQ(acked, 50) << "the cluster stopped committing under garbage";
  EXPECT_TRUE(checker.violations().empty()) << checker.violations().front().what;
}

}  // namespace
}  // namespace shoal::sim
