// JoinTokens: a cluster's two join tokens (manager and worker) and the rule that admits a node.
//
// Each token is the cluster's root CA digest plus a secret of its own (see join_token.h). A
// presented token admits a node in the role whose current secret it carries; rotating a role's
// token replaces its secret, so the old token stops working at once. Secrets come from the
// Crypto seam, never from Rng. A plain value: the cluster keeps the two token strings in its
// cluster object (core/api/store.proto), and the leader rebuilds a JoinTokens from them
// (from_tokens) to admit a node.
//
//   auto tokens = JoinTokens::generate(ca_digest, crypto);
//   std::string t = tokens.token(NodeRole::kWorker);     // hand to the operator
//   Result<NodeRole> role = tokens.admit(presented);      // on a join request
//   tokens.rotate(NodeRole::kWorker, crypto);             // `shoal swarm join-token --rotate`
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/ca/join_token.h"
#include "core/env/crypto.h"
#include "core/env/identity.h"
#include "core/env/status.h"

namespace shoal::ca {

class JoinTokens {
 public:
  static JoinTokens generate(const Sha256Digest& ca_digest, Crypto& crypto);
  // Rebuilds the pair from the two token strings kept in the replicated store; both must name
  // the same root CA.
  static Result<JoinTokens> from_tokens(std::string_view manager_token, std::string_view worker_token);

  std::string token(NodeRole role) const;
  void rotate(NodeRole role, Crypto& crypto);
  // The role a presented token admits, or an error a person can act on.
  Result<NodeRole> admit(std::string_view presented) const;
  const Sha256Digest& ca_digest() const { return ca_digest_; }

 private:
  Sha256Digest ca_digest_{};
  std::array<uint8_t, 16> manager_secret_{};
  std::array<uint8_t, 16> worker_secret_{};
};

// The joining side: before sending anything secret, check that the root CA a manager shows
// (its digest) is the one the token names. A mismatch means a wrong address or a man in the
// middle, and the join must stop there.
Status verify_shown_ca(const JoinToken& token, const Sha256Digest& shown_ca_digest);

}  // namespace shoal::ca
