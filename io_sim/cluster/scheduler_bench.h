// The scheduler at scale: N simulated nodes (ready, active, 2 CPUs and 8 GiB each, spread over 10
// zones), M pending tasks of M/10,000 services (at least one), each reserving 10 MiB, placed in
// one scheduler pass. `shoalsim bench-scheduler --nodes N --tasks M` prints the figures.
#pragma once

#include <cstdint>

namespace shoal::sim {

struct SchedulerBenchResult {
  uint64_t placed = 0;
  uint64_t unplaced = 0;
  double wall_seconds = 0;   // the scheduler's pass alone
  double setup_seconds = 0;  // making the nodes and tasks
  uint64_t max_per_node = 0;
  uint64_t min_per_node = 0;
};

SchedulerBenchResult bench_scheduler(uint64_t nodes, uint64_t tasks);

}  // namespace shoal::sim
