#include "core/controlapi/nodes.h"

#include "core/controlapi/resolve.h"

namespace shoal::controlapi {

Result<storepb::Transaction> update_node(const store::Store& store, std::string_view ref, uint64_t version,
                                         const NodeSpecChange& change, int64_t now_ns) {
  auto found = resolve_node(store, ref);
  if (!found.ok()) return found.status();
  const storepb::NodeObject& current = **found;
  storepb::NodeObject updated = current;
  updated.set_version(version);  // the store refuses the update if it is stale
  storepb::NodeSpec* spec = updated.mutable_spec();
  if (change.role) {
    if (*change.role == storepb::WORKER && current.spec().desired_role() == storepb::MANAGER) {
      int managers = 0;
      for (const auto& [id, other] : store.nodes()) managers += other.spec().desired_role() == storepb::MANAGER;
      if (managers <= 1) return Status::invalid_argument("attempting to demote the last manager of the swarm");
    }
    spec->set_desired_role(*change.role);
  }
  if (change.availability) spec->set_availability(*change.availability);
  if (change.name) spec->mutable_annotations()->set_name(*change.name);
  if (change.labels) {
    auto* labels = spec->mutable_annotations()->mutable_labels();
    labels->clear();
    for (const auto& [k, v] : *change.labels) (*labels)[k] = v;
  }
  storepb::Transaction tx;
  tx.set_now_ns(now_ns);
  auto* a = tx.add_actions();
  a->set_kind(storepb::StoreAction::UPDATE);
  *a->mutable_node() = std::move(updated);
  return tx;
}

Result<storepb::Transaction> remove_node(const store::Store& store, std::string_view ref, bool force,
                                         bool raft_member) {
  auto found = resolve_node(store, ref);
  if (!found.ok()) return found.status();
  const storepb::NodeObject& n = **found;
  if (n.spec().desired_role() == storepb::MANAGER || raft_member) {
    return Status::invalid_argument("rejected: node " + n.id() +
                                    " is a cluster manager and is a member of the raft cluster. It must be demoted "
                                    "to worker before removal");
  }
  if (n.state() == storepb::NodeObject::READY && !force) {
    return Status::invalid_argument("rejected: node " + n.id() +
                                    " is not down and can't be removed; use --force to remove it anyway");
  }
  storepb::Transaction tx;
  auto* a = tx.add_actions();
  a->set_kind(storepb::StoreAction::REMOVE);
  *a->mutable_node() = n;
  return tx;
}

}  // namespace shoal::controlapi
