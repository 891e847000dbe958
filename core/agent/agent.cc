#include "core/agent/agent.h"

#include <algorithm>
#include <set>

#include "core/env/check.h"
#include "core/env/probe.h"
#include "core/store/task_name.h"

namespace shoal::agent {
namespace {

// Docker's defaults for a HealthConfig's zero values.
constexpr Duration kDefaultHealthInterval = std::chrono::seconds(30);
constexpr Duration kDefaultHealthTimeout = std::chrono::seconds(30);
constexpr uint64_t kDefaultHealthRetries = 3;
constexpr Duration kMinHealthInterval = std::chrono::milliseconds(1);  // Docker's lower bound
constexpr const char* kUnhealthy = "task: unhealthy container";

Duration or_default(int64_t ns, Duration fallback) { return ns > 0 ? Duration(ns) : fallback; }

TaskRunSpec run_spec(const storepb::TaskObject& t) {
  TaskRunSpec spec;
  spec.task_id = t.id();
  const auto& c = t.spec().container();
  spec.argv.assign(c.command().begin(), c.command().end());
  spec.argv.insert(spec.argv.end(), c.args().begin(), c.args().end());
  spec.env.assign(c.env().begin(), c.env().end());
  spec.dir = c.dir();
  if (c.stop_grace_period_ns() > 0) spec.stop_grace = Duration(c.stop_grace_period_ns());
  return spec;
}

// What the agent keeps of a task's healthcheck; null when it has none to run (no test, NONE, or
// an unknown kind, which Docker also ignores).
template <typename Health>
std::unique_ptr<Health> health_of(const storepb::TaskObject& t) {
  if (!t.spec().container().has_healthcheck()) return nullptr;
  const auto& hc = t.spec().container().healthcheck();
  if (hc.test().empty()) return nullptr;
  const std::string& kind = hc.test(0);
  if (kind != "CMD" && kind != "CMD-SHELL") return nullptr;
  auto h = std::make_unique<Health>();
  if (kind == "CMD") {
    h->check.argv.assign(hc.test().begin() + 1, hc.test().end());
    if (!h->check.argv.empty() && h->check.argv[0].empty()) h->check.argv.clear();
  } else if (hc.test_size() >= 2 && !hc.test(1).empty()) {
    h->check.argv = {"/bin/sh", "-c", hc.test(1)};
  }
  h->check.timeout = or_default(hc.timeout_ns(), kDefaultHealthTimeout);
  h->interval = std::max(or_default(hc.interval_ns(), kDefaultHealthInterval), kMinHealthInterval);
  h->start_period = or_default(hc.start_period_ns(), Duration::zero());
  h->retries = hc.retries() > 0 ? hc.retries() : kDefaultHealthRetries;
  return h;
}

}  // namespace

std::string_view last_lines(std::string_view text, uint64_t lines) {
  if (lines == 0) return text;
  // A final line without its newline is a line too; a final newline does not start one.
  size_t end = text.size();
  if (end > 0 && text[end - 1] == '\n') --end;
  while (end > 0) {
    const size_t nl = text.rfind('\n', end - 1);
    if (nl == std::string_view::npos) return text;
    if (--lines == 0) return text.substr(nl + 1);
    end = nl;
  }
  return text;
}

Agent::Agent(Env& env, Rpc& rpc, Runtime& runtime, Managers managers, AgentOptions options)
    : env_(env), rpc_(rpc), runtime_(runtime), managers_(std::move(managers)), opts_(std::move(options)) {
  std::weak_ptr<bool> alive = alive_;
  runtime_.set_event_handler([this, alive](const TaskEvent& e) {
    if (!alive.expired() && *alive.lock()) on_runtime_event(e);
  });
  // The Rpc keeps the handler after this agent is gone (a demoted or restarted agent): it then
  // answers unavailable.
  rpc_.serve(kLogsMethod, RpcAccess::kManagerOnly, [this, alive](const PeerIdentity*, std::string body, Rpc::Reply reply) {
    if (alive.expired() || !*alive.lock()) return reply(Status::unavailable("this node's agent is not running"), "");
    serve_logs(std::move(body), std::move(reply));
  });
}

Agent::~Agent() {
  *alive_ = false;
  env_.timers.cancel(heartbeat_timer_);
  env_.timers.cancel(report_timer_);
  for (auto& [id, t] : tasks_) stop_checks(t);
  runtime_.set_event_handler([](const TaskEvent&) {});
}

void Agent::start() {
  // The first manager in the list first (a manager's own agent: itself).
  const std::vector<NodeId> ms = managers_();
  manager_index_ = 0;
  manager_ = ms.empty() ? 0 : ms[0];
  heartbeat();
}

// ---- logs ------------------------------------------------------------------------------------

void Agent::serve_logs(std::string body, Rpc::Reply reply) const {
  agentpb::LogsRequest req;
  if (!req.ParseFromString(body) || req.task_id().empty()) {
    return reply(Status::invalid_argument("agent.logs: a request names one task"), "");
  }
  const uint64_t max = req.max_bytes() == 0 ? kMaxLogBytes : std::min(req.max_bytes(), kMaxLogBytes);
  auto logs = runtime_.logs(req.task_id(), static_cast<size_t>(max));
  if (!logs.ok()) {
    if (logs.status().code() == StatusCode::kNotFound) {
      return reply(Status::not_found("task " + req.task_id() + " has no logs on node " + opts_.hostname), "");
    }
    return reply(logs.status(), "");
  }
  agentpb::LogsResponse resp;
  resp.set_data(std::string(last_lines(*logs, req.tail_lines())));
  reply({}, resp.SerializeAsString());
}

// ---- session ---------------------------------------------------------------------------------

void Agent::heartbeat() {
  std::weak_ptr<bool> alive = alive_;
  if (manager_ == 0) {
    next_manager();
    heartbeat_timer_ = env_.timers.after(opts_.retry, [this, alive] {
      if (!alive.expired() && *alive.lock()) heartbeat();
    });
    return;
  }
  dispatcherpb::HeartbeatRequest req;
  req.set_session_id(session_id_);
  req.set_hostname(opts_.hostname);
  *req.mutable_description() = opts_.description;
  // The poll outstanding as this heartbeat leaves: the dispatcher has seen it by the time it
  // answers (one connection keeps them in order), unless it was lost.
  const uint64_t poll_before = polling_session_.empty() ? 0 : poll_number_;
  rpc_.call(manager_, "dispatcher.heartbeat", req.SerializeAsString(), opts_.call_timeout,
            [this, alive, poll_before](Status s, std::string body) {
              if (alive.expired() || !*alive.lock()) return;
              dispatcherpb::HeartbeatResponse resp;
              if (s.ok() && !resp.ParseFromString(body)) s = Status::invalid_argument("heartbeat reply does not parse");
              Duration next = opts_.retry;
              if (s.ok() && opts_.on_managers && resp.managers_size() > 0) opts_.on_managers(resp.managers());
              const bool redirected = s.ok() && resp.session_id().empty();
              if (redirected && resp.leader() != 0 && resp.leader() != manager_) {
                // Not the leader, but it names the one that is: go there at once.
                session_id_.clear();
                manager_ = resp.leader();
                next = Duration::zero();
              } else if (!s.ok() || redirected) {
                lose_session();  // failed, or no leader known (an election): the next manager, shortly
              } else {
                if (resp.session_id() != session_id_) {
                  session_id_ = resp.session_id();
                  known_sequence_ = 0;  // a new session: the next answer is everything
                }
                next = std::chrono::milliseconds(std::max<int64_t>(resp.period_ms(), 50));
                if (poll_before != 0 && poll_before == poll_number_ && !polling_session_.empty() &&
                    !resp.poll_waiting()) {
                  polling_session_.clear();  // the poll or its answer was lost: ask again
                }
                poll();
                flush_reports();
              }
              heartbeat_timer_ = env_.timers.after(next, [this, alive] {
                if (!alive.expired() && *alive.lock()) heartbeat();
              });
            });
}

void Agent::lose_session() {
  session_id_.clear();
  next_manager();
}

void Agent::next_manager() {
  const std::vector<NodeId> ms = managers_();
  if (ms.empty()) {
    manager_ = 0;
    return;
  }
  manager_index_ = (manager_index_ + 1) % ms.size();
  manager_ = ms[manager_index_];
}

void Agent::poll() {
  if (session_id_.empty() || polling_session_ == session_id_) return;
  polling_session_ = session_id_;
  const uint64_t number = ++poll_number_;
  dispatcherpb::AssignmentsRequest req;
  req.set_session_id(session_id_);
  req.set_known_sequence(known_sequence_);
  const std::string session = session_id_;
  std::weak_ptr<bool> alive = alive_;
  rpc_.call(manager_, "dispatcher.assignments", req.SerializeAsString(), opts_.poll_timeout,
            [this, alive, session, number](Status s, std::string body) {
              if (alive.expired() || !*alive.lock()) return;
              if (number != poll_number_) return;  // superseded by a newer poll
              polling_session_.clear();
              dispatcherpb::AssignmentsResponse resp;
              if (!s.ok() || session != session_id_ || !resp.ParseFromString(body)) return;  // the heartbeat re-polls
              apply(resp);
              poll();
            });
}

// ---- tasks -----------------------------------------------------------------------------------

void Agent::apply(const dispatcherpb::AssignmentsResponse& resp) {
  ++changes_;
  known_sequence_ = resp.sequence();
  if (resp.full()) {
    // Everything the node should know: forget the rest.
    std::set<std::string> listed;
    for (const auto& t : resp.tasks()) listed.insert(t.id());
    std::vector<std::string> unlisted;
    for (const auto& [id, task] : tasks_) {
      if (!listed.count(id)) unlisted.push_back(id);
    }
    for (const auto& id : unlisted) forget(id);
  }
  for (const auto& id : resp.removed()) forget(id);
  std::vector<std::string> changed;
  for (const auto& t : resp.tasks()) {
    auto [it, fresh] = tasks_.try_emplace(t.id());
    it->second.assigned = t;
    changed.push_back(t.id());
    if (!fresh) {
      if (opts_.bugs.agent_takes_stale_state) it->second.state = t.status().state();
      continue;
    }
    it->second.state = std::max(t.status().state(), storepb::ASSIGNED);
    if (t.status().state() > storepb::ASSIGNED && t.status().state() <= storepb::RUNNING) {
      // It ran under an earlier life of this agent, whose runtime is gone: say it is lost, so
      // the orchestrator replaces it, rather than start a second copy.
      it->second.started = it->second.exited = true;
      SHOAL_PROBE("agent.task_of_earlier_life_orphaned");
      // ORPHANED, not FAILED: the task did not fail, its node's agent lost it; it is replaced
      // without counting against its restart policy or a rolling update.
      set_state(t.id(), storepb::ORPHANED, "task lost: the node's agent restarted",
                "task lost: the node's agent restarted");
    }
  }
  for (const auto& id : changed) drive(id);
}

void Agent::forget(const std::string& id) {
  ++changes_;
  if (auto it = tasks_.find(id); it != tasks_.end()) stop_checks(it->second);
  runtime_.remove(id);  // stops it first if it still runs
  tasks_.erase(id);
  unreported_.erase(id);
  start_waiters(id);
}

const std::string* Agent::waiting_on(const Task& t) const {
  for (const auto& id : t.assigned.wait_for()) {
    auto it = tasks_.find(id);
    if (it == tasks_.end()) continue;  // not here: the dispatcher sent this task once it had ended
    const Task& w = it->second;
    // Started: until its process is known to have ended. Not started: unless it never will.
    const bool may_run =
        w.started ? !w.exited : w.assigned.desired_state() <= storepb::RUNNING && w.state <= storepb::RUNNING;
    if (may_run) return &id;
  }
  return nullptr;
}

void Agent::start_waiters(const std::string& ended) {
  std::vector<std::string> ready;
  for (const auto& [id, t] : tasks_) {
    if (t.started || t.assigned.wait_for().empty()) continue;
    const auto& w = t.assigned.wait_for();
    if (std::find(w.begin(), w.end(), ended) != w.end()) ready.push_back(id);
  }
  for (const auto& id : ready) drive(id);
}

// Moves one task toward what the dispatcher wants of it.
void Agent::drive(const std::string& id) {
  auto it = tasks_.find(id);
  if (it == tasks_.end()) return;
  Task& t = it->second;
  const bool wanted = t.assigned.desired_state() <= storepb::RUNNING;
  if (opts_.bugs.agent_restarts_ended_tasks && wanted && t.exits > 0) {
    t.started = t.exited = false;
  } else if (t.state > storepb::RUNNING) {
    return;  // it has ended; the orchestrator decides what next
  }
  if (!wanted) {
    if (t.started && !t.exited) {
      if (!t.stop_asked) {
        t.stop_asked = true;
        stop_checks(t);
        runtime_.stop(id);
      }
    } else if (!t.started) {
      set_state(id, storepb::SHUTDOWN, "shutdown before it started");
      start_waiters(id);
    }
    return;
  }
  if (t.started) return;
  if (waiting_on(t)) {
    SHOAL_PROBE("agent.successor_waits_for_old_task");
    return;  // a stop-first successor: started when its old task ends
  }
  t.started = true;
  set_state(id, storepb::ACCEPTED, "accepted");
  set_state(id, storepb::PREPARING, "preparing");
  set_state(id, storepb::STARTING, "starting");
  if (Status s = runtime_.start(run_spec(t.assigned)); !s.ok()) {
    t.exited = true;
    ++t.exits;
    ++changes_;
    set_state(id, storepb::FAILED, "could not start", s.message());
    start_waiters(id);
  }
}

void Agent::on_runtime_event(const TaskEvent& e) {
  auto it = tasks_.find(e.task_id);
  if (it == tasks_.end()) return;
  Task& t = it->second;
  switch (e.kind) {
    case TaskEvent::Kind::kStarted:
      t.pid = e.pid;
      t.health = health_of<Health>(t.assigned);
      if (t.health && t.state <= storepb::RUNNING) {
        // Docker's way: STARTING until the first check passes.
        t.health->started_at = env_.clock.monotonic_now();
        set_state(e.task_id, storepb::STARTING, "starting");
        schedule_check(e.task_id);
      } else {
        set_state(e.task_id, storepb::RUNNING, "started");
      }
      // Told to stop while it was starting.
      if (t.assigned.desired_state() > storepb::RUNNING) drive(e.task_id);
      break;
    case TaskEvent::Kind::kFailedToStart:
      t.exited = true;
      ++t.exits;
      ++changes_;
    ++changes_;
      stop_checks(t);
      set_state(e.task_id, storepb::FAILED, "could not start", e.error);
      start_waiters(e.task_id);
      break;
    case TaskEvent::Kind::kExited: {
      t.exited = true;
      ++t.exits;
      ++changes_;
    ++changes_;
      stop_checks(t);
      if (t.state > storepb::RUNNING) break;  // already ended (it could not start): keep that reason
      if (t.stop_asked || e.stopped) {
        set_state(e.task_id, storepb::SHUTDOWN, "shutdown", "", e.exit_code);
      } else if (e.signal != 0) {
        set_state(e.task_id, storepb::FAILED, "task: killed by signal " + std::to_string(e.signal),
                  "task: killed by signal " + std::to_string(e.signal), 128 + e.signal);
      } else if (e.exit_code != 0) {
        const std::string why = "task: non-zero exit (" + std::to_string(e.exit_code) + ")";
        set_state(e.task_id, storepb::FAILED, why, why, e.exit_code);
      } else {
        set_state(e.task_id, storepb::COMPLETE, "finished", "", 0);
      }
      break;
    }
  }
  if (e.kind == TaskEvent::Kind::kExited) start_waiters(e.task_id);
}

// ---- health checks ---------------------------------------------------------------------------

void Agent::stop_checks(Task& t) {
  if (!t.health) return;
  env_.timers.cancel(t.health->timer);
  t.health->timer = 0;
  t.health->check_number = 0;  // an answer still coming is ignored
}

void Agent::schedule_check(const std::string& id) {
  auto it = tasks_.find(id);
  if (it == tasks_.end() || !it->second.health) return;
  Health& h = *it->second.health;
  env_.timers.cancel(h.timer);
  std::weak_ptr<bool> alive = alive_;
  h.timer = env_.timers.after(h.interval, [this, alive, id] {
    if (alive.expired() || !*alive.lock()) return;
    run_check(id);
  });
}

void Agent::run_check(const std::string& id) {
  auto it = tasks_.find(id);
  if (it == tasks_.end() || !it->second.health) return;
  Task& t = it->second;
  Health& h = *t.health;
  h.timer = 0;
  if (t.exited || t.stop_asked || t.state > storepb::RUNNING) return;
  const uint64_t number = ++check_numbers_;
  h.check_number = number;
  h.check_began = env_.clock.monotonic_now();
  if (h.check.argv.empty()) {
    HealthCheckResult nothing;
    nothing.exit_code = -1;
    nothing.error = "the healthcheck has no command to run";
    return on_check(id, number, nothing);
  }
  std::weak_ptr<bool> alive = alive_;
  Status s = runtime_.check_health(id, h.check, [this, alive, id, number](const HealthCheckResult& r) {
    if (alive.expired() || !*alive.lock()) return;
    on_check(id, number, r);
  });
  if (!s.ok()) {
    HealthCheckResult refused;
    refused.exit_code = -1;
    refused.error = s.message();
    on_check(id, number, refused);
  }
}

void Agent::on_check(const std::string& id, uint64_t number, const HealthCheckResult& r) {
  auto it = tasks_.find(id);
  if (it == tasks_.end() || !it->second.health || it->second.health->check_number != number) return;
  Task& t = it->second;
  Health& h = *t.health;
  h.check_number = 0;
  if (t.exited || t.stop_asked || t.state > storepb::RUNNING) return;
  if (r.healthy()) {
    h.failing_streak = 0;
    if (!h.passed_once) {
      h.passed_once = true;
      set_state(id, storepb::RUNNING, "started");
    }
  } else if (h.passed_once || h.check_began - h.started_at >= h.start_period) {
    // Docker counts no failure while the task has never been healthy and is in its start period.
    if (++h.failing_streak >= h.retries) {
      stop_checks(t);
      set_state(id, storepb::FAILED, kUnhealthy, kUnhealthy);
      t.stop_asked = true;
      runtime_.stop(id);
      return;
    }
  }
  schedule_check(id);
}

void Agent::set_state(const std::string& id, storepb::TaskState state, std::string message, std::string err,
                      int exit_code) {
  auto it = tasks_.find(id);
  if (it == tasks_.end() || state < it->second.state) return;
  if (state != it->second.state) {
    // Failures at info (an operator wants to see why a task died), the rest at debug.
    const LogLevel level = state == storepb::FAILED || state == storepb::REJECTED ? LogLevel::kInfo : LogLevel::kDebug;
    if (env_.log.enabled(level)) {
      env_.log.write(level, "agent",
                     fmt::format("task {} ({}) {}: {}", store::task_name(it->second.assigned), id,
                                 storepb::TaskState_Name(state), err.empty() ? message : err));
    }
  }
  it->second.state = state;
  ++changes_;
  storepb::TaskStatus& st = unreported_[id];
  st.set_state(state);
  st.set_timestamp_ns(env_.clock.wall_now_unix_ns());
  st.set_message(std::move(message));
  st.set_err(std::move(err));
  st.set_exit_code(exit_code);
  // Each report carries the task's pid once it has one (a report may hold only a later state).
  if (it->second.pid != 0) st.set_pid(it->second.pid);
  if (!report_timer_) {
    std::weak_ptr<bool> alive = alive_;
    report_timer_ = env_.timers.after(opts_.report_every, [this, alive] {
      if (alive.expired() || !*alive.lock()) return;
      report_timer_ = 0;
      flush_reports();
    });
  }
}

void Agent::flush_reports() {
  if (reporting_ || unreported_.empty() || session_id_.empty()) return;
  dispatcherpb::StatusReport req;
  req.set_session_id(session_id_);
  std::map<std::string, std::string> sent;  // task id -> the status sent, serialized
  for (const auto& [id, st] : unreported_) {
    auto* u = req.add_updates();
    u->set_task_id(id);
    *u->mutable_status() = st;
    sent[id] = st.SerializeAsString();
  }
  reporting_ = true;
  std::weak_ptr<bool> alive = alive_;
  rpc_.call(manager_, "dispatcher.report", req.SerializeAsString(), opts_.call_timeout,
            [this, alive, sent](Status s, std::string) {
              if (alive.expired() || !*alive.lock()) return;
              reporting_ = false;
              if (!s.ok()) return;  // kept; the next heartbeat sends them again
              // A status changed while the report travelled (a later state, or the same state
              // now with its pid) is still to be sent.
              for (const auto& [id, status] : sent) {
                auto it = unreported_.find(id);
                if (it != unreported_.end() && it->second.SerializeAsString() == status) unreported_.erase(it);
              }
              if (!unreported_.empty()) flush_reports();
            });
}

void Agent::check_invariants() const {
  // Tasks change only in apply, forget, set_state and where an exit is counted, each of which
  // counts a change: with none since the last check, nothing can have broken.
  if (changes_ == checked_changes_) return;
  checked_changes_ = changes_;
  for (const auto& [id, t] : tasks_) {
    SHOAL_CHECK(t.exits <= 1, "agent: task %s ended %d times", id.c_str(), t.exits);
    SHOAL_CHECK(t.started || (!t.exited && !t.stop_asked), "agent: task %s ended or was stopped but never started",
                id.c_str());
    if (auto it = checked_states_.find(id); it != checked_states_.end()) {
      SHOAL_CHECK(t.state >= it->second, "agent: task %s went back from %s to %s", id.c_str(),
                  storepb::TaskState_Name(it->second).c_str(), storepb::TaskState_Name(t.state).c_str());
    }
  }
  checked_states_.clear();
  for (const auto& [id, t] : tasks_) checked_states_.emplace(id, t.state);
}

}  // namespace shoal::agent
