#include "core/env/probe.h"

namespace shoal {

ProbeRegistry& ProbeRegistry::instance() {
  static ProbeRegistry registry;
  return registry;
}

}  // namespace shoal
