// ProcessRuntime with real child processes (/bin/sh, /bin/sleep, ... from Debian). Each test runs
// its own io_context in the test thread; every wait is a bounded loop of io.run_for() slices until
// the expected events arrive (no sleeps as synchronization), and fails if they do not in time.
#include <utility>  // before Asio (Boost 1.74 with GCC 12 in C++20)

#include "io_real/runtime/process_runtime.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace shoal::real {
namespace {

namespace asio = boost::asio;
using Kind = TaskEvent::Kind;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr milliseconds kWait{5000};  // the most any test waits for one thing

// True once `pid` is gone or a zombie (a zombie no longer runs; its reaper may be slow to act).
bool process_gone(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  const size_t paren = line.rfind(')');
  if (paren == std::string::npos || paren + 2 >= line.size()) return false;
  const char state = line[paren + 2];
  return state == 'Z' || state == 'X';
}

// The pids of this test process's children (zombies included) whose program is `comm`.
std::vector<pid_t> children_named(const std::string& comm) {
  std::vector<pid_t> out;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return out;
  while (const dirent* entry = ::readdir(proc)) {
    const pid_t pid = static_cast<pid_t>(std::atol(entry->d_name));
    if (pid <= 0) continue;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    const size_t open = line.find('(');
    const size_t close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close < open) continue;
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    long ppid = 0;
    rest >> state >> ppid;
    if (ppid == ::getpid() && line.substr(open + 1, close - open - 1) == comm) out.push_back(pid);
  }
  ::closedir(proc);
  return out;
}

// (Designated initializers would trip -Wmissing-field-initializers on TaskRunSpec.)
TaskRunSpec spec(const std::string& id, std::vector<std::string> argv, std::vector<std::string> env = {}) {
  TaskRunSpec s;
  s.task_id = id;
  s.argv = std::move(argv);
  s.env = std::move(env);
  return s;
}

class ProcessRuntimeTest : public testing::Test {
 protected:
  void SetUp() override { make_runtime(ProcessRuntime::kDefaultLogLimit); }
  void TearDown() override { runtime.reset(); }

  void make_runtime(size_t log_limit) {
    runtime.reset();
    runtime = std::make_unique<ProcessRuntime>(io, log_limit);
    runtime->set_event_handler([this](const TaskEvent& e) {
      events.push_back(e);
      if (on_event) on_event(e);
    });
  }

  // Runs the loop until `done` holds; false if it does not within `limit`.
  bool run_until(const std::function<bool()>& done, milliseconds limit = kWait) {
    const auto deadline = steady_clock::now() + limit;
    while (!done()) {
      if (steady_clock::now() >= deadline) return false;
      io.run_for(milliseconds(5));
    }
    return true;
  }

  void run_for(milliseconds d) {
    const auto deadline = steady_clock::now() + d;
    while (steady_clock::now() < deadline) io.run_for(milliseconds(5));
  }

  std::optional<TaskEvent> find(const std::string& id, Kind kind) const {
    for (const auto& e : events) {
      if (e.task_id == id && e.kind == kind) return e;
    }
    return std::nullopt;
  }

  // Waits for the task's event of that kind.
  std::optional<TaskEvent> await(const std::string& id, Kind kind, milliseconds limit = kWait) {
    if (!run_until([&] { return find(id, kind).has_value(); }, limit)) return std::nullopt;
    return find(id, kind);
  }

  std::vector<TaskEvent> events_of(const std::string& id) const {
    std::vector<TaskEvent> out;
    for (const auto& e : events) {
      if (e.task_id == id) out.push_back(e);
    }
    return out;
  }

  std::string logs(const std::string& id) {
    auto r = runtime->logs(id, size_t{1} << 24);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? *r : std::string();
  }

  // Waits until the task's log contains `text`.
  bool await_log(const std::string& id, const std::string& text) {
    return run_until([&] {
      auto r = runtime->logs(id, size_t{1} << 24);
      return r.ok() && r->find(text) != std::string::npos;
    });
  }

  // The pid a task printed on its first line (`echo $!`), 0 if none.
  pid_t first_line_pid(const std::string& id) {
    if (!await_log(id, "\n")) return 0;
    std::istringstream in(logs(id));
    long pid = 0;
    in >> pid;
    return static_cast<pid_t>(pid);
  }

  static TaskRunSpec sh(const std::string& id, const std::string& script) {
    return spec(id, {"/bin/sh", "-c", script});
  }

  asio::io_context io;  // declared first: outlives the runtime
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  std::vector<TaskEvent> events;
  std::function<void(const TaskEvent&)> on_event;
  std::unique_ptr<ProcessRuntime> runtime;
};

// A temporary directory, removed (when empty) at the end of the test.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/shoal-prt-XXXXXX";
    const char* made = ::mkdtemp(tmpl);
    EXPECT_NE(made, nullptr);
    char real[PATH_MAX];
    path_ = (made != nullptr && ::realpath(made, real) != nullptr) ? real : "";
  }
  ~TempDir() {
    for (const auto& f : files_) ::unlink(f.c_str());
    if (!path_.empty()) ::rmdir(path_.c_str());
  }
  const std::string& path() const { return path_; }
  std::string write_file(const std::string& name, const std::string& text, mode_t mode) {
    const std::string f = path_ + "/" + name;
    std::ofstream(f) << text;
    ::chmod(f.c_str(), mode);
    files_.push_back(f);
    return f;
  }

 private:
  std::string path_;
  std::vector<std::string> files_;
};

TEST_F(ProcessRuntimeTest, ExitZeroCapturesStdoutAndStderr) {
  ASSERT_TRUE(runtime->start(sh("t1", "echo out; echo err >&2")).ok());
  auto exited = await("t1", Kind::kExited);
  ASSERT_TRUE(exited);
  const auto seen = events_of("t1");
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].kind, Kind::kStarted);
  EXPECT_GT(seen[0].pid, 0);
  EXPECT_EQ(exited->pid, seen[0].pid);
  EXPECT_EQ(exited->exit_code, 0);
  EXPECT_EQ(exited->signal, 0);
  EXPECT_FALSE(exited->stopped);
  const std::string out = logs("t1");
  EXPECT_NE(out.find("out\n"), std::string::npos) << out;
  EXPECT_NE(out.find("err\n"), std::string::npos) << out;
  EXPECT_EQ(out.size(), 8u) << out;
}

TEST_F(ProcessRuntimeTest, NonZeroExitCode) {
  ASSERT_TRUE(runtime->start(sh("t1", "exit 3")).ok());
  auto exited = await("t1", Kind::kExited);
  ASSERT_TRUE(exited);
  EXPECT_EQ(exited->exit_code, 3);
  EXPECT_EQ(exited->signal, 0);
  EXPECT_FALSE(exited->stopped);
}

TEST_F(ProcessRuntimeTest, EndedBySignalWithoutStop) {
  ASSERT_TRUE(runtime->start(sh("t1", "kill -KILL $$")).ok());
  auto exited = await("t1", Kind::kExited);
  ASSERT_TRUE(exited);
  EXPECT_EQ(exited->signal, SIGKILL);
  EXPECT_FALSE(exited->stopped);
}

TEST_F(ProcessRuntimeTest, EnvAndDirHonoured) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  ::setenv("SHOAL_PRT_LEAK", "leaked", 1);  // the daemon's own environment must not reach the task
  TaskRunSpec task = sh("t1", "echo $FOO; pwd; echo $HOME; echo $PATH; echo ${SHOAL_PRT_LEAK-unset}");
  task.env = {"FOO=bar baz", "HOME=/custom"};
  task.dir = dir.path();
  ASSERT_TRUE(runtime->start(task).ok());
  auto exited = await("t1", Kind::kExited);
  ::unsetenv("SHOAL_PRT_LEAK");
  ASSERT_TRUE(exited);
  EXPECT_EQ(exited->exit_code, 0);
  EXPECT_EQ(logs("t1"), "bar baz\n" + dir.path() +
                            "\n/custom\n/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nunset\n");
}

TEST_F(ProcessRuntimeTest, ProgramIsSearchedOnTheTasksPath) {
  ASSERT_TRUE(runtime->start(spec("found", {"echo", "hi"})).ok());
  ASSERT_TRUE(runtime->start(spec("hidden", {"echo", "hi"}, {"PATH=/nonexistent"})).ok());
  auto found = await("found", Kind::kExited);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->exit_code, 0);
  EXPECT_EQ(logs("found"), "hi\n");
  auto hidden = await("hidden", Kind::kFailedToStart);
  ASSERT_TRUE(hidden);
  EXPECT_EQ(hidden->error, "cannot run 'echo': No such file or directory (searched PATH=/nonexistent)");
}

TEST_F(ProcessRuntimeTest, MissingProgramFailsToStart) {
  ASSERT_TRUE(runtime->start(spec("abs", {"/nonexistent/shoal-no-such-program"})).ok());
  ASSERT_TRUE(runtime->start(spec("bare", {"shoal-no-such-program", "x"})).ok());
  ASSERT_TRUE(await("abs", Kind::kExited));
  ASSERT_TRUE(await("bare", Kind::kExited));

  const auto abs = events_of("abs");
  ASSERT_EQ(abs.size(), 2u);
  EXPECT_EQ(abs[0].kind, Kind::kFailedToStart);
  EXPECT_EQ(abs[0].error, "cannot run '/nonexistent/shoal-no-such-program': No such file or directory");
  EXPECT_EQ(abs[1].kind, Kind::kExited);
  EXPECT_EQ(abs[1].exit_code, 127);

  const auto bare = events_of("bare");
  ASSERT_EQ(bare.size(), 2u);
  EXPECT_EQ(bare[0].kind, Kind::kFailedToStart);
  EXPECT_EQ(bare[0].error.rfind("cannot run 'shoal-no-such-program': No such file or directory", 0), 0u)
      << bare[0].error;
  EXPECT_EQ(logs("bare"), "");  // known (until remove), with nothing written
}

TEST_F(ProcessRuntimeTest, NonExecutableFileFailsToStart) {
  TempDir dir;
  const std::string file = dir.write_file("script", "#!/bin/sh\necho no\n", 0644);
  ASSERT_TRUE(runtime->start(spec("t1", {file})).ok());
  auto failed = await("t1", Kind::kFailedToStart);
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->error, "cannot run '" + file + "': Permission denied");
  auto exited = await("t1", Kind::kExited);
  ASSERT_TRUE(exited);
  EXPECT_EQ(exited->exit_code, 126);
}

TEST_F(ProcessRuntimeTest, MissingDirectoryFailsToStart) {
  TaskRunSpec task = spec("t1", {"/bin/true"});
  task.dir = "/nonexistent-shoal-dir";
  ASSERT_TRUE(runtime->start(task).ok());
  auto failed = await("t1", Kind::kFailedToStart);
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->error, "working directory '/nonexistent-shoal-dir': No such file or directory");
  ASSERT_TRUE(await("t1", Kind::kExited));
  EXPECT_EQ(events_of("t1").size(), 2u);
}

TEST_F(ProcessRuntimeTest, StopEndsTaskWithSigterm) {
  ASSERT_TRUE(runtime->start(spec("t1", {"/bin/sleep", "30"})).ok());
  ASSERT_TRUE(await("t1", Kind::kStarted));
  const auto asked = steady_clock::now();
  runtime->stop("t1");
  auto exited = await("t1", Kind::kExited);
  ASSERT_TRUE(exited);
  EXPECT_EQ(exited->signal, SIGTERM);
  EXPECT_TRUE(exited->stopped);
  EXPECT_LT(steady_clock::now() - asked, std::chrono::seconds(3));  // not the 10 s grace
}

TEST_F(ProcessRuntimeTest, StopEscalatesToSigkillAfterGrace) {
  TaskRunSpec task = sh("t1", "trap '' TERM; echo ready; sleep 30");
  task.stop_grace = milliseconds(200);
  ASSERT_TRUE(runtime->start(task).ok());
  ASSERT_TRUE(await_log("t1", "ready\n"));  // the trap is in place
  const auto asked = steady_clock::now();
  runtime->stop("t1");
  runtime->stop("t1");  // a second stop changes nothing
  auto exited = await("t1", Kind::kExited);
  ASSERT_TRUE(exited);
  EXPECT_EQ(exited->signal, SIGKILL);
  EXPECT_TRUE(exited->stopped);
  EXPECT_GE(steady_clock::now() - asked, milliseconds(200));
}

// SIGTERM goes to the whole process group: the task's own child dies of it while the task
// (which ignores SIGTERM) then ends on its own, long before the grace would send SIGKILL.
TEST_F(ProcessRuntimeTest, StopReachesTheTasksChildren) {
  ASSERT_TRUE(runtime->start(sh("t1", "sleep 30 & c=$!; echo $c; trap '' TERM; echo ready; wait $c")).ok());
  const pid_t child = first_line_pid("t1");
  ASSERT_GT(child, 0);
  ASSERT_TRUE(await_log("t1", "ready\n"));
  EXPECT_FALSE(process_gone(child));
  runtime->stop("t1");
  auto exited = await("t1", Kind::kExited, milliseconds(3000));  // the grace is 10 s
  ASSERT_TRUE(exited);
  EXPECT_EQ(exited->signal, 0);
  EXPECT_EQ(exited->exit_code, 128 + SIGTERM);  // `wait` reports the child's SIGTERM
  EXPECT_TRUE(exited->stopped);
  EXPECT_TRUE(run_until([&] { return process_gone(child); }, milliseconds(2000)));
}

// When the task's process ends, what is left of its group is killed (and its output pipe, held
// by the leftover, reaches end of file at once rather than after the drain limit).
TEST_F(ProcessRuntimeTest, LeftoversAreKilledWhenTheTaskEnds) {
  ASSERT_TRUE(runtime->start(sh("t1", "sleep 30 & echo $!")).ok());
  const pid_t child = first_line_pid("t1");
  ASSERT_GT(child, 0);
  auto exited = await("t1", Kind::kExited, milliseconds(1500));  // < kDrainLimit
  ASSERT_TRUE(exited);
  EXPECT_EQ(exited->exit_code, 0);
  EXPECT_FALSE(exited->stopped);
  EXPECT_TRUE(run_until([&] { return process_gone(child); }, milliseconds(2000)));
}

// A process that left the task's group (setsid) cannot be killed with it and keeps the output
// pipe open: the exit is reported once the drain limit has passed, with the output read so far.
TEST_F(ProcessRuntimeTest, EscapedProcessHoldingTheOutputDelaysExitByTheDrainLimitOnly) {
  // The escaped process prints its pid once it has its own session.
  ASSERT_TRUE(runtime->start(sh("t1", "setsid sh -c 'echo $$; exec sleep 30' & exec sleep 30")).ok());
  const pid_t escaped = first_line_pid("t1");
  ASSERT_GT(escaped, 0);
  const auto asked = steady_clock::now();
  runtime->stop("t1");
  auto exited = await("t1", Kind::kExited);
  const auto waited = steady_clock::now() - asked;
  ::kill(escaped, SIGKILL);  // the runtime cannot: it is outside the task's group
  ASSERT_TRUE(exited);
  EXPECT_EQ(exited->signal, SIGTERM);
  EXPECT_TRUE(exited->stopped);
  EXPECT_GE(waited, ProcessRuntime::kDrainLimit - milliseconds(200));
  EXPECT_LT(waited, ProcessRuntime::kDrainLimit + milliseconds(1500));
  EXPECT_EQ(logs("t1"), std::to_string(escaped) + "\n");
}

TEST_F(ProcessRuntimeTest, ExitIsReportedAfterAllOutputIsRead) {
  std::string logs_at_exit;
  on_event = [&](const TaskEvent& e) {
    if (e.kind == Kind::kExited) logs_at_exit = logs(e.task_id);
  };
  // Several reads' worth on each pipe (each fits in a pipe's 64 KiB buffer, so the task does not
  // wait for us), then the end.
  ASSERT_TRUE(runtime->start(sh("t1", "head -c 60000 /dev/zero | tr '\\0' x; echo END; "
                                      "head -c 60000 /dev/zero | tr '\\0' y >&2"))
                  .ok());
  // Not synchronization: the loop does not run while the task writes and ends, so its output and
  // its end are all waiting together when it does (a runtime reporting the end as soon as it sees
  // it would report it with most of the output unread). A slow machine only makes this easier.
  std::this_thread::sleep_for(milliseconds(300));
  ASSERT_TRUE(await("t1", Kind::kExited));
  EXPECT_EQ(logs_at_exit.size(), 120004u);
  EXPECT_NE(logs_at_exit.find("xxEND\n"), std::string::npos);
  EXPECT_TRUE(logs_at_exit == logs("t1"));  // nothing came after (EXPECT_EQ would print 120 KB)
}

TEST_F(ProcessRuntimeTest, LogLimitKeepsTheTail) {
  make_runtime(1000);
  // 500 lines of 10 bytes: "0000-----\n" to "0499-----\n".
  ASSERT_TRUE(runtime->start(sh("t1", "i=0; while [ $i -lt 500 ]; do printf '%04d-----\\n' $i; i=$((i+1)); done"))
                  .ok());
  ASSERT_TRUE(await("t1", Kind::kExited));
  std::string expected;
  for (int i = 400; i < 500; ++i) {
    char line[32];
    std::snprintf(line, sizeof line, "%04d-----\n", i);
    expected += line;
  }
  EXPECT_EQ(logs("t1"), expected);
  auto last = runtime->logs("t1", 25);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, expected.substr(expected.size() - 25));
  auto none = runtime->logs("t1", 0);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, "");
}

TEST_F(ProcessRuntimeTest, BadStartsAreErrorsWithoutEvents) {
  ASSERT_TRUE(runtime->start(spec("t1", {"/bin/sleep", "30"})).ok());
  const Status dup = runtime->start(spec("t1", {"/bin/true"}));
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(runtime->start(spec("t2", {})).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(runtime->start(spec("t3", {""})).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(runtime->start(spec("", {"/bin/true"})).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(runtime->start(spec("t4", {"/bin/true"}, {"NOEQUALS"})).code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(await("t1", Kind::kStarted));
  run_for(milliseconds(300));
  ASSERT_EQ(events.size(), 1u);  // t1's kStarted only
  EXPECT_EQ(events[0].task_id, "t1");
  EXPECT_EQ(runtime->logs("t2", 100).status().code(), StatusCode::kNotFound);
}

TEST_F(ProcessRuntimeTest, EventsAreNeverDeliveredInsideCalls) {
  ASSERT_TRUE(runtime->start(spec("ok", {"/bin/sleep", "30"})).ok());
  EXPECT_TRUE(events.empty());
  ASSERT_TRUE(runtime->start(spec("bad", {"/nonexistent/prog"})).ok());
  EXPECT_TRUE(events.empty());
  runtime->stop("ok");
  runtime->remove("bad");
  EXPECT_TRUE(events.empty());
  ASSERT_TRUE(await("ok", Kind::kExited));
  ASSERT_TRUE(await("bad", Kind::kExited));
  EXPECT_TRUE(find("ok", Kind::kStarted));
  EXPECT_TRUE(find("bad", Kind::kFailedToStart));
}

TEST_F(ProcessRuntimeTest, StopOfUnknownOrEndedTaskDoesNothing) {
  runtime->stop("nope");
  ASSERT_TRUE(runtime->start(spec("t1", {"/bin/true"})).ok());
  ASSERT_TRUE(await("t1", Kind::kExited));
  runtime->stop("t1");
  run_for(milliseconds(200));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_FALSE(events[1].stopped);
}

TEST_F(ProcessRuntimeTest, RemoveForgetsAnEndedTask) {
  ASSERT_TRUE(runtime->start(spec("t1", {"/bin/echo", "one"})).ok());
  ASSERT_TRUE(await("t1", Kind::kExited));
  EXPECT_EQ(logs("t1"), "one\n");
  runtime->remove("t1");
  EXPECT_EQ(runtime->logs("t1", 100).status().code(), StatusCode::kNotFound);
  // The id is free again.
  events.clear();
  ASSERT_TRUE(runtime->start(spec("t1", {"/bin/echo", "two"})).ok());
  ASSERT_TRUE(await("t1", Kind::kExited));
  EXPECT_EQ(logs("t1"), "two\n");
}

TEST_F(ProcessRuntimeTest, RemoveStopsARunningTaskAndForgetsItOnceEnded) {
  ASSERT_TRUE(runtime->start(spec("t1", {"/bin/sleep", "30"})).ok());
  ASSERT_TRUE(await("t1", Kind::kStarted));
  runtime->remove("t1");
  EXPECT_EQ(runtime->start(spec("t1", {"/bin/true"})).code(), StatusCode::kAlreadyExists);
  auto exited = await("t1", Kind::kExited);
  ASSERT_TRUE(exited);
  EXPECT_TRUE(exited->stopped);
  EXPECT_EQ(exited->signal, SIGTERM);
  EXPECT_EQ(runtime->logs("t1", 100).status().code(), StatusCode::kNotFound);
}

// A start returns before its child has exec'd (the spawn thread waits for that); a stop or a
// remove in between takes effect once the outcome is known.
TEST_F(ProcessRuntimeTest, AStopBeforeTheStartIsKnownStopsTheTaskOnceItRuns) {
  ASSERT_TRUE(runtime->start(spec("t1", {"/bin/sleep", "30"})).ok());
  runtime->stop("t1");
  runtime->stop("t1");  // once is enough
  auto exited = await("t1", Kind::kExited);
  ASSERT_TRUE(exited);
  EXPECT_TRUE(find("t1", Kind::kStarted));
  EXPECT_TRUE(exited->stopped);
  EXPECT_EQ(exited->signal, SIGTERM);
  EXPECT_EQ(events_of("t1").size(), 2u);
}

TEST_F(ProcessRuntimeTest, ARemoveBeforeAFailedStartIsKnownForgetsTheTaskAfterItsEvents) {
  ASSERT_TRUE(runtime->start(spec("t1", {"/nonexistent/prog"})).ok());
  runtime->remove("t1");
  ASSERT_TRUE(await("t1", Kind::kExited));
  EXPECT_TRUE(find("t1", Kind::kFailedToStart));
  EXPECT_EQ(runtime->logs("t1", 100).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(runtime->start(spec("t1", {"/bin/true"})).ok()) << "the id is free again";
  ASSERT_TRUE(run_until([&] { return events_of("t1").size() == 4; }));
}

TEST_F(ProcessRuntimeTest, ManyStartsInARowAllRunInOrder) {
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(runtime->start(spec("t" + std::to_string(i), {"/bin/sleep", "30"})).ok());
  ASSERT_TRUE(run_until([&] { return events.size() == 10; }));
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(events[static_cast<size_t>(i)].task_id, "t" + std::to_string(i));
    EXPECT_EQ(events[static_cast<size_t>(i)].kind, Kind::kStarted);
  }
  runtime.reset();
  EXPECT_TRUE(children_named("sleep").empty());
}

TEST_F(ProcessRuntimeTest, DestructorLeavesNoProcessAndNoEvents) {
  ASSERT_TRUE(runtime->start(spec("t1", {"/bin/sleep", "30"})).ok());
  ASSERT_TRUE(runtime->start(sh("t2", "trap '' TERM; sleep 30 & echo $!; wait")).ok());
  const pid_t grandchild = first_line_pid("t2");
  ASSERT_GT(grandchild, 0);
  auto t1 = find("t1", Kind::kStarted);
  auto t2 = find("t2", Kind::kStarted);
  ASSERT_TRUE(t1 && t2);
  // One more start whose kStarted is posted but not yet delivered when the runtime goes.
  ASSERT_TRUE(runtime->start(spec("t3", {"/bin/sleep", "30"})).ok());
  const size_t seen = events.size();

  runtime.reset();
  errno = 0;
  EXPECT_EQ(::kill(static_cast<pid_t>(t1->pid), 0), -1);
  EXPECT_EQ(errno, ESRCH);  // killed and reaped: not even a zombie
  errno = 0;
  EXPECT_EQ(::kill(static_cast<pid_t>(t2->pid), 0), -1);
  EXPECT_EQ(errno, ESRCH);
  EXPECT_TRUE(children_named("sleep").empty());  // t3 too
  EXPECT_TRUE(run_until([&] { return process_gone(grandchild); }, milliseconds(2000)));
  run_for(milliseconds(200));
  EXPECT_EQ(events.size(), seen);
}

// ---- health checks ----------------------------------------------------------------------------

HealthCheckSpec check(std::vector<std::string> argv, milliseconds timeout = milliseconds(5000)) {
  HealthCheckSpec c;
  c.argv = std::move(argv);
  c.timeout = timeout;
  return c;
}

class HealthCheckTest : public ProcessRuntimeTest {
 protected:
  // Runs one check of `task` and waits for its answer.
  std::optional<HealthCheckResult> run_check(const std::string& task, const HealthCheckSpec& c) {
    std::optional<HealthCheckResult> got;
    Status s = runtime->check_health(task, c, [&](const HealthCheckResult& r) { got = r; });
    EXPECT_TRUE(s.ok()) << s.to_string();
    if (!s.ok()) return std::nullopt;
    EXPECT_FALSE(got.has_value()) << "the answer comes on the loop, not inside check_health";
    if (!run_until([&] { return got.has_value(); })) return std::nullopt;
    return got;
  }
};

TEST_F(HealthCheckTest, APassingCmdIsHealthyAndRunsWithTheTasksEnvironmentAndDirectory) {
  TempDir dir;
  TaskRunSpec t = spec("t1", {"/bin/sleep", "30"}, {"GREETING=hi"});
  t.dir = dir.path();
  ASSERT_TRUE(runtime->start(t).ok());
  ASSERT_TRUE(await("t1", Kind::kStarted));
  auto r = run_check("t1", check({"true"}));  // found on the task's PATH
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->healthy());
  EXPECT_EQ(r->exit_code, 0);
  r = run_check("t1", check({"/bin/sh", "-c", "test \"$GREETING\" = hi && test \"$(pwd)\" = '" + dir.path() + "'"}));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->healthy()) << "exit " << r->exit_code;
  EXPECT_EQ(logs("t1"), "") << "a check's output is not the task's";
  EXPECT_TRUE(events_of("t1").size() == 1) << "checks make no task events";
}

TEST_F(HealthCheckTest, AFailingCmdShellIsUnhealthyWithItsExitCode) {
  ASSERT_TRUE(runtime->start(spec("t1", {"/bin/sleep", "30"})).ok());
  ASSERT_TRUE(await("t1", Kind::kStarted));
  auto r = run_check("t1", check({"/bin/sh", "-c", "echo nope; exit 3"}));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->healthy());
  EXPECT_FALSE(r->timed_out);
  EXPECT_EQ(r->exit_code, 3);
  r = run_check("t1", check({"/no/such/check"}));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->healthy());
  EXPECT_EQ(r->exit_code, 127);
  EXPECT_NE(r->error.find("/no/such/check"), std::string::npos) << r->error;
  EXPECT_FALSE(find("t1", Kind::kExited)) << "a failing check does not touch the task";
}

TEST_F(HealthCheckTest, ACheckThatOutlivesItsTimeoutIsKilledWithItsGroup) {
  ASSERT_TRUE(runtime->start(spec("t1", {"/bin/sleep", "30"})).ok());
  ASSERT_TRUE(await("t1", Kind::kStarted));
  const auto began = steady_clock::now();
  auto r = run_check("t1", check({"/bin/sh", "-c", "sleep 30 & wait"}, milliseconds(300)));
  const auto took = steady_clock::now() - began;
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->timed_out);
  EXPECT_FALSE(r->healthy());
  EXPECT_GE(took, milliseconds(300));
  EXPECT_LT(took, milliseconds(3000));
  EXPECT_TRUE(run_until([&] { return children_named("sh").empty(); }, milliseconds(2000)));
  // The check's own sleep went with its group; the task's sleep runs on.
  EXPECT_EQ(children_named("sleep").size(), 1u);
  EXPECT_FALSE(find("t1", Kind::kExited));
}

TEST_F(HealthCheckTest, ErrorsStartNoCheck) {
  const auto never = [](const HealthCheckResult&) { ADD_FAILURE() << "no answer expected"; };
  EXPECT_EQ(runtime->check_health("nope", check({"/bin/true"}), never).code(), StatusCode::kNotFound);
  ASSERT_TRUE(runtime->start(spec("t1", {"/bin/sleep", "30"})).ok());
  ASSERT_TRUE(await("t1", Kind::kStarted));
  EXPECT_FALSE(runtime->check_health("t1", check({}), never).ok());
  EXPECT_FALSE(runtime->check_health("t1", check({std::string("a\0b", 3)}), never).ok());
  bool answered = false;
  ASSERT_TRUE(runtime->check_health("t1", check({"/bin/sleep", "0.2"}), [&](const HealthCheckResult&) {
    answered = true;
  }).ok());
  EXPECT_EQ(runtime->check_health("t1", check({"/bin/true"}), never).code(), StatusCode::kFailedPrecondition)
      << "one check at a time";
  EXPECT_TRUE(run_until([&] { return answered; }));
  runtime->stop("t1");
  EXPECT_EQ(runtime->check_health("t1", check({"/bin/true"}), never).code(), StatusCode::kFailedPrecondition)
      << "a stopping task is not checked";
  ASSERT_TRUE(await("t1", Kind::kExited));
  EXPECT_EQ(runtime->check_health("t1", check({"/bin/true"}), never).code(), StatusCode::kFailedPrecondition);
}

TEST_F(HealthCheckTest, ACheckEndsWithItsTaskAndWithTheRuntime) {
  ASSERT_TRUE(runtime->start(spec("t1", {"/bin/sleep", "30"})).ok());
  ASSERT_TRUE(await("t1", Kind::kStarted));
  std::optional<HealthCheckResult> got;
  ASSERT_TRUE(runtime->check_health("t1", check({"/bin/sh", "-c", "sleep 30"}), [&](const HealthCheckResult& r) {
    got = r;
  }).ok());
  runtime->stop("t1");
  ASSERT_TRUE(await("t1", Kind::kExited));
  ASSERT_TRUE(run_until([&] { return got.has_value(); }, milliseconds(2000))) << "killed with its task";
  EXPECT_FALSE(got->healthy());

  ASSERT_TRUE(runtime->start(spec("t2", {"/bin/sleep", "30"})).ok());
  ASSERT_TRUE(await("t2", Kind::kStarted));
  ASSERT_TRUE(runtime->check_health("t2", check({"/bin/sh", "-c", "sleep 30"}), [&](const HealthCheckResult&) {
    ADD_FAILURE() << "no answer after the runtime is gone";
  }).ok());
  runtime.reset();
  EXPECT_TRUE(children_named("sh").empty());
  EXPECT_TRUE(children_named("sleep").empty());
  run_for(milliseconds(100));
}

}  // namespace
}  // namespace shoal::real
