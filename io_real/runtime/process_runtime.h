// ProcessRuntime: the Runtime seam (core/env/runtime.h) on Linux child processes.
//
// What it is. Each task is one child process, started with fork and execve:
//   - argv[0] is run as given when it contains a '/', else searched for on the task's PATH (as
//     execvp does, but with the PATH the task will see, not the daemon's);
//   - the environment is PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin and
//     HOME=/, then the task's "KEY=value" entries, which override (the daemon's own environment
//     is not passed on);
//   - the working directory is spec.dir (empty: the daemon's);
//   - stdin is /dev/null; stdout and stderr are two pipes, read asynchronously into the task's
//     log, interleaved in the order the reads completed, keeping the last `log_limit` bytes;
//   - signal dispositions are reset to the defaults and the signal mask is empty;
//   - the child leads its own process group, so every signal the runtime sends reaches the
//     processes the task started as well.
// A program that cannot be run (not found, not executable, bad directory) is detected through a
// close-on-exec pipe the child writes errno into before _exit(127), and is reported as
// kFailedToStart with an error such as
//   cannot run 'foo': No such file or directory (searched PATH=/usr/local/sbin:...)
//   working directory '/nope': No such file or directory
//
// Events. Per task, in this order, each posted onto the io_context (never delivered inside a
// call to this class): kStarted (pid set) or kFailedToStart (error set); then exactly one
// kExited. After kFailedToStart the kExited carries exit_code 127 (program not found) or 126
// (anything else), the shells' convention, and pid 0. Every start() that returns ok is followed
// by exactly one kExited, even when the task is removed before it ends.
//
// Exit. A pidfd per child, waited on by the event loop (no thread, no SIGCHLD handler). When the
// task's process ends, whatever is left of its process group is killed (SIGKILL), as Docker kills
// the rest of a container when its main process ends; this is done before the child is reaped,
// so the group id cannot have been reused. kExited is posted once both output pipes reached end
// of file, so the log is complete when the exit is reported; if a process that left the group
// still holds a pipe open, the pipes are closed after kDrainLimit and the exit reported then.
//
// Starting. start() checks the spec and returns; the child is started on the runtime's spawn
// thread (spawn_thread.h), which waits until it has exec'd (milliseconds each, on a virtual
// machine) so the event loop does not. Starts happen in the order asked for. A stop() or
// remove() that comes before the outcome is known takes effect once it is: a child that did start
// is then stopped as below.
//
// Stop. stop() sends SIGTERM to the task's process group, then SIGKILL to the group once the
// task's stop_grace has passed. kExited then has stopped = true. stop() of a task that is unknown,
// already ended, or already stopping does nothing.
//
// Health checks. check_health() runs the check as a child of its own, with the task's
// environment and working directory (so PATH and relative programs resolve as for the task) and
// its process group of its own, stdin, stdout and stderr on /dev/null; it blocks, as start()
// does, only until the check has exec'd. At its timeout its whole group gets SIGKILL and the
// result says timed_out. A program that cannot run is an unhealthy result (exit code 127 or
// 126, error set), as is a check killed by a signal (128 + signal). A check still running when
// its task's process ends is killed. One check per task at a time.
//
// Destruction. No start begins any more (the spawn thread finishes the one it is in); every task
// and check still running, or started but not yet known to the loop, gets SIGKILL (its whole
// group) and is reaped before the destructor returns (waiting at most kReapLimit per task, for a
// process stuck in the kernel); no event is delivered afterwards, even one already posted. Destroy the runtime before the
// io_context it was given. A daemon that dies without destroying it (SIGKILL) takes its tasks'
// main processes with it (PR_SET_PDEATHSIG): a task never outlives the agent that watches it.
//
// Threads. Every method, and the io_context's run(), on one thread (the node's event loop). The
// runtime starts one thread of its own, the spawn thread, which only starts tasks' children and
// hands the outcome to the loop (a child's PR_SET_PDEATHSIG is tied to the thread that made it,
// so the spawn thread lives as long as the runtime). check_health() starts its check on the loop
// and blocks only until the check has called execve (or failed to).
//
// Requirements on the process. It must not reap children it did not start (no waitpid(-1), no
// SIGCHLD set to SIG_IGN): the runtime reaps its own children by pid.
//
//   boost::asio::io_context io;
//   real::ProcessRuntime runtime(io);
//   runtime.set_event_handler([&](const TaskEvent& e) { agent.on_task_event(e); });
//   Status s = runtime.start({.task_id = "t1", .argv = {"/bin/sh", "-c", "echo hi"}});
//   io.run();  // kStarted, then kExited; runtime.logs("t1", 4096) is "hi\n"
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "core/env/runtime.h"
#include "core/env/status.h"
#include "core/env/time.h"

namespace boost::asio {
class io_context;
}

namespace shoal::real {

class ProcessRuntime final : public Runtime {
 public:
  static constexpr size_t kDefaultLogLimit = size_t{1} << 20;  // bytes of output kept per task
  // How long after a task's process ended its output pipes may stay open before they are closed.
  static constexpr Duration kDrainLimit = std::chrono::seconds(2);
  // How long the destructor waits for one killed task to be reaped.
  static constexpr Duration kReapLimit = std::chrono::seconds(5);

  explicit ProcessRuntime(boost::asio::io_context& io, size_t log_limit = kDefaultLogLimit);
  ~ProcessRuntime() override;
  ProcessRuntime(const ProcessRuntime&) = delete;
  ProcessRuntime& operator=(const ProcessRuntime&) = delete;

  void set_event_handler(std::function<void(const TaskEvent&)> handler) override;
  // Errors (nothing started, no event): an empty or already used task id (a task keeps its id
  // until remove()), an empty argv or argv[0], an env entry that is not KEY=value, a NUL byte in
  // any string.
  Status start(const TaskRunSpec& spec) override;
  void stop(const std::string& task_id) override;
  // An ended task (its kExited posted) is forgotten at once; a running one is stopped and
  // forgotten when its kExited is posted (which still happens).
  void remove(const std::string& task_id) override;
  Result<std::string> logs(const std::string& task_id, size_t max_bytes) const override;
  // Errors (no check runs, `done` is not called): as the seam says, and argv or the task's env
  // failing start()'s checks.
  Status check_health(const std::string& task_id, const HealthCheckSpec& check,
                      std::function<void(const HealthCheckResult&)> done) override;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;  // shared with pending handlers through weak_ptr
};

}  // namespace shoal::real
