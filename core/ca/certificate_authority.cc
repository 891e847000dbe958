#include "core/ca/certificate_authority.h"

#include <algorithm>
#include <utility>

#include "core/ca/node_identity.h"

namespace shoal::ca {

namespace {

// No certificate of ours lives longer than this; it also keeps every time computed here, in
// nanoseconds, far from overflow.
constexpr int64_t kMaxLifetimeS = 100LL * 365 * 24 * 3600;
constexpr int64_t kNanosPerSecond = 1'000'000'000;

Status check_lifetime(int64_t lifetime_s) {
  if (lifetime_s <= 0 || lifetime_s > kMaxLifetimeS) {
    return Status::invalid_argument("certificate lifetime " + std::to_string(lifetime_s) +
                                    " s is not within 1 s .. 100 years");
  }
  return Status::ok_status();
}

// x - y, saturated to [-limit, limit].
int64_t clamped_difference(int64_t x, int64_t y, int64_t limit) {
  int64_t d = 0;
  if (__builtin_sub_overflow(x, y, &d)) return x > y ? limit : -limit;
  return std::clamp(d, -limit, limit);
}

}  // namespace

Result<RootCa> create_root_ca(Crypto& crypto, std::string_view cluster_id, int64_t now_unix_s, int64_t lifetime_s) {
  if (cluster_id.empty()) return Status::invalid_argument("a root CA needs a cluster id (its O); it is empty");
  if (Status s = check_lifetime(lifetime_s); !s.ok()) return s;
  auto key = crypto.generate_key();
  if (!key.ok()) return Status(key.status().code(), "making the root CA key: " + key.status().message());
  const CertificateTemplate t{std::string(kRootCaCommonName), "", std::string(cluster_id), now_unix_s - kClockSkewS,
                              now_unix_s + lifetime_s, true};
  auto cert = crypto.self_sign(key->private_key_pem, t);
  if (!cert.ok()) return Status(cert.status().code(), "making the root CA certificate: " + cert.status().message());
  return RootCa{std::move(*cert), std::move(key->private_key_pem)};
}

Result<RootRotation> begin_root_rotation(Crypto& crypto, const RootCa& old_root, std::string_view cluster_id,
                                         int64_t now_unix_s) {
  auto old_info = crypto.parse_certificate(old_root.cert_pem);
  if (!old_info.ok()) return Status(old_info.status().code(), "the current root CA: " + old_info.status().message());
  if (old_info->organization != cluster_id) {
    return Status::invalid_argument("the current root CA belongs to cluster '" + old_info->organization +
                                    "', not '" + std::string(cluster_id) + "'");
  }
  auto new_root = create_root_ca(crypto, cluster_id, now_unix_s);
  if (!new_root.ok()) return new_root.status();
  auto cross = crypto.cross_sign(new_root->cert_pem, old_root.cert_pem, old_root.key_pem);
  if (!cross.ok()) {
    return Status(cross.status().code(), "cross-signing the new root CA with the current one: " +
                                             cross.status().message());
  }
  return RootRotation{std::move(*new_root), std::move(*cross)};
}

CertificateAuthority::CertificateAuthority(RootCa signer, std::string intermediates_pem)
    : signer_(std::move(signer)), intermediates_pem_(std::move(intermediates_pem)) {}

CertificateAuthority CertificateAuthority::for_rotation(const RootRotation& rotation) {
  return CertificateAuthority(rotation.new_root, rotation.cross_signed_pem);
}

Result<std::string> CertificateAuthority::issue_node_certificate(Crypto& crypto, std::string_view csr_pem,
                                                                 NodeId node, NodeRole role,
                                                                 std::string_view cluster_id, int64_t now_unix_s,
                                                                 int64_t lifetime_s) const {
  if (node == 0) return Status::invalid_argument("node id 0000000000000000 is reserved; no certificate for it");
  if (cluster_id.empty()) return Status::invalid_argument("a node certificate needs a cluster id; it is empty");
  if (Status s = check_lifetime(lifetime_s); !s.ok()) return s;
  auto signer = crypto.parse_certificate(signer_.cert_pem);
  if (!signer.ok()) {
    return Status::failed_precondition("the CA's signing certificate is unusable: " + signer.status().message());
  }
  if (!signer->is_ca) return Status::failed_precondition("the CA's signing certificate is not a CA certificate");
  if (signer->organization != cluster_id) {
    return Status::invalid_argument("cluster '" + std::string(cluster_id) + "' is not this CA's cluster ('" +
                                    signer->organization + "')");
  }
  const int64_t not_before = now_unix_s - kClockSkewS;
  // A certificate cannot outlive its issuer: late in the signer's life, leaves get shorter.
  const int64_t not_after = std::min(now_unix_s + lifetime_s, signer->not_after_unix_s);
  if (not_after <= now_unix_s) {
    return Status::failed_precondition("the CA's signing certificate has expired (not after Unix time " +
                                       std::to_string(signer->not_after_unix_s) + ", now " +
                                       std::to_string(now_unix_s) + "); rotate the root CA");
  }
  const CertificateTemplate t{node_id_text(node), std::string(role_ou(role)), std::string(cluster_id), not_before, not_after,
                              false};
  auto leaf = crypto.sign_csr(std::string(csr_pem), t, signer_.cert_pem, signer_.key_pem);
  if (!leaf.ok()) return leaf.status();
  std::string chain = std::move(*leaf);
  if (!intermediates_pem_.empty()) {
    if (!chain.empty() && chain.back() != '\n') chain += '\n';
    chain += intermediates_pem_;
  }
  return chain;
}

Duration renewal_delay(const CertificateInfo& cert, int64_t now_unix_s, Rng& rng) {
  int64_t lifetime_s = clamped_difference(cert.not_after_unix_s, cert.not_before_unix_s, kMaxLifetimeS);
  if (lifetime_s <= 0) {
    rng.next_u64();  // one draw either way, so a stream's later values do not depend on this case
    return Duration(0);
  }
  // A certificate starts kClockSkewS before it was issued: the window is a share of the life it
  // was issued for, or a short-lived certificate would be due the moment it arrives.
  const int64_t skew_s = lifetime_s > kClockSkewS ? kClockSkewS : 0;
  lifetime_s -= skew_s;
  // The renewal point, as an offset from the issue, uniform in [50%, 80%] of the lifetime.
  const uint64_t life_ns = static_cast<uint64_t>(lifetime_s) * kNanosPerSecond;
  const uint64_t lo = life_ns - life_ns / 2;                    // ceil(life / 2)
  const uint64_t hi = life_ns / 10 * 8 + life_ns % 10 * 8 / 10;  // floor(life * 8 / 10)
  const int64_t point_ns = static_cast<int64_t>(rng.uniform(lo, hi));
  const int64_t since_ns =
      clamped_difference(now_unix_s, cert.not_before_unix_s + skew_s, kMaxLifetimeS) * kNanosPerSecond;
  return Duration(std::max<int64_t>(0, point_ns - since_ns));
}

Result<PeerIdentity> identity_of(Crypto& crypto, std::string_view cert_pem) {
  auto info = crypto.parse_certificate(cert_pem);
  if (!info.ok()) return info.status();
  return identity_from_subject(info->common_name, info->org_unit, info->organization);
}

}  // namespace shoal::ca
