// Gossip keys: the leader's keeping of the keys that seal gossip (swarmkit's key manager for
// its network bootstrap keys), and the order in which a node uses them (libnetwork's rule).
//
// The cluster holds kGossipKeys keys, each with a Lamport time. Every rotation interval the
// leader adds a new one and drops the oldest. A node accepts every key the cluster holds and
// seals with the second newest: a key is installed everywhere (one rotation interval to reach
// every node) before anyone sends with it, and is still accepted one interval after everyone
// stopped sending with it — the install, use, remove sequence of core/gossip/keyring.h, with
// no step needing every node at once.
//
//   if (auto next = rotate_gossip_keys(*store.cluster(), now_ns, 12h, crypto)) propose(*next);
//   std::vector<AeadKey> ring = gossip_keyring_order(info.gossip_keys());  // primary first
#pragma once

#include <optional>
#include <vector>

#include "core/api/store.pb.h"
#include "core/env/crypto.h"
#include "core/env/time.h"

namespace shoal::manager {

inline constexpr size_t kGossipKeys = 3;

// The cluster with its gossip keys brought up to date at `now_ns` (missing keys made, a due
// rotation done), or nullopt when nothing is due.
std::optional<storepb::ClusterObject> rotate_gossip_keys(const storepb::ClusterObject& cluster, int64_t now_ns,
                                                         Duration interval, Crypto& crypto);

// The keys to install, the one to seal with first; keys that are not 32 bytes are skipped.
// Empty if there is none.
std::vector<AeadKey> gossip_keyring_order(const google::protobuf::RepeatedPtrField<storepb::EncryptionKey>& keys);

}  // namespace shoal::manager
