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
inline std::set<std::string> checkers_catching(const std::string& bug, const std::string& scenario,
                                               uint64_t max_seeds, bool swarm) {
  auto sc = load_scenario(scenario_path(scenario));
  EXPECT_TRUE(sc.ok()) << sc.status().message();
  if (!sc.ok()) return {};
  RunOptions opt;
  opt.swarm = swarm;
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

}  // namespace shoal::sim::testing
