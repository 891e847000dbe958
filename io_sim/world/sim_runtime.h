// SimRuntime: the Runtime seam (core/env/runtime.h) for simulated workers. A task is no process:
// it takes a while to start, and then runs until it is stopped — unless the scenario's dice say
// it fails to start, crashes after a while, or hangs (ignores SIGTERM and is killed once its stop
// grace has passed). Every event arrives on the node's own timers, so a crashed node's tasks
// vanish with it, as processes do when their host dies.
//
// Health checks: a task is drawn unhealthy (probability `unhealthy`) when it starts; every check
// of an unhealthy task fails (exit 1, or, one time in four, hangs until its timeout), every check
// of a healthy one passes; each answer comes check_min..check_max after the check began.
//
// The dice come from the node's own random stream, so the same seed gives the same fates. A
// task's arguments can set its fate too (what a scenario's service or update version does, not a
// fault, so it outlives set_faults_enabled(false)): `--sim-fail` crashes 100 to 300 ms after it
// starts; `--sim-unhealthy` fails every health check. `--sim-unhealthy-chance=P` is a fault: the
// task is unhealthy with probability P (a service with flaky health).
//
//   SimRuntime rt(env, {.start_min = 50ms, .start_max = 500ms, .crash = 0.05});
//   rt.set_event_handler([&](const TaskEvent& e) { agent.on_task_event(e); });
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/env/env.h"
#include "core/env/runtime.h"

namespace shoal::sim {

struct TaskFaults {
  Duration start_min = std::chrono::milliseconds(20);
  Duration start_max = std::chrono::milliseconds(300);
  double fail_start = 0;   // probability a task never runs (kFailedToStart)
  double crash = 0;        // probability a running task exits with code 1 by itself...
  Duration crash_min = std::chrono::seconds(1);   // ...after running this long
  Duration crash_max = std::chrono::seconds(10);
  double hang = 0;         // probability a task ignores SIGTERM (killed after its stop grace)
  Duration stop_min = std::chrono::milliseconds(1);  // how long a well-behaved task takes to exit
  Duration stop_max = std::chrono::milliseconds(50);
  double unhealthy = 0;    // probability a task's health checks all fail
  Duration check_min = std::chrono::milliseconds(1);  // how long a health check takes
  Duration check_max = std::chrono::milliseconds(20);
};

class SimRuntime final : public Runtime {
 public:
  SimRuntime(Env& env, TaskFaults faults);
  ~SimRuntime() override;

  void set_event_handler(std::function<void(const TaskEvent&)> handler) override { handler_ = std::move(handler); }
  Status start(const TaskRunSpec& spec) override;
  void stop(const std::string& task_id) override;
  void remove(const std::string& task_id) override;
  Result<std::string> logs(const std::string& task_id, size_t max_bytes) const override;
  Status check_health(const std::string& task_id, const HealthCheckSpec& check,
                      std::function<void(const HealthCheckResult&)> done) override;

  // Faults stop (the liveness phase): tasks started from now on neither fail nor crash nor hang
  // nor are unhealthy. Turning them off also calls off the crashes already drawn for running
  // tasks, and makes every task healthy.
  void set_faults_enabled(bool on);
  // Tasks that are running now (started and not exited), for the checkers.
  std::vector<std::string> running() const;
  // Task events so far: while it stays the same, running() does too.
  uint64_t events() const { return events_; }

 private:
  struct Task {
    TaskRunSpec spec;
    bool running = false;
    bool exited = false;
    bool stopping = false;
    bool hangs = false;
    bool removing = false;  // forget it once it has exited
    bool crash_armed = false;  // `timer` is its crash
    bool unhealthy = false;    // its health checks fail
    bool checking = false;     // a health check is running
    bool made_to_fail = false;  // --sim-fail: crashes whatever the faults
    bool made_unhealthy = false;  // --sim-unhealthy: every health check fails whatever the faults
    TimerId timer = 0;   // the pending start, crash or exit
    std::string log;
  };
  Duration draw(Duration lo, Duration hi);
  void emit(TaskEvent e);
  void exit(const std::string& id, int code, int signal, bool stopped);

  Env& env_;
  TaskFaults faults_;
  Rng rng_;
  bool faults_on_ = true;
  int64_t next_pid_ = 100;
  uint64_t events_ = 0;
  std::map<std::string, Task> tasks_;
  std::function<void(const TaskEvent&)> handler_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace shoal::sim
