#include "core/ca/join_tokens.h"

namespace shoal::ca {

const char* role_ou(NodeRole role) { return role == NodeRole::kManager ? "swarm-manager" : "swarm-worker"; }

JoinTokens JoinTokens::generate(const Sha256Digest& ca_digest, Crypto& crypto) {
  JoinTokens t;
  t.ca_digest_ = ca_digest;
  crypto.random_bytes(t.manager_secret_.data(), t.manager_secret_.size());
  crypto.random_bytes(t.worker_secret_.data(), t.worker_secret_.size());
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
