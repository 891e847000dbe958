#include "core/node/node_gossip.h"

#include "core/manager/gossip_keys.h"

namespace shoal::node {
namespace {
constexpr const char* kNodesTable = "nodes";
}  // namespace

NodeGossip::NodeGossip(Env& env, Crypto& crypto, GossipNet& net, NodeGossipOptions options)
    : env_(env), crypto_(crypto), net_(net), opts_(std::move(options)) {}

NodeGossip::~NodeGossip() {
  table_.reset();
  membership_.reset();
  if (sealed_) net_.set_handler(nullptr);
}

void NodeGossip::start_ring(const std::vector<AeadKey>& first_keys) {
  keys_ = first_keys;
  sealed_ = std::make_unique<gossip::SealedTransport>(env_.clock, crypto_, net_, opts_.self, gossip::Keyring(keys_));
  ring_env_ = std::make_unique<Env>(Env{env_.clock, env_.timers, env_.rng, *sealed_, env_.disk, env_.log});
  gossip::Config config;
  config.id = opts_.self;
  config.meta = opts_.advertise;
  config.bugs = opts_.bugs;
  // A full packet, once sealed, still fits one datagram (larger ones cost a stream).
  config.max_packet_bytes = net_.max_datagram() - gossip::SealedTransport::kOverhead;
  gossip::Events events;
  // A member's meta is where it listens: learnt from the gossip itself.
  events.on_join = [this](const gossip::MemberInfo& m) {
    learn_address(m);
    env_.log.info("gossip", "{} is alive", node_id_text(m.id));
  };
  events.on_update = [this](const gossip::MemberInfo& m) { learn_address(m); };
  events.on_leave = [this](const gossip::MemberInfo& m) {
    env_.log.info("gossip", "{} is {}", node_id_text(m.id), gossip::state_name(m.state));
  };
  membership_ = std::make_unique<gossip::Membership>(*ring_env_, config, std::move(events));
  table_ = std::make_unique<gossip::Table>(*ring_env_, *membership_);
  sealed_->set_handler([this](const PeerIdentity& from, std::string_view bytes) {
    // The sealed sender's address, if not known yet, is in its alive message (meta); until
    // then answers to it wait for that, as memberlist's do for an unknown node.
    membership_->receive(from.node_id, bytes);
  });
  if (Status s = table_->put(kNodesTable, node_id_text(opts_.self), opts_.hostname); !s.ok()) {
    env_.log.warn("gossip", "cannot publish this node's record: {}", s.message());
  }
}

void NodeGossip::learn_address(const gossip::MemberInfo& m) {
  if (m.meta.empty()) return;
  if (Status s = net_.set_address(m.id, m.meta); !s.ok()) {
    env_.log.warn("gossip", "{} announces an unusable address '{}': {}", node_id_text(m.id), m.meta, s.message());
  }
}

void NodeGossip::update(const managerpb::NodeInfoResponse& info) {
  const std::vector<AeadKey> keys = manager::gossip_keyring_order(info.gossip_keys());
  if (keys.empty()) return;  // a cluster that has made no keys yet
  if (!membership_) {
    start_ring(keys);
  } else if (keys != keys_) {
    keys_ = keys;
    sealed_->keyring().replace(keys).ignore();
    env_.log.info("gossip", "keyring now holds {} key(s)", keys.size());
  }
  if (membership_->joined()) return;
  std::vector<NodeId> seeds;
  for (const auto& m : info.managers()) {
    if (m.node_id() == opts_.self || m.gossip_addr().empty()) continue;
    if (net_.set_address(m.node_id(), m.gossip_addr()).ok()) seeds.push_back(m.node_id());
  }
  if (!seeds.empty()) membership_->join(seeds);
}

void NodeGossip::leave() {
  if (membership_) membership_->leave();
}

}  // namespace shoal::node
