#include "io_sim/world/sim_cluster_net.h"

#include "core/ca/node_identity.h"

namespace shoal::sim {

// ---- SimShownCerts -------------------------------------------------------------------------

void SimShownCerts::show(NodeId host, std::string chain_pem, PeerIdentity identity, int64_t not_after_unix_s) {
  Shown& s = shown_[host];
  s.chain_pem = std::move(chain_pem);
  s.identity = std::move(identity);
  s.not_after_unix_s = not_after_unix_s;
  s.version = ++versions_;
}

const SimShownCerts::Shown* SimShownCerts::shown(NodeId host) const {
  auto it = shown_.find(host);
  return it == shown_.end() ? nullptr : &it->second;
}

// ---- SimClusterNet -------------------------------------------------------------------------

SimClusterNet::SimClusterNet(Env& env, Crypto& crypto, ChannelMux& mux, SimShownCerts& shown, NodeId host)
    : env_(env),
      crypto_(crypto),
      mux_(mux),
      shown_(shown),
      host_(host),
      wire_(
          mux.rpc(), host, [this](NodeId node) { return host_of(node); },
          [this](NodeId h) { return verified(h); },
          [this](NodeId h) {
            const SimShownCerts::Shown* s = shown_.shown(h);
            return s ? s->chain_pem : std::string();
          }) {
  mux_.raft().set_handler([this](const PeerIdentity& from, std::string_view payload) { on_raft(from, payload); });
}

SimClusterNet::~SimClusterNet() { mux_.raft().set_handler(nullptr); }

Status SimClusterNet::set_identity(TlsIdentity identity) {
  auto info = crypto_.parse_certificate(identity.cert_chain_pem);
  if (!info.ok()) return Status::invalid_argument("this node's certificate: " + info.status().message());
  auto subject = ca::identity_from_subject(info->common_name, info->org_unit, info->organization);
  if (!subject.ok()) return Status::invalid_argument("this node's certificate: " + subject.status().message());
  if (self_ && (subject->node_id != self_->node_id || subject->cluster_id != self_->cluster_id)) {
    return Status::invalid_argument("this node's certificate names node " + node_id_text(subject->node_id) +
                                    " of cluster '" + subject->cluster_id + "', not this node");
  }
  if (identity.trusted_roots_pem.empty()) return Status::invalid_argument("no trusted root certificate given");
  self_ = *subject;
  trusted_roots_ = std::move(identity.trusted_roots_pem);
  ++roots_version_;
  shown_.show(host_, std::move(identity.cert_chain_pem), *subject, info->not_after_unix_s);
  return {};
}

Status SimClusterNet::listen(const std::string& address) {
  if (!self_) return Status::failed_precondition("cannot listen without a node certificate");
  if (parse_sim_address(address) != host_) {
    return Status::invalid_argument("this host listens at " + sim_address(host_) + ", not " + address);
  }
  return {};
}

void SimClusterNet::set_peer_address(NodeId id, std::string address) {
  if (const NodeId h = parse_sim_address(address)) {
    peers_[id] = h;
  } else {
    peers_.erase(id);
  }
}

void SimClusterNet::forget_peer(NodeId id) { peers_.erase(id); }

NodeId SimClusterNet::host_of(NodeId node) const {
  auto it = peers_.find(node);
  return it == peers_.end() ? 0 : it->second;
}

std::optional<PeerIdentity> SimClusterNet::verified(NodeId h) {
  if (stopped_ || !self_) return std::nullopt;
  const SimShownCerts::Shown* shown = shown_.shown(h);
  if (!shown || !shown->identity) return std::nullopt;
  Verdict& v = verdicts_[h];
  const int64_t now = now_s();
  if (v.shown_version == shown->version && v.roots_version == roots_version_ && v.from_unix_s <= now &&
      now <= v.until_unix_s) {
    return v.identity;
  }
  v.shown_version = shown->version;
  v.roots_version = roots_version_;
  v.from_unix_s = now;
  const Status ok = crypto_.verify_certificate(shown->chain_pem, trusted_roots_, now);
  if (ok.ok() && shown->identity->cluster_id == self_->cluster_id) {
    v.identity = shown->identity;
    v.until_unix_s = shown->not_after_unix_s;
  } else {
    v.identity.reset();
    v.until_unix_s = now;  // tried again the next second (a clock that jumped, say)
  }
  return v.identity;
}

void SimClusterNet::RaftChannel::send(NodeId to, std::string payload) {
  if (net_.stopped_ || !net_.self_ || net_.self_->role != NodeRole::kManager) return;
  const NodeId h = net_.host_of(to);
  if (h == 0) return;  // no address known: dropped, as Raft copes with
  net_.mux_.raft().send(h, std::move(payload));
}

void SimClusterNet::on_raft(const PeerIdentity& from, std::string_view payload) {
  if (stopped_ || !raft_.handler_ || !self_ || self_->role != NodeRole::kManager) return;
  const std::optional<PeerIdentity> who = verified(from.node_id);
  if (!who || who->role != NodeRole::kManager) {
    ++refused_;  // Raft travels only between managers' certificates
    return;
  }
  raft_.handler_(*who, payload);
}

}  // namespace shoal::sim
