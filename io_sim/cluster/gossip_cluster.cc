#include "io_sim/cluster/gossip_cluster.h"

namespace shoal::sim {

GossipApp::GossipApp(NodeId id, Env& env, const gossip::Config& config, gossip::Events events,
                     std::vector<AeadKey> keys, uint64_t crypto_seed)
    : crypto_(keys.empty() ? nullptr : std::make_unique<SimCrypto>(crypto_seed)),
      sealed_(keys.empty() ? nullptr
                           : std::make_unique<gossip::SealedTransport>(env.clock, *crypto_, env.transport, id,
                                                                       gossip::Keyring(std::move(keys)))),
      env_{env.clock, env.timers, env.rng, sealed_ ? static_cast<Transport&>(*sealed_) : env.transport, env.disk, env.log},
      membership_(env_, config, std::move(events)),
      table_(env_, membership_) {
  env_.transport.set_handler([this](const PeerIdentity& from, std::string_view payload) {
    membership_.receive(from.node_id, payload);
  });
}

GossipCluster::GossipCluster(GossipClusterOptions options)
    : options_(std::move(options)), checker_(options_.nodes), rng_(1) {
  WorldOptions wo;
  wo.nodes = options_.nodes;
  wo.seed = options_.seed;
  wo.link.drop = options_.loss;
  wo.link.duplicate = options_.duplicate;
  wo.keep_trace = options_.keep_trace;
  world_ = std::make_unique<World>(wo, [this](NodeId id, Env& env) { return make_app(id, env); });
  rng_ = world_->derive_rng("gossip-cluster");
  world_->start_all();
  for (NodeId id = 2; id <= options_.nodes; ++id) {
    world_->after_on(id, options_.join_spacing * static_cast<int64_t>(id - 1),
                     [this, id] { join_through_random(id, id); });
  }
}

std::unique_ptr<NodeApp> GossipCluster::make_app(NodeId id, Env& env) {
  gossip::Config c = options_.config;
  c.id = id;
  gossip::Events events;
  events.on_leave = [this, id](const gossip::MemberInfo& subject) {
    checker_.member_dead(id, subject, world_->is_up(subject.id), world_->now());
  };
  std::vector<AeadKey> keys = options_.keys ? options_.keys(id) : std::vector<AeadKey>{};
  auto app = std::make_unique<GossipApp>(id, env, c, std::move(events), std::move(keys),
                                         // a fresh nonce stream per start: restarts never reuse one
                                         mix64(options_.seed ^ mix64(id) ^ static_cast<uint64_t>(world_->now().count())));
  app->table().subscribe(
      [this, id](const gossip::TableChange& change) { checker_.table_change(id, change, world_->now()); });
  return app;
}

gossip::Table* GossipCluster::table(NodeId id) {
  auto* app = dynamic_cast<GossipApp*>(world_->app(id));
  return app ? &app->table() : nullptr;
}

gossip::SealedTransport* GossipCluster::sealed(NodeId id) {
  auto* app = dynamic_cast<GossipApp*>(world_->app(id));
  return app ? app->sealed() : nullptr;
}

Status GossipCluster::put(NodeId id, const std::string& table_name, const std::string& key, const std::string& value) {
  gossip::Table* t = table(id);
  if (t == nullptr) return Status::unavailable("node " + std::to_string(id) + " is down");
  if (Status s = t->put(table_name, key, value); !s.ok()) return s;
  checker_.entry_written(id, gossip::TableChange{gossip::TableChange::Kind::kPut, table_name, key, value, id},
                         world_->now(), up_nodes());
  return {};
}

gossip::Membership* GossipCluster::member(NodeId id) {
  auto* app = dynamic_cast<GossipApp*>(world_->app(id));
  return app ? &app->membership() : nullptr;
}

void GossipCluster::join_through_random(NodeId id, NodeId below) {
  gossip::Membership* m = member(id);
  if (m == nullptr) return;
  std::vector<NodeId> candidates;
  for (NodeId x = 1; x < below; ++x) {
    if (x != id && world_->is_up(x)) candidates.push_back(x);
  }
  if (candidates.empty()) return;
  m->join({candidates[static_cast<size_t>(rng_.uniform(0, candidates.size() - 1))]});
}

std::vector<NodeId> GossipCluster::up_nodes() const {
  std::vector<NodeId> out;
  for (NodeId id = 1; id <= options_.nodes; ++id) {
    if (world_->is_up(id)) out.push_back(id);
  }
  return out;
}

std::vector<NodeId> GossipCluster::down_nodes() const {
  std::vector<NodeId> out;
  for (NodeId id = 1; id <= options_.nodes; ++id) {
    if (!world_->is_up(id)) out.push_back(id);
  }
  return out;
}

bool GossipCluster::converged() {
  const auto up = up_nodes();
  for (NodeId id : up) {
    gossip::Membership* m = member(id);
    if (m == nullptr || m->num_alive() != up.size()) return false;
  }
  return agreement_error().empty() && table_agreement_error().empty();
}

bool GossipCluster::run_until_converged(Duration limit) {
  const SimTime end = world_->now() + limit;
  while (world_->now() < end) {
    world_->run_for(std::chrono::milliseconds(100));
    // Cheap test first: num_alive is O(1) per node.
    bool counts = true;
    const auto up = up_nodes();
    for (NodeId id : up) {
      gossip::Membership* m = member(id);
      if (m == nullptr || m->num_alive() != up.size()) {
        counts = false;
        break;
      }
    }
    if (counts && agreement_error().empty() && table_agreement_error().empty()) return true;
  }
  return false;
}

void GossipCluster::crash(NodeId id) {
  if (!world_->crash(id)) return;
  // Awaited: the members that hold the victim alive or suspect. One that never knew it (it
  // restarted during a partition, say) has nothing to declare; the agreement check still sees
  // that no member holds a crashed node alive in the end.
  checker_.node_crashed(id, world_->now(), up_nodes(), [this, id](NodeId obs) {
    gossip::Membership* m = member(obs);
    const gossip::MemberInfo* info = m ? m->member(id) : nullptr;
    return info == nullptr || info->state == gossip::State::kDead || info->state == gossip::State::kLeft;
  });
}

void GossipCluster::restart(NodeId id) {
  if (!world_->restart(id)) return;
  checker_.node_restarted(id);
  join_through_random(id, static_cast<NodeId>(options_.nodes + 1));
}

void GossipCluster::leave(NodeId id) {
  gossip::Membership* m = member(id);
  if (m == nullptr) return;
  checker_.node_left(id);
  m->leave();
}

std::string GossipCluster::agreement_error() {
  return checker_.agreement_error(up_nodes(), down_nodes(), [this](NodeId obs, NodeId x) {
    gossip::Membership* m = member(obs);
    return m ? m->member(x) : nullptr;
  });
}

std::string GossipCluster::table_agreement_error() {
  return checker_.table_agreement_error(up_nodes(), [this](NodeId id) {
    gossip::Table* t = table(id);
    return t ? t->visible() : GossipChecker::TableView{};
  });
}

}  // namespace shoal::sim
