// Network: the simulated network's state — who can reach whom, and each link's fault settings.
//
// Owned by the World (world.network()); the World asks it, per message, whether the directed
// link is cut and what happens to the message (decide()), and does the scheduling itself.
// Single-threaded. Nodes are 1..size().
//
// Connectivity is a matrix of cut directed links. partition(), block() and isolate() add cuts
// (they accumulate); heal() removes every cut; unblock() removes one. A node can always reach
// itself. Link fault settings (latency, loss, duplication, reordering) are a default for all
// links plus optional per-directed-link overrides; heal() leaves them alone.
//
// Invariants: connected(a, a) is always true; decide() draws only from the Rng it is given, in
// a fixed order, and only for probabilities strictly between 0 and 1 and non-zero ranges.
//
//   Network net(5);
//   net.partition({{1, 2}, {3, 4, 5}});   // 1,2 <-/-> 3,4,5
//   net.block(4, 5);                      // and 4 cannot send to 5
//   net.heal();
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/env/random.h"
#include "core/env/time.h"
#include "core/env/transport.h"

namespace shoal::sim {

// Fault settings of one directed link.
struct LinkOptions {
  Duration base_latency = std::chrono::microseconds(200);
  Duration jitter = std::chrono::microseconds(800);  // latency = base + uniform[0, jitter]
  double drop = 0.0;       // probability a message is lost
  double duplicate = 0.0;  // probability a message is delivered twice (independent latencies)
  double reorder = 0.0;    // probability of an extra delay uniform[0, reorder_delay]
  Duration reorder_delay = std::chrono::milliseconds(10);
};

class Network {
 public:
  explicit Network(size_t nodes, LinkOptions defaults = {});

  size_t size() const { return n_; }
  bool valid(NodeId id) const { return id >= 1 && id <= n_; }

  // --- link fault settings
  void set_default_link(const LinkOptions& options) { default_ = options; }
  const LinkOptions& default_link() const { return default_; }
  void set_link(NodeId from, NodeId to, const LinkOptions& options);
  void clear_link(NodeId from, NodeId to);
  void clear_all_links();
  // The settings in force on from->to (override or default).
  const LinkOptions& link(NodeId from, NodeId to) const;

  // --- connectivity
  // Nodes in different groups cannot talk (both directions). A node named in no group is
  // cut off from every other node. Adds to the existing cuts.
  void partition(const std::vector<std::vector<NodeId>>& groups);
  // One-way: from can no longer send to to.
  void block(NodeId from, NodeId to);
  void unblock(NodeId from, NodeId to);
  // Cuts node off from every other node, both directions.
  void isolate(NodeId node);
  // Removes every cut.
  void heal();
  bool connected(NodeId from, NodeId to) const { return !cut_[index(from, to)]; }
  // Number of cut directed links.
  size_t cut_links() const;

  // --- the fate of one message on a connected link
  struct Fate {
    bool dropped = false;
    Duration latency{0};
    bool reordered = false;
    bool duplicated = false;
    Duration duplicate_latency{0};
  };
  Fate decide(NodeId from, NodeId to, Rng& rng) const;

 private:
  size_t index(NodeId from, NodeId to) const;
  void cut(NodeId from, NodeId to);

  size_t n_;
  LinkOptions default_;
  std::vector<std::optional<LinkOptions>> overrides_;  // n_ * n_, [from-1][to-1]
  std::vector<uint8_t> cut_;                           // n_ * n_, [from-1][to-1]
};

}  // namespace shoal::sim
