// SealedTransport: gossip's encryption and authentication, a Transport wrapped around the one
// that carries gossip datagrams (the World's network, or io_real's UDP and TCP on 7946). The
// Membership is built on an Env whose transport is this one, so it never sees a byte the
// cluster's key did not seal.
//
// Every datagram sent is sealed with the keyring's primary key (AES-256-GCM through the Crypto
// seam):
//   u8 format (1) || seal(key, header || payload, aad = "shoal-gossip/1")
//   header = sender node id (u64) || sender's wall clock in ms (i64) || sequence number (u64)
// What arrives is opened with each installed key in turn. The sender is the one the header
// names (authenticated by the key); where the carrier knows the sender too (the simulator) the
// two must agree. Dropped, counted by reason and never passed on:
//   "malformed"        too short, unknown format, or a header naming node 0
//   "bad-key"          no installed key opens it (a wrong key, or tampered bytes)
//   "sender-mismatch"  the carrier's sender is not the sealed one
//   "stale"            sent more than replay_window away from this member's clock (a replay
//                      outside its window, or a clock too far off)
//   "replay"           the same (sender, time, sequence) already arrived within the window
// So the clocks of a cluster's members must agree within replay_window (default 60 s).
//
// Thread contract: single-threaded, on the node's loop; the inner transport, clock and crypto
// outlive it.
//
//   SealedTransport sealed(env.clock, crypto, env.transport, self, Keyring({key}));
//   Env gossip_env{env.clock, env.timers, env.rng, sealed, env.disk};
//   Membership m(gossip_env, config);
//   sealed.set_handler([&](const PeerIdentity& p, std::string_view b) { m.receive(p.node_id, b); });
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "core/env/clock.h"
#include "core/env/crypto.h"
#include "core/env/transport.h"
#include "core/gossip/keyring.h"

namespace shoal::gossip {

struct SealStats {
  uint64_t sealed = 0;
  uint64_t opened = 0;
  uint64_t dropped = 0;
  std::map<std::string, uint64_t> dropped_by_reason;
};

class SealedTransport final : public Transport {
 public:
  static constexpr uint8_t kFormat = 1;
  static constexpr size_t kHeaderBytes = 24;
  static constexpr size_t kOverhead = 1 + Crypto::kSealOverhead + kHeaderBytes;
  // Remembered (time, sequence) pairs per sender; past it the oldest are forgotten.
  static constexpr size_t kMaxRemembered = 1 << 16;

  SealedTransport(Clock& clock, Crypto& crypto, Transport& inner, NodeId self, Keyring keys,
                  Duration replay_window = std::chrono::seconds(60));

  void send(NodeId to, std::string payload) override;
  void set_handler(Handler handler) override { handler_ = std::move(handler); }

  Keyring& keyring() { return keys_; }
  const SealStats& stats() const { return stats_; }

 private:
  void receive(const PeerIdentity& from, std::string_view datagram);
  void drop(const char* reason);
  // Why (sender, at, seq) is refused ("stale", "replay"), or nullptr after remembering it.
  const char* check_fresh(NodeId sender, int64_t at_ms, uint64_t seq);

  Clock& clock_;
  Crypto& crypto_;
  Transport& inner_;
  NodeId self_;
  Keyring keys_;
  Duration window_;
  Handler handler_;
  uint64_t seq_ = 0;
  std::map<NodeId, std::set<std::pair<int64_t, uint64_t>>> seen_;
  SealStats stats_;
};

}  // namespace shoal::gossip
