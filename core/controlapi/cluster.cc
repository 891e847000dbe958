#include "core/controlapi/cluster.h"

#include "core/ca/join_tokens.h"
#include "core/node/unlock_key.h"

namespace shoal::controlapi {

Result<storepb::Transaction> update_cluster(const store::Store& store, uint64_t version, const ClusterChange& change,
                                            int64_t now_ns, Crypto& crypto) {
  const storepb::ClusterObject* current = store.cluster();
  if (!current) return Status::unavailable("this manager has not caught up with the cluster yet; try again shortly");
  storepb::ClusterObject c = *current;
  c.set_version(version);  // the store refuses the update if it is stale
  auto tokens = ca::JoinTokens::from_tokens(c.manager_token(), c.worker_token());
  if (!tokens.ok()) return tokens.status();
  if (change.rotate_worker_token) tokens->rotate(NodeRole::kWorker, crypto);
  if (change.rotate_manager_token) tokens->rotate(NodeRole::kManager, crypto);
  c.set_worker_token(tokens->token(NodeRole::kWorker));
  c.set_manager_token(tokens->token(NodeRole::kManager));
  auto fresh_unlock_key = [&crypto] {
    AeadKey k;
    crypto.random_bytes(k.data(), k.size());
    return node::format_unlock_key(k);
  };
  if (change.autolock) {
    if (*change.autolock && !c.autolock()) c.set_unlock_key(fresh_unlock_key());
    if (!*change.autolock) c.clear_unlock_key();
    c.set_autolock(*change.autolock);
  }
  if (change.rotate_unlock_key && c.autolock()) c.set_unlock_key(fresh_unlock_key());
  if (change.node_cert_expiry_ns) {
    if (*change.node_cert_expiry_ns < 60'000'000'000LL) {
      return Status::invalid_argument("NodeCertExpiry must be at least 1 minute");
    }
    c.set_node_cert_expiry_s(*change.node_cert_expiry_ns / 1'000'000'000LL);
  }
  if (change.ca_force_rotate) c.set_ca_force_rotate(*change.ca_force_rotate);
  storepb::Transaction tx;
  tx.set_now_ns(now_ns);
  auto* a = tx.add_actions();
  a->set_kind(storepb::StoreAction::UPDATE);
  *a->mutable_cluster() = std::move(c);
  return tx;
}

}  // namespace shoal::controlapi
