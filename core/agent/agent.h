// Agent: the worker's side of a session with the leader's dispatcher (core/dispatcher). Every
// node runs one, managers included. It heartbeats, long-polls for the tasks assigned to its node,
// runs them through the Runtime seam, and reports their status in batches.
//
// A task moves through Docker's states on the node: ASSIGNED (from the scheduler) -> ACCEPTED ->
// PREPARING -> STARTING -> RUNNING -> COMPLETE (exit 0) / FAILED (non-zero exit, or could not
// start) / SHUTDOWN (stopped because its desired state moved past RUNNING). A report carries the
// latest state only: intermediate states collapse when they happen faster than reports go out,
// and the store never lets a state move backwards anyway.
//
// Health checks (Docker's): a task whose container spec has a healthcheck (test CMD or CMD-SHELL)
// stays STARTING once its process runs, and is checked through Runtime::check_health every
// `interval` (the first check one interval after the start), each check given `timeout`. The
// first check that passes makes it RUNNING. A check that fails or times out adds to a streak of
// consecutive failures (a passing check resets it), except while the task has never passed one
// and the check began within `start_period` of the start; a streak of `retries` makes the task
// FAILED with "task: unhealthy container", and its process is stopped (SIGTERM, then SIGKILL
// after its stop grace). Zero (or negative) values are Docker's defaults: 30 s, 30 s, 3, 0. No
// healthcheck, an empty test, NONE or an unknown first word: no checks, RUNNING once it runs. A
// CMD or CMD-SHELL with nothing to run is a check that always fails, as in Docker.
//
// Stop-first successors: a task that lists tasks in wait_for (a stop-first update's new task,
// core/orchestrator/updater.h) is not started while one of them may still run on this node; it
// starts the moment the last of them ends. One on another node is the dispatcher's to wait for.
//
// Logs: the agent serves `agent.logs` (managers only) with what the runtime kept of a task's
// output (core/api/agent.proto), so the manager answering `shoal service logs` can ask the node
// that runs each task.
//
// Managers: the agent keeps talking to the manager that answered last. When a call fails (the
// manager died, or it is not the leader) it moves to the next manager in the list it is given,
// so a new leader is found within a few hundred milliseconds.
//
//   Agent agent(env, rpc, runtime, [&] { return managers_from_node_info(); }, {.hostname = "w1"});
//   agent.start();
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/api/agent.pb.h"
#include "core/api/dispatcher.pb.h"
#include "core/api/store.pb.h"
#include "core/env/env.h"
#include "core/env/planted_bugs.h"
#include "core/env/runtime.h"
#include "core/rpc/rpc.h"

namespace shoal::agent {

namespace storepb = ::shoal::storepb;
namespace dispatcherpb = ::shoal::dispatcherpb;
namespace managerpb = ::shoal::managerpb;
namespace agentpb = ::shoal::agentpb;

// The Rpc method through which a manager reads a task's output on the node that runs it.
inline constexpr const char* kLogsMethod = "agent.logs";
// The most one agent.logs call returns (what the process runtime keeps of a task).
inline constexpr uint64_t kMaxLogBytes = uint64_t{1} << 20;

// The last `lines` lines of `text` (a last line without its '\n' counts); all of it for 0.
std::string_view last_lines(std::string_view text, uint64_t lines);

struct AgentOptions {
  std::string hostname;
  storepb::NodeDescription description;
  Duration call_timeout = std::chrono::milliseconds(500);
  Duration poll_timeout = std::chrono::seconds(15);  // longer than the dispatcher's long poll
  Duration retry = std::chrono::milliseconds(100);
  // How long status changes gather before a report is sent when none is in flight. While one
  // is in flight, changes gather until it is answered and go in the next. Zero: right after the
  // event that changed them (a rolling update waits on each report: see bench/rolling_update.sh).
  Duration report_every{0};
  // Called with the managers each heartbeat answer names (the node keeps them for next time).
  std::function<void(const google::protobuf::RepeatedPtrField<managerpb::ManagerAddress>&)> on_managers;
  PlantedBugs bugs;  // test-only (core/env/planted_bugs.h)
};

class Agent {
 public:
  using Managers = std::function<std::vector<NodeId>()>;

  Agent(Env& env, Rpc& rpc, Runtime& runtime, Managers managers, AgentOptions options);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  void start();
  // What the next heartbeat tells the dispatcher about this node (after a certificate renewal).
  void set_description(storepb::NodeDescription description) { opts_.description = std::move(description); }

  // What the agent knows, for tests and `shoal info`.
  size_t known_tasks() const { return tasks_.size(); }
  NodeId manager() const { return manager_; }
  bool in_session() const { return !session_id_.empty(); }

  // Aborts (SHOAL_CHECK) if a task ended more than once or is said to have ended without being
  // started, or if a task's state moved back since the previous call.
  void check_invariants() const;

 private:
  // The health checking of one task (tasks whose spec has a usable healthcheck).
  struct Health {
    HealthCheckSpec check;      // an empty argv: nothing to run, every check fails
    Duration interval{};
    Duration start_period{};
    uint64_t retries = 0;
    MonoTime started_at{};      // when its process started (kStarted)
    uint64_t failing_streak = 0;
    bool passed_once = false;   // a check has passed: the task was reported RUNNING
    TimerId timer = 0;          // the next check
    uint64_t check_number = 0;  // the check in flight (0: none); older answers are ignored
    MonoTime check_began{};
  };

  struct Task {
    storepb::TaskObject assigned;   // as the dispatcher last sent it
    storepb::TaskState state = storepb::ASSIGNED;  // as this node last saw it
    bool started = false;   // handed to the runtime
    bool exited = false;
    int exits = 0;  // exits and failures to start the runtime reported: at most one
    bool stop_asked = false;
    int64_t pid = 0;
    std::unique_ptr<Health> health;  // null: no health checks
  };

  void serve_logs(std::string body, Rpc::Reply reply) const;
  void heartbeat();
  void poll();
  void apply(const dispatcherpb::AssignmentsResponse& resp);
  void drive(const std::string& id);
  void forget(const std::string& id);  // the dispatcher no longer lists it
  // The task `t` waits for (TaskObject.wait_for) that may still run here; null: none.
  const std::string* waiting_on(const Task& t) const;
  // Drives the tasks waiting for `ended`, which can run no more.
  void start_waiters(const std::string& ended);
  void on_runtime_event(const TaskEvent& e);
  void schedule_check(const std::string& id);
  void run_check(const std::string& id);
  void on_check(const std::string& id, uint64_t number, const HealthCheckResult& r);
  void stop_checks(Task& t);
  void set_state(const std::string& id, storepb::TaskState state, std::string message, std::string err = "",
                 int exit_code = 0);
  void flush_reports();
  void lose_session();
  void next_manager();

  Env& env_;
  Rpc& rpc_;
  Runtime& runtime_;
  Managers managers_;
  AgentOptions opts_;
  NodeId manager_ = 0;
  size_t manager_index_ = 0;
  std::string session_id_;
  uint64_t known_sequence_ = 0;
  // The assignments poll outstanding: its session and number. A newer poll (a new session, or
  // an answer found lost) supersedes it, and its answer, if it ever comes, is ignored.
  std::string polling_session_;
  uint64_t poll_number_ = 0;
  bool reporting_ = false;
  TimerId heartbeat_timer_ = 0;
  TimerId report_timer_ = 0;
  std::map<std::string, Task> tasks_;
  std::map<std::string, storepb::TaskStatus> unreported_;  // task id -> latest status
  // Each task's state at the previous check_invariants(), for its step check, and how many
  // changes to tasks_ there had been then.
  mutable std::map<std::string, storepb::TaskState> checked_states_;
  uint64_t changes_ = 0;
  mutable uint64_t checked_changes_ = ~uint64_t{0};
  uint64_t check_numbers_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace shoal::agent
