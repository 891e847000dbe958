// The PKI half of the Crypto seam on OpenSSL: keys, CSRs, issuing, cross-signing, parsing and
// verifying, and how each kind of bad input is refused.
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <gtest/gtest.h>

#include <memory>

#include "io_real/crypto/openssl_crypto.h"

namespace shoal::real {
namespace {

constexpr int64_t kNow = 1'780'000'000;  // 2026-05-28
constexpr int64_t kDay = 24 * 3600;
constexpr int64_t kYear = 365 * kDay;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

CertificateTemplate root_template(const std::string& cluster, int64_t now = kNow) {
  return {"swarm-ca", "", cluster, now - 60, now + 20 * kYear, true};
}

CertificateTemplate leaf_template(const std::string& cn, const std::string& ou, int64_t now = kNow,
                                  int64_t lifetime = 90 * kDay) {
  return {cn, ou, "cluster-a", now - 60, now + lifetime, false};
}

struct Ca {
  KeyPair key;
  std::string cert;
};

Ca make_root(OpenSslCrypto& c, const std::string& cluster = "cluster-a", int64_t now = kNow) {
  Ca ca;
  auto key = c.generate_key();
  EXPECT_TRUE(key.ok()) << key.status().message();
  ca.key = *key;
  auto cert = c.self_sign(ca.key.private_key_pem, root_template(cluster, now));
  EXPECT_TRUE(cert.ok()) << cert.status().message();
  ca.cert = *cert;
  return ca;
}

std::string issue_leaf(OpenSslCrypto& c, const Ca& ca, const CertificateTemplate& t) {
  auto key = c.generate_key();
  EXPECT_TRUE(key.ok());
  auto csr = c.make_csr(key->private_key_pem);
  EXPECT_TRUE(csr.ok()) << csr.status().message();
  auto leaf = c.sign_csr(*csr, t, ca.cert, ca.key.private_key_pem);
  EXPECT_TRUE(leaf.ok()) << leaf.status().message();
  return leaf.ok() ? *leaf : std::string();
}

// Re-encodes a certificate after replacing `from` with `to` (same length) inside its DER: a
// well-formed certificate whose signed bytes no longer match the signature.
std::string tamper_der(const std::string& pem, const std::string& from, const std::string& to) {
  std::unique_ptr<BIO, decltype(&BIO_free)> in(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> x(PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr), X509_free);
  EXPECT_TRUE(x);
  unsigned char* der = nullptr;
  const int len = i2d_X509(x.get(), &der);
  std::string bytes(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  const auto pos = bytes.find(from);
  EXPECT_NE(pos, std::string::npos) << "nothing to tamper with";
  bytes.replace(pos, from.size(), to);
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  std::unique_ptr<X509, decltype(&X509_free)> y(d2i_X509(nullptr, &p, len), X509_free);
  EXPECT_TRUE(y) << "the tampered DER should still parse";
  std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_X509(out.get(), y.get());
  char* data = nullptr;
  const long n = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

TEST(OpenSslX509, GeneratesDistinctP256KeysAsPem) {
  OpenSslCrypto c;
  auto a = c.generate_key();
  auto b = c.generate_key();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(contains(a->private_key_pem, "-----BEGIN PRIVATE KEY-----"));
  EXPECT_TRUE(contains(a->public_key_pem, "-----BEGIN PUBLIC KEY-----"));
  EXPECT_NE(a->private_key_pem, b->private_key_pem);
  EXPECT_NE(a->public_key_pem, b->public_key_pem);
}

TEST(OpenSslX509, RootCaReadsBackAsWritten) {
  OpenSslCrypto c;
  Ca root = make_root(c);
  auto info = c.parse_certificate(root.cert);
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(info->common_name, "swarm-ca");
  EXPECT_EQ(info->org_unit, "");
  EXPECT_EQ(info->organization, "cluster-a");
  EXPECT_EQ(info->issuer_common_name, "swarm-ca");
  EXPECT_EQ(info->not_before_unix_s, kNow - 60);
  EXPECT_EQ(info->not_after_unix_s, kNow + 20 * kYear);
  EXPECT_TRUE(info->is_ca);
  EXPECT_EQ(info->public_key_pem, root.key.public_key_pem);
  EXPECT_FALSE(info->serial_hex.empty());
  EXPECT_LE(info->serial_hex.size(), 32u);
  // A root trusts itself.
  EXPECT_TRUE(c.verify_certificate(root.cert, {root.cert}, kNow).ok());
}

TEST(OpenSslX509, SelfSignRefusesALeafTemplateAndBadValidity) {
  OpenSslCrypto c;
  auto key = c.generate_key();
  ASSERT_TRUE(key.ok());
  auto leaf = c.self_sign(key->private_key_pem, leaf_template("0000000000000001", "swarm-worker"));
  ASSERT_FALSE(leaf.ok());
  EXPECT_TRUE(contains(leaf.status().message(), "root CAs only"));
  CertificateTemplate t = root_template("cluster-a");
  t.not_after_unix_s = t.not_before_unix_s;
  auto backwards = c.self_sign(key->private_key_pem, t);
  ASSERT_FALSE(backwards.ok());
  EXPECT_TRUE(contains(backwards.status().message(), "not later than its not_before"));
}

TEST(OpenSslX509, IssuedLeafVerifiesAndSaysWhatTheTemplateSaid) {
  OpenSslCrypto c;
  Ca root = make_root(c);
  auto key = c.generate_key();
  ASSERT_TRUE(key.ok());
  auto csr = c.make_csr(key->private_key_pem);
  ASSERT_TRUE(csr.ok());
  auto leaf = c.sign_csr(*csr, leaf_template("00000000000000a1", "swarm-worker"), root.cert, root.key.private_key_pem);
  ASSERT_TRUE(leaf.ok()) << leaf.status().message();
  auto info = c.parse_certificate(*leaf);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->common_name, "00000000000000a1");
  EXPECT_EQ(info->org_unit, "swarm-worker");
  EXPECT_EQ(info->organization, "cluster-a");
  EXPECT_EQ(info->issuer_common_name, "swarm-ca");
  EXPECT_FALSE(info->is_ca);
  EXPECT_EQ(info->public_key_pem, key->public_key_pem) << "the leaf must carry the CSR's key";
  Status ok = c.verify_certificate(*leaf, {root.cert}, kNow);
  EXPECT_TRUE(ok.ok()) << ok.message();
}

TEST(OpenSslX509, SerialsAreFreshEachTime) {
  OpenSslCrypto c;
  Ca root = make_root(c);
  auto a = c.parse_certificate(issue_leaf(c, root, leaf_template("0000000000000001", "swarm-worker")));
  auto b = c.parse_certificate(issue_leaf(c, root, leaf_template("0000000000000001", "swarm-worker")));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->serial_hex, b->serial_hex);
}

TEST(OpenSslX509, AnotherClustersRootIsRefused) {
  OpenSslCrypto c;
  Ca ours = make_root(c, "cluster-a");
  Ca theirs = make_root(c, "cluster-b");
  const std::string leaf = issue_leaf(c, theirs, leaf_template("0000000000000002", "swarm-manager"));
  Status s = c.verify_certificate(leaf, {ours.cert}, kNow);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(contains(s.message(), "not signed by this cluster's root CA")) << s.message();
}

TEST(OpenSslX509, AnotherRootWithTheSameNameIsRefused) {
  OpenSslCrypto c;
  Ca ours = make_root(c, "cluster-a");
  Ca impostor = make_root(c, "cluster-a");  // same subject, other key
  const std::string leaf = issue_leaf(c, impostor, leaf_template("0000000000000002", "swarm-manager"));
  Status s = c.verify_certificate(leaf, {ours.cert}, kNow);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s.message();
}

TEST(OpenSslX509, ExpiredAndNotYetValidAreRefusedAtTheChosenTime) {
  OpenSslCrypto c;
  Ca root = make_root(c);
  const std::string leaf = issue_leaf(c, root, leaf_template("0000000000000003", "swarm-worker", kNow, 90 * kDay));
  EXPECT_TRUE(c.verify_certificate(leaf, {root.cert}, kNow + 89 * kDay).ok());

  Status expired = c.verify_certificate(leaf, {root.cert}, kNow + 91 * kDay);
  ASSERT_FALSE(expired.ok());
  EXPECT_TRUE(contains(expired.message(), "has expired (not after 2026-08-26")) << expired.message();

  Status early = c.verify_certificate(leaf, {root.cert}, kNow - kDay);
  ASSERT_FALSE(early.ok());
  EXPECT_TRUE(contains(early.message(), "not yet valid")) << early.message();
}

TEST(OpenSslX509, AnExpiredRootFailsTheChain) {
  OpenSslCrypto c;
  auto key = c.generate_key();
  ASSERT_TRUE(key.ok());
  auto root = c.self_sign(key->private_key_pem, {"swarm-ca", "", "cluster-a", kNow - 60, kNow + kYear, true});
  ASSERT_TRUE(root.ok());
  Ca ca{*key, *root};
  const std::string leaf = issue_leaf(c, ca, leaf_template("0000000000000003", "swarm-worker"));
  Status s = c.verify_certificate(leaf, {ca.cert}, kNow + kYear + kDay);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(contains(s.message(), "expired")) << s.message();
}

TEST(OpenSslX509, ALeafMayNotOutliveItsIssuer) {
  OpenSslCrypto c;
  Ca root = make_root(c);
  auto key = c.generate_key();
  auto csr = c.make_csr(key->private_key_pem);
  ASSERT_TRUE(csr.ok());
  auto r = c.sign_csr(*csr, leaf_template("0000000000000004", "swarm-worker", kNow, 21 * kYear), root.cert,
                      root.key.private_key_pem);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.status().message(), "cannot outlive its CA")) << r.status().message();
}

TEST(OpenSslX509, TamperedCertificateIsRefused) {
  OpenSslCrypto c;
  Ca root = make_root(c);
  const std::string leaf = issue_leaf(c, root, leaf_template("00000000000000b1", "swarm-worker"));
  // Promote the worker to manager inside the signed bytes... ("swarm-worker" and "swarm-manag"
  // differ in length, so change the node id instead: same length, still well-formed DER.)
  const std::string forged = tamper_der(leaf, "00000000000000b1", "00000000000000b2");
  auto info = c.parse_certificate(forged);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->common_name, "00000000000000b2");
  Status s = c.verify_certificate(forged, {root.cert}, kNow);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(contains(s.message(), "does not verify")) << s.message();

  // Damage to the base64 itself is refused too, one way or another.
  std::string broken = leaf;
  broken[broken.size() / 2] = broken[broken.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(c.verify_certificate(broken, {root.cert}, kNow).ok());
}

TEST(OpenSslX509, CsrWithABadSignatureIsRefused) {
  OpenSslCrypto c;
  Ca root = make_root(c);
  auto key = c.generate_key();
  auto csr = c.make_csr(key->private_key_pem);
  ASSERT_TRUE(csr.ok());
  // Flip a bit of the signature's last bytes: the PEM's base64 just before the END line.
  std::string bad = *csr;
  const size_t end = bad.find("-----END");
  ASSERT_NE(end, std::string::npos);
  size_t pos = end - 2;  // skip the newline; land on the last base64 character before '='
  while (bad[pos] == '=' || bad[pos] == '\n') --pos;
  pos -= 4;  // well inside the signature, away from padding
  bad[pos] = bad[pos] == 'A' ? 'B' : 'A';
  auto r = c.sign_csr(bad, leaf_template("0000000000000005", "swarm-worker"), root.cert, root.key.private_key_pem);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  // Either the signature fails, or the flip broke the DER encoding of the signature; both refuse.
  EXPECT_TRUE(contains(r.status().message(), "does not prove possession") ||
              contains(r.status().message(), "not a readable"))
      << r.status().message();
}

TEST(OpenSslX509, CsrSignedByAnotherKeyIsRefused) {
  OpenSslCrypto c;
  Ca root = make_root(c);
  // A request carrying key A's public key but signed by key B, built directly with OpenSSL.
  auto a = c.generate_key();
  auto b = c.generate_key();
  ASSERT_TRUE(a.ok() && b.ok());
  auto read_key = [](const std::string& pem) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
    return std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>(
        PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  };
  auto ka = read_key(a->private_key_pem);
  auto kb = read_key(b->private_key_pem);
  std::unique_ptr<X509_REQ, decltype(&X509_REQ_free)> req(X509_REQ_new(), X509_REQ_free);
  ASSERT_EQ(X509_REQ_set_pubkey(req.get(), ka.get()), 1);
  ASSERT_GT(X509_REQ_sign(req.get(), kb.get(), EVP_sha256()), 0);
  std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_X509_REQ(out.get(), req.get());
  char* data = nullptr;
  const long n = BIO_get_mem_data(out.get(), &data);
  const std::string csr(data, static_cast<size_t>(n));

  auto r = c.sign_csr(csr, leaf_template("0000000000000006", "swarm-worker"), root.cert, root.key.private_key_pem);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.status().message(), "does not prove possession of its key")) << r.status().message();
}

TEST(OpenSslX509, IssuerKeyMustMatchAndIssuerMustBeACa) {
  OpenSslCrypto c;
  Ca root = make_root(c);
  Ca other = make_root(c);
  auto key = c.generate_key();
  auto csr = c.make_csr(key->private_key_pem);
  ASSERT_TRUE(csr.ok());
  auto wrong_key = c.sign_csr(*csr, leaf_template("0000000000000007", "swarm-worker"), root.cert,
                              other.key.private_key_pem);
  ASSERT_FALSE(wrong_key.ok());
  EXPECT_TRUE(contains(wrong_key.status().message(), "not the key of the issuer certificate"));

  const std::string leaf = issue_leaf(c, root, leaf_template("0000000000000008", "swarm-worker"));
  auto leaf_as_issuer = c.sign_csr(*csr, leaf_template("0000000000000009", "swarm-worker"), leaf,
                                   key->private_key_pem);
  ASSERT_FALSE(leaf_as_issuer.ok());
  EXPECT_TRUE(contains(leaf_as_issuer.status().message(), "not a CA")) << leaf_as_issuer.status().message();
}

TEST(OpenSslX509, GarbageGivesAClearError) {
  OpenSslCrypto c;
  Ca root = make_root(c);
  auto p = c.parse_certificate("hello");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(p.status().message(), "no PEM certificate found")) << p.status().message();

  auto bad_body = c.parse_certificate("-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n");
  ASSERT_FALSE(bad_body.ok());
  EXPECT_TRUE(contains(bad_body.status().message(), "not a readable PEM certificate")) << bad_body.status().message();

  auto bad_key = c.make_csr("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
  ASSERT_FALSE(bad_key.ok());
  EXPECT_TRUE(contains(bad_key.status().message(), "not a readable PEM private key")) << bad_key.status().message();
  EXPECT_FALSE(c.make_csr("").ok());
  EXPECT_FALSE(c.sign_csr("junk", leaf_template("0000000000000001", "swarm-worker"), root.cert,
                          root.key.private_key_pem).ok());
  EXPECT_FALSE(c.verify_certificate("junk", {root.cert}, kNow).ok());
  EXPECT_FALSE(c.verify_certificate(root.cert, {"junk"}, kNow).ok());
  EXPECT_FALSE(c.verify_certificate(root.cert, {}, kNow).ok());
  EXPECT_FALSE(c.certificate_digest("").ok());
  EXPECT_FALSE(c.cross_sign("junk", root.cert, root.key.private_key_pem).ok());
  EXPECT_FALSE(c.parse_certificate(std::string(1 << 20, 'A')).ok()) << "oversized input";
}

TEST(OpenSslX509, OnlyP256KeysAreAccepted) {
  OpenSslCrypto c;
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> rsa(EVP_RSA_gen(2048), EVP_PKEY_free);
  ASSERT_TRUE(rsa);
  std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_PrivateKey(out.get(), rsa.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long n = BIO_get_mem_data(out.get(), &data);
  auto r = c.make_csr(std::string(data, static_cast<size_t>(n)));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.status().message(), "not an ECDSA P-256 key")) << r.status().message();
}

TEST(OpenSslX509, DigestIsOfTheFirstCertificateOnly) {
  OpenSslCrypto c;
  Ca a = make_root(c);
  Ca b = make_root(c);
  auto da = c.certificate_digest(a.cert);
  auto dab = c.certificate_digest(a.cert + b.cert);
  auto db = c.certificate_digest(b.cert);
  ASSERT_TRUE(da.ok() && dab.ok() && db.ok());
  EXPECT_EQ(*da, *dab);
  EXPECT_NE(*da, *db);
}

TEST(OpenSslX509, CrossSignedIntermediateLetsBothRootsAcceptTheNewLeaves) {
  OpenSslCrypto c;
  Ca old_root = make_root(c, "cluster-a", kNow - 2 * kYear);
  Ca new_root = make_root(c, "cluster-a", kNow);
  auto cross = c.cross_sign(new_root.cert, old_root.cert, old_root.key.private_key_pem);
  ASSERT_TRUE(cross.ok()) << cross.status().message();

  auto info = c.parse_certificate(*cross);
  auto new_info = c.parse_certificate(new_root.cert);
  auto old_info = c.parse_certificate(old_root.cert);
  ASSERT_TRUE(info.ok() && new_info.ok() && old_info.ok());
  EXPECT_TRUE(info->is_ca);
  EXPECT_EQ(info->public_key_pem, new_info->public_key_pem);
  EXPECT_EQ(info->not_before_unix_s, new_info->not_before_unix_s);
  EXPECT_EQ(info->not_after_unix_s, old_info->not_after_unix_s) << "cut to the issuer's not_after";
  EXPECT_TRUE(c.verify_certificate(*cross, {old_root.cert}, kNow).ok());

  const std::string leaf = issue_leaf(c, new_root, leaf_template("00000000000000c1", "swarm-manager"));
  const std::string chain = leaf + *cross;
  Status via_old = c.verify_certificate(chain, {old_root.cert}, kNow);
  EXPECT_TRUE(via_old.ok()) << via_old.message();
  Status via_new = c.verify_certificate(chain, {new_root.cert}, kNow);
  EXPECT_TRUE(via_new.ok()) << via_new.message();
  // Without the intermediate, a node trusting only the old root refuses the new leaf.
  EXPECT_FALSE(c.verify_certificate(leaf, {old_root.cert}, kNow).ok());
  // And an unrelated root accepts neither.
  Ca stranger = make_root(c, "cluster-a");
  EXPECT_FALSE(c.verify_certificate(chain, {stranger.cert}, kNow).ok());
}

TEST(OpenSslX509, CrossSignRefusesALeaf) {
  OpenSslCrypto c;
  Ca root = make_root(c);
  const std::string leaf = issue_leaf(c, root, leaf_template("0000000000000001", "swarm-worker"));
  auto r = c.cross_sign(leaf, root.cert, root.key.private_key_pem);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.status().message(), "is not a CA")) << r.status().message();
}

TEST(OpenSslX509, FailuresLeaveNoOpenSslErrorBehind) {
  OpenSslCrypto c;
  EXPECT_FALSE(c.parse_certificate("-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n").ok());
  EXPECT_FALSE(c.make_csr("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").ok());
  EXPECT_EQ(ERR_peek_error(), 0u) << "a stale error would confuse the next SSL_get_error()";
}

}  // namespace
}  // namespace shoal::real
