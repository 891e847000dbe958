// Node: its certificate — renewal at a random point of the certificate's late life (or at once
// when the cluster wants another role or another signing root), and installing what a manager
// issued. The private key is made here and never leaves the node: only a certificate request
// does.
#include "core/ca/certificate_authority.h"
#include "core/node/node.h"
#include "core/store/node_role.h"
#include "core/wire/rfc3339.h"

namespace shoal::node {

void Node::schedule_renewal() {
  auto info = seams_.crypto.parse_certificate(record_->cert_pem());
  if (!info.ok()) return seams_.log.error("node", "own certificate: {}", info.status().message());
  Duration delay = ca::renewal_delay(*info, now_s(), seams_.rng);
  // A clock far ahead of the managers' makes every new certificate look due at once: back off
  // (1 s, doubling to a minute) rather than renew in a loop.
  if (delay == Duration::zero()) {
    delay = renew_backoff_;
    renew_backoff_ = std::min<Duration>(renew_backoff_ * 2, std::chrono::minutes(1));
  } else {
    renew_backoff_ = std::chrono::seconds(1);
  }
  seams_.timers.cancel(renew_timer_);
  renew_timer_ = seams_.timers.after(delay, [this] { renew(); });
  seams_.log.info("node", "certificate valid until {}, renewal in {:.1f} s",
                  wire::rfc3339(info->not_after_unix_s * 1'000'000'000LL), to_seconds(delay));
}

void Node::renew() {
  seams_.timers.cancel(renew_timer_);
  renew_timer_ = 0;
  auto key = seams_.crypto.generate_key();
  auto csr = key.ok() ? seams_.crypto.make_csr(key->private_key_pem) : Result<std::string>(key.status());
  if (!csr.ok()) return seams_.log.error("node", "renewal: {}", csr.status().message());
  renewing_ = true;
  std::weak_ptr<bool> alive = alive_;
  auto done = [this, alive, key_pem = key->private_key_pem](Status s, const managerpb::RenewResponse& resp) {
    if (alive.expired()) return;
    renewing_ = false;
    if (!s.ok()) {
      seams_.log.warn("node", "certificate renewal failed: {}; retrying in 2 s", s.message());
      renew_timer_ = seams_.timers.after(std::chrono::seconds(2), [this] { renew(); });
      return;
    }
    // On a later turn: installing may stop the manager, which must not happen inside its own
    // callback.
    seams_.timers.after(Duration::zero(), [this, alive, key_pem, resp] {
      if (!alive.expired()) install_certificate(key_pem, resp);
    });
  };
  if (asks_itself()) return manager_->renew_certificate(record_->node_id(), *csr, done);
  // The manager this node's agent has a session with answered lately: ask it. Otherwise each
  // attempt asks the next manager, so one that is down or cut off is not asked twice running.
  NodeId to = agent_ && agent_->in_session() ? agent_->manager() : 0;
  if (to == record_->node_id() || to == 0) to = next_manager();
  if (to == 0) return done(Status::unavailable("no other manager's address is known"), {});
  managerpb::RenewRequest req;
  req.set_csr_pem(*csr);
  rpc_.call(to, "ca.renew", req.SerializeAsString(), std::chrono::seconds(5),
            [done](Status s, std::string body) {
              managerpb::RenewResponse resp;
              if (s.ok() && !resp.ParseFromString(body)) s = Status::corruption("the renewal answer does not parse");
              done(s, resp);
            });
}

void Node::install_certificate(const std::string& key_pem, const managerpb::RenewResponse& resp) {
  if (!record_ || !disk_) return;
  const storepb::NodeRole old_role = record_->role();
  nodepb::NodeRecord before = *record_;
  record_->set_key_pem(key_pem);
  record_->set_cert_pem(resp.cert_chain_pem());
  record_->set_role(resp.role());
  if (resp.trusted_roots_pem_size() > 0) {
    std::vector<std::string> roots(resp.trusted_roots_pem().begin(), resp.trusted_roots_pem().end());
    if (opts_.bugs.node_keeps_old_roots) roots = with_old_roots(std::move(roots));
    *record_->mutable_trusted_roots_pem() = {roots.begin(), roots.end()};
  }
  if (Status s = seams_.net.set_identity(tls_identity()); !s.ok()) {
    *record_ = before;
    seams_.log.error("node", "renewal: the new certificate was refused: {}", s.message());
    schedule_renewal();
    return;
  }
  rpc_.set_identity(self_identity());
  save_record();
  disk_->sync([this, alive = std::weak_ptr<bool>(alive_)](Status s) {
    if (!alive.expired() && !s.ok()) seams_.log.error("node", "renewal: saving the certificate: {}", s.message());
  });
  if (agent_) agent_->set_description(description());
  seams_.log.info("node", "certificate renewed (role {})", role_name(store::from_store(record_->role())));
  if (old_role == storepb::MANAGER && record_->role() == storepb::WORKER) {
    seams_.log.info("node", "demoted: leaving the managers");
    stop_manager();
  } else if (old_role == storepb::WORKER && record_->role() == storepb::MANAGER) {
    seams_.log.info("node", "promoted: joining the managers");
    if (Status s = start_manager({}); !s.ok()) seams_.log.error("node", "promotion: {}", s.message());
  }
  schedule_renewal();
}

}  // namespace shoal::node
