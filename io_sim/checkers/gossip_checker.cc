#include "io_sim/checkers/gossip_checker.h"

#include <algorithm>

namespace shoal::sim {

GossipChecker::GossipChecker(size_t nodes) : nodes_(nodes) {}

void GossipChecker::report(SimTime t, std::string checker, std::string what) {
  violations_.push_back(GossipViolation{t, std::move(checker), std::move(what)});
}

void GossipChecker::node_crashed(NodeId victim, SimTime t, const std::vector<NodeId>& up_observers,
                                 const std::function<bool(NodeId)>& knows_dead) {
  // The victim can no longer declare anything: it stops being awaited for earlier crashes.
  for (auto& o : open_) resolve(o, victim, t, /*declared=*/false);
  CrashDetection c;
  c.victim = victim;
  c.crashed_at = t;
  Open o;
  o.index = crashes_.size();
  o.waiting.assign(nodes_, 0);
  for (NodeId obs : up_observers) {
    if (obs == victim || knows_dead(obs)) continue;
    o.waiting[obs - 1] = 1;
    ++c.pending;
  }
  if (c.pending == 0) c.all = t;
  crashes_.push_back(c);
  if (crashes_.back().pending > 0) open_.push_back(std::move(o));
  std::erase_if(open_, [&](const Open& x) { return crashes_[x.index].pending == 0; });
}

void GossipChecker::node_restarted(NodeId id) {
  // A restarted victim is alive again: its crash is no longer awaited; a restarted observer
  // starts with no view and is not awaited either.
  std::erase_if(open_, [&](const Open& o) { return crashes_[o.index].victim == id; });
  for (auto& o : open_) {
    if (o.waiting[id - 1]) {
      o.waiting[id - 1] = 0;
      if (--crashes_[o.index].pending == 0) crashes_[o.index].all = crashes_[o.index].crashed_at;
    }
  }
  std::erase_if(open_, [&](const Open& x) { return crashes_[x.index].pending == 0; });
}

void GossipChecker::resolve(Open& o, NodeId observer, SimTime t, bool declared) {
  if (observer == 0 || observer > nodes_ || !o.waiting[observer - 1]) return;
  o.waiting[observer - 1] = 0;
  CrashDetection& c = crashes_[o.index];
  if (declared && !c.first) c.first = t;
  if (--c.pending == 0) c.all = t;
}

void GossipChecker::member_dead(NodeId observer, const gossip::MemberInfo& subject, bool subject_up,
                                SimTime t) {
  if (subject.state != gossip::State::kDead) return;
  if (subject_up && !left_.count(subject.id)) {
    ++false_death_events_;
    if (false_deaths_.insert({subject.id, subject.incarnation}).second && !false_deaths_allowed_) {
      report(t, "false-death",
             "node " + std::to_string(observer) + " declared live node " + std::to_string(subject.id) +
                 " dead at incarnation " + std::to_string(subject.incarnation));
    }
    return;
  }
  bool any_done = false;
  for (auto& o : open_) {
    if (crashes_[o.index].victim != subject.id) continue;
    resolve(o, observer, t, /*declared=*/true);
    any_done = any_done || crashes_[o.index].pending == 0;
  }
  if (any_done) std::erase_if(open_, [&](const Open& x) { return crashes_[x.index].pending == 0; });
}

void GossipChecker::check_detection(SimTime now, Duration bound) {
  for (const auto& o : open_) {
    const CrashDetection& c = crashes_[o.index];
    if (now - c.crashed_at < bound || reported_.count(o.index)) continue;
    reported_.insert(o.index);
    NodeId example = 0;
    for (size_t i = 0; i < o.waiting.size(); ++i) {
      if (o.waiting[i]) {
        example = i + 1;
        break;
      }
    }
    report(now, "detection",
           "node " + std::to_string(c.victim) + " crashed at " + format_sim_time(c.crashed_at) + " but " +
               std::to_string(c.pending) + " live member(s) (e.g. node " + std::to_string(example) +
               ") have not declared it dead after " + format_sim_time(now - c.crashed_at));
  }
}

std::string GossipChecker::agreement_error(
    const std::vector<NodeId>& up, const std::vector<NodeId>& down,
    const std::function<const gossip::MemberInfo*(NodeId, NodeId)>& view) const {
  for (NodeId obs : up) {
    for (NodeId x : up) {
      if (x == obs) continue;
      const gossip::MemberInfo* m = view(obs, x);
      if (m == nullptr || !(m->state == gossip::State::kAlive || m->state == gossip::State::kSuspect)) {
        return "node " + std::to_string(obs) + " sees live node " + std::to_string(x) + " as " +
               (m ? gossip::state_name(m->state) : "unknown");
      }
    }
    for (NodeId y : down) {
      const gossip::MemberInfo* m = view(obs, y);
      if (m != nullptr && (m->state == gossip::State::kAlive || m->state == gossip::State::kSuspect)) {
        return "node " + std::to_string(obs) + " sees crashed node " + std::to_string(y) + " as " +
               gossip::state_name(m->state);
      }
    }
  }
  return {};
}

void GossipChecker::entry_written(NodeId writer, const gossip::TableChange& entry, SimTime t,
                                  const std::vector<NodeId>& up_observers) {
  EntrySpread s{entry.table, entry.key, entry.value, t, std::nullopt, {}};
  for (NodeId id : up_observers) {
    if (id != writer) s.waiting.insert(id);
  }
  if (s.waiting.empty()) s.all = t;
  spreads_.push_back(std::move(s));
}

void GossipChecker::table_change(NodeId observer, const gossip::TableChange& change, SimTime t) {
  if (change.kind != gossip::TableChange::Kind::kPut) return;
  for (auto& s : spreads_) {
    if (s.all || s.table != change.table || s.key != change.key || s.value != change.value) continue;
    if (s.waiting.erase(observer) && s.waiting.empty()) s.all = t;
  }
}

std::string GossipChecker::table_agreement_error(const std::vector<NodeId>& up,
                                                 const std::function<TableView(NodeId)>& table) const {
  // What every live member should show: each live member's own entries, by its own account.
  std::map<NodeId, TableView> views;
  TableView expected;
  for (NodeId id : up) {
    views[id] = table(id);
    for (const auto& [k, v] : views[id]) {
      if (v.first == id) expected.emplace(k, v);
    }
  }
  for (NodeId id : up) {
    const TableView& got = views[id];
    for (const auto& [k, v] : expected) {
      auto it = got.find(k);
      if (it == got.end()) {
        return "node " + std::to_string(id) + " misses " + k.first + "/" + k.second + " of node " +
               std::to_string(v.first);
      }
      if (it->second != v) {
        return "node " + std::to_string(id) + " shows " + k.first + "/" + k.second + " = '" + it->second.second +
               "' of node " + std::to_string(it->second.first) + ", its owner '" + v.second + "' of node " +
               std::to_string(v.first);
      }
    }
    for (const auto& [k, v] : got) {
      if (!expected.count(k)) {
        return "node " + std::to_string(id) + " shows " + k.first + "/" + k.second + " of node " +
               std::to_string(v.first) + ", which no live member owns";
      }
    }
  }
  return {};
}

}  // namespace shoal::sim
