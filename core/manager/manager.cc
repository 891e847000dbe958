#include "core/manager/manager.h"

#include "core/manager/gossip_keys.h"

#include "core/ca/certificate_authority.h"
#include "core/ca/node_identity.h"
#include "core/store/manager_addresses.h"
#include "core/store/node_role.h"

namespace shoal::manager {
namespace {

std::string u64_body(uint64_t v) {
  managerpb::ForwardedResult r;
  r.set_index(v);
  return r.SerializeAsString();
}

}  // namespace

Manager::Manager(Env& env, Crypto& crypto, Rpc& rpc, raft::RaftNode& raft, store::Store& store,
                 ManagerOptions options)
    : env_(env), crypto_(crypto), rpc_(rpc), raft_(raft), store_(store), opts_(options) {
  // The Rpc keeps a handler after this manager is gone (a demoted or stopped manager): it then
  // answers unavailable.
  auto serve = [this](const char* method, RpcAccess access, Rpc::Handler handler) {
    rpc_.serve(method, access,
               [alive = std::weak_ptr<bool>(alive_), handler = std::move(handler)](
                   const PeerIdentity* from, std::string body, Rpc::Reply reply) {
                 if (alive.expired() || !*alive.lock()) {
                   return reply(Status::unavailable("this node is no longer a manager"), "");
                 }
                 handler(from, std::move(body), std::move(reply));
               });
  };
  serve("ca.root", RpcAccess::kAnonymous, [this](const PeerIdentity*, std::string, Rpc::Reply reply) {
    const auto* c = store_.cluster();
    if (!c) return reply(Status::unavailable("this manager has no cluster state yet; try again"), "");
    reply({}, c->root_ca_cert_pem());
  });
  serve("node.join", RpcAccess::kAnonymous, [this](const PeerIdentity*, std::string body, Rpc::Reply reply) {
    handle_join(std::move(body), std::move(reply), /*forwarded=*/false);
  });
  serve("manager.join", RpcAccess::kManagerOnly, [this](const PeerIdentity*, std::string body, Rpc::Reply reply) {
    handle_join(std::move(body), std::move(reply), /*forwarded=*/true);
  });
  serve("manager.propose", RpcAccess::kManagerOnly,
             [this](const PeerIdentity*, std::string body, Rpc::Reply reply) {
               managerpb::ForwardedTransaction fwd;
               storepb::Transaction tx;
               if (!fwd.ParseFromString(body) || !tx.ParseFromString(fwd.transaction())) {
                 return reply(Status::invalid_argument("forwarded transaction does not parse"), "");
               }
               if (!is_leader()) return reply(Status::not_leader("not the leader"), "");
               propose_here(std::move(tx), [reply](Status s, uint64_t index) { reply(s, u64_body(index)); });
             });
  serve("ca.renew", RpcAccess::kAnyNode, [this](const PeerIdentity* from, std::string body, Rpc::Reply reply) {
    handle_renew(from, std::move(body), std::move(reply));
  });
  serve("manager.renew", RpcAccess::kManagerOnly, [this](const PeerIdentity*, std::string body, Rpc::Reply reply) {
    managerpb::ForwardedRenewal fwd;
    if (!fwd.ParseFromString(body)) return reply(Status::invalid_argument("forwarded renewal does not parse"), "");
    if (!is_leader()) return reply(Status::not_leader("not the leader"), "");
    renew_certificate(fwd.node_id(), fwd.csr_pem(), [reply](Status s, managerpb::RenewResponse resp) {
      reply(s, s.ok() ? resp.SerializeAsString() : "");
    });
  });
  serve("node.info", RpcAccess::kAnyNode, [this](const PeerIdentity* from, std::string, Rpc::Reply reply) {
    if (!store_.cluster()) return reply(Status::unavailable("this manager has no cluster state yet"), "");
    reply({}, node_info(from->node_id).SerializeAsString());
  });
  membership_timer_ = env_.timers.after(opts_.membership_interval, [this] { reconcile_membership(); });
  orchestrator_ = std::make_unique<orchestrator::Orchestrator>(
      env_, store_, [this] { return orchestrator_may_act(); },
      [this](storepb::Transaction tx, std::function<void(Status)> done) {
        if (!is_leader()) return done(Status::not_leader("no longer the leader"));
        propose_here(std::move(tx), [done = std::move(done)](Status s, uint64_t) { done(s); });
      },
      opts_.orchestrator);
  dispatcher_ = std::make_unique<dispatcher::Dispatcher>(
      env_, rpc_, store_, [this] { return is_leader(); }, [this] { return leader(); },
      [this](storepb::Transaction tx, std::function<void(Status)> done) {
        if (!is_leader()) return done(Status::not_leader("no longer the leader"));
        propose_here(std::move(tx), [done = std::move(done)](Status s, uint64_t) { done(s); });
      },
      opts_.dispatcher);
}

// A new leader's store may not yet have applied the tasks its predecessor made; an orchestrator
// acting then would make them again. It acts once its own term's first entry is applied; that
// entry's apply wakes the orchestrator.
bool Manager::orchestrator_may_act() {
  if (leader_caught_up()) return true;
  if (is_leader() && !awaiting_catch_up_) {
    awaiting_catch_up_ = true;
    std::weak_ptr<bool> alive = alive_;
    store_.when_applied(raft_.raft().log().last_index(), [this, alive] {
      if (alive.expired()) return;
      awaiting_catch_up_ = false;
      if (orchestrator_) orchestrator_->request_pass();
    });
  }
  return false;
}

Manager::~Manager() {
  dispatcher_.reset();
  orchestrator_.reset();
  *alive_ = false;
  env_.timers.cancel(membership_timer_);
}

void Manager::submit(storepb::Transaction tx, Done done) {
  if (tx.now_ns() == 0) tx.set_now_ns(now_ns());
  if (is_leader()) return propose_here(std::move(tx), std::move(done));
  forward(std::move(tx), std::move(done), env_.clock.monotonic_now() + opts_.forward_timeout);
}

void Manager::propose_here(storepb::Transaction tx, Done done) {
  if (Status s = store_.check(tx); !s.ok()) return done(s, 0);
  raft_.propose(tx.SerializeAsString(), [this, alive = alive_, done = std::move(done)](Status s, uint64_t index) {
    if (!*alive) return;
    if (s.ok()) s = store_.take_result(index);
    done(s, index);
  });
}

void Manager::forward(storepb::Transaction tx, Done done, MonoTime give_up) {
  if (is_leader()) return propose_here(std::move(tx), std::move(done));
  const NodeId to = leader();
  if (to == 0 && env_.clock.monotonic_now() < give_up) {
    env_.timers.after(std::chrono::milliseconds(20),
                      [this, alive = alive_, tx = std::move(tx), done = std::move(done), give_up]() mutable {
                        if (*alive) forward(std::move(tx), std::move(done), give_up);
                      });
    return;
  }
  if (to == 0) {
    return done(Status::unavailable("no leader is elected: the managers may have lost quorum; "
                                    "bring a majority of managers back or run `shoald --force-new-cluster`"),
                0);
  }
  managerpb::ForwardedTransaction fwd;
  *fwd.mutable_transaction() = tx.SerializeAsString();
  rpc_.call(to, "manager.propose", fwd.SerializeAsString(), opts_.forward_timeout,
            [this, alive = alive_, done = std::move(done)](Status s, std::string body) {
              if (!*alive) return;
              if (!s.ok()) return done(s, 0);
              managerpb::ForwardedResult r;
              if (!r.ParseFromString(body)) return done(Status::corruption("leader's reply does not parse"), 0);
              // Visible here before the caller hears back: read-your-writes on every manager.
              store_.when_applied(r.index(), [done, index = r.index()] { done({}, index); });
            });
}

Result<std::string> Manager::issue_certificate(std::string_view csr_pem, NodeId node, NodeRole role) {
  const auto* c = store_.cluster();
  if (!c) return Status::unavailable("this manager has no cluster state yet");
  const int64_t now_s = now_ns() / 1'000'000'000;
  const int64_t lifetime = c->node_cert_expiry_s() > 0 ? c->node_cert_expiry_s() : ca::kNodeCertLifetimeS;
  const ca::CertificateAuthority authority =
      c->has_rotation()
          ? ca::CertificateAuthority::for_rotation(ca::RootRotation{
                {c->rotation().new_cert_pem(), c->rotation().new_key_pem()}, c->rotation().cross_signed_pem()})
          : ca::CertificateAuthority(ca::RootCa{c->root_ca_cert_pem(), c->root_ca_key_pem()});
  return authority.issue_node_certificate(crypto_, csr_pem, node, role, c->id(), now_s, lifetime);
}

void Manager::add_trusted_roots(google::protobuf::RepeatedPtrField<std::string>* out) const {
  const auto* c = store_.cluster();
  if (!c) return;
  out->Add(std::string(c->root_ca_cert_pem()));
  if (c->has_rotation()) out->Add(std::string(c->rotation().new_cert_pem()));
}

storepb::NodeRole Manager::role_to_certify(const storepb::NodeObject& node) const {
  auto id = ca::parse_node_id(node.id());
  const bool in_raft = id.ok() && (raft_.raft().is_voter(*id) || raft_.raft().is_learner(*id));
  return node.spec().desired_role() == storepb::WORKER && in_raft ? storepb::MANAGER : node.spec().desired_role();
}

void Manager::renew_certificate(NodeId node, std::string csr_pem,
                                std::function<void(Status, managerpb::RenewResponse)> done) {
  // Only the leader issues: a follower's store and membership may lag (a manager that was
  // removed from Raft and never heard of it would certify itself a manager forever).
  if (!is_leader()) {
    const NodeId to = leader();
    if (to == 0) return done(Status::unavailable("no leader is elected to issue the certificate; try again shortly"), {});
    managerpb::ForwardedRenewal fwd;
    fwd.set_node_id(node);
    fwd.set_csr_pem(std::move(csr_pem));
    rpc_.call(to, "manager.renew", fwd.SerializeAsString(), opts_.forward_timeout,
              [alive = alive_, done = std::move(done)](Status s, std::string body) {
                if (!*alive) return;
                managerpb::RenewResponse resp;
                if (s.ok() && !resp.ParseFromString(body)) s = Status::corruption("the leader's renewal answer does not parse");
                done(s, resp);
              });
    return;
  }
  if (!leader_caught_up()) return done(Status::unavailable("the new leader is still catching up; try again shortly"), {});
  const auto* n = store_.find_node(ca::node_id_text(node));
  if (!n) return done(Status::permission_denied("node " + ca::node_id_text(node) + " was removed from the cluster"), {});
  // The new certificate carries the role the cluster wants now: this is how promote and demote
  // reach a node's certificate.
  const storepb::NodeRole role = role_to_certify(*n);
  auto cert = issue_certificate(csr_pem, node, store::from_store(role));
  if (!cert.ok()) return done(Status::invalid_argument("certificate request refused: " + cert.status().message()), {});
  managerpb::RenewResponse resp;
  resp.set_role(role);
  resp.set_cert_chain_pem(*cert);
  add_trusted_roots(resp.mutable_trusted_roots_pem());
  record_certificate(node, resp.role(), *cert, 3, [resp, done](Status s) { done(s, resp); });
}

void Manager::record_certificate(NodeId node, storepb::NodeRole role, std::string cert, int attempts,
                                 std::function<void(Status)> done) {
  const auto* n = store_.find_node(ca::node_id_text(node));
  if (!n) return done(Status::not_found("node " + ca::node_id_text(node) + " was removed"));
  storepb::Transaction tx;
  auto* a = tx.add_actions();
  a->set_kind(storepb::StoreAction::UPDATE);
  *a->mutable_node() = *n;
  a->mutable_node()->set_role(role);
  a->mutable_node()->set_cert_pem(cert);
  submit(std::move(tx), [this, alive = alive_, node, role, cert, attempts, done](Status s, uint64_t) {
    if (!*alive) return;
    // A concurrent change to the node object: read it again and retry.
    if (s.code() == StatusCode::kFailedPrecondition && attempts > 1) {
      return record_certificate(node, role, cert, attempts - 1, done);
    }
    done(s);
  });
}

managerpb::NodeInfoResponse Manager::node_info(NodeId node) const {
  managerpb::NodeInfoResponse info;
  const auto* c = store_.cluster();
  if (const auto* n = store_.find_node(ca::node_id_text(node))) info.set_role_to_certify(role_to_certify(*n));
  store::list_managers(store_, info.mutable_managers());
  if (c) {
    *info.mutable_gossip_keys() = c->gossip_keys();
    add_trusted_roots(info.mutable_trusted_roots_pem());
    info.set_signing_root_pem(c->has_rotation() ? c->rotation().new_cert_pem() : c->root_ca_cert_pem());
  }
  return info;
}

void Manager::handle_join(std::string body, Rpc::Reply reply, bool forwarded) {
  managerpb::JoinRequest req;
  if (!req.ParseFromString(body)) return reply(Status::invalid_argument("join request does not parse"), "");
  if (is_leader()) return admit(req, std::move(reply));
  const NodeId to = leader();
  if (forwarded || to == 0) {
    return reply(Status::unavailable("no leader is elected to admit the node; try again shortly"), "");
  }
  rpc_.call(to, "manager.join", std::move(body), opts_.forward_timeout, std::move(reply));
}

NodeId Manager::fresh_node_id() {
  for (;;) {
    uint64_t id = 0;
    crypto_.random_bytes(reinterpret_cast<uint8_t*>(&id), sizeof id);
    if (id != 0 && !store_.find_node(ca::node_id_text(id))) return id;
  }
}

void Manager::admit(const managerpb::JoinRequest& req, Rpc::Reply reply) {
  const auto* c = store_.cluster();
  if (!c) return reply(Status::unavailable("this manager has no cluster state yet"), "");
  auto tokens = ca::JoinTokens::from_tokens(c->manager_token(), c->worker_token());
  if (!tokens.ok()) return reply(tokens.status(), "");
  auto role = tokens->admit(req.token());
  if (!role.ok()) return reply(Status::permission_denied(role.status().message()), "");
  if (*role == NodeRole::kManager && req.advertise_addr().empty()) {
    return reply(Status::invalid_argument("a manager must give the address other managers reach it at "
                                          "(--advertise-addr)"),
                 "");
  }
  const NodeId id = fresh_node_id();
  auto cert = issue_certificate(req.csr_pem(), id, *role);
  if (!cert.ok()) return reply(Status::invalid_argument("certificate request refused: " + cert.status().message()), "");

  storepb::Transaction tx;
  tx.set_now_ns(now_ns());
  auto* a = tx.add_actions();
  a->set_kind(storepb::StoreAction::CREATE);
  auto* n = a->mutable_node();
  n->set_id(ca::node_id_text(id));
  n->mutable_spec()->set_desired_role(store::to_store(*role));
  n->mutable_spec()->set_availability(storepb::NodeSpec::ACTIVE);
  n->set_role(store::to_store(*role));
  n->set_hostname(req.hostname());
  n->set_addr(req.advertise_addr());
  n->set_state(storepb::NodeObject::READY);
  n->set_cert_pem(*cert);
  propose_here(std::move(tx), [this, alive = alive_, id, role = *role, cert = *cert, reply](Status s, uint64_t) {
    if (!*alive) return;
    if (!s.ok()) return reply(s, "");
    // A manager joins Raft as a learner; reconcile_membership() adds it if this proposal is lost.
    if (role == NodeRole::kManager) raft_.propose_conf_change(raftpb::CONF_ADD_LEARNER_NODE, id).ignore();
    managerpb::JoinResponse resp;
    resp.set_node_id(id);
    resp.set_role(store::to_store(role));
    resp.set_cert_chain_pem(cert);
    add_trusted_roots(resp.mutable_trusted_roots_pem());
    resp.set_cluster_id(store_.cluster()->id());
    store::list_managers(store_, resp.mutable_managers());
    reply({}, resp.SerializeAsString());
  });
}

void Manager::handle_renew(const PeerIdentity* from, std::string body, Rpc::Reply reply) {
  managerpb::RenewRequest req;
  if (!req.ParseFromString(body)) return reply(Status::invalid_argument("renew request does not parse"), "");
  renew_certificate(from->node_id, req.csr_pem(), [reply](Status s, managerpb::RenewResponse resp) {
    reply(s, s.ok() ? resp.SerializeAsString() : "");
  });
}

// The leader keeps Raft's membership equal to the store's manager nodes: a manager node that is
// not a member joins as a learner (RaftNode promotes it once caught up); a member whose node is
// gone or demoted leaves. One change at a time, as Raft requires.
void Manager::reconcile_membership() {
  membership_timer_ = env_.timers.after(opts_.membership_interval, [this] { reconcile_membership(); });
  if (!is_leader()) return;
  if (!drive_gossip_keys()) drive_root_rotation();
  if (raft_.raft().pending_conf_index() > raft_.applied_index()) return;
  const auto& r = raft_.raft();
  // A leader being demoted hands leadership to another voter first; the next leader removes it.
  if (const auto* self = store_.find_node(ca::node_id_text(opts_.self));
      self && self->spec().desired_role() == storepb::WORKER) {
    const raftpb::ConfState members = r.conf_state();
    for (NodeId v : members.voters()) {
      if (v != opts_.self) {
        raft_.transfer_leadership(v).ignore();
        return;
      }
    }
  }
  for (const auto& [nid, node] : store_.nodes()) {
    auto id = ca::parse_node_id(nid);
    if (!id.ok() || node.spec().desired_role() != storepb::MANAGER || node.role() != storepb::MANAGER) continue;
    if (!r.is_voter(*id) && !r.is_learner(*id)) {
      raft_.propose_conf_change(raftpb::CONF_ADD_LEARNER_NODE, *id).ignore();
      return;
    }
  }
  const raftpb::ConfState cs = r.conf_state();
  auto wanted = [this](NodeId id) {
    const auto* node = store_.find_node(ca::node_id_text(id));
    return node && node->spec().desired_role() == storepb::MANAGER;
  };
  for (NodeId id : cs.voters()) {
    if (id != opts_.self && !wanted(id) && store_.cluster()) {
      raft_.propose_conf_change(raftpb::CONF_REMOVE_NODE, id).ignore();
      return;
    }
  }
  for (NodeId id : cs.learners()) {
    if (!wanted(id) && store_.cluster()) {
      raft_.propose_conf_change(raftpb::CONF_REMOVE_NODE, id).ignore();
      return;
    }
  }
}

bool Manager::drive_gossip_keys() {
  const auto* c = store_.cluster();
  if (!c || gossip_keys_in_flight_ || !leader_caught_up()) return false;
  auto next = rotate_gossip_keys(*c, now_ns(), opts_.gossip_key_rotation, crypto_);
  if (!next) return false;
  storepb::Transaction tx;
  auto* a = tx.add_actions();
  a->set_kind(storepb::StoreAction::UPDATE);
  *a->mutable_cluster() = std::move(*next);
  gossip_keys_in_flight_ = true;
  submit(std::move(tx), [this, alive = std::weak_ptr<bool>(alive_)](Status, uint64_t) {
    if (!alive.expired()) gossip_keys_in_flight_ = false;
  });
  return true;
}

void Manager::drive_root_rotation() {
  const auto* c = store_.cluster();
  if (!c) return;
  const int64_t now_s = now_ns() / 1'000'000'000;
  if (!c->has_rotation() && c->ca_force_rotate() != c->rotated_for()) {
    ca::RootCa old_root{c->root_ca_cert_pem(), c->root_ca_key_pem()};
    auto rot = ca::begin_root_rotation(crypto_, old_root, c->id(), now_s);
    if (!rot.ok()) return;  // tried again on the next round
    storepb::ClusterObject next = *c;
    next.mutable_rotation()->set_new_cert_pem(rot->new_root.cert_pem);
    next.mutable_rotation()->set_new_key_pem(rot->new_root.key_pem);
    next.mutable_rotation()->set_cross_signed_pem(rot->cross_signed_pem);
    next.set_rotated_for(c->ca_force_rotate());
    storepb::Transaction tx;
    auto* a = tx.add_actions();
    a->set_kind(storepb::StoreAction::UPDATE);
    *a->mutable_cluster() = next;
    submit(std::move(tx), [](Status, uint64_t) {});
    return;
  }
  if (!c->has_rotation()) return;
  // Done when every node uses a certificate that chains to the new root alone: issued is not
  // enough, as a node that crashed before installing its new certificate still shows the old.
  for (const auto& [nid, n] : store_.nodes()) {
    const std::string& in_use = n.description().certificate_pem();
    if (!crypto_.verify_certificate(in_use, {c->rotation().new_cert_pem()}, now_s).ok()) return;
  }
  storepb::ClusterObject next = *c;
  next.set_root_ca_cert_pem(c->rotation().new_cert_pem());
  next.set_root_ca_key_pem(c->rotation().new_key_pem());
  next.clear_rotation();
  // Join tokens name the root by its digest: they change with it.
  auto digest = crypto_.certificate_digest(next.root_ca_cert_pem());
  if (!digest.ok()) return;
  auto tokens = ca::JoinTokens::generate(*digest, crypto_);
  next.set_manager_token(tokens.token(NodeRole::kManager));
  next.set_worker_token(tokens.token(NodeRole::kWorker));
  storepb::Transaction tx;
  auto* a = tx.add_actions();
  a->set_kind(storepb::StoreAction::UPDATE);
  *a->mutable_cluster() = next;
  submit(std::move(tx), [](Status, uint64_t) {});
}

void Manager::check_invariants() const {
  if (dispatcher_) dispatcher_->check_invariants();
  if (orchestrator_) orchestrator_->check_invariants();
}

}  // namespace shoal::manager
