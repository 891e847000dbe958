#include "io_sim/world/network.h"

#include "core/env/check.h"

namespace shoal::sim {

Network::Network(size_t nodes, LinkOptions defaults)
    : n_(nodes), default_(defaults), overrides_(nodes * nodes), cut_(nodes * nodes, 0) {}

size_t Network::index(NodeId from, NodeId to) const {
  SHOAL_CHECK(valid(from) && valid(to), "bad link %llu->%llu (nodes are 1..%zu)",
              static_cast<unsigned long long>(from), static_cast<unsigned long long>(to), n_);
  return static_cast<size_t>((from - 1) * n_ + (to - 1));
}

void Network::set_link(NodeId from, NodeId to, const LinkOptions& options) {
  overrides_[index(from, to)] = options;
}

void Network::clear_link(NodeId from, NodeId to) { overrides_[index(from, to)].reset(); }

void Network::clear_all_links() {
  for (auto& o : overrides_) o.reset();
}

const LinkOptions& Network::link(NodeId from, NodeId to) const {
  const auto& o = overrides_[index(from, to)];
  return o ? *o : default_;
}

void Network::cut(NodeId from, NodeId to) {
  if (from != to) cut_[index(from, to)] = 1;
}

void Network::partition(const std::vector<std::vector<NodeId>>& groups) {
  // group_of[i] = group number of node i+1; -1 = named in no group.
  std::vector<int> group_of(n_, -1);
  for (size_t g = 0; g < groups.size(); ++g) {
    for (NodeId id : groups[g]) {
      SHOAL_CHECK(valid(id), "partition names unknown node %llu", static_cast<unsigned long long>(id));
      SHOAL_CHECK(group_of[id - 1] == -1, "node %llu is in two partition groups",
                  static_cast<unsigned long long>(id));
      group_of[id - 1] = static_cast<int>(g);
    }
  }
  for (NodeId a = 1; a <= n_; ++a) {
    for (NodeId b = 1; b <= n_; ++b) {
      const int ga = group_of[a - 1], gb = group_of[b - 1];
      if (ga == -1 || gb == -1 || ga != gb) cut(a, b);
    }
  }
}

void Network::block(NodeId from, NodeId to) { cut(from, to); }

void Network::unblock(NodeId from, NodeId to) { cut_[index(from, to)] = 0; }

void Network::isolate(NodeId node) {
  for (NodeId other = 1; other <= n_; ++other) {
    cut(node, other);
    cut(other, node);
  }
}

void Network::heal() {
  for (auto& c : cut_) c = 0;
}

size_t Network::cut_links() const {
  size_t n = 0;
  for (uint8_t c : cut_) n += c;
  return n;
}

Network::Fate Network::decide(NodeId from, NodeId to, Rng& rng) const {
  const LinkOptions& o = link(from, to);
  SHOAL_CHECK(o.base_latency.count() >= 0 && o.jitter.count() >= 0 && o.reorder_delay.count() >= 0,
              "negative latency settings on link %llu->%llu", static_cast<unsigned long long>(from),
              static_cast<unsigned long long>(to));
  Fate f;
  if (rng.chance(o.drop)) {
    f.dropped = true;
    return f;
  }
  auto draw_latency = [&] {
    Duration d = o.base_latency +
                 Duration(static_cast<int64_t>(rng.uniform(0, static_cast<uint64_t>(o.jitter.count()))));
    return d;
  };
  f.latency = draw_latency();
  if (rng.chance(o.reorder)) {
    f.reordered = true;
    f.latency += Duration(static_cast<int64_t>(rng.uniform(0, static_cast<uint64_t>(o.reorder_delay.count()))));
  }
  if (rng.chance(o.duplicate)) {
    f.duplicated = true;
    f.duplicate_latency = draw_latency();
  }
  return f;
}

}  // namespace shoal::sim
