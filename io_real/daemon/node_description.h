// What this machine offers the scheduler: OS and architecture (as uname says), CPUs and memory
// (all of them, as Docker reports them), and the engine labels given on the command line.
#pragma once
#include <map>
#include <string>

#include "core/api/store.pb.h"

namespace shoal::real {

storepb::NodeDescription describe_this_machine(const std::map<std::string, std::string>& engine_labels);

}  // namespace shoal::real
