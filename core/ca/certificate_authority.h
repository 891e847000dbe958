// The cluster's certificate authority, as in Docker Swarm: a root CA made when the swarm is
// created, node certificates issued on CSRs (CN = node id, OU = role, O = cluster id), renewal
// at a random point of a certificate's life, and root rotation through a cross-signed
// intermediate.
//
// Pure: it works only through the Crypto seam (core/env/crypto.h) and takes the time as an
// argument. Owned by the leader's CA component; a CertificateAuthority is a plain value holding
// a signer's certificate and key, so whoever holds it holds the key.
//
// Root rotation (swarmkit's scheme): begin_root_rotation() makes a new root and has the old root
// cross-sign it. While the rotation runs, a CertificateAuthority built with for_rotation() signs
// leaves with the new root's key and appends the cross-signed certificate to each one, so a node
// that trusts only the old root (chain leaf -> cross-signed -> old root) and a node that already
// trusts only the new root (leaf -> new root) both accept it. When every node holds such a leaf
// and trusts the new root, the old root can be dropped.
//
//   auto root = create_root_ca(crypto, cluster_id, now);
//   CertificateAuthority ca(*root);
//   auto chain = ca.issue_node_certificate(crypto, csr_pem, node_id, NodeRole::kWorker, cluster_id, now);
//   // on the node: renew after renewal_delay(*crypto.parse_certificate(*chain), now, rng)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/ca/join_tokens.h"
#include "core/env/crypto.h"
#include "core/env/random.h"
#include "core/env/status.h"
#include "core/env/time.h"
#include "core/env/transport.h"

namespace shoal::ca {

inline constexpr std::string_view kRootCaCommonName = "swarm-ca";
inline constexpr int64_t kRootCaLifetimeS = 20LL * 365 * 24 * 3600;  // as Docker: 20 years
inline constexpr int64_t kNodeCertLifetimeS = 90LL * 24 * 3600;      // as Docker: 90 days
// not_before is set this far in the past, so a node whose clock lags a little still accepts a
// certificate issued just now.
inline constexpr int64_t kClockSkewS = 60;

// A root CA: its self-signed certificate and its private key, both PEM.
struct RootCa {
  std::string cert_pem;
  std::string key_pem;
};

// A new root CA for a cluster: CN "swarm-ca", O = cluster id, valid from now (less the clock
// skew) for lifetime_s.
Result<RootCa> create_root_ca(Crypto& crypto, std::string_view cluster_id, int64_t now_unix_s,
                              int64_t lifetime_s = kRootCaLifetimeS);

// A root rotation in progress: the new root, and the new root's certificate cross-signed by the
// old root (an intermediate that chains the new root to the old one).
struct RootRotation {
  RootCa new_root;
  std::string cross_signed_pem;
};

Result<RootRotation> begin_root_rotation(Crypto& crypto, const RootCa& old_root, std::string_view cluster_id,
                                         int64_t now_unix_s);

class CertificateAuthority {
 public:
  // Signs with `signer` (a root or intermediate CA); `intermediates_pem` (maybe empty) is
  // appended to every issued leaf, so the chain reaches the roots nodes trust.
  explicit CertificateAuthority(RootCa signer, std::string intermediates_pem = {});
  // During a rotation: signs with the new root's key and appends the cross-signed certificate.
  static CertificateAuthority for_rotation(const RootRotation& rotation);

  // A node certificate for the public key of `csr_pem`: CN = node id (16 hex digits), OU =
  // the role's ("swarm-manager" / "swarm-worker"), O = cluster id, valid from now less the
  // clock skew for lifetime_s, but never past the signer's own not_after (a certificate issued
  // late in the signer's life is shorter). Returns the leaf PEM followed by the intermediates.
  // Refused, saying why: a bad or tampered CSR, node id 0, an empty cluster id, a cluster id
  // other than the signer's O, a lifetime that is not positive, or a signer that has expired.
  Result<std::string> issue_node_certificate(Crypto& crypto, std::string_view csr_pem, NodeId node, NodeRole role,
                                             std::string_view cluster_id, int64_t now_unix_s,
                                             int64_t lifetime_s = kNodeCertLifetimeS) const;

  const std::string& signer_cert_pem() const { return signer_.cert_pem; }
  const std::string& intermediates_pem() const { return intermediates_pem_; }

 private:
  RootCa signer_;
  std::string intermediates_pem_;
};

// When a node should ask for a new certificate: at a uniformly random point between 50% and 80%
// of the certificate's lifetime (from its issue, kClockSkewS after not_before, to not_after), as
// Docker does, so a cluster's nodes do not all renew at once. Returns the time from now to that point, or 0 if it has passed (or
// the certificate has no positive lifetime). Draws from `rng` exactly once either way.
Duration renewal_delay(const CertificateInfo& cert, int64_t now_unix_s, Rng& rng);

// The identity a certificate states (first certificate of a PEM chain): node id from CN, role
// from OU, cluster from O, each checked for shape (core/ca/node_identity.h).
Result<PeerIdentity> identity_of(Crypto& crypto, std::string_view cert_pem);

}  // namespace shoal::ca
