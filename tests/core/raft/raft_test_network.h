// RaftTestNetwork: a test-only cluster of Raft peers wired together by hand, in the spirit of
// etcd's raft_test.go `network`.
//
// Each peer owns a raft::Storage (what its host has made durable) and a raft::Raft built on it.
// The network plays the host's part of the Ready contract (ready.h) for every peer: persist the
// snapshot, entries and hard state into that peer's Storage, apply committed entries (calling
// apply_conf_change for membership entries), collect read states and messages, then advance().
//
// Two ways to move messages:
//   * send(msgs): etcd style. Messages are delivered synchronously in FIFO order; after every
//     step the receiver's Ready is handled and its messages join the back of the queue, until
//     the queue is empty. tick(), campaign() and propose() use it.
//   * enqueue()/deliver()/drop_pending(): a pending pool that a test (or a property test) drains
//     one message at a time, in any order, stepping the receiver WITHOUT handling its Ready, so
//     that unpersisted state can be lost by crash().
// Drop rules (cut, isolate, ignore, drop_if) apply to both, at delivery time; recover() clears
// them.
//
// Observers: every entry a peer applies is recorded (applied()), and the network checks as it
// goes that no two peers ever apply different entries at one index (state-machine safety) and
// that no term ever has two leaders (election safety); a violation is recorded in violations()
// rather than aborting, so a test can show that a planted bug is caught.
//
// Single-threaded; header-only; for tests under tests/core/raft/ only.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/api/raft.pb.h"
#include "core/env/random.h"
#include "core/raft/bootstrap.h"
#include "core/raft/config.h"
#include "core/raft/raft.h"
#include "core/raft/storage.h"

namespace shoal::raft::testnet {

inline raftpb::Entry make_entry(uint64_t index, uint64_t term, std::string data = {}) {
  raftpb::Entry e;
  e.set_index(index);
  e.set_term(term);
  e.set_data(std::move(data));
  return e;
}

// Entries with the given terms at indexes first, first+1, ...
inline std::vector<raftpb::Entry> entries_with_terms(uint64_t first,
                                                     const std::vector<uint64_t>& terms) {
  std::vector<raftpb::Entry> out;
  for (uint64_t t : terms) {
    out.push_back(make_entry(first, t, "e" + std::to_string(first) + "t" + std::to_string(t)));
    ++first;
  }
  return out;
}

inline raftpb::HardState make_hard_state(uint64_t term, uint64_t vote, uint64_t commit) {
  raftpb::HardState hs;
  hs.set_term(term);
  hs.set_vote(vote);
  hs.set_commit(commit);
  return hs;
}

inline raftpb::ConfState make_conf_state(const std::vector<NodeId>& voters,
                                         const std::vector<NodeId>& learners = {}) {
  raftpb::ConfState cs;
  for (NodeId v : voters) cs.add_voters(v);
  for (NodeId l : learners) cs.add_learners(l);
  return cs;
}

// A Storage holding the configuration `cs` (as the index-0 snapshot a bootstrapping host writes),
// then `entries`, with hard state `hs`.
inline std::unique_ptr<Storage> make_storage(const raftpb::ConfState& cs,
                                             const std::vector<raftpb::Entry>& entries = {},
                                             const raftpb::HardState& hs = {}) {
  auto s = std::make_unique<Storage>();
  raftpb::Snapshot snap;
  *snap.mutable_metadata()->mutable_conf_state() = cs;
  s->apply_snapshot(snap);
  s->append(entries);
  s->set_hard_state(hs);
  return s;
}

// The Storage RaftNode writes for a founding member of a new cluster (RaftNode::bootstrap_log):
// the first configuration as committed CONF_ADD_NODE entries of term 1 at indexes 1..n, so a node
// that joins later learns it by replaying the log.
inline std::unique_ptr<Storage> make_bootstrap_log_storage(const std::vector<NodeId>& voters) {
  auto s = std::make_unique<Storage>();
  const auto entries = bootstrap_log_entries(voters);
  s->append(entries);
  s->set_hard_state(make_hard_state(1, 0, entries.size()));
  return s;
}

// How a new cluster's peers learn their first configuration.
enum class Bootstrap {
  // As an index-0 snapshot holding the configuration: the log starts empty at term 0, so the
  // first leader is of term 1 and its empty entry is index 1 (the shape of the paper's examples).
  kSnapshot,
  // As RaftNode does it: committed conf-change entries 1..n of term 1, plus Raft::bootstrap().
  kLog,
};

class RaftTestNetwork {
 public:
  using ConfigTweak = std::function<void(Config&)>;

  struct Peer {
    Config cfg;
    std::unique_ptr<Storage> storage;
    std::unique_ptr<Raft> raft;
    // The host's state machine: every entry applied, by index (snapshots record their index).
    std::map<uint64_t, raftpb::Entry> applied;
    uint64_t applied_index = 0;
    uint64_t snapshots_applied = 0;
    std::vector<ReadState> read_states;
    int restarts = 0;
  };

  // A new cluster of `voters` (see Bootstrap for how they learn the configuration).
  explicit RaftTestNetwork(const std::vector<NodeId>& voters, ConfigTweak tweak = {},
                           uint64_t seed = 1, Bootstrap bootstrap = Bootstrap::kSnapshot)
      : tweak_(std::move(tweak)), rng_(seed) {
    for (NodeId id : voters) {
      if (bootstrap == Bootstrap::kSnapshot) {
        add_peer(id, make_storage(make_conf_state(voters)));
      } else {
        add_peer(id, make_bootstrap_log_storage(voters));
        raft(id).bootstrap(voters);
      }
    }
  }

  // A network with no peers yet; add them with add_peer().
  RaftTestNetwork(ConfigTweak tweak, uint64_t seed) : tweak_(std::move(tweak)), rng_(seed) {}

  // Adds (or replaces) a peer built on `storage`. A storage without a configuration gives a peer
  // that waits to be told about the cluster (a new member).
  void add_peer(NodeId id, std::unique_ptr<Storage> storage) {
    Peer& p = peers_[id];
    p.cfg = Config{};
    p.cfg.id = id;
    if (tweak_) tweak_(p.cfg);
    p.cfg.id = id;
    p.storage = std::move(storage);
    p.applied.clear();
    p.applied_index = p.storage->snapshot().metadata().index();
    p.raft = std::make_unique<Raft>(p.cfg, *p.storage, rng_.derive("peer" + std::to_string(id)));
    observe(id);
  }

  // Drops whatever the peer had not persisted (unstable entries, its Ready in progress, its
  // state machine) and rebuilds it from its Storage, as after a crash and restart.
  void crash(NodeId id) {
    Peer& p = peer(id);
    p.restarts++;
    p.applied.clear();
    p.read_states.clear();
    p.applied_index = p.storage->snapshot().metadata().index();
    p.raft = std::make_unique<Raft>(
        p.cfg, *p.storage,
        rng_.derive("peer" + std::to_string(id) + "/restart" + std::to_string(p.restarts)));
    observe(id);
  }

  void remove_peer(NodeId id) { peers_.erase(id); }

  // The host's log compaction (as RaftNode::maybe_snapshot): snapshots the state machine at the
  // applied index, with the configuration as of then, and drops the log up to `keep` entries
  // behind it. Returns false when there is nothing new to snapshot.
  bool compact(NodeId id, uint64_t keep = 0) {
    Peer& p = peer(id);
    Storage& s = *p.storage;
    const uint64_t at = p.applied_index;
    if (at <= s.snapshot().metadata().index() || at > s.last_index()) return false;
    s.create_snapshot(at, p.raft->conf_state(), "snap@" + std::to_string(at));
    const uint64_t to = at > keep ? at - keep : 0;
    s.compact(std::max(to, s.first_index() - 1));
    return true;
  }

  bool has_peer(NodeId id) const { return peers_.count(id) > 0; }
  Peer& peer(NodeId id) {
    auto it = peers_.find(id);
    if (it == peers_.end()) std::abort();
    return it->second;
  }
  Raft& raft(NodeId id) { return *peer(id).raft; }
  Storage& storage(NodeId id) { return *peer(id).storage; }
  const std::map<uint64_t, raftpb::Entry>& applied(NodeId id) { return peer(id).applied; }
  std::vector<NodeId> ids() const {
    std::vector<NodeId> out;
    for (const auto& [id, p] : peers_) out.push_back(id);
    return out;
  }

  // ---- the host's part of Ready ------------------------------------------------------------

  // Handles Ready batches of `id` until it has none; returns the messages they carried (not
  // filtered by drop rules: filtering happens at delivery).
  std::vector<raftpb::Message> handle_ready(NodeId id) {
    std::vector<raftpb::Message> out;
    Peer& p = peer(id);
    for (int guard = 0; p.raft->has_ready(); ++guard) {
      if (guard > 1000) std::abort();  // a Ready that never settles is a bug in itself
      Ready rd = p.raft->ready();
      ++readies_;
      // 1. Persist.
      if (rd.snapshot) p.storage->apply_snapshot(*rd.snapshot);
      p.storage->append(rd.entries);
      if (rd.hard_state) p.storage->set_hard_state(*rd.hard_state);
      // 2. Apply.
      if (rd.snapshot) {
        const uint64_t si = rd.snapshot->metadata().index();
        for (auto it = p.applied.begin(); it != p.applied.end();) {
          it = it->first > si ? p.applied.erase(it) : std::next(it);
        }
        p.applied_index = si;
        p.snapshots_applied++;
      }
      for (const auto& e : rd.committed_entries) apply(id, p, e);
      for (auto& rs : rd.read_states) p.read_states.push_back(rs);
      // 3. Messages may leave now that everything is durable.
      for (auto& m : rd.messages) out.push_back(std::move(m));
      p.raft->advance(rd);
      observe(id);
    }
    return out;
  }

  // ---- synchronous delivery (etcd's network.send) -----------------------------------------

  void send(std::vector<raftpb::Message> msgs) {
    std::deque<raftpb::Message> q(std::make_move_iterator(msgs.begin()),
                                  std::make_move_iterator(msgs.end()));
    for (size_t guard = 0; !q.empty(); ++guard) {
      if (guard > 1000000) std::abort();
      raftpb::Message m = std::move(q.front());
      q.pop_front();
      if (dropped(m)) continue;
      step(m);
      for (auto& out : handle_ready(m.to())) q.push_back(std::move(out));
    }
  }
  void send(const raftpb::Message& m) { send(std::vector<raftpb::Message>{m}); }

  // Handles `id`'s Ready and delivers what it sends, synchronously.
  void flush(NodeId id) { send(handle_ready(id)); }
  void flush_all() {
    for (NodeId id : ids()) flush(id);
  }

  // Ticks `id` n times, delivering everything after each tick.
  void tick(NodeId id, int n = 1) {
    for (int i = 0; i < n; ++i) {
      raft(id).tick();
      observe(id);
      flush(id);
    }
  }
  // Ticks every peer once per round, delivering after each tick.
  void tick_all(int rounds = 1) {
    for (int i = 0; i < rounds; ++i) {
      for (NodeId id : ids()) tick(id);
    }
  }

  void campaign(NodeId id) {
    raft(id).campaign_now();
    observe(id);
    flush(id);
  }

  Result<uint64_t> propose(NodeId id, std::string data) {
    auto r = raft(id).propose(std::move(data));
    flush(id);
    return r;
  }

  Result<uint64_t> propose_conf_change(NodeId id, raftpb::ConfChangeType type, NodeId node) {
    raftpb::ConfChange cc;
    cc.set_type(type);
    cc.set_node_id(node);
    auto r = raft(id).propose_conf_change(cc);
    flush(id);
    return r;
  }

  // ---- a pending pool, drained by hand ------------------------------------------------------

  std::vector<raftpb::Message>& pending() { return pending_; }
  void enqueue(std::vector<raftpb::Message> msgs) {
    for (auto& m : msgs) pending_.push_back(std::move(m));
  }
  // Handles `id`'s Ready and puts its messages in the pending pool.
  void handle_ready_to_pending(NodeId id) { enqueue(handle_ready(id)); }
  // Steps pending message i into its receiver (dropping it instead if a rule says so); the
  // receiver's Ready is NOT handled. Returns whether it was stepped.
  bool deliver(size_t i) {
    if (i >= pending_.size()) return false;
    raftpb::Message m = std::move(pending_[i]);
    pending_.erase(pending_.begin() + static_cast<long>(i));
    if (dropped(m)) return false;
    step(m);
    return true;
  }
  void drop_pending(size_t i) {
    if (i < pending_.size()) pending_.erase(pending_.begin() + static_cast<long>(i));
  }
  // Delivers pending messages and handles Readies until nothing is left.
  void settle_pending() {
    for (size_t guard = 0;; ++guard) {
      if (guard > 1000000) std::abort();
      bool any = false;
      for (NodeId id : ids()) {
        if (raft(id).has_ready()) {
          handle_ready_to_pending(id);
          any = true;
        }
      }
      if (!pending_.empty()) {
        deliver(0);
        any = true;
      }
      if (!any) return;
    }
  }

  // ---- drop rules ---------------------------------------------------------------------------

  void cut(NodeId a, NodeId b) {
    cut_.insert({a, b});
    cut_.insert({b, a});
  }
  void isolate(NodeId a) {
    for (NodeId b : ids()) {
      if (b != a) cut(a, b);
    }
    isolated_.insert(a);
  }
  // Drops every message of this type.
  void ignore(raftpb::MessageType t) { ignored_.insert(t); }
  // Drops every message for which fn returns true (rules accumulate).
  void drop_if(std::function<bool(const raftpb::Message&)> fn) { drop_fns_.push_back(std::move(fn)); }
  void recover() {
    cut_.clear();
    isolated_.clear();
    ignored_.clear();
    drop_fns_.clear();
  }

  bool dropped(const raftpb::Message& m) const {
    if (!peers_.count(m.to())) return true;
    if (cut_.count({m.from(), m.to()})) return true;
    if (isolated_.count(m.from()) || isolated_.count(m.to())) return true;
    if (ignored_.count(m.type())) return true;
    for (const auto& fn : drop_fns_) {
      if (fn(m)) return true;
    }
    return false;
  }

  // ---- observation --------------------------------------------------------------------------

  // The peers that consider themselves leader right now.
  std::vector<NodeId> leaders() {
    std::vector<NodeId> out;
    for (auto& [id, p] : peers_) {
      if (p.raft->role() == Role::kLeader) out.push_back(id);
    }
    return out;
  }

  // Safety violations seen so far (empty when all is well), one readable line each.
  const std::vector<std::string>& violations() const { return violations_; }
  // term -> the peer that led it, over the whole run.
  const std::map<uint64_t, NodeId>& leader_of_term() const { return leader_of_term_; }
  // index -> the first entry any peer applied there.
  const std::map<uint64_t, raftpb::Entry>& first_applied() const { return first_applied_; }
  uint64_t readies() const { return readies_; }

  // Whether Raft::check_invariants() runs after every step, tick and Ready (on by default; a
  // test of a planted bug may need it off to let the network's own checks see the damage).
  void set_check_invariants(bool on) { check_invariants_ = on; }

 private:
  void step(const raftpb::Message& m) {
    raft(m.to()).step(m);
    observe(m.to());
  }

  void apply(NodeId id, Peer& p, const raftpb::Entry& e) {
    if (e.index() <= p.applied_index) return;  // already covered by a snapshot
    if (e.index() != p.applied_index + 1) {
      violations_.push_back("peer " + std::to_string(id) + " applies " +
                            std::to_string(e.index()) + " after " +
                            std::to_string(p.applied_index));
    }
    p.applied_index = e.index();
    p.applied[e.index()] = e;
    auto [it, inserted] = first_applied_.emplace(e.index(), e);
    if (!inserted && (it->second.term() != e.term() || it->second.data() != e.data())) {
      violations_.push_back("state-machine safety: peer " + std::to_string(id) + " applied (" +
                            std::to_string(e.index()) + ", term " + std::to_string(e.term()) +
                            ") but another peer applied term " +
                            std::to_string(it->second.term()) + " there");
    }
    if (e.type() == raftpb::ENTRY_CONF_CHANGE) {
      raftpb::ConfChange cc;
      if (cc.ParseFromString(e.data())) p.raft->apply_conf_change(cc);
    }
  }

  void observe(NodeId id) {
    Raft& r = raft(id);
    if (check_invariants_) r.check_invariants();
    if (r.role() != Role::kLeader) return;
    auto [it, inserted] = leader_of_term_.emplace(r.term(), id);
    if (!inserted && it->second != id) {
      violations_.push_back("election safety: term " + std::to_string(r.term()) +
                            " has leaders " + std::to_string(it->second) + " and " +
                            std::to_string(id));
    }
  }

  ConfigTweak tweak_;
  Rng rng_;
  std::map<NodeId, Peer> peers_;
  std::vector<raftpb::Message> pending_;
  std::set<std::pair<NodeId, NodeId>> cut_;
  std::set<NodeId> isolated_;
  std::set<raftpb::MessageType> ignored_;
  std::vector<std::function<bool(const raftpb::Message&)>> drop_fns_;
  std::vector<std::string> violations_;
  std::map<uint64_t, NodeId> leader_of_term_;
  std::map<uint64_t, raftpb::Entry> first_applied_;
  uint64_t readies_ = 0;
  bool check_invariants_ = true;
};

// Messages of one type among msgs.
inline std::vector<raftpb::Message> of_type(const std::vector<raftpb::Message>& msgs,
                                            raftpb::MessageType t) {
  std::vector<raftpb::Message> out;
  for (const auto& m : msgs) {
    if (m.type() == t) out.push_back(m);
  }
  return out;
}

}  // namespace shoal::raft::testnet
