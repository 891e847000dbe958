// shoal_bench: how fast Raft commits and how fast the simulator runs.
//
//   BM_RaftCommitsPerCpuSecond/N  an N-node simulated cluster under a heavy write load
//                                 (2000 writes/s) for 5 simulated seconds per iteration.
//   BM_SimSpeed5Nodes             a 5-node simulated cluster under the default scenario load
//                                 (50 writes/s, 10 reads/s) for 10 simulated seconds, every
//                                 node's invariants checked after each of its events.
//   BM_RaftStepOnly               three bare raft::Raft peers, no simulator: messages are
//                                 delivered synchronously; one proposal per iteration.
//
//   build/bin/shoal_bench --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "core/env/check.h"
#include "core/raft/bootstrap.h"
#include "core/raft/raft.h"
#include "core/raft/storage.h"
#include "io_sim/cluster/raft_cluster.h"

namespace {

using namespace std::chrono_literals;
using shoal::sim::ClusterOptions;
using shoal::sim::RaftCluster;

// Wall time spent inside the simulation only (cluster construction excluded).
struct SimRun {
  double wall_s = 0;
  double sim_s = 0;
  uint64_t acked = 0;
  uint64_t events = 0;
};

SimRun run_cluster(size_t nodes, uint64_t seed, double writes_per_s, double reads_per_s,
                   std::chrono::seconds sim_time) {
  ClusterOptions opts;
  opts.nodes = nodes;
  opts.seed = seed;
  RaftCluster c(opts);
  c.start();
  c.start_workload(writes_per_s, reads_per_s);
  const auto t0 = std::chrono::steady_clock::now();
  c.world().run_for(sim_time);
  const auto t1 = std::chrono::steady_clock::now();
  return SimRun{.wall_s = std::chrono::duration<double>(t1 - t0).count(),
                .sim_s = std::chrono::duration<double>(sim_time).count(),
                .acked = c.writes_acked(),
                .events = c.world().events_processed()};
}

void BM_RaftCommitsPerCpuSecond(benchmark::State& state) {
  const auto nodes = static_cast<size_t>(state.range(0));
  uint64_t seed = 1;
  double sim_s = 0;
  uint64_t acked = 0, events = 0;
  for (auto _ : state) {
    SimRun r = run_cluster(nodes, seed++, 2000, 0, 5s);
    sim_s += r.sim_s;
    acked += r.acked;
    events += r.events;
  }
  // kIsRate divides by the benchmark's total time (construction + simulation).
  state.counters["commits_per_s"] = benchmark::Counter(static_cast<double>(acked),
                                                       benchmark::Counter::kIsRate);
  state.counters["sim_x"] = benchmark::Counter(sim_s, benchmark::Counter::kIsRate);
  state.counters["events_per_s"] = benchmark::Counter(static_cast<double>(events),
                                                      benchmark::Counter::kIsRate);
  state.counters["commits_per_iter"] = benchmark::Counter(
      static_cast<double>(acked) / static_cast<double>(state.iterations()));
}
BENCHMARK(BM_RaftCommitsPerCpuSecond)->Arg(3)->Arg(5)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_SimSpeed5Nodes(benchmark::State& state) {
  uint64_t seed = 1;
  double sim_s = 0;
  uint64_t acked = 0;
  for (auto _ : state) {
    SimRun r = run_cluster(5, seed++, 50, 10, 10s);
    sim_s += r.sim_s;
    acked += r.acked;
  }
  state.counters["sim_x"] = benchmark::Counter(sim_s, benchmark::Counter::kIsRate);
  state.counters["commits_per_s"] = benchmark::Counter(static_cast<double>(acked),
                                                       benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SimSpeed5Nodes)->Unit(benchmark::kMillisecond)->UseRealTime();

// --- bare Raft: the host's role played synchronously (persist, send, advance).
namespace raft = shoal::raft;
namespace raftpb = shoal::raftpb;

class StepCluster {
 public:
  explicit StepCluster(size_t n) {
    std::vector<shoal::NodeId> voters;
    for (size_t i = 1; i <= n; ++i) voters.push_back(i);
    // The bootstrap log RaftNode writes: one committed CONF_ADD_NODE per voter, term 1.
    const auto boot = shoal::raft::bootstrap_log_entries(voters);
    raftpb::HardState hs;
    hs.set_term(1);
    hs.set_commit(boot.size());
    for (shoal::NodeId v : voters) {
      auto p = std::make_unique<Peer>();
      p->storage.append(boot);
      p->storage.set_hard_state(hs);
      raft::Config cfg;
      cfg.id = v;
      p->raft = std::make_unique<raft::Raft>(cfg, p->storage, shoal::Rng(1000 + v));
      p->raft->bootstrap(voters);
      peers_.push_back(std::move(p));
    }
    peers_[0]->raft->campaign_now();
    drain();
    SHOAL_CHECK(peers_[0]->raft->role() == raft::Role::kLeader, "peer 1 did not win");
  }

  raft::Raft& leader() { return *peers_[0]->raft; }

  // Processes every Ready and delivers every message until the cluster is quiet.
  void drain() {
    bool busy = true;
    while (busy) {
      busy = false;
      for (auto& p : peers_) {
        if (!p->raft->has_ready()) continue;
        busy = true;
        raft::Ready rd = p->raft->ready();
        if (rd.snapshot) p->storage.apply_snapshot(*rd.snapshot);
        p->storage.append(rd.entries);
        if (rd.hard_state) p->storage.set_hard_state(*rd.hard_state);
        for (auto& m : rd.messages) inbox_.push_back(std::move(m));
        for (const auto& e : rd.committed_entries) {
          if (e.index() <= p->applied) continue;
          p->applied = e.index();
          if (e.type() == raftpb::ENTRY_CONF_CHANGE) {
            raftpb::ConfChange cc;
            if (cc.ParseFromString(e.data())) p->raft->apply_conf_change(cc);
          }
        }
        p->raft->advance(rd);
      }
      while (!inbox_.empty()) {
        busy = true;
        raftpb::Message m = std::move(inbox_.front());
        inbox_.pop_front();
        peers_[m.to() - 1]->raft->step(m);
      }
    }
  }

 private:
  struct Peer {
    raft::Storage storage;
    std::unique_ptr<raft::Raft> raft;
    uint64_t applied = 0;
  };
  std::vector<std::unique_ptr<Peer>> peers_;
  std::deque<raftpb::Message> inbox_;
};

void BM_RaftStepOnly(benchmark::State& state) {
  StepCluster c(3);
  const std::string payload(64, 'x');
  for (auto _ : state) {
    auto idx = c.leader().propose(payload);
    SHOAL_CHECK(idx.ok(), "propose failed");
    c.drain();
    SHOAL_CHECK(c.leader().log().committed() >= *idx, "entry not committed");
  }
  state.counters["entries_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                       benchmark::Counter::kIsRate);
}
BENCHMARK(BM_RaftStepOnly)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
