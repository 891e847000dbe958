// Planted bugs: test-only switches, each of which breaks one rule of the protocol on purpose so
// that a test can show the checker or invariant that catches it (a checker that cannot fail
// proves nothing). Every switch is off outside the tests and `shoalsim --plant NAME` runs that
// turn it on. This file is the one list: a switch's field name is its name everywhere.
//
//   PlantedBugs bugs;
//   if (!plant(bugs, "vote_twice_in_term")) ...;   // unknown name
//   raft::Config config; config.bugs = bugs;
#pragma once

#include <string_view>

namespace shoal {

struct PlantedBugs {
  // Raft (core/raft): caught by the simulator's RaftChecker or Raft's own invariants.
  bool vote_twice_in_term = false;                 // grant a vote though one was given this term
  bool commit_old_term_by_counting = false;        // commit an older term's entry by replica count
  bool read_index_before_own_term_commit = false;  // serve a read index before this term commits (etcd 7331)
  bool self_ack_before_persist = false;            // the leader counts its own unsynced entry (etcd 14370)
  bool ack_before_sync = false;                    // the host sends messages before its disk sync
  bool probe_ignores_match = false;           // a rejection's hint moves next to or below match
  bool inflights_ignore_window = false;       // appends go out past the inflight window
  bool snapshot_state_forgets_index = false;  // a follower sent a snapshot waits for index 0
  // Store (core/store): caught by the store's own checks.
  bool store_keeps_writer_version = false;  // an update keeps the version it was made against
  // Agent and dispatcher (core/agent, core/dispatcher): caught by their invariants.
  bool agent_restarts_ended_tasks = false;  // the agent runs an ended task again by itself
  bool agent_takes_stale_state = false;     // the agent takes a task's state back from the dispatcher
  bool dispatcher_shares_session_ids = false;  // two nodes may hold the same session id
  // Node lifecycle (core/node): caught by the PKI checker.
  bool node_keeps_old_roots = false;  // a node never adopts the roots a rotation hands it
  // Orchestration (core/orchestrator): caught by the services checker.
  bool keep_tasks_on_lost_nodes = false;       // a task whose node is down or drained stays put
  bool replace_without_shutdown = false;       // a lost task's successor is made, the task left live
  bool update_ignores_parallelism = false;     // the updater replaces every slot at once
  bool update_ignores_unhealthy = false;       // the updater counts exits but not failed health checks
  bool update_starts_without_waiting = false;  // a stop-first successor does not wait for its old task
  // Gossip (core/gossip): caught by the gossip checker.
  bool never_refute = false;               // a suspected or declared-dead member does not refute
  bool suspicion_never_expires = false;    // a suspicion never turns into a death
  bool push_pull_ignores_remote = false;   // merging a push-pull (other than a join) does nothing
  bool table_keeps_dead_owners = false;    // a dead member's table entries stay visible
};

struct PlantedBug {
  const char* name;
  bool PlantedBugs::*flag;
  const char* what;  // the rule it breaks
};

inline constexpr PlantedBug kPlantedBugs[] = {
    {"vote_twice_in_term", &PlantedBugs::vote_twice_in_term, "grant a second vote in one term"},
    {"commit_old_term_by_counting", &PlantedBugs::commit_old_term_by_counting,
     "commit an older term's entry by counting replicas"},
    {"read_index_before_own_term_commit", &PlantedBugs::read_index_before_own_term_commit,
     "serve a linearizable read before the leader's term has committed an entry"},
    {"self_ack_before_persist", &PlantedBugs::self_ack_before_persist,
     "the leader counts its own entry before it is synced"},
    {"ack_before_sync", &PlantedBugs::ack_before_sync, "send acknowledgements before the disk sync"},
    {"probe_ignores_match", &PlantedBugs::probe_ignores_match,
     "a stale rejection's hint moves a follower's next index to or below its match index"},
    {"inflights_ignore_window", &PlantedBugs::inflights_ignore_window, "appends go out past the inflight window"},
    {"snapshot_state_forgets_index", &PlantedBugs::snapshot_state_forgets_index,
     "a follower sent a snapshot is recorded as waiting for index 0"},
    {"store_keeps_writer_version", &PlantedBugs::store_keeps_writer_version,
     "an update keeps the version it was made against instead of a new one"},
    {"agent_restarts_ended_tasks", &PlantedBugs::agent_restarts_ended_tasks,
     "the agent runs a task that ended again by itself"},
    {"agent_takes_stale_state", &PlantedBugs::agent_takes_stale_state,
     "the agent takes a task's state back from the dispatcher's older copy"},
    {"dispatcher_shares_session_ids", &PlantedBugs::dispatcher_shares_session_ids,
     "the dispatcher gives two nodes the same session id"},
    {"node_keeps_old_roots", &PlantedBugs::node_keeps_old_roots, "a node never adopts the roots a rotation hands it"},
    {"keep_tasks_on_lost_nodes", &PlantedBugs::keep_tasks_on_lost_nodes,
     "leave a task on a node that is down or drained"},
    {"replace_without_shutdown", &PlantedBugs::replace_without_shutdown,
     "make a lost task's successor without shutting the task down"},
    {"update_ignores_parallelism", &PlantedBugs::update_ignores_parallelism,
     "a rolling update replaces every slot at once"},
    {"update_ignores_unhealthy", &PlantedBugs::update_ignores_unhealthy,
     "a rolling update does not count failed health checks"},
    {"update_starts_without_waiting", &PlantedBugs::update_starts_without_waiting,
     "a stop-first successor starts before its old task ended"},
    {"never_refute", &PlantedBugs::never_refute, "a suspected gossip member does not refute"},
    {"suspicion_never_expires", &PlantedBugs::suspicion_never_expires, "a gossip suspicion never ends in a death"},
    {"push_pull_ignores_remote", &PlantedBugs::push_pull_ignores_remote, "a gossip push-pull merges nothing"},
    {"table_keeps_dead_owners", &PlantedBugs::table_keeps_dead_owners,
     "a dead gossip member's table entries stay visible"},
};

// Switches on the planted bug called `name`; false (and nothing changed) if there is none.
inline bool plant(PlantedBugs& bugs, std::string_view name) {
  for (const PlantedBug& b : kPlantedBugs) {
    if (name == b.name) {
      bugs.*(b.flag) = true;
      return true;
    }
  }
  return false;
}

}  // namespace shoal
