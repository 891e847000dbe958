// SpawnThread: one thread of its own that runs jobs one at a time, in the order submitted, for
// work that has to block and must not block the event loop. ProcessRuntime starts its tasks' children
// on it: a start waits until the child has exec'd, a few milliseconds per child, and a burst of
// starts on the event loop would hold every report, commit and stop queued behind them.
//
// Every signal is blocked on the thread, as it must be on a thread that clones children sharing
// its memory (no handler may run in such a child before it execs). The thread lives as long as
// the object: a child started with PR_SET_PDEATHSIG is killed when the *thread* that made it
// exits, so the thread must outlive the children it starts.
//
// Destruction (or stop()): jobs not yet begun are dropped, unrun (whatever they own is destroyed
// on the destroying thread); the job running is waited for; the thread is joined.
//
//   SpawnThread spawner;
//   spawner.submit([plan = std::move(plan)] { ... blocking work ...; asio::post(io, ...); });
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace shoal::real {

class SpawnThread {
 public:
  SpawnThread();
  ~SpawnThread();
  SpawnThread(const SpawnThread&) = delete;
  SpawnThread& operator=(const SpawnThread&) = delete;

  // Runs `job` on the thread after the jobs submitted before it. Ignored after stop().
  void submit(std::function<void()> job);

  // Drops the jobs not begun, waits for the running one, joins. Idempotent; not from a job.
  void stop();

 private:
  void run();

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;  // guarded by mu_
  bool stopping_ = false;                   // guarded by mu_
  std::thread thread_;
};

}  // namespace shoal::real
