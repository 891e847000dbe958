// Runtime: the seam through which a worker's agent runs tasks.
//
// The agent asks for a task to be started or stopped; the runtime answers with events, always
// delivered on the node's event loop (never from inside start() or stop()), in the order they
// happened for each task: kStarted (or kFailedToStart), then exactly one kExited.
//
// In io_real the default is a process runtime (each task a child process; stdout and stderr
// kept for `shoal service logs`); in io_sim, simulated tasks that take time to start, crash or
// hang as the scenario says.
//
// Health checks (Docker's HEALTHCHECK): check_health() runs one check of a running task — in
// io_real a short-lived child process with the task's environment and working directory, killed
// at its timeout; in io_sim a verdict drawn from the scenario's dice — and calls `done` once, on
// the node's event loop (never from inside check_health()), with its exit code or that it timed
// out. The agent decides what the results mean (interval, retries, start period).
//
//   runtime.set_event_handler([&](const TaskEvent& e) { agent.on_task_event(e); });
//   Status s = runtime.start({.task_id = "t1", .argv = {"/bin/sleep", "30"}});
//   runtime.stop("t1");   // SIGTERM, then SIGKILL after stop_grace; kExited follows
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/env/status.h"
#include "core/env/time.h"

namespace shoal {

struct TaskRunSpec {
  std::string task_id;            // unique on the node; names the task in every event
  std::vector<std::string> argv;  // argv[0] is the program: an absolute path, or found on PATH
  std::vector<std::string> env;   // "KEY=value", added to a minimal environment (PATH, HOME)
  std::string dir;                // working directory; empty: the runtime's own
  Duration stop_grace = std::chrono::seconds(10);
};

// One health check: run `argv` beside the task, give up after `timeout`.
struct HealthCheckSpec {
  std::vector<std::string> argv;  // CMD: the program and its arguments; CMD-SHELL: {"/bin/sh", "-c", cmd}
  Duration timeout = std::chrono::seconds(30);
};

struct HealthCheckResult {
  bool timed_out = false;  // still running at its timeout (and killed)
  int exit_code = 0;       // 0 healthy, anything else unhealthy (Docker's rule)
  std::string error;       // why it did not run, or a short excerpt of what it said
  bool healthy() const { return !timed_out && exit_code == 0; }
};

struct TaskEvent {
  enum class Kind {
    kStarted,        // the program is running (pid set)
    kFailedToStart,  // it never ran (error set): no such program, bad directory, ...
    kExited,         // it ended: exit_code, or signal if a signal ended it
  };
  std::string task_id;
  Kind kind = Kind::kStarted;
  int64_t pid = 0;
  int exit_code = 0;
  int signal = 0;          // 0 unless a signal ended it
  bool stopped = false;    // kExited after stop() was asked for
  std::string error;       // kFailedToStart: why, in words a person can act on
};

class Runtime {
 public:
  virtual ~Runtime() = default;

  virtual void set_event_handler(std::function<void(const TaskEvent&)> handler) = 0;
  // Starts a task. An error means nothing was started and no event will follow (an id already
  // in use, an empty argv); a program that cannot be run is reported as kFailedToStart.
  virtual Status start(const TaskRunSpec& spec) = 0;
  // Asks a running task to stop: SIGTERM, then SIGKILL once its stop_grace has passed. Its
  // kExited follows. Stopping an unknown or already exited task does nothing.
  virtual void stop(const std::string& task_id) = 0;
  // Forgets an exited task and its logs. A running task is stopped first.
  virtual void remove(const std::string& task_id) = 0;
  // What the task wrote to stdout and stderr, interleaved in the order it was read, at most the
  // last `max_bytes`. not_found for a task the runtime does not know.
  virtual Result<std::string> logs(const std::string& task_id, size_t max_bytes) const = 0;
  // Runs one health check of a running task; `done` follows exactly once, on the event loop,
  // even if the task ends meanwhile (unless the runtime is destroyed first). An error means no
  // check runs and `done` will not be called: an unknown task or one not running (not started
  // yet, stopping, ended), an empty argv, or a check of this task already running.
  virtual Status check_health(const std::string& task_id, const HealthCheckSpec& check,
                              std::function<void(const HealthCheckResult&)> done) = 0;
};

}  // namespace shoal
