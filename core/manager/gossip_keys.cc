#include "core/manager/gossip_keys.h"

#include <algorithm>

namespace shoal::manager {

namespace {

storepb::EncryptionKey new_key(uint64_t lamport, int64_t now_ns, Crypto& crypto) {
  AeadKey k;
  crypto.random_bytes(k.data(), k.size());
  storepb::EncryptionKey e;
  e.set_key(std::string(reinterpret_cast<const char*>(k.data()), k.size()));
  e.set_lamport_time(lamport);
  e.set_created_at_ns(now_ns);
  return e;
}

}  // namespace

std::optional<storepb::ClusterObject> rotate_gossip_keys(const storepb::ClusterObject& cluster, int64_t now_ns,
                                                         Duration interval, Crypto& crypto) {
  std::vector<storepb::EncryptionKey> keys(cluster.gossip_keys().begin(), cluster.gossip_keys().end());
  std::sort(keys.begin(), keys.end(), [](const auto& a, const auto& b) { return a.lamport_time() < b.lamport_time(); });
  uint64_t lamport = keys.empty() ? 0 : keys.back().lamport_time();
  bool changed = false;
  while (keys.size() < kGossipKeys) {
    keys.push_back(new_key(++lamport, now_ns, crypto));
    changed = true;
  }
  if (!changed && keys.back().created_at_ns() + interval.count() <= now_ns) {
    keys.push_back(new_key(++lamport, now_ns, crypto));
    keys.erase(keys.begin());
    changed = true;
  }
  if (!changed) return std::nullopt;
  storepb::ClusterObject next = cluster;
  next.clear_gossip_keys();
  for (auto& k : keys) *next.add_gossip_keys() = std::move(k);
  return next;
}

std::vector<AeadKey> gossip_keyring_order(const google::protobuf::RepeatedPtrField<storepb::EncryptionKey>& keys) {
  std::vector<const storepb::EncryptionKey*> sorted;
  for (const auto& k : keys) {
    if (k.key().size() == AeadKey{}.size()) sorted.push_back(&k);
  }
  // Newest first.
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->lamport_time() > b->lamport_time(); });
  if (sorted.size() >= 2) std::swap(sorted[0], sorted[1]);  // the second newest seals
  std::vector<AeadKey> out;
  for (const auto* k : sorted) {
    AeadKey a;
    std::copy(k->key().begin(), k->key().end(), a.begin());
    out.push_back(a);
  }
  return out;
}

}  // namespace shoal::manager
