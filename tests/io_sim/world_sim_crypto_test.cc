// SimCrypto: the same seed gives the same keys, requests, certificates and signatures, byte for
// byte, and what it makes is still real, verifiable crypto.
#include "io_sim/world/sim_crypto.h"

#include <gtest/gtest.h>

#include "io_real/crypto/openssl_crypto.h"

namespace shoal::sim {
namespace {

constexpr int64_t kNow = 1'780'000'000;

struct Made {
  KeyPair root_key;
  std::string root, csr, leaf, cross, sealed;
};

// One run of the CA's work, all through one SimCrypto.
Made make_everything(uint64_t seed) {
  SimCrypto c(seed);
  Made m;
  auto root_key = c.generate_key();
  EXPECT_TRUE(root_key.ok());
  m.root_key = *root_key;
  m.root = *c.self_sign(m.root_key.private_key_pem, {"swarm-ca", "", "cluster", kNow, kNow + 86400 * 365, true});
  auto node_key = c.generate_key();
  m.csr = *c.make_csr(node_key->private_key_pem);
  m.leaf = *c.sign_csr(m.csr, {"0000000000000001", "swarm-worker", "cluster", kNow, kNow + 86400, false}, m.root,
                       m.root_key.private_key_pem);
  auto other_key = c.generate_key();
  auto other = c.self_sign(other_key->private_key_pem, {"swarm-ca", "", "cluster", kNow, kNow + 86400 * 30, true});
  m.cross = *c.cross_sign(*other, m.root, m.root_key.private_key_pem);
  m.sealed = c.seal(AeadKey{}, "secret", "aad");
  return m;
}

TEST(SimCrypto, TheSameSeedGivesTheSameBytes) {
  const Made a = make_everything(42);
  const Made b = make_everything(42);
  // Key generation and ECDSA nonces happen inside OpenSSL: equal bytes here show they drew from
  // the seeded stream, not from OpenSSL's DRBG.
  EXPECT_EQ(a.root_key.private_key_pem, b.root_key.private_key_pem);
  EXPECT_EQ(a.root, b.root);
  EXPECT_EQ(a.csr, b.csr) << "the CSR's ECDSA signature differs";
  EXPECT_EQ(a.leaf, b.leaf);
  EXPECT_EQ(a.cross, b.cross);
  EXPECT_EQ(a.sealed, b.sealed);
}

TEST(SimCrypto, AnotherSeedGivesOtherBytes) {
  const Made a = make_everything(42);
  const Made b = make_everything(43);
  EXPECT_NE(a.root_key.private_key_pem, b.root_key.private_key_pem);
  EXPECT_NE(a.csr, b.csr);
  EXPECT_NE(a.sealed, b.sealed);
}

TEST(SimCrypto, WhatItMakesIsRealCrypto) {
  const Made m = make_everything(7);
  real::OpenSslCrypto real;
  Status ok = real.verify_certificate(m.leaf, {m.root}, kNow + 60);
  EXPECT_TRUE(ok.ok()) << ok.message();
  auto opened = real.unseal(AeadKey{}, m.sealed, "aad");
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, "secret");
}

TEST(SimCrypto, RealCryptoInTheSameProcessStaysRandom) {
  SimCrypto sim(1);
  ASSERT_TRUE(sim.generate_key().ok());  // the seeded method is installed by now
  real::OpenSslCrypto real;
  auto a = real.generate_key();
  auto b = real.generate_key();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->private_key_pem, b->private_key_pem);
  SimCrypto again(1);
  auto c = again.generate_key();
  ASSERT_TRUE(c.ok());
  EXPECT_NE(a->private_key_pem, c->private_key_pem);
}

}  // namespace
}  // namespace shoal::sim
