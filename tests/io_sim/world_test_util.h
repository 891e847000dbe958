// Test helpers for the simulator's world tests: small NodeApps that record what happens to them.
//
// ProbeApp does nothing on its own; tests drive it (send, arm timers, write the disk) and read
// what it saw from a Journal that outlives every app (apps die on crash, journals do not).
// ChatterApp generates random traffic, timers and disk writes from its node's Rng, for
// determinism tests.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "io_sim/world/world.h"

namespace shoal::sim::testing {

struct Received {
  NodeId at = 0;
  NodeId from = 0;
  std::string payload;
  SimTime t{0};
};

struct Journal {
  World* world = nullptr;  // stamps times; set after the World exists
  std::vector<Received> received;
  std::vector<std::string> notes;  // free-form, e.g. "timer 2@5"
  int apps_created = 0;
  int apps_destroyed = 0;

  std::vector<std::string> payloads_at(NodeId node) const {
    std::vector<std::string> out;
    for (const auto& r : received) {
      if (r.at == node) out.push_back(r.payload);
    }
    return out;
  }
};

class ProbeApp : public NodeApp {
 public:
  ProbeApp(NodeId id, Env& env, Journal& journal) : id_(id), env_(env), journal_(journal) {
    ++journal_.apps_created;
    env_.transport.set_handler([this](const PeerIdentity& from, std::string_view payload) {
      journal_.received.push_back(Received{id_, from.node_id, std::string(payload),
                                           journal_.world ? journal_.world->now() : SimTime{0}});
      last_identity = from;
      if (on_receive) on_receive(from, payload);
    });
  }
  ~ProbeApp() override { ++journal_.apps_destroyed; }

  void send(NodeId to, std::string payload) { env_.transport.send(to, std::move(payload)); }
  Env& env() { return env_; }
  NodeId id() const { return id_; }

  std::function<void(const PeerIdentity&, std::string_view)> on_receive;
  PeerIdentity last_identity;

 private:
  NodeId id_;
  Env& env_;
  Journal& journal_;
};

inline AppFactory probe_factory(Journal& journal) {
  return [&journal](NodeId id, Env& env) -> std::unique_ptr<NodeApp> {
    return std::make_unique<ProbeApp>(id, env, journal);
  };
}

inline ProbeApp& probe(World& world, NodeId id) {
  auto* app = dynamic_cast<ProbeApp*>(world.app(id));
  if (app == nullptr) std::abort();
  return *app;
}

// Random chatter: every 1-20 ms (node clock) sends to a random peer and writes its disk,
// syncing sometimes; answers some messages. All randomness from the node's Env rng.
class ChatterApp : public NodeApp {
 public:
  ChatterApp(NodeId id, Env& env, size_t nodes) : id_(id), env_(env), nodes_(nodes) {
    env_.transport.set_handler([this](const PeerIdentity& from, std::string_view payload) {
      env_.disk.put("in/" + std::to_string(from.node_id), std::string(payload));
      if (env_.rng.chance(0.3)) env_.transport.send(from.node_id, "ack:" + std::string(payload));
    });
    arm();
  }

 private:
  void arm() {
    env_.timers.after(std::chrono::milliseconds(env_.rng.uniform(1, 20)), [this] {
      const NodeId to = env_.rng.uniform(1, nodes_);
      const std::string msg = "m" + std::to_string(id_) + "." + std::to_string(++sent_);
      env_.transport.send(to, msg + std::string(env_.rng.uniform(0, 64), 'x'));
      env_.disk.put("out/" + std::to_string(sent_), msg);
      if (env_.rng.chance(0.5)) env_.disk.sync([](Status s) { s.ignore(); });
      arm();
    });
  }

  NodeId id_;
  Env& env_;
  size_t nodes_;
  uint64_t sent_ = 0;
};

inline AppFactory chatter_factory(size_t nodes) {
  return [nodes](NodeId id, Env& env) -> std::unique_ptr<NodeApp> {
    return std::make_unique<ChatterApp>(id, env, nodes);
  };
}

}  // namespace shoal::sim::testing
