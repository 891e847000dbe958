#include "core/gossip/sealed_transport.h"

#include <chrono>

namespace shoal::gossip {

namespace {

constexpr std::string_view kAad = "shoal-gossip/1";

void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t get_u64(std::string_view in) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(in[static_cast<size_t>(i)]);
  return v;
}

}  // namespace

SealedTransport::SealedTransport(Clock& clock, Crypto& crypto, Transport& inner, NodeId self, Keyring keys,
                                 Duration replay_window)
    : clock_(clock), crypto_(crypto), inner_(inner), self_(self), keys_(std::move(keys)), window_(replay_window) {
  inner_.set_handler([this](const PeerIdentity& from, std::string_view datagram) { receive(from, datagram); });
}

void SealedTransport::send(NodeId to, std::string payload) {
  const int64_t now_ms = clock_.wall_now_unix_ns() / 1'000'000;
  std::string plain;
  plain.reserve(kHeaderBytes + payload.size());
  put_u64(plain, self_);
  put_u64(plain, static_cast<uint64_t>(now_ms));
  put_u64(plain, ++seq_);
  plain += payload;
  std::string datagram(1, static_cast<char>(kFormat));
  datagram += crypto_.seal(keys_.primary(), plain, kAad);
  ++stats_.sealed;
  inner_.send(to, std::move(datagram));
}

void SealedTransport::receive(const PeerIdentity& from, std::string_view datagram) {
  if (datagram.size() < kOverhead || static_cast<uint8_t>(datagram[0]) != kFormat) return drop("malformed");
  const std::string_view sealed = datagram.substr(1);
  std::string plain;
  bool opened = false;
  for (const AeadKey& key : keys_.keys()) {
    auto r = crypto_.unseal(key, sealed, kAad);
    if (r.ok()) {
      plain = std::move(*r);
      opened = true;
      break;
    }
  }
  if (!opened) return drop("bad-key");
  if (plain.size() < kHeaderBytes) return drop("malformed");
  const std::string_view p = plain;
  const NodeId sender = get_u64(p.substr(0, 8));
  const auto at_ms = static_cast<int64_t>(get_u64(p.substr(8, 8)));
  const uint64_t seq = get_u64(p.substr(16, 8));
  if (sender == 0) return drop("malformed");
  if (from.node_id != 0 && from.node_id != sender) return drop("sender-mismatch");
  if (const char* why = check_fresh(sender, at_ms, seq)) return drop(why);
  ++stats_.opened;
  if (!handler_) return;
  PeerIdentity who = from;
  who.node_id = sender;
  handler_(who, p.substr(kHeaderBytes));
}

const char* SealedTransport::check_fresh(NodeId sender, int64_t at_ms, uint64_t seq) {
  const int64_t now_ms = clock_.wall_now_unix_ns() / 1'000'000;
  const int64_t window_ms = std::chrono::duration_cast<std::chrono::milliseconds>(window_).count();
  if (at_ms < now_ms - window_ms || at_ms > now_ms + window_ms) return "stale";
  auto& seen = seen_[sender];
  // Forget what fell out of the window: anything that old is refused as stale anyway.
  while (!seen.empty() && seen.begin()->first < now_ms - window_ms) seen.erase(seen.begin());
  if (!seen.insert({at_ms, seq}).second) return "replay";
  while (seen.size() > kMaxRemembered) seen.erase(seen.begin());
  return nullptr;
}

void SealedTransport::drop(const char* reason) {
  ++stats_.dropped;
  ++stats_.dropped_by_reason[reason];
}

}  // namespace shoal::gossip
