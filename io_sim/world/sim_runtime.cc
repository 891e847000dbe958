#include "io_sim/world/sim_runtime.h"

#include <algorithm>
#include <cstdlib>

namespace shoal::sim {

namespace {
// "--sim-unhealthy-chance=P" among a task's arguments: P, else 0.
double flaky_health_chance(const std::vector<std::string>& argv) {
  static constexpr std::string_view kFlag = "--sim-unhealthy-chance=";
  for (const auto& arg : argv) {
    if (arg.rfind(kFlag, 0) != 0) continue;
    const double p = std::strtod(arg.c_str() + kFlag.size(), nullptr);
    return p > 0 && p <= 1 ? p : 0;
  }
  return 0;
}
}  // namespace

SimRuntime::SimRuntime(Env& env, TaskFaults faults)
    : env_(env), faults_(faults), rng_(env.rng.next_u64()) {}

SimRuntime::~SimRuntime() { *alive_ = false; }

Duration SimRuntime::draw(Duration lo, Duration hi) {
  if (hi <= lo) return lo;
  return Duration(static_cast<int64_t>(rng_.uniform(static_cast<uint64_t>(lo.count()), static_cast<uint64_t>(hi.count()))));
}

void SimRuntime::emit(TaskEvent e) {
  ++events_;
  if (handler_) handler_(e);
}

Status SimRuntime::start(const TaskRunSpec& spec) {
  if (spec.argv.empty()) return Status::invalid_argument("task " + spec.task_id + ": no command to run");
  if (tasks_.count(spec.task_id)) return Status::already_exists("task " + spec.task_id + " is already known here");
  Task& t = tasks_[spec.task_id];
  t.spec = spec;
  t.made_to_fail = std::find(spec.argv.begin(), spec.argv.end(), "--sim-fail") != spec.argv.end();
  t.made_unhealthy = std::find(spec.argv.begin(), spec.argv.end(), "--sim-unhealthy") != spec.argv.end();
  const double unhealthy_chance = flaky_health_chance(spec.argv);
  const bool fails = faults_on_ && rng_.chance(faults_.fail_start);
  // A version made to fail (a scenario's failing update): it crashes soon after it starts.
  const bool crashes = t.made_to_fail || (faults_on_ && rng_.chance(faults_.crash));
  t.hangs = faults_on_ && rng_.chance(faults_.hang);
  // Drawn only when asked for, so scenarios without it keep the fates their seeds always had.
  t.unhealthy = t.made_unhealthy;
  if (faults_on_ && faults_.unhealthy > 0 && rng_.chance(faults_.unhealthy)) t.unhealthy = true;
  if (faults_on_ && unhealthy_chance > 0 && rng_.chance(unhealthy_chance)) t.unhealthy = true;
  const Duration crash_after = t.made_to_fail ? draw(std::chrono::milliseconds(100), std::chrono::milliseconds(300))
                                            : draw(faults_.crash_min, faults_.crash_max);
  const std::string id = spec.task_id;
  t.timer = env_.timers.after(draw(faults_.start_min, faults_.start_max), [this, id, fails, crashes, crash_after] {
    auto it = tasks_.find(id);
    if (it == tasks_.end()) return;
    Task& task = it->second;
    task.timer = 0;
    TaskEvent e;
    e.task_id = id;
    if (fails) {
      task.exited = true;
      e.kind = TaskEvent::Kind::kFailedToStart;
      e.error = "simulated: the program could not be started";
      return emit(e);
    }
    task.running = true;
    task.log += "started " + task.spec.argv.front() + "\n";
    e.kind = TaskEvent::Kind::kStarted;
    e.pid = next_pid_++;
    emit(e);  // the handler may stop or remove it: look it up again
    auto again = tasks_.find(id);
    if (crashes && again != tasks_.end() && !again->second.stopping && !again->second.exited) {
      again->second.crash_armed = true;
      again->second.timer = env_.timers.after(crash_after, [this, id] {
        auto it2 = tasks_.find(id);
        if (it2 == tasks_.end() || it2->second.exited) return;
        it2->second.timer = 0;
        it2->second.crash_armed = false;
        it2->second.log += "simulated crash\n";
        exit(id, 1, 0, false);
      });
    }
  });
  return {};
}

void SimRuntime::exit(const std::string& id, int code, int signal, bool stopped) {
  auto it = tasks_.find(id);
  if (it == tasks_.end() || it->second.exited) return;
  it->second.running = false;
  it->second.exited = true;
  TaskEvent e;
  e.task_id = id;
  e.kind = TaskEvent::Kind::kExited;
  e.exit_code = code;
  e.signal = signal;
  e.stopped = stopped;
  const bool forget = it->second.removing;
  emit(e);
  if (forget) tasks_.erase(id);
}

void SimRuntime::stop(const std::string& id) {
  auto it = tasks_.find(id);
  if (it == tasks_.end() || it->second.exited || it->second.stopping) return;
  Task& t = it->second;
  t.stopping = true;
  if (t.timer) env_.timers.cancel(t.timer);
  t.timer = 0;
  t.crash_armed = false;
  if (!t.running) {
    // Never got going: it ends as soon as the runtime notices (a start in progress is abandoned).
    t.timer = env_.timers.after(Duration(0), [this, id] { exit(id, 0, 9, true); });
    return;
  }
  if (t.hangs) {
    t.log += "ignoring SIGTERM\n";
    t.timer = env_.timers.after(t.spec.stop_grace, [this, id] { exit(id, 0, 9, true); });
    return;
  }
  t.timer = env_.timers.after(draw(faults_.stop_min, faults_.stop_max), [this, id] { exit(id, 0, 15, true); });
}

void SimRuntime::remove(const std::string& id) {
  auto it = tasks_.find(id);
  if (it == tasks_.end()) return;
  if (it->second.exited) {
    tasks_.erase(it);
    return;
  }
  // As the process runtime: a task still running is stopped first and forgotten once it exits.
  it->second.removing = true;
  stop(id);
}

Result<std::string> SimRuntime::logs(const std::string& id, size_t max_bytes) const {
  auto it = tasks_.find(id);
  if (it == tasks_.end()) return Status::not_found("no task " + id + " on this node");
  const std::string& log = it->second.log;
  return log.size() <= max_bytes ? log : log.substr(log.size() - max_bytes);
}

Status SimRuntime::check_health(const std::string& id, const HealthCheckSpec& check,
                                std::function<void(const HealthCheckResult&)> done) {
  auto it = tasks_.find(id);
  if (it == tasks_.end()) return Status::not_found("no task " + id + " on this node");
  Task& t = it->second;
  if (!t.running || t.exited || t.stopping) return Status::failed_precondition("task " + id + " is not running");
  if (check.argv.empty()) return Status::invalid_argument("task " + id + ": a health check with no command");
  if (t.checking) return Status::failed_precondition("a health check of task " + id + " is already running");
  t.checking = true;
  const Duration timeout = std::max(check.timeout, Duration::zero());
  const Duration takes = draw(faults_.check_min, faults_.check_max);
  const bool slow = takes >= timeout;  // too slow even when healthy
  // An unhealthy task's check hangs one time in four (drawn only for unhealthy tasks).
  const bool hangs = t.unhealthy && rng_.chance(0.25);
  env_.timers.after(hangs ? timeout : std::min(takes, timeout), [this, id, slow, hangs, done = std::move(done)] {
    HealthCheckResult r;
    auto it2 = tasks_.find(id);
    const bool unhealthy = it2 == tasks_.end() || it2->second.unhealthy;
    if (it2 != tasks_.end()) it2->second.checking = false;
    if (slow || (hangs && unhealthy)) {
      r.timed_out = true;
      r.exit_code = -1;
      r.error = "simulated: health check timed out";
    } else if (unhealthy) {
      r.exit_code = 1;
      r.error = "simulated: unhealthy";
    }
    if (r.exit_code != 0 && it2 != tasks_.end()) it2->second.log += "simulated health check failed\n";
    done(r);
  });
  return {};
}

void SimRuntime::set_faults_enabled(bool on) {
  faults_on_ = on;
  if (on) return;
  for (auto& [id, t] : tasks_) {
    if (t.made_to_fail || t.made_unhealthy) continue;  // not a fault: what that version does
    if (t.crash_armed && t.timer) env_.timers.cancel(t.timer);
    if (t.crash_armed) t.timer = 0;
    t.crash_armed = false;
    t.hangs = false;
    t.unhealthy = false;
  }
}

std::vector<std::string> SimRuntime::running() const {
  std::vector<std::string> out;
  for (const auto& [id, t] : tasks_) {
    if (t.running && !t.exited) out.push_back(id);
  }
  return out;
}

}  // namespace shoal::sim
