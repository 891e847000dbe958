// Test helpers for scenario runs: where the scenario files are, and which checkers a planted bug
// sets off.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>

#include "io_sim/scenario/runner.h"

namespace shoal::sim::testing {

inline std::string scenario_path(const std::string& name) {
  return std::string(SHOAL_SOURCE_DIR) + "/scenarios/" + name + ".yaml";
}

// Runs seeds 1..max_seeds of the scenario with the bug planted; returns the checkers that fired
// on the first failing seed (empty if none failed).
// `node_invariants` false: the nodes' own invariants are not checked, so the run's checkers
// see what the bug does.
inline std::set<std::string> checkers_catching(const std::string& bug, const std::string& scenario,
                                               uint64_t max_seeds, bool swarm, bool node_invariants = true) {
  auto sc = load_scenario(scenario_path(scenario));
  EXPECT_TRUE(sc.ok()) << sc.status().message();
  if (!sc.ok()) return {};
  RunOptions opt;
  opt.swarm = swarm;
  opt.node_invariants = node_invariants;
  EXPECT_TRUE(plant(opt.bugs, bug));
  for (uint64_t seed = 1; seed <= max_seeds; ++seed) {
    opt.seed = seed;
    RunResult r = run_scenario(*sc, opt);
    if (r.violations.empty()) continue;
    std::set<std::string> fired;
    for (const auto& v : r.violations) fired.insert(v.checker);
    return fired;
  }
  return {};
}

// Whether a run of seeds 1..max_seeds with the bug planted fails on a violation of `checker`
// whose text holds `phrase` (the first failing seed decides).
inline ::testing::AssertionResult caught_as(const std::string& bug, const std::string& scenario, uint64_t max_seeds,
                                            bool swarm, const std::string& checker, const std::string& phrase) {
  auto sc = load_scenario(scenario_path(scenario));
  if (!sc.ok()) return ::testing::AssertionFailure() << sc.status().message();
  RunOptions opt;
  opt.swarm = swarm;
  if (!plant(opt.bugs, bug)) return ::testing::AssertionFailure() << "no planted bug " << bug;
  for (uint64_t seed = 1; seed <= max_seeds; ++seed) {
    opt.seed = seed;
    RunResult r = run_scenario(*sc, opt);
    if (r.violations.empty()) continue;
    std::string seen;
    for (const auto& v : r.violations) {
      if (v.checker == checker && v.what.find(phrase) != std::string::npos) return ::testing::AssertionSuccess();
      seen += "\n  [" + v.checker + "] " + v.what;
    }
    return ::testing::AssertionFailure() << bug << " on " << scenario << " seed " << seed << " broke other rules:" << seen;
  }
  return ::testing::AssertionFailure() << bug << " went unnoticed on " << scenario << " seeds 1.." << max_seeds;
}

}  // namespace shoal::sim::testing
