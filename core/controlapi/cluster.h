// The control API's rules for the cluster object (`swarm update`): join token rotation,
// autolock on and off, the unlock key's rotation, the node certificates' lifetime, and a root
// CA rotation asked for (the leader carries it out, core/manager/manager.h). Pure, like
// services.h.
#pragma once

#include <cstdint>
#include <optional>

#include "core/env/crypto.h"
#include "core/store/store.h"

namespace shoal::controlapi {

// What `swarm update` asks; each part left unset stays as it is.
struct ClusterChange {
  bool rotate_worker_token = false;
  bool rotate_manager_token = false;
  bool rotate_unlock_key = false;        // only while autolocked
  std::optional<bool> autolock;
  std::optional<int64_t> node_cert_expiry_ns;  // at least one minute
  std::optional<uint64_t> ca_force_rotate;     // a new value starts a root CA rotation
};

// Made against `version` (the cluster's Version.Index): the store refuses a stale one.
Result<storepb::Transaction> update_cluster(const store::Store& store, uint64_t version, const ClusterChange& change,
                                            int64_t now_ns, Crypto& crypto);

}  // namespace shoal::controlapi
