// A task's name as Docker's CLI writes it: "<service>.<slot>" for a replicated service's task,
// "<service>.<node id>" for a global service's. Logs and the API name tasks this way.
#pragma once

#include <string>

#include "core/api/store.pb.h"

namespace shoal::store {

inline std::string task_name(const storepb::TaskObject& t) {
  return t.service_name() + "." + (t.slot() != 0 ? std::to_string(t.slot()) : t.node_id());
}

}  // namespace shoal::store
