#include "io_sim/checkers/raft_checker.h"

#include <algorithm>

namespace shoal::sim {

namespace {
std::string quote(const std::string& data) {
  if (data.empty()) return "(empty entry)";
  return "'" + (data.size() > 40 ? data.substr(0, 40) + "..." : data) + "'";
}
}  // namespace

void RaftChecker::add(std::string checker, std::string what) {
  violations_.push_back({now_(), std::move(checker), std::move(what)});
}

void RaftChecker::on_soft_state(NodeId node, uint64_t term, raft::Role role,
                                const raft::Raft& raft) {
  if (role != raft::Role::kLeader) return;
  auto [it, fresh] = leader_of_term_.emplace(term, node);
  if (!fresh && it->second != node) {
    add("election-safety", "term " + std::to_string(term) + " has two leaders: n" +
                               std::to_string(it->second) + " and n" + std::to_string(node));
  }
  // Leader completeness: every entry committed in an earlier term must be in the new leader's
  // log. (A leader of an earlier term may take office late in real time: its votes were granted
  // before the entry's commit, and it steps down as soon as it hears of the later term.)
  const auto& log = raft.log();
  for (auto a = applied_.lower_bound(log.first_index()); a != applied_.end(); ++a) {
    if (a->second.committed_by_term >= term) continue;
    const auto t = log.term(a->first);
    if (!t || *t != a->second.term) {
      add("leader-completeness",
          "n" + std::to_string(node) + " leads term " + std::to_string(term) +
              " without committed entry " + std::to_string(a->first) + " (term " +
              std::to_string(a->second.term) + ", applied on n" +
              std::to_string(a->second.first_node) + ")");
      return;  // one report per election is enough
    }
  }
}

void RaftChecker::on_hard_state_synced(NodeId node, const raft::raftpb::HardState& hs) {
  Durable& d = durable_[node];
  if (hs.term() < d.term) {
    add("step-invariant", "n" + std::to_string(node) + " term went back from " +
                              std::to_string(d.term) + " to " + std::to_string(hs.term()));
  } else if (hs.term() == d.term && d.vote != 0 && hs.vote() != d.vote) {
    add("step-invariant", "n" + std::to_string(node) + " voted twice in term " +
                              std::to_string(hs.term()) + ": for n" + std::to_string(d.vote) +
                              " and n" + std::to_string(hs.vote()));
  }
  d.term = hs.term();
  d.vote = hs.vote();
}

void RaftChecker::on_apply(NodeId node, const raft::raftpb::Entry& e, uint64_t node_term) {
  auto it = applied_.find(e.index());
  if (it == applied_.end()) {
    applied_.emplace(e.index(), Applied{e.term(), e.data(), node, std::max<uint64_t>(e.term(), node_term)});
    return;
  }
  if (it->second.term == e.term() && it->second.data == e.data()) return;
  const auto acked = acked_.find(e.index());
  if (acked != acked_.end()) {
    add("durability", "acknowledged write " + quote(acked->second) + " at index " +
                          std::to_string(e.index()) + " was lost: n" + std::to_string(node) +
                          " applied " + quote(e.data()) + " (term " + std::to_string(e.term()) +
                          ") there");
    return;
  }
  add("state-machine-safety",
      "index " + std::to_string(e.index()) + " applied as " + quote(it->second.data) + " (term " +
          std::to_string(it->second.term) + ") on n" + std::to_string(it->second.first_node) +
          " but as " + quote(e.data()) + " (term " + std::to_string(e.term()) + ") on n" +
          std::to_string(node));
}

void RaftChecker::on_write_acked(uint64_t index, const std::string& data) {
  acked_[index] = data;
  max_acked_index_ = std::max(max_acked_index_, index);
  auto it = applied_.find(index);
  if (it != applied_.end() && it->second.data != data) {
    add("durability", "write " + quote(data) + " acknowledged at index " + std::to_string(index) +
                          " where " + quote(it->second.data) + " was applied");
  }
}

void RaftChecker::on_read_done(NodeId node, uint64_t must_see, uint64_t read_index) {
  if (read_index < must_see) {
    add("linearizability", "n" + std::to_string(node) + " served a read at index " +
                               std::to_string(read_index) + " but a write at index " +
                               std::to_string(must_see) +
                               " was acknowledged before the read began (stale read)");
  }
}

void RaftChecker::check_log_matching(const std::map<NodeId, const raft::Raft*>& peers) {
  for (auto a = peers.begin(); a != peers.end(); ++a) {
    for (auto b = std::next(a); b != peers.end(); ++b) {
      const auto& la = a->second->log();
      const auto& lb = b->second->log();
      // Entries committed on both are compared entry by entry when applied (state machine
      // safety), so only the uncommitted tails need checking here.
      const uint64_t lo = std::max({la.first_index(), lb.first_index(),
                                    std::min(la.committed(), lb.committed())});
      const uint64_t hi = std::min(la.last_index(), lb.last_index());
      // Find the highest index where the terms agree; everything before it must agree too.
      uint64_t top = 0;
      for (uint64_t i = hi; i >= lo && i > 0; --i) {
        if (la.term(i) == lb.term(i)) {
          top = i;
          break;
        }
      }
      for (uint64_t i = lo; i < top; ++i) {
        if (la.term(i) != lb.term(i)) {
          add("log-matching", "n" + std::to_string(a->first) + " and n" +
                                  std::to_string(b->first) + " agree at index " +
                                  std::to_string(top) + " but differ at " + std::to_string(i));
          return;
        }
      }
    }
  }
}

}  // namespace shoal::sim
