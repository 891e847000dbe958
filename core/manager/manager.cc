#include "core/manager/manager.h"

#include "core/ca/node_identity.h"

namespace shoal::manager {
namespace {

std::string u64_body(uint64_t v) {
  managerpb::ForwardedResult r;
  r.set_index(v);
  return r.SerializeAsString();
}

}  // namespace

const char* role_word(ca::NodeRole role) { return role == ca::NodeRole::kManager ? "manager" : "worker"; }

Result<ca::NodeRole> parse_role_word(std::string_view word) {
  if (word == "manager") return ca::NodeRole::kManager;
  if (word == "worker") return ca::NodeRole::kWorker;
  return Status::invalid_argument("role '" + std::string(word) + "' is neither manager nor worker");
}

Manager::Manager(Env& env, Crypto& crypto, Rpc& rpc, raft::RaftNode& raft, store::Store& store,
                 ManagerOptions options)
    : env_(env), crypto_(crypto), rpc_(rpc), raft_(raft), store_(store), opts_(options) {
  rpc_.serve("ca.root", RpcAccess::kAnonymous, [this](const PeerIdentity*, std::string, Rpc::Reply reply) {
    const auto* c = store_.cluster();
    if (!c) return reply(Status::unavailable("this manager has no cluster state yet; try again"), "");
    reply({}, c->root_ca_cert_pem());
  });
  rpc_.serve("node.join", RpcAccess::kAnonymous, [this](const PeerIdentity*, std::string body, Rpc::Reply reply) {
    handle_join(std::move(body), std::move(reply), /*forwarded=*/false);
  });
  rpc_.serve("manager.join", RpcAccess::kManagerOnly, [this](const PeerIdentity*, std::string body, Rpc::Reply reply) {
    handle_join(std::move(body), std::move(reply), /*forwarded=*/true);
  });
  rpc_.serve("manager.propose", RpcAccess::kManagerOnly,
             [this](const PeerIdentity*, std::string body, Rpc::Reply reply) {
               managerpb::ForwardedTransaction fwd;
               storepb::Transaction tx;
               if (!fwd.ParseFromString(body) || !tx.ParseFromString(fwd.transaction())) {
                 return reply(Status::invalid_argument("forwarded transaction does not parse"), "");
               }
               if (!is_leader()) return reply(Status::not_leader("not the leader"), "");
               propose_here(std::move(tx), [reply](Status s, uint64_t index) { reply(s, u64_body(index)); });
             });
  rpc_.serve("manager.read_index", RpcAccess::kManagerOnly, [this](const PeerIdentity*, std::string, Rpc::Reply reply) {
    raft_.read([reply](Status s, uint64_t index) { reply(s, u64_body(index)); });
  });
  rpc_.serve("ca.renew", RpcAccess::kAnyNode, [this](const PeerIdentity* from, std::string body, Rpc::Reply reply) {
    handle_renew(from, std::move(body), std::move(reply));
  });
  membership_timer_ = env_.timers.after(opts_.membership_interval, [this] { reconcile_membership(); });
}

Manager::~Manager() {
  *alive_ = false;
  env_.timers.cancel(membership_timer_);
}

void Manager::submit(storepb::Transaction tx, Done done) {
  if (tx.now_ns() == 0) tx.set_now_ns(now_ns());
  if (is_leader()) return propose_here(std::move(tx), std::move(done));
  forward(std::move(tx), std::move(done));
}

void Manager::propose_here(storepb::Transaction tx, Done done) {
  if (Status s = store_.check(tx); !s.ok()) return done(s, 0);
  raft_.propose(tx.SerializeAsString(), [this, alive = alive_, done = std::move(done)](Status s, uint64_t index) {
    if (!*alive) return;
    if (s.ok()) s = store_.take_result(index);
    done(s, index);
  });
}

void Manager::forward(storepb::Transaction tx, Done done) {
  const NodeId to = leader();
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

void Manager::read_barrier(std::function<void(Status)> done) {
  auto wait_local = [this, alive = alive_, done](Status s, uint64_t index) {
    if (!*alive) return;
    if (!s.ok()) return done(s);
    store_.when_applied(index, [done] { done({}); });
  };
  if (is_leader()) return raft_.read(wait_local);
  const NodeId to = leader();
  if (to == 0) return done(Status::unavailable("no leader is elected; the managers may have lost quorum"));
  rpc_.call(to, "manager.read_index", "", opts_.forward_timeout, [wait_local](Status s, std::string body) {
    managerpb::ForwardedResult r;
    if (s.ok() && !r.ParseFromString(body)) s = Status::corruption("leader's reply does not parse");
    wait_local(s, r.index());
  });
}

Result<std::string> Manager::issue_certificate(std::string_view csr_pem, NodeId node, ca::NodeRole role) {
  const auto* c = store_.cluster();
  if (!c) return Status::unavailable("this manager has no cluster state yet");
  const int64_t now_s = now_ns() / 1'000'000'000;
  const int64_t lifetime = c->node_cert_expiry_s() > 0 ? c->node_cert_expiry_s() : kDefaultNodeCertLifetimeS;
  CertificateTemplate t{ca::node_id_text(node), ca::role_ou(role), c->id(), now_s - 60, now_s + lifetime, false};
  return crypto_.sign_csr(std::string(csr_pem), t, c->root_ca_cert_pem(), c->root_ca_key_pem());
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
  if (*role == ca::NodeRole::kManager && req.advertise_addr().empty()) {
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
  n->mutable_spec()->set_desired_role(role_word(*role));
  n->mutable_spec()->set_availability("active");
  n->set_role(role_word(*role));
  n->set_hostname(req.hostname());
  n->set_addr(req.advertise_addr());
  n->set_state("ready");
  n->set_cert_pem(*cert);
  propose_here(std::move(tx), [this, alive = alive_, id, role = *role, cert = *cert, reply](Status s, uint64_t) {
    if (!*alive) return;
    if (!s.ok()) return reply(s, "");
    // A manager joins Raft as a learner; reconcile_membership() adds it if this proposal is lost.
    if (role == ca::NodeRole::kManager) raft_.propose_conf_change(raftpb::CONF_ADD_LEARNER_NODE, id).ignore();
    managerpb::JoinResponse resp;
    resp.set_node_id(id);
    resp.set_role(role_word(role));
    resp.set_cert_chain_pem(cert);
    resp.set_root_ca_pem(store_.cluster()->root_ca_cert_pem());
    resp.set_cluster_id(store_.cluster()->id());
    for (const auto& [nid, node] : store_.nodes()) {
      if (node.role() != "manager" || node.addr().empty()) continue;
      auto parsed = ca::parse_node_id(nid);
      if (!parsed.ok()) continue;
      auto* m = resp.add_managers();
      m->set_node_id(*parsed);
      m->set_addr(node.addr());
    }
    reply({}, resp.SerializeAsString());
  });
}

void Manager::handle_renew(const PeerIdentity* from, std::string body, Rpc::Reply reply) {
  managerpb::RenewRequest req;
  if (!req.ParseFromString(body)) return reply(Status::invalid_argument("renew request does not parse"), "");
  const auto* node = store_.find_node(ca::node_id_text(from->node_id));
  if (!node) return reply(Status::permission_denied("node " + ca::node_id_text(from->node_id) + " was removed from the cluster"), "");
  // The new certificate carries the role the cluster wants now: this is how promote and demote
  // reach a node's certificate.
  auto role = parse_role_word(node->spec().desired_role());
  if (!role.ok()) return reply(role.status(), "");
  auto cert = issue_certificate(req.csr_pem(), from->node_id, *role);
  if (!cert.ok()) return reply(Status::invalid_argument("certificate request refused: " + cert.status().message()), "");
  managerpb::RenewResponse resp;
  resp.set_role(role_word(*role));
  resp.set_cert_chain_pem(*cert);
  resp.set_root_ca_pem(store_.cluster()->root_ca_cert_pem());
  reply({}, resp.SerializeAsString());
}

// The leader keeps Raft's membership equal to the store's manager nodes: a manager node that is
// not a member joins as a learner (RaftNode promotes it once caught up); a member whose node is
// gone or demoted leaves. One change at a time, as Raft requires.
void Manager::reconcile_membership() {
  membership_timer_ = env_.timers.after(opts_.membership_interval, [this] { reconcile_membership(); });
  if (!is_leader() || raft_.raft().pending_conf_index() > raft_.applied_index()) return;
  const auto& r = raft_.raft();
  for (const auto& [nid, node] : store_.nodes()) {
    auto id = ca::parse_node_id(nid);
    if (!id.ok() || node.spec().desired_role() != "manager" || node.role() != "manager") continue;
    if (!r.is_voter(*id) && !r.is_learner(*id)) {
      raft_.propose_conf_change(raftpb::CONF_ADD_LEARNER_NODE, *id).ignore();
      return;
    }
  }
  const raftpb::ConfState cs = r.conf_state();
  auto wanted = [this](NodeId id) {
    const auto* node = store_.find_node(ca::node_id_text(id));
    return node && node->spec().desired_role() == "manager";
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

}  // namespace shoal::manager
