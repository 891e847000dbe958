// GossipChecker: what a gossip cluster must get right, judged from outside the members.
//
//   detection   every member that is up when a node crashes (and stays up) declares it dead;
//               check_detection() reports a crash not known everywhere within a bound. It also
//               measures, per crash, the time until the first and until the last live member
//               knew (the benchmark's detect_all).
//   false death a member declaring a live node dead (state dead, not a graceful leave) is a false
//               death, counted once per (node, incarnation) and per observer event; with
//               set_false_deaths_allowed(false) each one is also a violation.
//   agreement   agreement_error(): every up member sees every other up member alive or suspect,
//               and no crashed node so; the cluster checks it after the faults healed.
//   table       table_agreement_error(): every up member's replicated table (core/gossip/table.h)
//               shows exactly the entries the up members own, by their own account, so a crashed
//               or departed node's records are gone everywhere. entry_written() and
//               table_change() measure the time until every live member sees a new record.
//
// Fed by the cluster (crashes, restarts, leaves) and by every member's subscriber events.
// Single-threaded, like the World. O(1) per event except crash bookkeeping (O(nodes) once per
// crash) and agreement (O(nodes^2), once per check).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/gossip/membership.h"
#include "core/gossip/table.h"
#include "io_sim/world/sim_time.h"

namespace shoal::sim {

struct GossipViolation {
  SimTime t{0};
  std::string checker;  // "detection", "false-death", "agreement"
  std::string what;
};

struct CrashDetection {
  NodeId victim = 0;
  SimTime crashed_at{0};
  std::optional<SimTime> first;  // first live member to declare it dead
  std::optional<SimTime> all;    // when the last live member did
  size_t pending = 0;            // live members that have not yet
};

struct EntrySpread {
  std::string table, key, value;
  SimTime written_at{0};
  std::optional<SimTime> all;  // when the last live member saw it
  std::set<NodeId> waiting;    // live members that have not yet
};

class GossipChecker {
 public:
  explicit GossipChecker(size_t nodes);

  // --- from the cluster. `knows_dead(observer)`: the observer need not declare the victim dead
  // (it holds it dead or gone already, or never knew it).
  void node_crashed(NodeId victim, SimTime t, const std::vector<NodeId>& up_observers,
                    const std::function<bool(NodeId)>& knows_dead);
  void node_restarted(NodeId id);
  void node_left(NodeId id) { left_.insert(id); }

  // --- from a member's Events (observer = the member that saw it). `subject_up`: the subject's
  // node is up in the World right now.
  void member_dead(NodeId observer, const gossip::MemberInfo& subject, bool subject_up, SimTime t);

  // Reports every crash older than `bound` that some live member still does not know of.
  void check_detection(SimTime now, Duration bound);
  // view(observer, subject): the observer's record of the subject (nullptr: unknown); up(id).
  std::string agreement_error(const std::vector<NodeId>& up, const std::vector<NodeId>& down,
                              const std::function<const gossip::MemberInfo*(NodeId, NodeId)>& view) const;
  void report(SimTime t, std::string checker, std::string what);

  // --- the replicated table
  using TableView = std::map<std::pair<std::string, std::string>, std::pair<NodeId, std::string>>;
  // A record written at `t`; the members in `up_observers` (other than the writer) are awaited.
  void entry_written(NodeId writer, const gossip::TableChange& entry, SimTime t, const std::vector<NodeId>& up_observers);
  void table_change(NodeId observer, const gossip::TableChange& change, SimTime t);
  const std::vector<EntrySpread>& entry_spreads() const { return spreads_; }
  // table(id): the member's visible entries (Table::visible()).
  std::string table_agreement_error(const std::vector<NodeId>& up,
                                    const std::function<TableView(NodeId)>& table) const;

  void set_false_deaths_allowed(bool allowed) { false_deaths_allowed_ = allowed; }
  const std::vector<CrashDetection>& crashes() const { return crashes_; }
  uint64_t false_deaths() const { return false_deaths_.size(); }  // distinct (node, incarnation)
  uint64_t false_death_events() const { return false_death_events_; }
  const std::vector<GossipViolation>& violations() const { return violations_; }

 private:
  struct Open {
    size_t index = 0;                 // into crashes_
    std::vector<uint8_t> waiting;     // [observer - 1]
  };
  void resolve(Open& o, NodeId observer, SimTime t, bool declared);

  size_t nodes_;
  std::vector<CrashDetection> crashes_;
  std::vector<Open> open_;  // crashes some live member does not yet know of
  std::set<std::pair<NodeId, uint64_t>> false_deaths_;
  std::set<NodeId> left_;
  std::set<size_t> reported_;  // crashes reported undetected
  uint64_t false_death_events_ = 0;
  bool false_deaths_allowed_ = true;
  std::vector<GossipViolation> violations_;
  std::vector<EntrySpread> spreads_;
};

}  // namespace shoal::sim
