#include "core/ca/join_tokens.h"

namespace shoal::ca {


JoinTokens JoinTokens::generate(const Sha256Digest& ca_digest, Crypto& crypto) {
  JoinTokens t;
  t.ca_digest_ = ca_digest;
  crypto.random_bytes(t.manager_secret_.data(), t.manager_secret_.size());
  crypto.random_bytes(t.worker_secret_.data(), t.worker_secret_.size());
  return t;
}

Result<JoinTokens> JoinTokens::from_tokens(std::string_view manager_token, std::string_view worker_token) {
  auto m = parse_join_token(manager_token);
  if (!m.ok()) return Status::corruption("stored manager join token: " + m.status().message());
  auto w = parse_join_token(worker_token);
  if (!w.ok()) return Status::corruption("stored worker join token: " + w.status().message());
  if (m->ca_digest != w->ca_digest) {
    return Status::corruption("stored join tokens name two different root CAs");
  }
  JoinTokens t;
  t.ca_digest_ = m->ca_digest;
  t.manager_secret_ = m->secret;
  t.worker_secret_ = w->secret;
  return t;
}

std::string JoinTokens::token(NodeRole role) const {
  JoinToken t;
  t.ca_digest = ca_digest_;
  t.secret = role == NodeRole::kManager ? manager_secret_ : worker_secret_;
  return format_join_token(t);
}

void JoinTokens::rotate(NodeRole role, Crypto& crypto) {
  auto& secret = role == NodeRole::kManager ? manager_secret_ : worker_secret_;
  crypto.random_bytes(secret.data(), secret.size());
}

Result<NodeRole> JoinTokens::admit(std::string_view presented) const {
  auto t = parse_join_token(presented);
  if (!t.ok()) return t.status();
  if (t->ca_digest != ca_digest_) {
    return Status::invalid_argument(
        "this join token belongs to another cluster (its root CA digest is not this cluster's); "
        "get a token from a manager of this cluster with `shoal swarm join-token worker|manager`");
  }
  // Check both roles every time, so the time taken does not tell which secret came close.
  const bool manager = secrets_equal(t->secret, manager_secret_);
  const bool worker = secrets_equal(t->secret, worker_secret_);
  if (manager) return NodeRole::kManager;
  if (worker) return NodeRole::kWorker;
  return Status::invalid_argument(
      "this join token is not valid: it may have been rotated; get the current one with "
      "`shoal swarm join-token worker|manager` on a manager");
}

Status verify_shown_ca(const JoinToken& token, const Sha256Digest& shown_ca_digest) {
  if (token.ca_digest == shown_ca_digest) return {};
  return Status::invalid_argument(
      "the manager's root CA does not match the join token (wrong address, or someone in the "
      "middle); nothing secret was sent, and the node did not join");
}

}  // namespace shoal::ca
