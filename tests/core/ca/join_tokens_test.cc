#include "core/ca/join_tokens.h"

#include <gtest/gtest.h>

#include "core/ca/node_identity.h"
#include "io_real/crypto/openssl_crypto.h"

namespace shoal::ca {
namespace {

TEST(JoinTokens, EachTokenAdmitsItsOwnRole) {
  real::OpenSslCrypto crypto;
  const auto ca = crypto.sha256("root CA certificate");
  auto tokens = JoinTokens::generate(ca, crypto);
  EXPECT_NE(tokens.token(NodeRole::kManager), tokens.token(NodeRole::kWorker));
  auto m = tokens.admit(tokens.token(NodeRole::kManager));
  auto w = tokens.admit(tokens.token(NodeRole::kWorker));
  ASSERT_TRUE(m.ok() && w.ok());
  EXPECT_EQ(*m, NodeRole::kManager);
  EXPECT_EQ(*w, NodeRole::kWorker);
  EXPECT_EQ(role_ou(*m), kManagerOu);
}

TEST(JoinTokens, ARotatedTokenStopsWorkingAndTheOtherRoleIsUntouched) {
  real::OpenSslCrypto crypto;
  auto tokens = JoinTokens::generate(crypto.sha256("ca"), crypto);
  const std::string old_worker = tokens.token(NodeRole::kWorker);
  const std::string manager = tokens.token(NodeRole::kManager);
  tokens.rotate(NodeRole::kWorker, crypto);
  auto r = tokens.admit(old_worker);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("rotated"), std::string::npos) << r.status().message();
  EXPECT_TRUE(tokens.admit(tokens.token(NodeRole::kWorker)).ok());
  EXPECT_EQ(tokens.token(NodeRole::kManager), manager);
}

TEST(JoinTokens, AnotherClustersTokenIsRefusedAndSaysSo) {
  real::OpenSslCrypto crypto;
  auto ours = JoinTokens::generate(crypto.sha256("our ca"), crypto);
  auto theirs = JoinTokens::generate(crypto.sha256("their ca"), crypto);
  auto r = ours.admit(theirs.token(NodeRole::kManager));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("another cluster"), std::string::npos);
  auto garbage = ours.admit("SWMTKN-1-nope");
  EXPECT_FALSE(garbage.ok());
}

TEST(JoinTokens, AJoinerRefusesACaThatIsNotTheTokens) {
  real::OpenSslCrypto crypto;
  auto tokens = JoinTokens::generate(crypto.sha256("real ca"), crypto);
  auto t = parse_join_token(tokens.token(NodeRole::kWorker));
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(verify_shown_ca(*t, crypto.sha256("real ca")).ok());
  Status mitm = verify_shown_ca(*t, crypto.sha256("impostor ca"));
  ASSERT_FALSE(mitm.ok());
  EXPECT_NE(mitm.message().find("nothing secret was sent"), std::string::npos);
}

}  // namespace
}  // namespace shoal::ca
