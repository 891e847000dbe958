// The managers a node can reach, as the store knows them: every node whose certificate is a
// manager's and whose cluster address is known. Node info and the dispatcher's heartbeat
// answers both carry this list, so a worker keeps finding the managers as they change.
#pragma once

#include "core/api/manager.pb.h"
#include "core/ca/node_identity.h"
#include "core/store/store.h"

namespace shoal::store {

inline void list_managers(const Store& store,
                          google::protobuf::RepeatedPtrField<managerpb::ManagerAddress>* out) {
  for (const auto& [nid, n] : store.nodes()) {
    auto id = ca::parse_node_id(nid);
    if (!id.ok() || n.role() != storepb::MANAGER || n.addr().empty()) continue;
    auto* m = out->Add();
    m->set_node_id(*id);
    m->set_addr(n.addr());
    m->set_gossip_addr(n.description().gossip_addr());
  }
}

}  // namespace shoal::store
