// Codec: gossip's wire format — one gossippb::Envelope per datagram — and its checks.
//
// decode() accepts a datagram only if it is at most the push-pull size limit, parses as an
// Envelope, carries kWireVersion and a body, and every message in it is well formed (no part
// without a kind, no member id 0, meta within its limit, no more parts or states than allowed,
// a compound no larger than a UDP payload, table entries with an owner, a
// table, a key, a Lamport time and sizes within their limits). Anything else is an error whose message names the
// reason (a short, stable word, used as a counter key); the caller drops the datagram.
//
//   auto env = decode(bytes, config);
//   if (!env.ok()) { ++bad[env.status().message()]; return; }
#pragma once

#include <string>
#include <string_view>

#include "core/api/gossip.pb.h"
#include "core/env/status.h"
#include "core/gossip/config.h"

namespace shoal::gossip {

inline constexpr uint32_t kWireVersion = 1;
// The largest Lamport time an entry (or a push-pull's table clock) may carry: far beyond any
// real count of writes, and far enough below 2^64 that the clock can never wrap.
inline constexpr uint64_t kMaxLamportTime = uint64_t{1} << 62;
// The largest UDP payload; a compound larger than this cannot be a packet.
inline constexpr size_t kMaxUdpPayload = 65507;

Result<gossippb::Envelope> decode(std::string_view bytes, const Config& config);

// Reasons decode() gives (counter keys).
inline constexpr const char* kDecodeReasons[] = {
    "too-big", "unparsable", "version", "no-body", "too-many-parts", "empty-part",
    "zero-node", "meta-too-big", "too-many-states", "bad-state", "bad-entry", "entry-too-big",
    "too-many-entries",
};

}  // namespace shoal::gossip
