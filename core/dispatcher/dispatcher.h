// Dispatcher: the manager's side of worker sessions. Every node's agent (managers run tasks too)
// keeps a session with the leader's dispatcher: it heartbeats, long-polls for its tasks, and
// reports task status in batches. Only the leader's dispatcher keeps sessions; another manager
// answers a heartbeat with the leader it knows of (so an agent finds a new leader in one step,
// without waiting on a dead manager's timeout) and refuses the other calls with not_leader.
//
// Liveness: a node that has not heartbeated for `node_down_after` is marked down in the store
// (the orchestrator then moves its tasks); its next heartbeat marks it ready again. The default
// (heartbeat every 500 ms, down after 2 s) reschedules a dead worker's tasks within 3 s, while
// a blip shorter than 2 s goes unnoticed. A new leader does not know when nodes last spoke, so it
// gives every node a fresh `node_down_after` plus `leader_grace` (the time an agent needs to find
// the new leader) from the moment it became leader — not the minutes Swarm waits.
//
// RPC methods it serves (any node; the node id is the caller's certificate's):
//   dispatcher.heartbeat    HeartbeatRequest -> HeartbeatResponse
//   dispatcher.assignments  AssignmentsRequest -> AssignmentsResponse (held until a change)
//   dispatcher.report       StatusReport -> StatusReportResponse, once committed
// A report about a task that is not assigned to the caller is dropped: a node speaks only for
// its own tasks.
//
// A stop-first update's new task waits for its slot's old tasks (TaskObject.wait_for). One on
// the same node is the agent's to wait for; one on another node holds the new task back here:
// it is not sent until that one has ended in the store (or its node is down or gone, as the
// reconciler does not wait for such a node either).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/api/dispatcher.pb.h"
#include "core/api/store.pb.h"
#include "core/env/env.h"
#include "core/env/planted_bugs.h"
#include "core/rpc/rpc.h"
#include "core/store/store.h"

namespace shoal::dispatcher {

namespace dispatcherpb = ::shoal::dispatcherpb;

struct DispatcherOptions {
  Duration heartbeat_period = std::chrono::milliseconds(500);
  Duration node_down_after = std::chrono::seconds(2);
  Duration leader_grace = std::chrono::seconds(1);
  Duration long_poll = std::chrono::seconds(10);  // an assignments poll is answered by then
  Duration check_interval = std::chrono::milliseconds(100);
  PlantedBugs bugs;  // test-only (core/env/planted_bugs.h)
};

class Dispatcher {
 public:
  using IsLeader = std::function<bool()>;
  using LeaderId = std::function<NodeId()>;  // the leader this manager knows of (0: none)
  using Propose = std::function<void(storepb::Transaction, std::function<void(Status)>)>;

  Dispatcher(Env& env, Rpc& rpc, store::Store& store, IsLeader is_leader, LeaderId leader, Propose propose,
             DispatcherOptions options);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Nodes this dispatcher has marked down, for tests and `shoal info`.
  uint64_t nodes_marked_down() const { return marked_down_; }

  // Aborts (SHOAL_CHECK) unless every node holds one session of its own: a session id names
  // exactly one node, so no call under one node's session is taken for another's.
  void check_invariants() const;

 private:
  struct Poll {
    uint64_t known_sequence = 0;
    Rpc::Reply reply;
    TimerId timeout = 0;
  };
  struct Session {
    std::string id;
    MonoTime last_heartbeat{0};
    uint64_t sequence = 0;
    std::map<std::string, uint64_t> sent;  // task id -> version the node was last sent
    std::vector<Poll> polls;
  };

  void heartbeat(NodeId node, const dispatcherpb::HeartbeatRequest& req, Rpc::Reply reply);
  void assignments(NodeId node, const dispatcherpb::AssignmentsRequest& req, Rpc::Reply reply);
  void report(NodeId node, const dispatcherpb::StatusReport& req, Rpc::Reply reply);
  // Answers the node's waiting polls if it has anything new (or `force`, on timeout).
  void answer_polls(const std::string& node_id, bool force);
  dispatcherpb::AssignmentsResponse changes_for(const std::string& node_id, Session& s, bool full);
  void check();
  // Writes the node's state (and what it reports of itself); `why`, if not empty, is logged
  // once the write commits.
  void mark_node(const storepb::NodeObject& node, storepb::NodeObject::State state, const storepb::NodeDescription* desc,
                 const std::string& hostname, std::string why);
  void on_store_change(const storepb::StoreAction& a);
  // The id of a task `t` waits for that has not ended on a node other than `node_id` (null:
  // none, it may be sent).
  const std::string* waits_elsewhere(const storepb::TaskObject& t, const std::string& node_id) const;
  // Answers the polls of nodes holding a task back for `task_id`, which has changed.
  void wake_waiters(const std::string& task_id);

  Env& env_;
  Rpc& rpc_;
  store::Store& store_;
  IsLeader is_leader_;
  LeaderId leader_;
  Propose propose_;
  DispatcherOptions opts_;
  Rng ids_;
  bool was_leader_ = false;
  MonoTime leader_since_{0};
  std::map<std::string, Session> sessions_;  // by node id (16 hex digits)
  std::map<std::string, std::set<std::string>> waiters_;  // task id -> nodes holding a task back for it
  std::set<std::string> node_writes_in_flight_;  // node ids
  TimerId check_timer_ = 0;
  uint64_t marked_down_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace shoal::dispatcher
