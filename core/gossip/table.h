// Table: a key-value table replicated over gossip, in the shape of libnetwork's NetworkDB. The
// overlay networks keep their endpoint records in it: which task address lives behind which host.
//
// Every entry (table, key) belongs to the member that wrote it last and carries that write's
// Lamport time: the write with the larger (ltime, owner) wins on every member, whatever order the
// writes arrive in (last-writer-wins). A delete is a tombstone, kept tombstone_ttl so that an
// older copy still travelling cannot bring the entry back, then forgotten. Writes spread by
// piggybacking on the membership's packets (each sent a bounded number of times, like its alive
// messages) and, for whatever those miss, with every push-pull: a member that joins or rejoins
// gets the whole table in its first exchange (bulk sync).
//
// Owners. Only members alive (or suspect) in this member's view count: the entries of a member
// declared dead or gone are hidden (get and list leave them out, subscribers hear them removed),
// come back if it does, and are forgotten tombstone_ttl after its death. A member is the
// authority on its own entries: told of one it owns that is newer than what it holds (a copy from
// before it restarted), it writes its own truth over it with a newer Lamport time, as it refutes
// a suspicion with a higher incarnation.
//
// Bad input: the codec refuses malformed entries before they get here (core/gossip/codec.h);
// put() refuses names and values over their limits and a full table, and changes nothing.
//
// Thread contract: single-threaded, on the node's loop, like the Membership it rides on; both
// outlive neither the Env. The Table registers itself as the Membership's delegate and
// unregisters in its destructor.
//
//   Table t(env, membership);
//   t.subscribe([](const TableChange& c) { ... });
//   t.put("endpoints", "task-1", "198.18.0.7");
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/api/gossip.pb.h"
#include "core/env/env.h"
#include "core/gossip/membership.h"

namespace shoal::gossip {

// A change of what get() returns for one key.
struct TableChange {
  enum class Kind { kPut, kRemove };
  Kind kind = Kind::kPut;
  std::string table;
  std::string key;
  std::string value;  // the new value (kPut) or the last one (kRemove)
  NodeId owner = 0;
};

struct TableStats {
  uint64_t applied = 0;      // remote writes that won and were taken
  uint64_t stale = 0;        // remote writes older than (or equal to) what is held
  uint64_t refutations = 0;  // own entries rewritten over a newer copy from elsewhere
  uint64_t reaped = 0;       // tombstones and dead owners' entries forgotten
  uint64_t limit_hits = 0;   // remote entries dropped because the table was full
};

class Table final : public Delegate {
 public:
  Table(Env& env, Membership& membership);
  ~Table() override;
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  // Writes `value` under (table, key), owned by this member.
  Status put(const std::string& table, const std::string& key, std::string value);
  // Deletes an entry this member owns (not_found if there is none to see; failed_precondition
  // if another member owns it).
  Status remove(const std::string& table, const std::string& key);

  std::optional<std::string> get(const std::string& table, const std::string& key) const;
  // Every visible entry of `table`: key -> value.
  std::map<std::string, std::string> list(const std::string& table) const;
  // Every visible entry: (table, key) -> (owner, value). For agreement checks.
  std::map<std::pair<std::string, std::string>, std::pair<NodeId, std::string>> visible() const;

  void subscribe(std::function<void(const TableChange&)> subscriber);

  uint64_t lamport_time() const { return clock_; }
  size_t entries_held() const { return entries_.size(); }  // tombstones and hidden included
  const TableStats& stats() const { return stats_; }
  // Empty if every invariant holds, else what is broken (for reports that go on).
  std::string broken_invariant() const;
  // Aborts (SHOAL_CHECK) if an invariant is broken.
  void check_invariants() const;

  // --- Delegate (called by the Membership)
  void on_entry(NodeId from, const gossippb::TableEntry& entry) override;
  void local_state(gossippb::PushPull& out) override;
  void merge_remote_state(NodeId from, const gossippb::PushPull& in) override;
  void on_member_change(const MemberInfo& member) override;

 private:
  using Key = std::pair<std::string, std::string>;  // (table, key)
  struct Entry {
    NodeId owner = 0;
    uint64_t ltime = 0;
    std::string value;
    bool deleted = false;
    MonoTime written{0};  // when this member took this version
  };

  bool owner_live(NodeId owner) const;
  bool visible(const Entry& e) const { return !e.deleted && owner_live(e.owner); }
  // Takes a remote version if it wins; true if it did.
  bool apply(const gossippb::TableEntry& e);
  // Writes (key, entry) as this member's own newest version and disseminates it; keep = false
  // only disseminates it (a full table).
  void write_own(const Key& key, std::string value, bool deleted, bool keep = true);
  void store(const Key& key, Entry e);
  void notify(const Key& key, const Entry* before, const Entry& after, bool was_visible);
  void emit(TableChange::Kind kind, const Key& key, const Entry& e);
  gossippb::TableEntry to_wire(const Key& key, const Entry& e) const;
  void reap();

  Env& env_;
  Membership& membership_;
  std::map<Key, Entry> entries_;
  std::map<NodeId, std::set<Key>> by_owner_;
  uint64_t clock_ = 0;
  TableStats stats_;
  std::vector<std::function<void(const TableChange&)>> subscribers_;
  TimerId reap_timer_ = 0;
};

}  // namespace shoal::gossip
