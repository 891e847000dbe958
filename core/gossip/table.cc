#include "core/gossip/table.h"

#include <algorithm>
#include <tuple>

#include "core/env/check.h"
#include "core/env/probe.h"
#include "core/gossip/codec.h"

namespace shoal::gossip {

namespace {

// Which of two versions of a key wins: the later Lamport time, then the larger owner id.
bool newer(uint64_t ltime_a, NodeId owner_a, uint64_t ltime_b, NodeId owner_b) {
  return std::tie(ltime_a, owner_a) > std::tie(ltime_b, owner_b);
}

}  // namespace

Table::Table(Env& env, Membership& membership) : env_(env), membership_(membership) {
  membership_.set_delegate(this);
  reap_timer_ = env_.timers.after(membership_.config().table_reap_interval, [this] { reap(); });
}

Table::~Table() {
  membership_.set_delegate(nullptr);
  if (reap_timer_ != 0) env_.timers.cancel(reap_timer_);
}

// --- writes from this member -----------------------------------------------------------------

Status Table::put(const std::string& table, const std::string& key, std::string value) {
  const Config& c = membership_.config();
  if (table.empty() || key.empty()) return Status::invalid_argument("a table entry needs a table name and a key");
  if (table.size() + key.size() > c.max_entry_name_bytes) {
    return Status::invalid_argument("table name and key are longer than " + std::to_string(c.max_entry_name_bytes) +
                                    " bytes");
  }
  if (value.size() > c.max_entry_value_bytes) {
    return Status::invalid_argument("value is longer than " + std::to_string(c.max_entry_value_bytes) + " bytes");
  }
  Key k{table, key};
  if (!entries_.count(k) && entries_.size() >= c.max_table_entries) {
    return Status::busy("the table holds its maximum of " + std::to_string(c.max_table_entries) + " entries");
  }
  if (clock_ >= kMaxLamportTime) return Status::failed_precondition("the table's Lamport clock is exhausted");
  write_own(k, std::move(value), /*deleted=*/false);
  return {};
}

Status Table::remove(const std::string& table, const std::string& key) {
  auto it = entries_.find(Key{table, key});
  if (it == entries_.end() || !visible(it->second)) {
    return Status::not_found("no entry " + key + " in table " + table);
  }
  if (it->second.owner != membership_.id()) {
    return Status::failed_precondition("entry " + key + " in table " + table + " belongs to node " +
                                       std::to_string(it->second.owner));
  }
  write_own(it->first, "", /*deleted=*/true);
  return {};
}

void Table::write_own(const Key& key, std::string value, bool deleted, bool keep) {
  Entry e;
  e.owner = membership_.id();
  e.ltime = ++clock_;
  e.value = std::move(value);
  e.deleted = deleted;
  e.written = env_.clock.monotonic_now();
  membership_.broadcast_entry(to_wire(key, e));
  if (keep) store(key, std::move(e));
}

// --- reads -----------------------------------------------------------------------------------

bool Table::owner_live(NodeId owner) const {
  if (owner == membership_.id()) return true;
  const MemberInfo* m = membership_.member(owner);
  if (membership_.config().bugs.table_keeps_dead_owners && m != nullptr) return true;
  return m != nullptr && (m->state == State::kAlive || m->state == State::kSuspect);
}

std::optional<std::string> Table::get(const std::string& table, const std::string& key) const {
  auto it = entries_.find(Key{table, key});
  if (it == entries_.end() || !visible(it->second)) return std::nullopt;
  return it->second.value;
}

std::map<std::string, std::string> Table::list(const std::string& table) const {
  std::map<std::string, std::string> out;
  for (auto it = entries_.lower_bound(Key{table, ""}); it != entries_.end() && it->first.first == table; ++it) {
    if (visible(it->second)) out.emplace(it->first.second, it->second.value);
  }
  return out;
}

std::map<std::pair<std::string, std::string>, std::pair<NodeId, std::string>> Table::visible() const {
  std::map<Key, std::pair<NodeId, std::string>> out;
  for (const auto& [k, e] : entries_) {
    if (visible(e)) out.emplace(k, std::make_pair(e.owner, e.value));
  }
  return out;
}

void Table::subscribe(std::function<void(const TableChange&)> subscriber) {
  subscribers_.push_back(std::move(subscriber));
}

// --- remote writes ---------------------------------------------------------------------------

void Table::on_entry(NodeId /*from*/, const gossippb::TableEntry& entry) {
  // News spreads on: a version taken here is piggybacked onward, a bounded number of times.
  if (apply(entry)) membership_.broadcast_entry(entry);
}

void Table::local_state(gossippb::PushPull& out) {
  out.set_table_ltime(clock_);
  for (const auto& [k, e] : entries_) *out.add_entries() = to_wire(k, e);
}

void Table::merge_remote_state(NodeId /*from*/, const gossippb::PushPull& in) {
  clock_ = std::max(clock_, in.table_ltime());
  for (const auto& e : in.entries()) apply(e);
}

bool Table::apply(const gossippb::TableEntry& w) {
  clock_ = std::max(clock_, w.ltime());  // Lamport: witness every time seen
  Key key{w.table(), w.key()};
  auto it = entries_.find(key);
  const bool held_newer = it != entries_.end() && !newer(w.ltime(), w.owner(), it->second.ltime, it->second.owner);
  if (held_newer) {
    ++stats_.stale;
    return false;
  }
  if (w.owner() == membership_.id()) {
    // A version of our own entry we never wrote in this life: ours is the truth. Keep our value
    // (a tombstone if we hold none of our own), written over it with a newer time.
    if (clock_ >= kMaxLamportTime) return false;  // cannot write anything newer
    ++stats_.refutations;
    SHOAL_PROBE("gossip.table_refute");
    const bool ours = it != entries_.end() && it->second.owner == membership_.id();
    if (ours) {
      write_own(key, it->second.value, it->second.deleted);
    } else if (it == entries_.end() && entries_.size() >= membership_.config().max_table_entries) {
      // No room to keep the tombstone: send it anyway, so the copy dies elsewhere.
      ++stats_.limit_hits;
      write_own(key, "", /*deleted=*/true, /*keep=*/false);
    } else {
      write_own(key, "", /*deleted=*/true);
    }
    return false;
  }
  if (it == entries_.end() && entries_.size() >= membership_.config().max_table_entries) {
    ++stats_.limit_hits;
    return false;
  }
  Entry e;
  e.owner = w.owner();
  e.ltime = w.ltime();
  e.value = w.value();
  e.deleted = w.deleted();
  e.written = env_.clock.monotonic_now();
  ++stats_.applied;
  store(key, std::move(e));
  return true;
}

void Table::store(const Key& key, Entry e) {
  auto it = entries_.find(key);
  std::optional<Entry> before;
  bool was_visible = false;
  if (it != entries_.end()) {
    was_visible = visible(it->second);
    before = std::move(it->second);
    if (before->owner != e.owner) {
      auto o = by_owner_.find(before->owner);
      o->second.erase(key);
      if (o->second.empty()) by_owner_.erase(o);
    }
    it->second = std::move(e);
  } else {
    it = entries_.emplace(key, std::move(e)).first;
  }
  by_owner_[it->second.owner].insert(key);
  notify(key, before ? &*before : nullptr, it->second, was_visible);
}

void Table::notify(const Key& key, const Entry* before, const Entry& after, bool was_visible) {
  const bool is_visible = visible(after);
  if (is_visible && (!was_visible || before->value != after.value || before->owner != after.owner)) {
    emit(TableChange::Kind::kPut, key, after);
  } else if (was_visible && !is_visible) {
    emit(TableChange::Kind::kRemove, key, *before);
  }
}

void Table::emit(TableChange::Kind kind, const Key& key, const Entry& e) {
  if (subscribers_.empty()) return;
  const TableChange change{kind, key.first, key.second, e.value, e.owner};
  for (const auto& s : subscribers_) s(change);
}

// --- membership --------------------------------------------------------------------------------

void Table::on_member_change(const MemberInfo& member) {
  // The owner's entries appear (it joined or came back) or disappear (it died or left).
  auto o = by_owner_.find(member.id);
  if (o == by_owner_.end()) return;
  const bool live = owner_live(member.id);
  for (const Key& k : o->second) {
    const Entry& e = entries_.at(k);
    if (e.deleted) continue;
    emit(live ? TableChange::Kind::kPut : TableChange::Kind::kRemove, k, e);
  }
}

void Table::reap() {
  reap_timer_ = env_.timers.after(membership_.config().table_reap_interval, [this] { reap(); });
  const MonoTime now = env_.clock.monotonic_now();
  const Duration ttl = membership_.config().tombstone_ttl;
  for (auto it = entries_.begin(); it != entries_.end();) {
    const Entry& e = it->second;
    bool forget = e.deleted && e.written + ttl <= now;
    if (!forget && !owner_live(e.owner)) {
      // A dead or departed owner's entry: forgotten ttl after its death (or after it reached us,
      // for an owner this member never knew).
      const MemberInfo* m = membership_.member(e.owner);
      const MonoTime since = m != nullptr ? std::max(m->state_change, e.written) : e.written;
      forget = since + ttl <= now;
    }
    if (!forget) {
      ++it;
      continue;
    }
    auto o = by_owner_.find(e.owner);
    o->second.erase(it->first);
    if (o->second.empty()) by_owner_.erase(o);
    it = entries_.erase(it);
    ++stats_.reaped;
  }
}

gossippb::TableEntry Table::to_wire(const Key& key, const Entry& e) const {
  gossippb::TableEntry w;
  w.set_table(key.first);
  w.set_key(key.second);
  w.set_owner(e.owner);
  w.set_ltime(e.ltime);
  w.set_value(e.value);
  w.set_deleted(e.deleted);
  return w;
}

void Table::check_invariants() const {
  const std::string broken = broken_invariant();
  SHOAL_CHECK(broken.empty(), "gossip: %s", broken.c_str());
}

std::string Table::broken_invariant() const {
  size_t indexed = 0;
  for (const auto& [owner, keys] : by_owner_) {
    for (const Key& k : keys) {
      auto it = entries_.find(k);
      if (it == entries_.end() || it->second.owner != owner) return "owner index names a missing entry";
      ++indexed;
    }
  }
  if (indexed != entries_.size()) return "owner index misses entries";
  for (const auto& [k, e] : entries_) {
    if (e.ltime > clock_) return "an entry is newer than the Lamport clock";
    if (e.deleted && !e.value.empty()) return "a tombstone holds a value";
  }
  return {};
}

}  // namespace shoal::gossip
