// The store's form of a node's role (storepb::NodeRole) and core's (shoal::NodeRole): the same
// two values, one spelling each.
#pragma once

#include "core/api/store.pb.h"
#include "core/env/identity.h"

namespace shoal::store {

inline storepb::NodeRole to_store(NodeRole role) {
  return role == NodeRole::kManager ? storepb::MANAGER : storepb::WORKER;
}
inline NodeRole from_store(storepb::NodeRole role) {
  return role == storepb::MANAGER ? NodeRole::kManager : NodeRole::kWorker;
}

}  // namespace shoal::store
