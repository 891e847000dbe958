#include "io_real/daemon/gossip_node.h"

#include <spdlog/spdlog.h>

#include "core/ca/node_identity.h"
#include "core/gossip/sealed_transport.h"
#include "core/manager/gossip_keys.h"
#include "io_real/net/gossip_socket.h"

namespace shoal::daemon {

namespace {

constexpr const char* kNodesTable = "nodes";

}  // namespace

struct GossipNode::Impl {
  Impl(boost::asio::io_context& io, Env& e, Crypto& c, GossipNodeOptions o)
      : env(e), crypto(c), opts(std::move(o)), socket(io, net::GossipSocketOptions{.listen_address = opts.listen_addr}) {}

  Env& env;
  Crypto& crypto;
  GossipNodeOptions opts;
  net::GossipSocket socket;
  std::unique_ptr<gossip::SealedTransport> sealed;
  std::unique_ptr<Env> gossip_env;
  std::unique_ptr<gossip::Membership> membership;
  std::unique_ptr<gossip::Table> table;
  std::vector<AeadKey> keys;

  void start_ring(const std::vector<AeadKey>& first_keys, const std::string& advertise) {
    keys = first_keys;
    sealed = std::make_unique<gossip::SealedTransport>(env.clock, crypto, socket, opts.self, gossip::Keyring(keys));
    gossip_env = std::make_unique<Env>(Env{env.clock, env.timers, env.rng, *sealed, env.disk, env.log});
    gossip::Config config;
    config.id = opts.self;
    config.meta = advertise;
    // A full packet, once sealed, still fits one UDP datagram (larger ones go over TCP).
    config.max_packet_bytes = net::GossipSocketOptions{}.max_udp_payload - gossip::SealedTransport::kOverhead;
    gossip::Events events;
    // A member's meta is where it listens: learnt from the gossip itself.
    events.on_join = [this](const gossip::MemberInfo& m) {
      learn_address(m);
      spdlog::info("gossip: {} is alive", ca::node_id_text(m.id));
    };
    events.on_update = [this](const gossip::MemberInfo& m) { learn_address(m); };
    events.on_leave = [](const gossip::MemberInfo& m) {
      spdlog::info("gossip: {} is {}", ca::node_id_text(m.id), gossip::state_name(m.state));
    };
    membership = std::make_unique<gossip::Membership>(*gossip_env, config, std::move(events));
    table = std::make_unique<gossip::Table>(*gossip_env, *membership);
    sealed->set_handler([this](const PeerIdentity& from, std::string_view bytes) {
      // The sealed sender's address, if we do not know it yet, is in its alive message (meta);
      // until then our answers to it wait for that, as memberlist's do for an unknown node.
      membership->receive(from.node_id, bytes);
    });
    if (Status s = table->put(kNodesTable, ca::node_id_text(opts.self), opts.hostname); !s.ok()) {
      spdlog::warn("gossip: cannot publish this node's record: {}", s.message());
    }
  }

  void learn_address(const gossip::MemberInfo& m) {
    if (m.meta.empty()) return;
    if (Status s = socket.set_address(m.id, m.meta); !s.ok()) {
      spdlog::warn("gossip: {} announces an unusable address '{}': {}", ca::node_id_text(m.id), m.meta, s.message());
    }
  }
};

GossipNode::GossipNode(boost::asio::io_context& io, Env& env, Crypto& crypto, GossipNodeOptions options)
    : impl_(std::make_unique<Impl>(io, env, crypto, std::move(options))) {}

GossipNode::~GossipNode() {
  if (!impl_) return;
  impl_->table.reset();
  impl_->membership.reset();
  impl_->socket.stop();
}

Status GossipNode::start() {
  if (Status s = impl_->socket.start(); !s.ok()) return Status(s.code(), "gossip: " + s.message());
  advertise_ = impl_->opts.advertise_addr.empty()
                   ? impl_->opts.advertise_host + ":" + std::to_string(impl_->socket.port())
                   : impl_->opts.advertise_addr;
  spdlog::info("gossip: listening on port {} (UDP and TCP), advertised as {}", impl_->socket.port(), advertise_);
  return {};
}

void GossipNode::update(const managerpb::NodeInfoResponse& info) {
  Impl& im = *impl_;
  const std::vector<AeadKey> keys = manager::gossip_keyring_order(info.gossip_keys());
  if (keys.empty()) return;  // a cluster that has made no keys yet
  if (!im.membership) {
    im.start_ring(keys, advertise_);
  } else if (keys != im.keys) {
    im.keys = keys;
    im.sealed->keyring().replace(keys).ignore();
    spdlog::info("gossip: keyring now holds {} key(s)", keys.size());
  }
  if (im.membership->joined()) return;
  std::vector<NodeId> seeds;
  for (const auto& m : info.managers()) {
    if (m.node_id() == im.opts.self || m.gossip_addr().empty()) continue;
    if (im.socket.set_address(m.node_id(), m.gossip_addr()).ok()) seeds.push_back(m.node_id());
  }
  if (!seeds.empty()) im.membership->join(seeds);
}

void GossipNode::leave() {
  if (impl_->membership) impl_->membership->leave();
}

gossip::Membership* GossipNode::membership() { return impl_->membership.get(); }
gossip::Table* GossipNode::table() { return impl_->table.get(); }
const gossip::SealStats* GossipNode::seal_stats() const {
  return impl_->sealed ? &impl_->sealed->stats() : nullptr;
}

}  // namespace shoal::daemon
