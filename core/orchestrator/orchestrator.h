// Orchestrator: the leader's loop that keeps the cluster's actual state moving toward the
// desired one. On every change to a node, service or task (and on a slow tick, and when a
// restart delay ends) it runs a pass: the reconciler (reconciler.h) for every service and for
// the tasks of removed services, then the scheduler (core/scheduler) for the pending tasks the
// reconciler left alone and the ones it made in this pass (placed in the same commit). A pass
// proposes at most one transaction and the next
// pass waits until it is applied, so a pass always reads what the previous one wrote (no task is
// made twice). Only the leader acts; every manager runs one, and it wakes up when its manager
// becomes the leader, reading the store as it stands — a new leader carries on from the
// replicated state, it keeps none of its own.
//
//   Orchestrator o(env, store, [&] { return manager.is_leader(); },
//                  [&](storepb::Transaction tx, auto done) { manager.submit(std::move(tx), ...); }, {});
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/api/store.pb.h"
#include "core/env/env.h"
#include "core/env/status.h"
#include "core/orchestrator/reconciler.h"
#include "core/store/store.h"

namespace shoal::orchestrator {

struct OrchestratorOptions {
  uint64_t task_history_limit = 5;            // Docker's default (`--task-history-limit`)
  Duration tick = std::chrono::seconds(1);    // catches leadership gained and clocks moved
  Duration retry_after_failure = std::chrono::milliseconds(100);
  PlantedBugs bugs;  // test-only (core/env/planted_bugs.h)
};

class Orchestrator {
 public:
  using IsLeader = std::function<bool()>;
  using Propose = std::function<void(storepb::Transaction, std::function<void(Status)>)>;

  Orchestrator(Env& env, store::Store& store, IsLeader is_leader, Propose propose, OrchestratorOptions options);
  ~Orchestrator();
  Orchestrator(const Orchestrator&) = delete;
  Orchestrator& operator=(const Orchestrator&) = delete;

  // Passes that proposed a transaction, and transactions the store refused (a race with another
  // writer; the next pass reads again). For tests and `shoal info`.
  uint64_t proposals() const { return proposals_; }
  uint64_t refused() const { return refused_; }

  // A pass soon (right after the current event): when the host knows the world changed in a way
  // the store's changes do not show (this leader caught up with its predecessors' entries).
  void request_pass();

  // Aborts (SHOAL_CHECK), on the leader, if a replicated service has more tasks meant to run
  // (desired running and not ended) than its replicas, plus the parallelism of a start-first
  // update: a stop-first update shuts a slot's old task down in the commit that makes its new
  // one. (The updater checks its own window as it starts each batch: updater.cc.)
  void check_invariants() const;

 private:
  void pass();
  // The reconciler's actions for every service, and the earliest time a delay ends (0: none).
  // Its notes (note.h) go to `notes`.
  int64_t reconcile_all(storepb::Transaction& tx, std::vector<Note>& notes);
  // Places pending tasks; where each went (or why it waits) goes to `placed`, by task id, and
  // a note for each task whose reason for waiting changed to `notes`.
  void schedule_pending(storepb::Transaction& tx, std::map<std::string, std::string>& placed, std::vector<Note>& notes);
  // Logs a committed pass's notes.
  void log_notes(const std::vector<Note>& notes, const std::map<std::string, std::string>& placed);
  void wake_at(int64_t at_ns);

  Env& env_;
  store::Store& store_;
  IsLeader is_leader_;
  Propose propose_;
  OrchestratorOptions opts_;
  Rng ids_;  // task ids (store/object_id.h)
  // Ended tasks still desired running -> when this manager first saw them ended (restart delays
  // measured on one clock; a new leader starts afresh, as swarmkit's restart supervisor does).
  std::map<std::string, int64_t> seen_ended_;
  // Live tasks -> when this manager first saw them running (the updater's monitor periods).
  std::map<std::string, int64_t> seen_running_;
  bool pass_requested_ = false;
  bool in_flight_ = false;
  bool leading_ = false;  // the previous pass ran as leader
  mutable uint64_t checked_index_ = 0;  // the store's last index at the previous check_invariants()
  TimerId tick_timer_ = 0;
  TimerId wake_timer_ = 0;
  int64_t wake_timer_at_ = 0;
  uint64_t proposals_ = 0;
  uint64_t refused_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace shoal::orchestrator
