// shoal_bench_election: simulated time from losing the leader to having a new one.
//
// For seeds 1..200: a 5-node RaftCluster with the default timeouts (tick 50 ms, election_tick 10,
// LAN links), run until a leader exists plus 2 s, then take the leader away at time T (crash it,
// or, in the second set, isolate it from the others) and step the world 1 ms at a time until a
// different node leads. Prints the distribution of (time of the new leader - T).
//
//   build/bin/shoal_bench_election [seeds]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "io_sim/cluster/raft_cluster.h"

namespace {

using namespace std::chrono_literals;
using shoal::sim::ClusterOptions;
using shoal::sim::RaftCluster;

enum class Loss { kCrash, kIsolate };

// Milliseconds from loss to a new leader, or a negative value if none came within 60 s.
double measure(uint64_t seed, Loss loss) {
  ClusterOptions opts;
  opts.nodes = 5;
  opts.seed = seed;
  RaftCluster c(opts);
  c.start();
  auto& w = c.world();
  const auto give_up = w.now() + 60s;
  while (c.leader() == 0 && w.now() < give_up) w.run_for(1ms);
  if (c.leader() == 0) return -1;
  w.run_for(2s);
  const shoal::NodeId old = c.leader();
  if (old == 0) return -1;
  const auto t = w.now();
  if (loss == Loss::kCrash) {
    w.crash(old);
  } else {
    w.isolate(old);
  }
  while (w.now() < t + 60s) {
    w.run_for(1ms);
    const shoal::NodeId l = c.leader();
    if (l != 0 && l != old) return std::chrono::duration<double, std::milli>(w.now() - t).count();
  }
  return -2;
}

double percentile(const std::vector<double>& sorted, double p) {
  // Nearest rank.
  size_t rank = static_cast<size_t>(p / 100.0 * static_cast<double>(sorted.size()) + 0.999999);
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

void report(const char* what, uint64_t seeds, Loss loss) {
  std::vector<double> ms;
  uint64_t failed = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (uint64_t s = 1; s <= seeds; ++s) {
    const double d = measure(s, loss);
    if (d < 0) {
      ++failed;
      std::printf("  seed %lu: no new leader (%s)\n", static_cast<unsigned long>(s),
                  d == -1 ? "no first leader" : "none within 60 s");
    } else {
      ms.push_back(d);
    }
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::sort(ms.begin(), ms.end());
  std::printf("== %s\n", what);
  std::printf("runs: %zu\n", ms.size());
  if (failed) std::printf("failed_runs: %lu\n", static_cast<unsigned long>(failed));
  if (!ms.empty()) {
    std::printf("leader_loss_to_new_leader_p50_ms: %.0f\n", percentile(ms, 50));
    std::printf("p99_ms: %.0f\n", percentile(ms, 99));
    std::printf("max_ms: %.0f\n", ms.back());
    std::printf("min_ms: %.0f\n", ms.front());
  }
  std::printf("wall_s: %.2f\n", wall);
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t seeds = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200;
  std::printf("5 nodes, tick 50 ms, election_tick 10, default LAN links, seeds 1..%lu\n",
              static_cast<unsigned long>(seeds));
  report("leader crashed", seeds, Loss::kCrash);
  report("leader isolated (partitioned from the other four)", seeds, Loss::kIsolate);
  return 0;
}
