// Env: everything a node's core needs from the world, gathered in one place.
//
// A node's components receive an Env& and reach the world only through it. The Env and every
// seam in it outlive the components that use them.
#pragma once

#include "core/env/clock.h"
#include "core/env/disk.h"
#include "core/env/log.h"
#include "core/env/random.h"
#include "core/env/timers.h"
#include "core/env/transport.h"

namespace shoal {

struct Env {
  Clock& clock;
  Timers& timers;
  Rng& rng;
  Transport& transport;
  Disk& disk;
  Log& log;
};

}  // namespace shoal
