// The cluster CA: root creation, node certificates and the identities they state, renewal
// timing, and root rotation through a cross-signed intermediate. Runs on the real OpenSSL Crypto.
#include "core/ca/certificate_authority.h"

#include <gtest/gtest.h>
// rapidcheck's gtest glue needs gtest declared first.
#include <rapidcheck/gtest.h>

#include <algorithm>

#include "core/ca/node_identity.h"
#include "io_real/crypto/openssl_crypto.h"

namespace shoal::ca {
namespace {

constexpr int64_t kNow = 1'780'000'000;  // 2026-05-28
constexpr int64_t kDay = 24 * 3600;
constexpr int64_t kYear = 365 * kDay;
constexpr NodeId kNode = 0x1234abcd5678ef01;
const std::string kCluster = "c1uster0id0000000000000a";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A node's side: a fresh key and a CSR for it.
std::string new_csr(Crypto& crypto) {
  auto key = crypto.generate_key();
  EXPECT_TRUE(key.ok()) << key.status().message();
  auto csr = crypto.make_csr(key->private_key_pem);
  EXPECT_TRUE(csr.ok()) << csr.status().message();
  return csr.ok() ? *csr : std::string();
}

class CertificateAuthorityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = create_root_ca(crypto_, kCluster, kNow);
    ASSERT_TRUE(r.ok()) << r.status().message();
    root_ = *r;
  }

  std::string issue(const CertificateAuthority& ca, NodeRole role, int64_t now = kNow, NodeId node = kNode) {
    auto chain = ca.issue_node_certificate(crypto_, new_csr(crypto_), node, role, kCluster, now);
    EXPECT_TRUE(chain.ok()) << chain.status().message();
    return chain.ok() ? *chain : std::string();
  }

  real::OpenSslCrypto crypto_;
  RootCa root_;
};

TEST_F(CertificateAuthorityTest, RootCaIsNamedForTheClusterAndLivesTwentyYears) {
  auto info = crypto_.parse_certificate(root_.cert_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->common_name, "swarm-ca");
  EXPECT_EQ(info->organization, kCluster);
  EXPECT_TRUE(info->is_ca);
  EXPECT_EQ(info->not_before_unix_s, kNow - kClockSkewS);
  EXPECT_EQ(info->not_after_unix_s, kNow + 20 * kYear);
  EXPECT_TRUE(contains(root_.key_pem, "PRIVATE KEY"));

  auto empty = create_root_ca(crypto_, "", kNow);
  ASSERT_FALSE(empty.ok());
  EXPECT_TRUE(contains(empty.status().message(), "cluster id"));
  EXPECT_FALSE(create_root_ca(crypto_, kCluster, kNow, 0).ok());
  EXPECT_FALSE(create_root_ca(crypto_, kCluster, kNow, -kDay).ok());
}

TEST_F(CertificateAuthorityTest, IssuedManagerCertificateVerifiesAndStatesTheNode) {
  CertificateAuthority ca(root_);
  const std::string chain = issue(ca, NodeRole::kManager);
  Status ok = crypto_.verify_certificate(chain, {root_.cert_pem}, kNow);
  ASSERT_TRUE(ok.ok()) << ok.message();
  auto id = identity_of(crypto_, chain);
  ASSERT_TRUE(id.ok()) << id.status().message();
  EXPECT_EQ(id->node_id, kNode);
  EXPECT_EQ(id->role, NodeRole::kManager);
  EXPECT_EQ(id->cluster_id, kCluster);

  auto info = crypto_.parse_certificate(chain);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->common_name, "1234abcd5678ef01");
  EXPECT_FALSE(info->is_ca);
  EXPECT_EQ(info->not_before_unix_s, kNow - 60) << "back-dated a minute for clock skew";
  EXPECT_EQ(info->not_after_unix_s, kNow + 90 * kDay);
}

TEST_F(CertificateAuthorityTest, AWorkerCertificateSaysSwarmWorker) {
  CertificateAuthority ca(root_);
  auto id = identity_of(crypto_, issue(ca, NodeRole::kWorker));
  ASSERT_TRUE(id.ok()) << id.status().message();
  EXPECT_EQ(id->role, NodeRole::kWorker);
  EXPECT_EQ(id->node_id, kNode);
}

TEST_F(CertificateAuthorityTest, ACertificateFromAnotherClusterIsRefused) {
  auto theirs = create_root_ca(crypto_, "other0cluster", kNow);
  ASSERT_TRUE(theirs.ok());
  CertificateAuthority their_ca(*theirs);
  auto chain = their_ca.issue_node_certificate(crypto_, new_csr(crypto_), kNode, NodeRole::kManager, "other0cluster",
                                               kNow);
  ASSERT_TRUE(chain.ok()) << chain.status().message();
  Status s = crypto_.verify_certificate(*chain, {root_.cert_pem}, kNow);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(contains(s.message(), "not signed by this cluster's root CA")) << s.message();
}

TEST_F(CertificateAuthorityTest, TheCaIssuesOnlyForItsOwnCluster) {
  CertificateAuthority ca(root_);
  auto r = ca.issue_node_certificate(crypto_, new_csr(crypto_), kNode, NodeRole::kWorker, "someone0else", kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.status().message(), "not this CA's cluster")) << r.status().message();
}

TEST_F(CertificateAuthorityTest, ExpiredAndNotYetValidCertificatesAreRefused) {
  CertificateAuthority ca(root_);
  const std::string chain = issue(ca, NodeRole::kWorker);
  EXPECT_TRUE(crypto_.verify_certificate(chain, {root_.cert_pem}, kNow + 89 * kDay).ok());
  Status late = crypto_.verify_certificate(chain, {root_.cert_pem}, kNow + 91 * kDay);
  ASSERT_FALSE(late.ok());
  EXPECT_TRUE(contains(late.message(), "has expired")) << late.message();
  // A node whose clock is two minutes behind: beyond the one-minute back-dating.
  Status early = crypto_.verify_certificate(chain, {root_.cert_pem}, kNow - 120);
  ASSERT_FALSE(early.ok());
  EXPECT_TRUE(contains(early.message(), "not yet valid")) << early.message();
  // Thirty seconds behind is within it.
  EXPECT_TRUE(crypto_.verify_certificate(chain, {root_.cert_pem}, kNow - 30).ok());
}

TEST_F(CertificateAuthorityTest, BadRequestsAreRefused) {
  CertificateAuthority ca(root_);
  auto garbage = ca.issue_node_certificate(crypto_, "not a csr", kNode, NodeRole::kWorker, kCluster, kNow);
  ASSERT_FALSE(garbage.ok());
  EXPECT_TRUE(contains(garbage.status().message(), "no PEM certificate signing request")) << garbage.status().message();

  auto zero = ca.issue_node_certificate(crypto_, new_csr(crypto_), 0, NodeRole::kWorker, kCluster, kNow);
  ASSERT_FALSE(zero.ok());
  EXPECT_TRUE(contains(zero.status().message(), "reserved"));
  EXPECT_FALSE(ca.issue_node_certificate(crypto_, new_csr(crypto_), kNode, NodeRole::kWorker, "", kNow).ok());
  EXPECT_FALSE(ca.issue_node_certificate(crypto_, new_csr(crypto_), kNode, NodeRole::kWorker, kCluster, kNow, 0).ok());

  CertificateAuthority broken(RootCa{"junk", root_.key_pem});
  auto r = broken.issue_node_certificate(crypto_, new_csr(crypto_), kNode, NodeRole::kWorker, kCluster, kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(CertificateAuthorityTest, LateInTheRootsLifeLeavesAreShorterAndAfterItNoneAreIssued) {
  auto short_root = create_root_ca(crypto_, kCluster, kNow, 30 * kDay);
  ASSERT_TRUE(short_root.ok());
  CertificateAuthority ca(*short_root);
  auto info = crypto_.parse_certificate(issue(ca, NodeRole::kWorker));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->not_after_unix_s, kNow + 30 * kDay) << "cut to the root's not_after";

  auto r = ca.issue_node_certificate(crypto_, new_csr(crypto_), kNode, NodeRole::kWorker, kCluster, kNow + 31 * kDay);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.status().message(), "has expired")) << r.status().message();
}

TEST_F(CertificateAuthorityTest, IdentityOfRefusesWhatIsNotANodeCertificate) {
  auto root_id = identity_of(crypto_, root_.cert_pem);
  ASSERT_FALSE(root_id.ok());
  EXPECT_TRUE(contains(root_id.status().message(), "CN")) << root_id.status().message();
  auto garbage = identity_of(crypto_, "garbage");
  ASSERT_FALSE(garbage.ok());
  EXPECT_TRUE(contains(garbage.status().message(), "no PEM certificate")) << garbage.status().message();
}

TEST_F(CertificateAuthorityTest, RotationLeavesAreAcceptedByOldRootOnlyAndNewRootOnlyNodes) {
  auto rotation = begin_root_rotation(crypto_, root_, kCluster, kNow + kYear);
  ASSERT_TRUE(rotation.ok()) << rotation.status().message();
  const int64_t now = kNow + kYear + kDay;
  CertificateAuthority ca = CertificateAuthority::for_rotation(*rotation);
  EXPECT_EQ(ca.intermediates_pem(), rotation->cross_signed_pem);
  const std::string chain = issue(ca, NodeRole::kManager, now);

  Status old_only = crypto_.verify_certificate(chain, {root_.cert_pem}, now);
  EXPECT_TRUE(old_only.ok()) << old_only.message();
  Status new_only = crypto_.verify_certificate(chain, {rotation->new_root.cert_pem}, now);
  EXPECT_TRUE(new_only.ok()) << new_only.message();
  auto id = identity_of(crypto_, chain);
  ASSERT_TRUE(id.ok()) << id.status().message();
  EXPECT_EQ(id->node_id, kNode);
  EXPECT_EQ(id->role, NodeRole::kManager);

  // Without the intermediate, an old-root-only node cannot place the new leaf.
  const std::string leaf = chain.substr(0, chain.find("-----END CERTIFICATE-----") + 26);
  EXPECT_FALSE(crypto_.verify_certificate(leaf, {root_.cert_pem}, now).ok());
  EXPECT_TRUE(crypto_.verify_certificate(leaf, {rotation->new_root.cert_pem}, now).ok());

  // A leaf of the old CA is not accepted by a node that trusts only the new root: this is how a
  // manager knows a node still needs a new certificate before the old root can go.
  const std::string old_leaf = issue(CertificateAuthority(root_), NodeRole::kWorker, now);
  EXPECT_FALSE(crypto_.verify_certificate(old_leaf, {rotation->new_root.cert_pem}, now).ok());
  EXPECT_TRUE(crypto_.verify_certificate(old_leaf, {root_.cert_pem, rotation->new_root.cert_pem}, now).ok());

  // The new root is a fresh key with the same name, and the join tokens' digest changes with it.
  auto new_info = crypto_.parse_certificate(rotation->new_root.cert_pem);
  auto old_info = crypto_.parse_certificate(root_.cert_pem);
  ASSERT_TRUE(new_info.ok() && old_info.ok());
  EXPECT_EQ(new_info->common_name, old_info->common_name);
  EXPECT_EQ(new_info->organization, kCluster);
  EXPECT_NE(new_info->public_key_pem, old_info->public_key_pem);
  EXPECT_NE(*crypto_.certificate_digest(rotation->new_root.cert_pem), *crypto_.certificate_digest(root_.cert_pem));
}

TEST_F(CertificateAuthorityTest, RotationRefusesAnotherClustersRoot) {
  auto r = begin_root_rotation(crypto_, root_, "other0cluster", kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.status().message(), "belongs to cluster")) << r.status().message();
  auto garbage = begin_root_rotation(crypto_, RootCa{"junk", "junk"}, kCluster, kNow);
  EXPECT_FALSE(garbage.ok());
  auto wrong_key = begin_root_rotation(crypto_, RootCa{root_.cert_pem, create_root_ca(crypto_, kCluster, kNow)->key_pem},
                                       kCluster, kNow);
  ASSERT_FALSE(wrong_key.ok());
  EXPECT_TRUE(contains(wrong_key.status().message(), "not the key of the issuer")) << wrong_key.status().message();
}

// A Crypto without the PKI: the CA says so rather than crashing.
class NoPkiCrypto final : public Crypto {
 public:
  void random_bytes(uint8_t* out, size_t n) override { std::fill(out, out + n, uint8_t{7}); }
  Sha256Digest sha256(std::string_view) override { return {}; }
  std::string seal(const AeadKey&, std::string_view p, std::string_view) override { return std::string(p); }
  Result<std::string> unseal(const AeadKey&, std::string_view s, std::string_view) override {
    return std::string(s);
  }
};

TEST(CertificateAuthorityWithoutPki, SaysTheCryptoLacksIt) {
  NoPkiCrypto crypto;
  auto r = create_root_ca(crypto, kCluster, kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(contains(r.status().message(), "does not implement generate_key")) << r.status().message();
}

// ---- renewal timing ----

CertificateInfo cert_valid(int64_t not_before, int64_t lifetime) {
  CertificateInfo c;
  c.not_before_unix_s = not_before;
  c.not_after_unix_s = not_before + lifetime;
  return c;
}

// A certificate as a manager issues it at `at`: valid from kClockSkewS before, for `lifetime`.
CertificateInfo cert_issued(int64_t at, int64_t lifetime) {
  CertificateInfo c;
  c.not_before_unix_s = at - kClockSkewS;
  c.not_after_unix_s = at + lifetime;
  return c;
}

constexpr int64_t kNs = 1'000'000'000;

RC_GTEST_PROP(CertificateAuthorityRenewal, RenewsBetweenHalfAndFourFifthsOfTheLifetime, ()) {
  const int64_t not_before = *rc::gen::resize(100, rc::gen::inRange<int64_t>(0, 4'000'000'000));
  const int64_t lifetime = *rc::gen::resize(100, rc::gen::inRange<int64_t>(1, 100 * kYear));
  const int64_t now = not_before + *rc::gen::resize(100, rc::gen::inRange<int64_t>(-lifetime, 2 * lifetime));
  Rng rng(*rc::gen::arbitrary<uint64_t>());
  const int64_t delay_ns = renewal_delay(cert_valid(not_before, lifetime), now, rng).count();
  RC_ASSERT(delay_ns >= 0);
  // The life it was issued for: a certificate longer than the clock skew was issued that long
  // after not_before.
  const int64_t issued = not_before + (lifetime > kClockSkewS ? kClockSkewS : 0);
  // The renewal point, in nanoseconds after the issue, when it is still ahead.
  const __int128 point = static_cast<__int128>(now - issued) * kNs + delay_ns;
  const __int128 life = static_cast<__int128>(lifetime - (issued - not_before)) * kNs;
  if (delay_ns > 0) {
    RC_ASSERT(point * 10 >= life * 5);
    RC_ASSERT(point * 10 <= life * 8);
  } else {
    // Zero only when the latest renewal point (80%) has come, or the drawn one has.
    RC_ASSERT(static_cast<__int128>(now - issued) * kNs * 10 >= life * 5);
  }
}

TEST(CertificateAuthorityRenewal, DelaysSpreadOverTheWholeWindow) {
  // 90 days from now: the renewal must fall anywhere in [45 d, 72 d], not at one point.
  const CertificateInfo cert = cert_issued(kNow, 90 * kDay);
  int64_t lo = INT64_MAX, hi = 0;
  for (uint64_t seed = 1; seed <= 2000; ++seed) {
    Rng rng(seed);
    const int64_t s = renewal_delay(cert, kNow, rng).count() / kNs;
    ASSERT_GE(s, 45 * kDay);
    ASSERT_LE(s, 72 * kDay);
    lo = std::min(lo, s);
    hi = std::max(hi, s);
  }
  EXPECT_LT(lo, 46 * kDay) << "the early end of the window is never drawn";
  EXPECT_GT(hi, 71 * kDay) << "the late end of the window is never drawn";
}

TEST(CertificateAuthorityRenewal, ZeroWhenLateOrExpiredAndTheSameForTheSameSeed) {
  const CertificateInfo cert = cert_issued(kNow, 90 * kDay);
  Rng a(42), b(42);
  EXPECT_EQ(renewal_delay(cert, kNow, a), renewal_delay(cert, kNow, b));
  Rng rng(7);
  EXPECT_EQ(renewal_delay(cert, kNow + 73 * kDay, rng), Duration(0)) << "past 80%";
  EXPECT_EQ(renewal_delay(cert, kNow + 100 * kDay, rng), Duration(0)) << "expired";
  EXPECT_EQ(renewal_delay(cert_valid(kNow, 0), kNow, rng), Duration(0)) << "no lifetime";
  EXPECT_EQ(renewal_delay(cert_valid(kNow, -kDay), kNow, rng), Duration(0)) << "backwards";
  // Halfway through a 90-day certificate: renewal within the next 30 days (at 45..72 days).
  const Duration d = renewal_delay(cert, kNow + 44 * kDay, rng);
  EXPECT_GE(d.count(), 1 * kDay * kNs);
  EXPECT_LE(d.count(), 28 * kDay * kNs);
  // Absurd times do not overflow.
  CertificateInfo wild;
  wild.not_before_unix_s = INT64_MIN;
  wild.not_after_unix_s = INT64_MAX;
  EXPECT_GE(renewal_delay(wild, INT64_MIN, rng).count(), 0);
  EXPECT_EQ(renewal_delay(wild, INT64_MAX, rng), Duration(0));
}

TEST(CertificateAuthorityRenewal, AShortLivedCertificateIsNotDueTheMomentItArrives) {
  // 30 s, valid from 60 s before its issue: renewal 15..24 s after the issue, not at once.
  const CertificateInfo cert = cert_issued(kNow, 30);
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    Rng rng(seed);
    const Duration d = renewal_delay(cert, kNow, rng);
    ASSERT_GE(d.count(), 15 * kNs);
    ASSERT_LE(d.count(), 24 * kNs);
  }
}

}  // namespace
}  // namespace shoal::ca
