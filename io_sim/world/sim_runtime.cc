#include "io_sim/world/sim_runtime.h"

namespace shoal::sim {

SimRuntime::SimRuntime(Env& env, TaskFaults faults)
    : env_(env), faults_(faults), rng_(env.rng.next_u64()) {}

SimRuntime::~SimRuntime() { *alive_ = false; }

Duration SimRuntime::draw(Duration lo, Duration hi) {
  if (hi <= lo) return lo;
  return Duration(static_cast<int64_t>(rng_.uniform(static_cast<uint64_t>(lo.count()), static_cast<uint64_t>(hi.count()))));
}

void SimRuntime::emit(TaskEvent e) {
  if (handler_) handler_(e);
}

Status SimRuntime::start(const TaskRunSpec& spec) {
  if (spec.argv.empty()) return Status::invalid_argument("task " + spec.task_id + ": no command to run");
  if (tasks_.count(spec.task_id)) return Status::already_exists("task " + spec.task_id + " is already known here");
  Task& t = tasks_[spec.task_id];
  t.spec = spec;
  const bool fails = faults_on_ && rng_.chance(faults_.fail_start);
  const bool crashes = faults_on_ && rng_.chance(faults_.crash);
  t.hangs = faults_on_ && rng_.chance(faults_.hang);
  const Duration crash_after = draw(faults_.crash_min, faults_.crash_max);
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

void SimRuntime::set_faults_enabled(bool on) {
  faults_on_ = on;
  if (on) return;
  for (auto& [id, t] : tasks_) {
    if (t.crash_armed && t.timer) env_.timers.cancel(t.timer);
    if (t.crash_armed) t.timer = 0;
    t.crash_armed = false;
    t.hangs = false;
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
