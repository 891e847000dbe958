// BroadcastQueue: the messages this member disseminates by piggybacking (memberlist's
// TransmitLimitedQueue).
//
// Each broadcast is one small message about one thing: a member (alive, suspect or dead) or a
// table entry (table.h); queueing a new one about a thing replaces any older one about the same
// thing, whose news it supersedes.
// take() fills a packet's spare room: fewest transmissions first, then newest first; each
// broadcast taken counts one transmission and leaves the queue once it has been sent `limit`
// times (retransmit_mult * ceil(log10(n + 1))). The queue holds at most `max` broadcasts; past
// that the most-sent, oldest are dropped and counted.
//
// Invariants: at most one broadcast per thing; every entry has fewer than `limit` transmits
// as of the last take().
//
//   BroadcastQueue q(8192);
//   q.queue(7, part);
//   auto parts = q.take(/*budget=*/1300, /*limit=*/retransmit_limit(n, 4));
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/api/gossip.pb.h"
#include "core/env/transport.h"

namespace shoal::gossip {

// retransmit_mult * ceil(log10(n + 1)).
int retransmit_limit(int retransmit_mult, size_t n);

// Bytes one part adds to a Compound beyond its own encoding (field tag and length prefix).
inline constexpr size_t kPartOverhead = 3;

// What a broadcast is about: a member (entry empty) or a table entry (its table and key).
struct BroadcastKey {
  NodeId member = 0;
  std::string entry;
  auto operator<=>(const BroadcastKey&) const = default;
};

class BroadcastQueue {
 public:
  explicit BroadcastQueue(size_t max) : max_(max) {}

  void queue(NodeId about, gossippb::Part part) { queue(BroadcastKey{about, {}}, std::move(part)); }
  void queue(BroadcastKey about, gossippb::Part part);
  // Parts whose encodings (plus kPartOverhead each) fit together in `budget` bytes.
  std::vector<gossippb::Part> take(size_t budget, int limit, size_t max_parts);

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  uint64_t dropped() const { return dropped_; }
  // Transmissions so far of the broadcast queued about `about` (-1 if none).
  int transmits(NodeId about) const { return transmits(BroadcastKey{about, {}}); }
  int transmits(const BroadcastKey& about) const;

 private:
  struct Entry {
    BroadcastKey about;
    gossippb::Part part;
    size_t bytes = 0;
    int transmits = 0;
  };
  // Order of take(): (transmits ascending, id descending = newest first).
  using Key = std::pair<int, uint64_t>;  // (transmits, UINT64_MAX - id)
  static Key key_of(uint64_t id, const Entry& e) { return {e.transmits, UINT64_MAX - id}; }
  void erase(uint64_t id);

  size_t max_;
  uint64_t next_id_ = 1;
  uint64_t dropped_ = 0;
  std::map<uint64_t, Entry> entries_;
  std::set<Key> order_;
  std::map<BroadcastKey, uint64_t> by_key_;
};

}  // namespace shoal::gossip
