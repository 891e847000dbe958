// SimTime: the simulator's one global clock value, nanoseconds since the start of the run.
//
// Owned by the EventQueue (only it advances "now"); everyone else reads it. Invariant: the
// queue's now() never decreases. Node clocks (SimClock) are derived from it with drift and skew;
// core code never sees a SimTime, only its node's Clock.
//
//   SimTime t = 1500ms;
//   format_sim_time(t)   // "1.500000s"
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "core/env/time.h"

namespace shoal::sim {

// Time since the start of the run. Same representation as shoal::Duration.
using SimTime = std::chrono::nanoseconds;

// "S.uuuuuus": seconds with microsecond precision (truncated), e.g. "1.234567s". Negative
// values get a leading '-'.
std::string format_sim_time(SimTime t);

}  // namespace shoal::sim
