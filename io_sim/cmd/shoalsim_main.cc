// shoalsim: runs Shoal's protocol core in the deterministic simulator.
//
//   shoalsim run SCENARIO [--seed N] [--swarm] [--timeline [--log-level L]] [--trace-out FILE] [--check-determinism]
//   shoalsim sweep SCENARIO... --seeds N [--from S] [--no-swarm]
//   both take --plant BUG to switch on a planted bug (tests prove the checkers with these).
//   shoalsim sweep-gossip --seeds N [--from S] [--nodes K] [--loss P] [--steps T] [--plant BUG] [--verbose]
#include <CLI/CLI.hpp>

#include <chrono>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>

#include "core/env/probe.h"
#include "io_sim/cluster/gossip_bench.h"
#include "io_sim/cluster/gossip_chaos.h"
#include "io_sim/cluster/scheduler_bench.h"
#include "io_sim/scenario/runner.h"

namespace {

using namespace shoal;
using namespace shoal::sim;

// `shoalsim sweep-gossip`: a random schedule of faults and writes per seed (gossip_chaos.h).
// "coverage probes reached: name=hits ..." and, when some of `listed` were never hit,
// "coverage probes NOT reached: name ...".
template <size_t N>
void print_probe_coverage(const std::map<std::string, uint64_t>& hits, const char* const (&listed)[N]) {
  std::cout << "coverage probes reached:";
  for (const auto& [name, n] : hits) std::cout << " " << name << "=" << n;
  std::cout << "\n";
  std::string missed;
  for (const char* p : listed) {
    if (!hits.count(p)) missed += std::string(" ") + p;
  }
  if (!missed.empty()) std::cout << "coverage probes NOT reached:" << missed << "\n";
}

int gossip_sweep_command(GossipChaosOptions o, uint64_t seeds, uint64_t from, bool verbose, bool stop,
                         const std::string& plant) {
  uint64_t failed = 0, false_deaths = 0, records = 0;
  ProbeRegistry::instance().reset();
  for (uint64_t seed = from; seed < from + seeds; ++seed) {
    o.seed = seed;
    const GossipChaosResult r = run_gossip_chaos(o);
    false_deaths += r.false_deaths;
    records += r.records_written;
    if (verbose) {
      std::cout << "seed " << seed << " (loss " << r.loss << ", trace " << r.trace_hash << "):\n";
      for (const auto& step : r.schedule) std::cout << "  " << step << "\n";
    }
    if (r.violations.empty()) continue;
    ++failed;
    std::cout << "seed " << seed << ": FAILED\n";
    for (const auto& v : r.violations) std::cout << "  " << v << "\n";
    std::cout << "  replay: build/bin/shoalsim sweep-gossip --seeds 1 --from " << seed << " --nodes " << o.nodes
              << " --steps " << o.steps << (o.loss >= 0 ? " --loss " + std::to_string(o.loss) : "")
              << (plant.empty() ? "" : " --plant " + plant) << " --verbose\n";
    if (stop) break;
  }
  print_probe_coverage(ProbeRegistry::instance().counts(), kGossipProbes);
  std::cout << "gossip sweep: " << seeds << " seeds from " << from << ", " << o.nodes << " nodes, " << failed
            << " failed; " << records << " records written, " << false_deaths << " false deaths\n";
  return failed == 0 ? 0 : 1;
}

void print_violations(const RunResult& r, const std::string& indent) {
  for (const auto& v : r.violations) {
    std::cout << indent << "violation [" << v.checker << "] at " << format_sim_time(v.t) << ": "
              << v.what << "\n";
  }
}

std::string replay_command(const std::string& path, uint64_t seed, bool swarm,
                           const std::vector<std::string>& bugs) {
  std::string cmd = "build/bin/shoalsim run " + path + " --seed " + std::to_string(seed);
  if (swarm) cmd += " --swarm";
  for (const auto& b : bugs) cmd += " --plant " + b;
  return cmd;
}

int run_command(const std::string& path, uint64_t seed, bool swarm, bool timeline, LogLevel log,
                const std::string& trace_out, bool check_determinism,
                const std::vector<std::string>& bugs, const PlantedBugs& planted) {
  auto sc = load_scenario(path);
  if (!sc.ok()) {
    std::cerr << "shoalsim: " << sc.status().message() << "\n";
    return 2;
  }
  RunOptions opt{.seed = seed, .swarm = swarm,
                 .keep_trace = check_determinism || !trace_out.empty(),
                 .log = timeline ? log : LogLevel::kOff, .bugs = planted};
  const auto wall_start = std::chrono::steady_clock::now();
  RunResult r = run_scenario(*sc, opt);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();

  std::cout << "scenario: " << sc->name << "  seed: " << seed << (swarm ? "  (swarm faults)" : "") << "\n";
  if (!sc->description.empty()) std::cout << "  " << sc->description << "\n";
  if (timeline) {
    std::cout << "\ntimeline (simulated time):\n";
    for (const auto& line : r.cluster->timeline()) std::cout << "  " << line << "\n";
    std::cout << "\n";
  }
  std::cout << std::fixed << std::setprecision(2);
  std::cout << "first leader after " << r.first_leader_s << " s; writes acknowledged: " << r.writes_acked
            << "; linearizable reads served: " << r.reads_served << "\n";
  if (r.liveness_recovery_s >= 0) {
    std::cout << "after every fault healed, a write committed within " << std::setprecision(3)
              << r.liveness_recovery_s << " s\n";
  }
  std::cout << std::setprecision(1) << "simulated " << r.sim_seconds << " s in " << std::setprecision(3)
            << wall << " s of wall time (" << std::setprecision(0) << (wall > 0 ? r.sim_seconds / wall : 0)
            << "x), " << r.events << " events\n";
  if (!trace_out.empty()) {
    std::ofstream out(trace_out);
    r.cluster->world().trace().write_jsonl(out);
    std::cout << "trace written to " << trace_out << "\n";
  }
  int rc = r.violations.empty() ? 0 : 1;
  if (check_determinism) {
    RunResult again = run_scenario(*sc, opt);
    auto diff = first_divergence(r.cluster->world().trace(), again.cluster->world().trace());
    if (diff) {
      std::cout << "NOT DETERMINISTIC: two runs of seed " << seed << " diverged at " << *diff << "\n";
      rc = 3;
    } else {
      std::cout << "deterministic: a second run gave the same trace hash\n";
    }
  }
  print_violations(r, "");
  std::cout << "violations: " << r.violations.size() << "\n";
  std::cout << "trace-hash: " << r.trace_hash << "\n";
  if (rc == 1) std::cout << "replay: " << replay_command(path, seed, swarm, bugs) << "\n";
  return rc;
}

int sweep_command(const std::vector<std::string>& paths, uint64_t seeds, uint64_t from, bool swarm,
                  const std::vector<std::string>& bugs, const PlantedBugs& planted,
                  bool stop_on_failure) {
  std::vector<Scenario> scenarios;
  for (const auto& p : paths) {
    auto sc = load_scenario(p);
    if (!sc.ok()) {
      std::cerr << "shoalsim: " << sc.status().message() << "\n";
      return 2;
    }
    scenarios.push_back(*sc);
  }
  const auto wall_start = std::chrono::steady_clock::now();
  uint64_t violations = 0, failing_seeds = 0, ran = 0;
  double sim_seconds = 0;
  std::map<std::string, uint64_t> probes;
  std::map<std::string, uint64_t> by_checker;
  for (uint64_t i = 0; i < seeds; ++i) {
    const uint64_t seed = from + i;
    const size_t which = i % scenarios.size();
    RunResult r = run_scenario(scenarios[which], {.seed = seed, .swarm = swarm, .bugs = planted});
    ++ran;
    sim_seconds += r.sim_seconds;
    for (const auto& [name, n] : r.probes) probes[name] += n;
    if (!r.violations.empty()) {
      ++failing_seeds;
      violations += r.violations.size();
      for (const auto& v : r.violations) by_checker[v.checker]++;
      std::cout << "FAIL seed " << seed << " " << paths[which] << ": " << r.violations.size()
                << " violation(s)\n";
      print_violations(r, "  ");
      std::cout << "  replay: " << replay_command(paths[which], seed, swarm, bugs) << "\n";
      if (stop_on_failure) break;
    }
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  print_probe_coverage(probes, kAllProbes);
  if (!by_checker.empty()) {
    std::cout << "violations by checker:";
    for (const auto& [name, n] : by_checker) std::cout << " " << name << "=" << n;
    std::cout << " (in " << failing_seeds << " seeds)\n";
  }
  std::cout << std::fixed << std::setprecision(1) << "seeds: " << ran << " violations: " << violations
            << " sim-seconds: " << sim_seconds << " wall-seconds: " << wall << "\n";
  return violations == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"shoalsim: Shoal's protocol core in a deterministic simulator"};
  app.require_subcommand(1);
  std::vector<std::string> bugs;
  PlantedBugs planted;
  auto check_bugs = [&]() -> bool {
    for (const auto& b : bugs) {
      if (!plant(planted, b)) {
        std::cerr << "shoalsim: unknown planted bug '" << b << "' (known:";
        for (const PlantedBug& known : kPlantedBugs) std::cerr << " " << known.name;
        std::cerr << ")\n";
        return false;
      }
    }
    return true;
  };

  auto* run = app.add_subcommand("run", "run one scenario with one seed");
  std::string path, trace_out;
  uint64_t seed = 1;
  bool swarm = false, timeline = false, determinism = false;
  run->add_option("scenario", path, "scenario file (YAML)")->required()->check(CLI::ExistingFile);
  run->add_option("--seed", seed, "the run's seed");
  run->add_flag("--swarm", swarm, "also draw this seed's own random faults (as sweep does)");
  run->add_flag("--timeline", timeline, "print the timeline: leaders, faults, commits and what each node logged");
  std::string log_level = "info";
  run->add_option("--log-level", log_level, "with --timeline: the least level of the nodes' records shown")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
  run->add_option("--trace-out", trace_out, "write the full trace as JSON lines");
  run->add_flag("--check-determinism", determinism, "run twice and compare the traces");
  run->add_option("--plant", bugs, "switch on a planted bug (for proving checkers)");

  auto* sweep = app.add_subcommand("sweep", "run many seeds over scenarios, drawing faults per seed");
  std::vector<std::string> paths;
  uint64_t seeds = 100, from = 1;
  bool no_swarm = false, stop = false;
  sweep->add_option("scenarios", paths, "scenario files (YAML)")->required()->check(CLI::ExistingFile);
  sweep->add_option("--seeds", seeds, "number of seeds in total (spread over the scenarios)")->required();
  sweep->add_option("--from", from, "first seed");
  sweep->add_flag("--no-swarm", no_swarm, "do not draw random faults per seed");
  sweep->add_flag("--stop-on-failure", stop, "stop at the first failing seed");
  sweep->add_option("--plant", bugs, "switch on a planted bug (for proving checkers)");

  auto* bench_sched = app.add_subcommand("bench-scheduler", "place M pending tasks on N simulated nodes in one pass");
  uint64_t bench_nodes = 10'000, bench_tasks = 1'000'000;
  bench_sched->add_option("--nodes", bench_nodes, "simulated nodes")->capture_default_str()->check(CLI::Range(uint64_t{1}, uint64_t{1'000'000}));
  bench_sched->add_option("--tasks", bench_tasks, "pending tasks")->capture_default_str()->check(CLI::Range(uint64_t{1}, uint64_t{100'000'000}));

  auto* bench_gossip = app.add_subcommand("bench-gossip", "gossip failure detection: crash nodes one at a time in an N-node cluster with link loss P");
  sim::GossipBenchOptions gossip_opt;
  bench_gossip->add_option("--nodes", gossip_opt.nodes, "simulated nodes")->capture_default_str()->check(CLI::Range(size_t{3}, size_t{100'000}));
  bench_gossip->add_option("--loss", gossip_opt.loss, "drop probability of every link")->capture_default_str()->check(CLI::Range(0.0, 0.9));
  bench_gossip->add_option("--seed", gossip_opt.seed, "the run's seed")->capture_default_str();
  bench_gossip->add_option("--crashes", gossip_opt.crashes, "nodes crashed, one at a time")->capture_default_str()->check(CLI::Range(1, 10'000));
  bench_gossip->add_option("--records", gossip_opt.records, "endpoint records written, one at a time")->capture_default_str()->check(CLI::Range(0, 100'000));
  bench_gossip->add_option("--profile", gossip_opt.profile, "settings: shoal or memberlist-lan")->capture_default_str()->check(CLI::IsMember({"shoal", "memberlist-lan"}));

  auto* sweep_gossip = app.add_subcommand("sweep-gossip", "random faults and table writes per seed over a gossip cluster, then a heal: it must agree");
  sim::GossipChaosOptions chaos;
  uint64_t chaos_seeds = 100, chaos_from = 1;
  bool chaos_verbose = false, chaos_stop = false;
  std::string chaos_plant;
  sweep_gossip->add_option("--seeds", chaos_seeds, "number of seeds")->capture_default_str()->check(CLI::Range(uint64_t{1}, uint64_t{1'000'000}));
  sweep_gossip->add_option("--from", chaos_from, "first seed")->capture_default_str();
  sweep_gossip->add_option("--nodes", chaos.nodes, "simulated nodes")->capture_default_str()->check(CLI::Range(size_t{3}, size_t{1'000}));
  sweep_gossip->add_option("--loss", chaos.loss, "drop probability of every link (default: drawn per seed among 0, 0.01, 0.1)")->check(CLI::Range(0.0, 0.5));
  sweep_gossip->add_option("--steps", chaos.steps, "faults and writes per seed")->capture_default_str()->check(CLI::Range(0, 1'000));
  sweep_gossip->add_option("--plant", chaos_plant, "switch on a planted bug (core/env/planted_bugs.h)");
  sweep_gossip->add_flag("--verbose", chaos_verbose, "print every seed's schedule");
  sweep_gossip->add_flag("--stop-on-failure", chaos_stop, "stop at the first failing seed");

  CLI11_PARSE(app, argc, argv);
  if (sweep_gossip->parsed()) {
    if (!chaos_plant.empty()) {
      bugs = {chaos_plant};
      if (!check_bugs()) return 2;
      chaos.bugs = planted;
    }
    return gossip_sweep_command(chaos, chaos_seeds, chaos_from, chaos_verbose, chaos_stop, chaos_plant);
  }
  if (bench_gossip->parsed()) {
    const sim::GossipBenchResult r = sim::bench_gossip(gossip_opt);
    sim::print_gossip_bench(gossip_opt, r, std::cout);
    return r.converged && r.undetected == 0 ? 0 : 1;
  }
  if (!check_bugs()) return 2;
  if (bench_sched->parsed()) {
    const sim::SchedulerBenchResult r = sim::bench_scheduler(bench_nodes, bench_tasks);
    std::cout << "nodes: " << bench_nodes << "\n"
              << "tasks: " << bench_tasks << "\n"
              << "placed: " << r.placed << " wall-seconds: " << r.wall_seconds << "\n"
              << "unplaced: " << r.unplaced << "\n"
              << "tasks_per_s: " << static_cast<uint64_t>(r.placed / std::max(r.wall_seconds, 1e-9)) << "\n"
              << "tasks_per_node_min: " << r.min_per_node << "\n"
              << "tasks_per_node_max: " << r.max_per_node << "\n"
              << "setup_seconds: " << r.setup_seconds << "\n";
    return r.placed == bench_tasks ? 0 : 1;
  }
  if (run->parsed()) {
    const LogLevel level = parse_log_level(log_level).value_or(LogLevel::kInfo);  // CLI11 checked the word
    return run_command(path, seed, swarm, timeline, level, trace_out, determinism, bugs, planted);
  }
  if (seeds == 0) {
    std::cerr << "shoalsim: --seeds must be at least 1\n";
    return 2;
  }
  return sweep_command(paths, seeds, from, !no_swarm, bugs, planted, stop);
}
