// ProcessRuntime on fork/execve, pipes, pidfds and Asio. Layout of this file:
//   helpers  file descriptors, spec checks, the task's environment and PATH candidates
//   child    the code between fork and execve (async-signal-safe calls only)
//   Task     one child: its output pipes, pidfd, timers and log
//   Impl     the task map and the flow start -> (spawn thread) -> kStarted -> end -> drain -> kExited
//
// Lifetime: ProcessRuntime owns Impl through a shared_ptr; every asynchronous handler holds the
// Task it serves (shared_ptr, so its read buffers outlive the operation) and reaches Impl through
// a weak_ptr, doing nothing once Impl is gone or shut down. Everything runs on the loop's thread
// except spawn_blocking(), on the spawn thread, which touches only its job and, under
// spawned_mu, the outcomes it hands over; shut_down() joins it before anything else goes.
#include <utility>  // before Asio (Boost 1.74 with GCC 12 in C++20)

#include "io_real/runtime/process_runtime.h"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "io_real/runtime/spawn_thread.h"
#include "io_real/runtime/tail_buffer.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace shoal::real {

namespace {

namespace asio = boost::asio;
using boost::system::error_code;

constexpr std::string_view kBasePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr size_t kReadChunk = 16 * 1024;  // per output pipe, while it is open
// Re-check for an exit this often in the (not expected) case that the pidfd woke us too early.
constexpr auto kExitPollInterval = std::chrono::milliseconds(10);
// Exit codes reported after kFailedToStart (the shells' convention).
constexpr int kExitNotFound = 127;
constexpr int kExitCannotRun = 126;

// ---- helpers ----------------------------------------------------------------------------------

std::string errno_text(int err) { return std::system_category().message(err); }

int64_t to_ms(Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev != nullptr ? "SIG" + std::string(abbrev) : "signal " + std::to_string(sig);
}

// An owned file descriptor (closed on destruction unless released).
class Fd {
 public:
  Fd() = default;
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int* out() { return &fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// A close-on-exec pipe; errno is set on failure.
bool make_pipe(Fd& read_end, Fd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  *read_end.out() = fds[0];
  *write_end.out() = fds[1];
  return true;
}

Status check_spec(const TaskRunSpec& spec) {
  const auto has_nul = [](const std::string& s) { return s.find('\0') != std::string::npos; };
  if (spec.task_id.empty()) return Status::invalid_argument("task id is empty");
  const std::string task = "task '" + spec.task_id + "': ";
  if (has_nul(spec.task_id)) return Status::invalid_argument("task id contains a NUL byte");
  if (spec.argv.empty() || spec.argv[0].empty()) {
    return Status::invalid_argument(task + "no program to run (argv is empty)");
  }
  for (size_t i = 0; i < spec.argv.size(); ++i) {
    if (has_nul(spec.argv[i])) {
      return Status::invalid_argument(task + "argv[" + std::to_string(i) + "] contains a NUL byte");
    }
  }
  for (const auto& entry : spec.env) {
    if (has_nul(entry)) return Status::invalid_argument(task + "an env entry contains a NUL byte");
    const size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::invalid_argument(task + "env entry '" + entry + "' is not KEY=value");
    }
  }
  if (has_nul(spec.dir)) return Status::invalid_argument(task + "the working directory contains a NUL byte");
  return Status::ok_status();
}

// The environment the task sees: the minimal one, then the task's entries overriding by key.
std::vector<std::string> task_environment(const std::vector<std::string>& env) {
  std::vector<std::string> out = {"PATH=" + std::string(kBasePath), "HOME=/"};
  for (const auto& entry : env) {
    const std::string_view key_eq = std::string_view(entry).substr(0, entry.find('=') + 1);  // "KEY="
    auto it = std::find_if(out.begin(), out.end(), [&](const std::string& e) { return e.starts_with(key_eq); });
    if (it != out.end()) {
      *it = entry;
    } else {
      out.push_back(entry);
    }
  }
  return out;
}

std::string path_of(const std::vector<std::string>& environment) {
  for (const auto& e : environment) {
    if (e.starts_with("PATH=")) return e.substr(5);
  }
  return {};
}

// Where execve is tried, in order: execvp's rule, with the PATH the task will see. Relative
// candidates resolve in the task's working directory, as they would for execvp after chdir.
std::vector<std::string> exec_candidates(const std::string& program, const std::string& path) {
  if (program.find('/') != std::string::npos) return {program};
  std::vector<std::string> out;
  size_t begin = 0;
  while (true) {
    const size_t end = path.find(':', begin);
    const std::string dir = path.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
    out.push_back(dir.empty() ? program : dir + "/" + program);
    if (end == std::string::npos) break;
    begin = end + 1;
  }
  return out;
}

// ---- child ------------------------------------------------------------------------------------

// Everything the child needs, built before fork: after fork the child may only make
// async-signal-safe calls (the daemon has other threads), so no allocation.
struct ChildPlan {
  std::vector<std::string> environment;
  std::string path;
  std::vector<std::string> candidates;
  std::vector<char*> argv;  // null-terminated, pointing into the spec
  std::vector<char*> envp;  // null-terminated, pointing into `environment`
  const char* dir = nullptr;
};

ChildPlan make_plan(const TaskRunSpec& spec) {
  ChildPlan plan;
  plan.environment = task_environment(spec.env);
  plan.path = path_of(plan.environment);
  plan.candidates = exec_candidates(spec.argv[0], plan.path);
  for (const auto& a : spec.argv) plan.argv.push_back(const_cast<char*>(a.c_str()));
  plan.argv.push_back(nullptr);
  for (auto& e : plan.environment) plan.envp.push_back(e.data());
  plan.envp.push_back(nullptr);
  if (!spec.dir.empty()) plan.dir = spec.dir.c_str();
  return plan;
}

// What the child writes into the report pipe when it cannot exec. EOF instead means execve ran.
struct ChildFailure {
  enum Stage : int { kSetup = 1, kChdir = 2, kExec = 3 };
  int stage = 0;
  int err = 0;
};

// Blocks until the child execs (EOF: the pipe is close-on-exec) or reports why it could not:
// true, with `out` filled, when it reported a failure.
bool read_child_failure(int report_fd, ChildFailure& out) {
  size_t got = 0;
  while (got < sizeof out) {
    const ssize_t n = ::read(report_fd, reinterpret_cast<char*>(&out) + got, sizeof out - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  return got == sizeof out;
}

[[noreturn]] void child_fail(int report_fd, int stage, int err) {
  const ChildFailure failure{stage, err};
  ssize_t n;
  do {
    n = ::write(report_fd, &failure, sizeof failure);  // atomic: smaller than PIPE_BUF
  } while (n < 0 && errno == EINTR);
  ::_exit(kExitNotFound);
}

// Runs in the child between fork and execve. Async-signal-safe calls only.
[[noreturn]] void run_child(const ChildPlan& plan, int out_w, int err_w, int report_w, pid_t daemon) {
  ::setpgid(0, 0);  // its own process group (the parent sets it too; whichever runs first wins)
  // A task does not outlive its daemon, even one killed with SIGKILL: the agent that restarts
  // reports such tasks lost and the orchestrator replaces them, so a survivor would be a second
  // copy nobody watches. (If the daemon died before this line, stop here.)
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != daemon) ::_exit(kExitNotFound);

  // Default dispositions (an ignored signal would survive execve), then an empty mask (the
  // parent blocked everything around fork so no parent handler runs here).
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s) {
    if (s != SIGKILL && s != SIGSTOP) ::sigaction(s, &dfl, nullptr);  // fails harmlessly for reserved ones
  }
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  // Move every descriptor we need above 2 first, so dup2 onto 0..2 cannot clobber one of them.
  const int report = ::fcntl(report_w, F_DUPFD_CLOEXEC, 3);
  if (report < 0) ::_exit(kExitNotFound);  // cannot even report; the parent sees a start and exit 127
  const int null_in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_in < 0) child_fail(report, ChildFailure::kSetup, errno);
  const int in3 = ::fcntl(null_in, F_DUPFD_CLOEXEC, 3);
  const int out3 = ::fcntl(out_w, F_DUPFD_CLOEXEC, 3);
  const int err3 = ::fcntl(err_w, F_DUPFD_CLOEXEC, 3);
  if (in3 < 0 || out3 < 0 || err3 < 0) child_fail(report, ChildFailure::kSetup, errno);
  if (::dup2(in3, 0) < 0 || ::dup2(out3, 1) < 0 || ::dup2(err3, 2) < 0) {
    child_fail(report, ChildFailure::kSetup, errno);
  }
  // Nothing else of the daemon's reaches the task, even descriptors opened without O_CLOEXEC.
  ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);

  if (plan.dir != nullptr && ::chdir(plan.dir) != 0) child_fail(report, ChildFailure::kChdir, errno);

  int err = ENOENT;
  bool saw_eacces = false;
  for (const auto& candidate : plan.candidates) {
    ::execve(candidate.c_str(), plan.argv.data(), plan.envp.data());
    err = errno;
    if (err == EACCES) {
      saw_eacces = true;
    } else if (err != ENOENT && err != ENOTDIR && err != ESTALE && err != ENODEV && err != ETIMEDOUT) {
      child_fail(report, ChildFailure::kExec, err);  // found, but it cannot run: stop searching
    }
  }
  child_fail(report, ChildFailure::kExec, saw_eacces ? EACCES : err);
}

// fork() copies the daemon's page tables, which took about 13 ms per task here, so 1,000 tasks
// needed 13 s just to start. clone(CLONE_VM | CLONE_VFORK), as glibc's posix_spawn does, shares
// the daemon's memory instead and holds the daemon until the child has exec'd or given up;
// run_child makes only system calls, on a stack of its own, and gets its own copy of the signal
// handlers (no CLONE_SIGHAND). AddressSanitizer builds keep fork(): its runtime does not follow a
// child running on a foreign stack in the parent's memory.
#if !defined(__SANITIZE_ADDRESS__)
struct CloneArgs {
  const ChildPlan* plan;
  int out_w, err_w, report_w;
  pid_t daemon;
};

int clone_entry(void* p) {
  const auto* a = static_cast<const CloneArgs*>(p);
  run_child(*a->plan, a->out_w, a->err_w, a->report_w, a->daemon);
}
#endif

// The child's pid, or -1 with errno set. Call with every signal blocked.
pid_t spawn_child(const ChildPlan& plan, int out_w, int err_w, int report_w) {
  const pid_t self = ::getpid();
#if defined(__SANITIZE_ADDRESS__)
  const pid_t pid = ::fork();
  if (pid == 0) run_child(plan, out_w, err_w, report_w, self);
  return pid;
#else
  constexpr size_t kStack = 256 * 1024;
  void* stack = ::mmap(nullptr, kStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return -1;
  CloneArgs args{&plan, out_w, err_w, report_w, self};
  const pid_t pid = ::clone(clone_entry, static_cast<char*>(stack) + kStack, CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
  const int saved = errno;
  ::munmap(stack, kStack);
  errno = saved;
  return pid;
#endif
}

// Reaps `pid`, waiting at most `limit`. False if it is still there.
bool reap(pid_t pid, Duration limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR)) return true;  // reaped, or not ours to reap (ECHILD)
    if (r == 0 && std::chrono::steady_clock::now() >= deadline) return false;
    if (r == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// ---- Task -------------------------------------------------------------------------------------

enum class TaskState {
  kSpawning,  // its child is being started on the spawn thread
  kRunning,   // the process has not been reaped
  kDraining,  // reaped; waiting for end of file on its output pipes
  kEnded,     // kExited posted
};

struct Stream {
  explicit Stream(asio::io_context& io) : fd(io) {}
  asio::posix::stream_descriptor fd;
  std::vector<char> buf;  // kReadChunk bytes from open until its last read completed
  bool open = false;
};

struct Task {
  Task(asio::io_context& io, const TaskRunSpec& spec, size_t log_limit)
      : id(spec.task_id),
        program(spec.argv[0]),
        stop_grace(spec.stop_grace),
        env(spec.env),
        dir(spec.dir),
        out(io),
        err(io),
        pidfd(io),
        kill_timer(io),
        poll_timer(io),
        drain_timer(io),
        log(log_limit) {}

  void close_all() {
    error_code ec;
    out.fd.close(ec);
    err.fd.close(ec);
    pidfd.close(ec);
    out.open = err.open = false;
    kill_timer.cancel();
    poll_timer.cancel();
    drain_timer.cancel();
  }

  const std::string id;
  const std::string program;
  const Duration stop_grace;
  const std::vector<std::string> env;  // for its health checks
  const std::string dir;
  pid_t pid = 0;
  TaskState state = TaskState::kSpawning;
  Fd out_r, err_r;  // the output pipes' read ends, while spawning
  bool stop_requested = false;
  bool remove_requested = false;
  int exit_code = 0;
  int signal = 0;
  Stream out;
  Stream err;
  asio::posix::stream_descriptor pidfd;
  asio::steady_timer kill_timer;   // SIGKILL once stop_grace has passed
  asio::steady_timer poll_timer;   // re-check for an exit (rare)
  asio::steady_timer drain_timer;  // stop waiting for the pipes kDrainLimit after the exit
  TailBuffer log;
  bool log_limit_reported = false;
};

// One health check: a child process in its own group, its output discarded, killed at its
// timeout. Lives in Impl::checks from its start until it is reaped.
struct Check {
  explicit Check(asio::io_context& io) : pidfd(io), timer(io) {}
  std::string task_id;
  pid_t pid = 0;
  Duration timeout{};
  bool timed_out = false;
  asio::posix::stream_descriptor pidfd;
  asio::steady_timer timer;  // its timeout
  std::function<void(const HealthCheckResult&)> done;
};

}  // namespace

// ---- Impl -------------------------------------------------------------------------------------

struct ProcessRuntime::Impl : std::enable_shared_from_this<ProcessRuntime::Impl> {
  Impl(asio::io_context& io, size_t log_limit) : io(io), log_limit(log_limit) {}

  asio::io_context& io;
  const size_t log_limit;
  std::function<void(const TaskEvent&)> handler;
  std::map<std::string, std::shared_ptr<Task>> tasks;  // until remove()
  std::map<std::string, std::shared_ptr<Check>> checks;  // by task id, while the check runs
  bool closed = false;                                  // the runtime is being destroyed

  // Delivers `e` on the loop, later, unless the runtime is gone by then.
  void emit(TaskEvent e) {
    asio::post(io, [weak = weak_from_this(), e = std::move(e)] {
      auto self = weak.lock();
      if (!self || self->closed || !self->handler) return;
      auto handler = self->handler;  // the handler may replace itself
      handler(e);
    });
  }

  Status start(const TaskRunSpec& spec) {
    if (Status s = check_spec(spec); !s.ok()) return s;
    if (tasks.contains(spec.task_id)) {
      return Status::already_exists("task '" + spec.task_id + "' already exists on this node");
    }
    auto task = std::make_shared<Task>(io, spec, log_limit);
    tasks.emplace(spec.task_id, task);
    auto job = std::make_shared<SpawnJob>();
    job->spec = spec;
    if (!make_pipe(task->out_r, job->out_w) || !make_pipe(task->err_r, job->err_w) ||
        !make_pipe(job->report_r, job->report_w)) {
      fail_to_start(task, cannot_start(spec.argv[0]) + "pipe: " + errno_text(errno), kExitCannotRun);
      return Status::ok_status();
    }
    // The wait for the exec happens on the spawn thread; the loop hears the outcome in
    // take_spawned().
    spawner.submit([this, job, weak = weak_from_this()] {
      Spawned outcome = spawn_blocking(*job);
      {
        std::lock_guard<std::mutex> lock(spawned_mu);
        spawned.push_back(std::move(outcome));
      }
      asio::post(io, [weak] {
        auto self = weak.lock();
        if (self && !self->closed) self->take_spawned();
      });
    });
    return Status::ok_status();
  }

  // ---- starting on the spawn thread ----

  // What the spawn thread needs to start one task's child; built on the loop.
  struct SpawnJob {
    TaskRunSpec spec;
    Fd out_w, err_w, report_r, report_w;
  };

  // How it went: a pid (running), or why not.
  struct Spawned {
    std::string task_id;
    pid_t pid = -1;
    std::string error;  // set when it did not start
    int exit_code = 0;  // with error: 127 or 126
  };

  std::mutex spawned_mu;
  std::vector<Spawned> spawned;  // guarded by spawned_mu: started on the spawn thread, not yet taken
  // Declared after everything its jobs use; shut_down() stops it before any of it goes.
  SpawnThread spawner;

  // On the spawn thread (every signal blocked there, as spawn_child wants): clone, wait for the
  // exec or the child's report of why not.
  static Spawned spawn_blocking(SpawnJob& job) {
    Spawned out;
    out.task_id = job.spec.task_id;
    const ChildPlan plan = make_plan(job.spec);
    const pid_t pid = spawn_child(plan, job.out_w.get(), job.err_w.get(), job.report_w.get());
    if (pid < 0) {
      out.error = cannot_start(job.spec.argv[0]) + "fork: " + errno_text(errno);
      out.exit_code = kExitCannotRun;
      return out;
    }
    ::setpgid(pid, pid);  // EACCES once the child has exec'd: it set its group itself first
    job.out_w.reset();
    job.err_w.reset();
    job.report_w.reset();
    ChildFailure failure;
    if (read_child_failure(job.report_r.get(), failure)) {
      reap(pid, ProcessRuntime::kReapLimit);  // it is in _exit already
      out.error = describe(failure, job.spec, plan);
      out.exit_code = failure.stage == ChildFailure::kExec && failure.err == ENOENT ? kExitNotFound : kExitCannotRun;
      return out;
    }
    out.pid = pid;
    return out;
  }

  // On the loop: the outcomes the spawn thread has delivered.
  void take_spawned() {
    std::vector<Spawned> done;
    {
      std::lock_guard<std::mutex> lock(spawned_mu);
      done.swap(spawned);
    }
    for (auto& outcome : done) finish_start(outcome);
  }

  void finish_start(const Spawned& outcome) {
    auto it = tasks.find(outcome.task_id);
    if (it == tasks.end() || it->second->state != TaskState::kSpawning) {
      // Cannot happen (a spawning task stays listed until its kExited); never leave a child behind.
      spdlog::error("runtime: a child started for task {} that is no longer waiting for it; killing it",
                    outcome.task_id);
      if (outcome.pid > 0) kill_and_reap(outcome.pid);
      return;
    }
    const std::shared_ptr<Task> task = it->second;
    if (outcome.pid < 0) {
      fail_to_start(task, outcome.error, outcome.exit_code);
      return;
    }

    // Running. Watch its end through a pidfd and its output through the pipes.
    const pid_t pid = outcome.pid;
    task->pid = pid;
    task->state = TaskState::kRunning;
    error_code ec;
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    std::string setup_error;
    if (pidfd < 0) {
      setup_error = "pidfd_open: " + errno_text(errno);
    } else {
      task->pidfd.assign(pidfd, ec);
      if (ec) ::close(pidfd);
      if (!ec) task->out.fd.assign(task->out_r.get(), ec);
      if (!ec) task->out_r.release();
      if (!ec) task->err.fd.assign(task->err_r.get(), ec);
      if (!ec) task->err_r.release();
      if (ec) setup_error = "watching the process: " + ec.message();
    }
    if (!setup_error.empty()) {
      kill_and_reap(pid);
      task->close_all();
      fail_to_start(task, cannot_start(task->program) + setup_error, kExitCannotRun);
      return;
    }

    spdlog::info("runtime: task {} started: pid {}, {}", task->id, pid, task->program);
    TaskEvent started = event(*task, TaskEvent::Kind::kStarted);
    started.pid = pid;
    emit(std::move(started));
    task->out.open = task->err.open = true;
    read_more(task, task->out);
    read_more(task, task->err);
    wait_for_end(task);
    if (task->stop_requested) signal_stop(task);  // stop() came while it was being started
  }

  static void kill_and_reap(pid_t pid) {
    ::kill(-pid, SIGKILL);
    if (!reap(pid, ProcessRuntime::kReapLimit)) {
      spdlog::error("runtime: pid {} did not die within {} ms of SIGKILL; left behind", pid,
                    to_ms(ProcessRuntime::kReapLimit));
    }
  }

  static std::string cannot_start(const std::string& program) { return "cannot start '" + program + "': "; }

  static TaskEvent event(const Task& task, TaskEvent::Kind kind) {
    TaskEvent e;
    e.task_id = task.id;
    e.kind = kind;
    return e;
  }

  static std::string describe(const ChildFailure& failure, const TaskRunSpec& spec, const ChildPlan& plan) {
    const std::string why = errno_text(failure.err);
    switch (failure.stage) {
      case ChildFailure::kChdir:
        return "working directory '" + spec.dir + "': " + why;
      case ChildFailure::kExec:
        if (spec.argv[0].find('/') == std::string::npos) {
          return "cannot run '" + spec.argv[0] + "': " + why + " (searched PATH=" + plan.path + ")";
        }
        return "cannot run '" + spec.argv[0] + "': " + why;
      default:
        return "cannot set up the standard streams of '" + spec.argv[0] + "': " + why;
    }
  }

  // The task never ran: kFailedToStart, then its kExited. It keeps its id until remove() (or
  // leaves now if remove() came while it was being started).
  void fail_to_start(const std::shared_ptr<Task>& task, const std::string& error, int exit_code) {
    spdlog::warn("runtime: task {} failed to start: {}", task->id, error);
    task->out_r.reset();  // the pipes' read ends, if it got that far
    task->err_r.reset();
    task->state = TaskState::kEnded;
    task->exit_code = exit_code;
    TaskEvent failed = event(*task, TaskEvent::Kind::kFailedToStart);
    failed.error = error;
    emit(std::move(failed));
    TaskEvent exited = event(*task, TaskEvent::Kind::kExited);
    exited.exit_code = exit_code;
    emit(std::move(exited));
    if (task->remove_requested) {
      auto it = tasks.find(task->id);
      if (it != tasks.end() && it->second == task) tasks.erase(it);
    }
  }

  void read_more(const std::shared_ptr<Task>& task, Stream& stream) {
    if (stream.buf.empty()) stream.buf.resize(kReadChunk);
    stream.fd.async_read_some(asio::buffer(stream.buf),
                              [weak = weak_from_this(), task, &stream](const error_code& ec, size_t n) {
                                auto self = weak.lock();
                                if (!self || self->closed) return;
                                self->on_read(task, stream, ec, n);
                              });
  }

  void on_read(const std::shared_ptr<Task>& task, Stream& stream, const error_code& ec, size_t n) {
    if (n > 0) append_log(*task, std::string_view(stream.buf.data(), n));
    if (!ec && stream.open) {
      read_more(task, stream);
      return;
    }
    // End of file, an error, or closed by the drain limit: this stream is done.
    std::vector<char>().swap(stream.buf);
    if (stream.open) {
      error_code ignored;
      stream.fd.close(ignored);
      stream.open = false;
    }
    finish_if_drained(task);
  }

  void append_log(Task& task, std::string_view data) {
    task.log.append(data);
    if (task.log.dropped() > 0 && !task.log_limit_reported) {
      task.log_limit_reported = true;
      spdlog::info("runtime: task {}: output is over the log limit; keeping the last {} bytes", task.id,
                   task.log.limit());
    }
  }

  void wait_for_end(const std::shared_ptr<Task>& task) {
    task->pidfd.async_wait(asio::posix::stream_descriptor::wait_read,
                           [weak = weak_from_this(), task](const error_code& ec) {
                             auto self = weak.lock();
                             if (!self || self->closed || ec == asio::error::operation_aborted) return;
                             self->on_process_end(task);
                           });
  }

  void poll_for_end(const std::shared_ptr<Task>& task) {
    task->poll_timer.expires_after(kExitPollInterval);
    task->poll_timer.async_wait([weak = weak_from_this(), task](const error_code& ec) {
      auto self = weak.lock();
      if (!self || self->closed || ec) return;
      self->on_process_end(task);
    });
  }

  // The pidfd is readable: the process has ended (it is a zombie until reaped here).
  void on_process_end(const std::shared_ptr<Task>& task) {
    if (task->state != TaskState::kRunning) return;
    siginfo_t info = {};
    int r;
    do {
      r = ::waitid(P_PID, static_cast<id_t>(task->pid), &info, WEXITED | WNOHANG | WNOWAIT);
    } while (r < 0 && errno == EINTR);
    if (r == 0 && info.si_pid == 0) {  // not ended after all
      poll_for_end(task);
      return;
    }
    if (auto c = checks.find(task->id); c != checks.end()) {
      ::kill(-c->second->pid, SIGKILL);  // a check of a task that ended has nothing to check
    }
    if (r == 0) {
      // Still unreaped, so the group id is still the task's: end what is left of the group.
      ::kill(-task->pid, SIGKILL);
      int status = 0;
      pid_t w;
      do {
        w = ::waitpid(task->pid, &status, 0);  // a zombie: returns at once
      } while (w < 0 && errno == EINTR);
      if (WIFSIGNALED(status)) {
        task->signal = WTERMSIG(status);
      } else {
        task->exit_code = WEXITSTATUS(status);
      }
    } else {
      // Someone else reaped it (the process broke the "no waitpid(-1)" requirement).
      spdlog::error("runtime: task {} (pid {}) was reaped by someone else: {}; exit status unknown", task->id,
                    task->pid, errno_text(errno));
      task->exit_code = -1;
    }
    task->state = TaskState::kDraining;
    error_code ignored;
    task->pidfd.close(ignored);
    task->kill_timer.cancel();
    task->poll_timer.cancel();
    task->drain_timer.expires_after(ProcessRuntime::kDrainLimit);
    task->drain_timer.async_wait([weak = weak_from_this(), task](const error_code& ec) {
      auto self = weak.lock();
      if (!self || self->closed || ec || task->state != TaskState::kDraining) return;
      spdlog::warn("runtime: task {}: output still open {} ms after the process ended (a process outside its "
                   "group holds it); closing it",
                   task->id, to_ms(ProcessRuntime::kDrainLimit));
      error_code ignored;
      task->out.fd.close(ignored);  // pending reads complete with operation_aborted
      task->err.fd.close(ignored);
      task->out.open = task->err.open = false;
      self->finish_if_drained(task);
    });
    finish_if_drained(task);
  }

  // Posts kExited once the process is reaped and both pipes are done.
  void finish_if_drained(const std::shared_ptr<Task>& task) {
    if (task->state != TaskState::kDraining || task->out.open || task->err.open) return;
    task->state = TaskState::kEnded;
    task->drain_timer.cancel();
    if (task->signal != 0) {
      spdlog::info("runtime: task {} (pid {}) ended by {}{}", task->id, task->pid, signal_name(task->signal),
                   task->stop_requested ? " after stop" : "");
    } else {
      spdlog::info("runtime: task {} (pid {}) exited with code {}{}", task->id, task->pid, task->exit_code,
                   task->stop_requested ? " after stop" : "");
    }
    TaskEvent exited = event(*task, TaskEvent::Kind::kExited);
    exited.pid = task->pid;
    exited.exit_code = task->exit_code;
    exited.signal = task->signal;
    exited.stopped = task->stop_requested;
    emit(std::move(exited));
    if (task->remove_requested) {
      auto it = tasks.find(task->id);
      if (it != tasks.end() && it->second == task) tasks.erase(it);
    }
  }

  void stop(const std::string& task_id) {
    auto it = tasks.find(task_id);
    if (it == tasks.end()) return;
    const std::shared_ptr<Task> task = it->second;
    if (task->stop_requested) return;
    if (task->state == TaskState::kSpawning) {
      task->stop_requested = true;  // signalled once its child runs (finish_start)
      return;
    }
    if (task->state != TaskState::kRunning) return;
    task->stop_requested = true;
    signal_stop(task);
  }

  // SIGTERM to the task's group now, SIGKILL once its stop grace has passed.
  void signal_stop(const std::shared_ptr<Task>& task) {
    // The process is not reaped before state leaves kRunning, so -pid is still its group.
    if (::kill(-task->pid, SIGTERM) != 0) {
      spdlog::warn("runtime: task {}: SIGTERM to process group {}: {}", task->id, task->pid, errno_text(errno));
    }
    spdlog::info("runtime: task {}: stopping (SIGTERM to process group {}, SIGKILL in {} ms)", task->id, task->pid,
                 to_ms(task->stop_grace));
    task->kill_timer.expires_after(task->stop_grace);
    task->kill_timer.async_wait([weak = weak_from_this(), task](const error_code& ec) {
      auto self = weak.lock();
      if (!self || self->closed || ec || task->state != TaskState::kRunning) return;
      spdlog::warn("runtime: task {}: still running after its stop grace; SIGKILL to process group {}", task->id,
                   task->pid);
      ::kill(-task->pid, SIGKILL);
    });
  }

  void remove(const std::string& task_id) {
    auto it = tasks.find(task_id);
    if (it == tasks.end()) return;
    if (it->second->state == TaskState::kEnded) {
      tasks.erase(it);
      return;
    }
    it->second->remove_requested = true;
    stop(task_id);
  }

  Result<std::string> logs(const std::string& task_id, size_t max_bytes) const {
    auto it = tasks.find(task_id);
    if (it == tasks.end()) return Status::not_found("no task '" + task_id + "' on this node");
    return it->second->log.tail(max_bytes);
  }

  // ---- health checks ----

  Status check_health(const std::string& task_id, const HealthCheckSpec& check,
                      std::function<void(const HealthCheckResult&)> done) {
    auto it = tasks.find(task_id);
    if (it == tasks.end()) return Status::not_found("no task '" + task_id + "' on this node");
    const Task& task = *it->second;
    if (task.state != TaskState::kRunning || task.stop_requested) {
      return Status::failed_precondition("task '" + task_id + "' is not running");
    }
    if (checks.contains(task_id)) {
      return Status::failed_precondition("a health check of task '" + task_id + "' is already running");
    }
    TaskRunSpec spec;
    spec.task_id = task_id;
    spec.argv = check.argv;
    spec.env = task.env;
    spec.dir = task.dir;
    if (Status s = check_spec(spec); !s.ok()) return s;
    const ChildPlan plan = make_plan(spec);

    auto c = std::make_shared<Check>(io);
    c->task_id = task_id;
    c->timeout = check.timeout;
    c->done = std::move(done);
    HealthCheckResult failed;
    failed.exit_code = -1;

    Fd null_out, report_r, report_w;
    *null_out.out() = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null_out.get() < 0 || !make_pipe(report_r, report_w)) {
      failed.error = "health check: " + errno_text(errno);
      deliver(c, failed);
      return Status::ok_status();
    }
    sigset_t all, old;
    ::sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &old);
    const pid_t pid = spawn_child(plan, null_out.get(), null_out.get(), report_w.get());
    const int fork_errno = errno;
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (pid < 0) {
      failed.error = "health check: fork: " + errno_text(fork_errno);
      deliver(c, failed);
      return Status::ok_status();
    }
    ::setpgid(pid, pid);
    null_out.reset();
    report_w.reset();
    ChildFailure failure;
    const bool child_failed = read_child_failure(report_r.get(), failure);
    report_r.reset();
    if (child_failed) {
      reap(pid, ProcessRuntime::kReapLimit);
      failed.exit_code = failure.stage == ChildFailure::kExec && failure.err == ENOENT ? kExitNotFound : kExitCannotRun;
      failed.error = "health check: " + describe(failure, spec, plan);
      deliver(c, failed);
      return Status::ok_status();
    }
    c->pid = pid;
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    error_code ec;
    if (pidfd >= 0) {
      c->pidfd.assign(pidfd, ec);
      if (ec) ::close(pidfd);
    }
    if (pidfd < 0 || ec) {
      failed.error = "health check: watching the process: " + (pidfd < 0 ? errno_text(errno) : ec.message());
      ::kill(-pid, SIGKILL);
      reap(pid, ProcessRuntime::kReapLimit);
      deliver(c, failed);
      return Status::ok_status();
    }
    checks.emplace(task_id, c);
    c->timer.expires_after(c->timeout);
    c->timer.async_wait([weak = weak_from_this(), c](const error_code& ec) {
      auto self = weak.lock();
      if (!self || self->closed || ec || c->pid == 0) return;
      c->timed_out = true;
      ::kill(-c->pid, SIGKILL);  // not reaped yet (pid is cleared when it is): still its group
    });
    wait_for_check(c);
    return Status::ok_status();
  }

  void wait_for_check(const std::shared_ptr<Check>& c) {
    c->pidfd.async_wait(asio::posix::stream_descriptor::wait_read, [weak = weak_from_this(), c](const error_code& ec) {
      auto self = weak.lock();
      if (!self || self->closed || ec == asio::error::operation_aborted) return;
      self->on_check_end(c);
    });
  }

  void on_check_end(const std::shared_ptr<Check>& c) {
    if (c->pid == 0) return;
    siginfo_t info = {};
    int r;
    do {
      r = ::waitid(P_PID, static_cast<id_t>(c->pid), &info, WEXITED | WNOHANG | WNOWAIT);
    } while (r < 0 && errno == EINTR);
    if (r == 0 && info.si_pid == 0) {  // not ended after all: look again shortly
      auto poll = std::make_shared<asio::steady_timer>(io, kExitPollInterval);
      poll->async_wait([weak = weak_from_this(), c, poll](const error_code& ec) {
        auto self = weak.lock();
        if (!self || self->closed || ec) return;
        self->on_check_end(c);
      });
      return;
    }
    HealthCheckResult result;
    if (r == 0) {
      ::kill(-c->pid, SIGKILL);  // whatever the check left behind in its group
      int status = 0;
      pid_t w;
      do {
        w = ::waitpid(c->pid, &status, 0);
      } while (w < 0 && errno == EINTR);
      result.exit_code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
    } else {
      result.exit_code = -1;
      result.error = "health check: reaped by someone else";
    }
    c->pid = 0;
    c->timer.cancel();
    error_code ignored;
    c->pidfd.close(ignored);
    if (c->timed_out) {
      result.timed_out = true;
      result.exit_code = -1;
      result.error = "Health check exceeded timeout (" + std::to_string(to_ms(c->timeout)) + " ms)";
    }
    auto it = checks.find(c->task_id);
    if (it != checks.end() && it->second == c) checks.erase(it);
    deliver(c, result);
  }

  // Calls the check's `done` on the loop, later, unless the runtime is gone by then.
  void deliver(const std::shared_ptr<Check>& c, HealthCheckResult result) {
    asio::post(io, [weak = weak_from_this(), done = std::move(c->done), result = std::move(result)] {
      auto self = weak.lock();
      if (!self || self->closed || !done) return;
      done(result);
    });
  }

  // Kills and reaps every running task; no event is delivered after this.
  void shut_down() {
    closed = true;
    handler = nullptr;
    // No start begins after this; children started but not yet taken by the loop die here.
    spawner.stop();
    for (const auto& outcome : spawned) {
      if (outcome.pid > 0) kill_and_reap(outcome.pid);
    }
    spawned.clear();
    for (auto& [id, c] : checks) {
      if (c->pid > 0) {
        ::kill(-c->pid, SIGKILL);
        reap(c->pid, ProcessRuntime::kReapLimit);
      }
      c->timer.cancel();
      error_code ignored;
      c->pidfd.close(ignored);
    }
    checks.clear();
    for (auto& [id, task] : tasks) {
      if (task->state == TaskState::kRunning) {
        ::kill(-task->pid, SIGKILL);
        if (!reap(task->pid, ProcessRuntime::kReapLimit)) {
          spdlog::error("runtime: task {} (pid {}) did not die within {} ms of SIGKILL; left behind", id,
                        task->pid,
                        to_ms(ProcessRuntime::kReapLimit));
        } else {
          spdlog::info("runtime: task {} (pid {}) killed: the runtime is shutting down", id, task->pid);
        }
      }
      task->close_all();
    }
    tasks.clear();
  }
};

// ---- ProcessRuntime ---------------------------------------------------------------------------

ProcessRuntime::ProcessRuntime(boost::asio::io_context& io, size_t log_limit)
    : impl_(std::make_shared<Impl>(io, log_limit)) {}

ProcessRuntime::~ProcessRuntime() { impl_->shut_down(); }

void ProcessRuntime::set_event_handler(std::function<void(const TaskEvent&)> handler) {
  impl_->handler = std::move(handler);
}

Status ProcessRuntime::start(const TaskRunSpec& spec) { return impl_->start(spec); }

void ProcessRuntime::stop(const std::string& task_id) { impl_->stop(task_id); }

void ProcessRuntime::remove(const std::string& task_id) { impl_->remove(task_id); }

Result<std::string> ProcessRuntime::logs(const std::string& task_id, size_t max_bytes) const {
  return impl_->logs(task_id, max_bytes);
}

Status ProcessRuntime::check_health(const std::string& task_id, const HealthCheckSpec& check,
                                    std::function<void(const HealthCheckResult&)> done) {
  return impl_->check_health(task_id, check, std::move(done));
}

}  // namespace shoal::real
