// Helpers for gossip::Membership unit tests on hand-driven seams (tests/core/manual_env.h): a
// transport that records every packet and, for the peers the test marks as up, answers pings with
// an ack 1 ms later (so the probe loop never raises suspicions of its own) and indirect pings
// with an ack if their target is up too, else a nack 50 ms later; and builders for datagrams.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "core/api/gossip.pb.h"
#include "core/gossip/codec.h"
#include "core/gossip/membership.h"
#include "tests/core/manual_env.h"

namespace shoal::gossip::testing {

struct Sent {
  NodeId to = 0;
  gossippb::Envelope env;
};

class FakeNet final : public Transport {
 public:
  explicit FakeNet(Timers& timers) : timers_(timers) {}
  void send(NodeId to, std::string payload) override {
    Sent s{to, {}};
    if (!s.env.ParseFromString(payload)) std::abort();
    sent.push_back(s);
    if (!answering.count(to) || target == nullptr || !s.env.has_compound()) return;
    for (const auto& p : s.env.compound().parts()) {
      gossippb::Envelope reply;
      reply.set_version(kWireVersion);
      Duration delay = std::chrono::milliseconds(1);
      if (p.has_ping()) {
        reply.mutable_compound()->add_parts()->mutable_ack()->set_seq_no(p.ping().seq_no());
      } else if (p.has_indirect_ping() && answering.count(p.indirect_ping().target())) {
        reply.mutable_compound()->add_parts()->mutable_ack()->set_seq_no(p.indirect_ping().seq_no());
      } else if (p.has_indirect_ping() && p.indirect_ping().nack() && nacks) {
        reply.mutable_compound()->add_parts()->mutable_nack()->set_seq_no(p.indirect_ping().seq_no());
        delay = std::chrono::milliseconds(50);
      } else {
        continue;
      }
      Membership* m = target;
      timers_.after(delay, [m, to, bytes = reply.SerializeAsString()] { m->receive(to, bytes); });
    }
  }
  void set_handler(Handler) override {}

  // Every part of every packet sent so far, in order, with its destination.
  std::vector<std::pair<NodeId, gossippb::Part>> parts() const {
    std::vector<std::pair<NodeId, gossippb::Part>> out;
    for (const auto& s : sent) {
      if (!s.env.has_compound()) continue;
      for (const auto& p : s.env.compound().parts()) out.emplace_back(s.to, p);
    }
    return out;
  }

  std::vector<Sent> sent;
  std::set<NodeId> answering;  // peers that are up: they ack pings, relay indirect pings
  bool nacks = true;           // helpers nack an indirect ping whose target is silent
  Membership* target = nullptr;

 private:
  Timers& timers_;
};

inline std::string packet(std::vector<gossippb::Part> parts) {
  gossippb::Envelope env;
  env.set_version(kWireVersion);
  for (auto& p : parts) *env.mutable_compound()->add_parts() = std::move(p);
  return env.SerializeAsString();
}

inline gossippb::Part alive(NodeId node, uint64_t inc, std::string meta = "") {
  gossippb::Part p;
  p.mutable_alive()->set_node(node);
  p.mutable_alive()->set_incarnation(inc);
  p.mutable_alive()->set_meta(std::move(meta));
  return p;
}

inline gossippb::Part suspect(NodeId node, uint64_t inc, NodeId from) {
  gossippb::Part p;
  p.mutable_suspect()->set_node(node);
  p.mutable_suspect()->set_incarnation(inc);
  p.mutable_suspect()->set_from(from);
  return p;
}

inline gossippb::Part dead(NodeId node, uint64_t inc, NodeId from) {
  gossippb::Part p;
  p.mutable_dead()->set_node(node);
  p.mutable_dead()->set_incarnation(inc);
  p.mutable_dead()->set_from(from);
  return p;
}

// One member (id 1) on manual seams, with peers 2..n known alive and answering pings.
struct Rig {
  explicit Rig(size_t n, Config config = {}, Events events = {})
      : timers(clock), rng(42), net(timers), env{clock, timers, rng, net, disk, log} {
    config.id = 1;
    m = std::make_unique<Membership>(env, config, std::move(events));
    net.target = m.get();
    std::vector<gossippb::Part> parts;
    for (NodeId id = 2; id <= n; ++id) {
      parts.push_back(alive(id, 1));
      net.answering.insert(id);
    }
    if (!parts.empty()) m->receive(2, packet(std::move(parts)));
  }

  test::ManualClock clock;
  test::ManualTimers timers;
  Rng rng;
  FakeNet net;
  test::NoDisk disk;
  test::RecordingLogSink log_sink;
  Log log{clock, log_sink};
  Env env;
  std::unique_ptr<Membership> m;
};

}  // namespace shoal::gossip::testing
