#include "io_sim/cluster/scheduler_bench.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>

#include "core/scheduler/scheduler.h"

namespace shoal::sim {

SchedulerBenchResult bench_scheduler(uint64_t node_count, uint64_t task_count) {
  using Clock = std::chrono::steady_clock;
  const auto setup_start = Clock::now();
  std::map<std::string, storepb::NodeObject> nodes;
  char id[32];
  for (uint64_t i = 0; i < node_count; ++i) {
    std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(i + 1));
    storepb::NodeObject& n = nodes[id];
    n.set_id(id);
    n.set_hostname("sim-" + std::to_string(i));
    n.set_role(storepb::WORKER);
    n.set_state(storepb::NodeObject::READY);
    n.mutable_spec()->set_availability(storepb::NodeSpec::ACTIVE);
    (*n.mutable_spec()->mutable_annotations()->mutable_labels())["zone"] = "z" + std::to_string(i % 10);
    n.mutable_description()->mutable_platform()->set_os("linux");
    n.mutable_description()->mutable_resources()->set_nano_cpus(2'000'000'000);
    n.mutable_description()->mutable_resources()->set_memory_bytes(int64_t{8} << 30);
  }
  std::map<std::string, storepb::TaskObject> tasks;
  const uint64_t services = std::max<uint64_t>(1, task_count / 10'000);
  for (uint64_t i = 0; i < task_count; ++i) {
    std::snprintf(id, sizeof id, "task%021llu", static_cast<unsigned long long>(i));
    storepb::TaskObject& t = tasks[id];
    t.set_id(id);
    t.set_service_id("svc" + std::to_string(i % services));
    t.set_slot(i / services + 1);
    t.set_spec_version(1);
    t.mutable_spec()->mutable_container()->add_command("/bin/true");
    t.mutable_spec()->mutable_resources()->mutable_reservations()->set_memory_bytes(10 << 20);
    t.set_desired_state(storepb::RUNNING);
    t.mutable_status()->set_state(storepb::PENDING);
  }
  SchedulerBenchResult r;
  r.setup_seconds = std::chrono::duration<double>(Clock::now() - setup_start).count();

  const auto start = Clock::now();
  const scheduler::SchedulePlan plan = scheduler::schedule(nodes, tasks);
  r.wall_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.placed = plan.assigned.size();
  r.unplaced = plan.unplaced.size();
  std::map<std::string, uint64_t> per_node;
  for (const auto& a : plan.assigned) ++per_node[a.node_id];
  r.min_per_node = UINT64_MAX;
  for (const auto& [id, node] : nodes) {
    const uint64_t c = per_node[id];
    r.max_per_node = std::max(r.max_per_node, c);
    r.min_per_node = std::min(r.min_per_node, c);
  }
  return r;
}

}  // namespace shoal::sim
