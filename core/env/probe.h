// Coverage probes: marks on rare paths, so a simulator sweep can report which it reached.
//
//   SHOAL_PROBE("raft.snapshot_installed");
//
// A probe only counts; it never changes behaviour. The registry is process-wide and
// single-threaded like the core itself; the simulator resets and reads it around runs.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace shoal {

class ProbeRegistry {
 public:
  static ProbeRegistry& instance();
  void hit(const char* name) { ++counts_[name]; }
  const std::map<std::string, uint64_t>& counts() const { return counts_; }
  void reset() { counts_.clear(); }

 private:
  std::map<std::string, uint64_t> counts_;
};

// Every probe in core/ outside gossip, so a sweep can name those it never reached (Raft's in
// every sweep; the orchestrator's, dispatcher's and agent's in sweeps of services scenarios).
inline constexpr const char* kAllProbes[] = {
    "raft.snapshot_installed", "raft.restart_from_snapshot", "raft.snapshot_after_crash",
    "raft.transfer_campaign",  "raft.learner_promoted",      "raft.read_index_served",
    "raft.conflict_truncated", "raft.vote_ignored_in_lease", "raft.check_quorum_stepdown",
    "raft.conf_change_applied", "raft.log_compacted",
    "orchestrator.update_resumed_by_new_leader", "orchestrator.update_paused", "orchestrator.update_rolled_back",
    "orchestrator.pass_refused", "dispatcher.session_replaced", "agent.successor_waits_for_old_task",
    "agent.task_of_earlier_life_orphaned",
};

// Every probe in core/gossip/, reported by `shoalsim sweep-gossip`.
inline constexpr const char* kGossipProbes[] = {
    "gossip.buddy_suspect",         "gossip.suspicion_confirmed", "gossip.suspicion_superseded",
    "gossip.refuted",               "gossip.stale_claim_corrected", "gossip.stranger_sync",
    "gossip.reconnect",             "gossip.table_refute",
};

}  // namespace shoal

#define SHOAL_PROBE(name) ::shoal::ProbeRegistry::instance().hit(name)
