// Store: the replicated cluster state — nodes, services, tasks, configs, secrets and the cluster
// object — as a Raft state machine. Every manager applies the same committed transactions in the
// same order, so every manager holds the same objects; reads are served from the local copy.
//
// Tasks are changed two ways: whole (CREATE/UPDATE/REMOVE with a version check, by the
// orchestrator and the scheduler), and by status reports from agents (TaskStatusUpdate, no
// version check, ignored when the task is gone or the report is behind). Task states and desired
// states only move forward.
//
// A transaction applies whole or not at all. It fails (and changes nothing) when an action does
// not fit the state it meets: creating an id or name that exists, updating with a stale version,
// removing what is not there. The proposer learns the outcome with take_result(index) after
// RaftNode reports the entry applied.
//
//   Store store;                                        // RaftNode applies entries to it
//   store.on_change([](const storepb::StoreAction& a) { ... });   // after each applied action
//   const storepb::ConfigObject* c = store.find_config("my-config");  // id or name
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>
#include "core/api/store.pb.h"
#include "core/env/planted_bugs.h"
#include "core/env/status.h"
#include "core/raft/state_machine.h"
#include "core/store/lookup_index.h"

namespace shoal::store {

namespace storepb = ::shoal::storepb;

class Store final : public raft::StateMachine {
 public:
  using ChangeFn = std::function<void(const storepb::StoreAction& applied)>;

  explicit Store(PlantedBugs bugs = {}) : bugs_(bugs) {}

  void apply(const raft::raftpb::Entry& entry) override;
  std::string snapshot() const override;
  void restore(std::string_view data) override;

  // Checks a transaction against the current state without applying it (the leader uses this
  // to refuse early with the same error the apply would give).
  Status check(const storepb::Transaction& tx) const;
  // The outcome of the transaction applied at `index`, once; ok if unknown.
  Status take_result(uint64_t index);
  void on_change(ChangeFn fn) { watchers_.push_back(std::move(fn)); }
  // Runs fn once the entry at `index` has been applied here (at once if it already has): a
  // write forwarded to the leader is visible to reads on this manager when fn runs.
  void when_applied(uint64_t index, std::function<void()> fn);

  const std::map<std::string, storepb::NodeObject>& nodes() const { return nodes_.ordered(); }
  const std::map<std::string, storepb::ConfigObject>& configs() const { return configs_.ordered(); }
  const std::map<std::string, storepb::SecretObject>& secrets() const { return secrets_.ordered(); }
  const storepb::NodeObject* find_node(std::string_view id_or_name) const;
  const storepb::ConfigObject* find_config(std::string_view id_or_name) const;
  const storepb::SecretObject* find_secret(std::string_view id_or_name) const;
  const std::map<std::string, storepb::ServiceObject>& services() const { return services_.ordered(); }
  const std::map<std::string, storepb::TaskObject>& tasks() const { return tasks_.ordered(); }
  const storepb::ServiceObject* find_service(std::string_view id_or_name) const;
  const storepb::TaskObject* find_task(std::string_view id) const;
  // Tasks of one service / on one node, in task-id order.
  std::vector<const storepb::TaskObject*> tasks_of_service(std::string_view service_id) const;
  std::vector<const storepb::TaskObject*> tasks_on_node(std::string_view node_id) const;
  // nullptr until the founding transaction has been applied.
  const storepb::ClusterObject* cluster() const { return has_cluster_ ? &cluster_ : nullptr; }
  uint64_t last_index() const { return last_index_; }

  // Aborts (SHOAL_CHECK) if the lookup indexes disagree with the objects. That versions only
  // grow and entries apply in order is checked as each is written.
  void check_invariants() const;

 private:
  void apply_entry(const raft::raftpb::Entry& entry);
  Status check_action(const storepb::StoreAction& a) const;
  void apply_action(storepb::StoreAction a, uint64_t index, int64_t now_ns);

  PlantedBugs bugs_;  // test-only (core/env/planted_bugs.h)
  IndexedMap<storepb::NodeObject> nodes_;
  IndexedMap<storepb::ConfigObject> configs_;
  IndexedMap<storepb::SecretObject> secrets_;
  LookupIndex<std::string> config_names_;  // name -> id
  LookupIndex<std::string> secret_names_;
  IndexedMap<storepb::ServiceObject> services_;
  LookupIndex<std::string> service_names_;
  IndexedMap<storepb::TaskObject> tasks_;
  using TaskIndex = std::map<std::string, std::set<std::string>>;  // key -> task ids
  TaskIndex tasks_by_service_;
  TaskIndex tasks_by_node_;
  std::vector<const storepb::TaskObject*> tasks_in(const TaskIndex& index, std::string_view key) const;
  void index_task(const storepb::TaskObject& t);
  void unindex_task(const storepb::TaskObject& t);
  storepb::ClusterObject cluster_;
  bool has_cluster_ = false;
  uint64_t last_index_ = 0;
  mutable uint64_t checked_index_ = ~uint64_t{0};  // last_index_ at the previous check_invariants()
  std::map<uint64_t, Status> failed_;  // outcomes not yet taken, by index (failures only)
  std::vector<ChangeFn> watchers_;
  std::multimap<uint64_t, std::function<void()>> waiting_apply_;
  void run_waiting();
};

// Docker's limits: a config holds at most 1000 KiB, a secret at most 500 KiB.
inline constexpr size_t kMaxConfigBytes = 1000 * 1024;
inline constexpr size_t kMaxSecretBytes = 500 * 1024;

}  // namespace shoal::store
