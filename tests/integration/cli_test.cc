// The `shoal` CLI against a real shoald: Docker's commands, tables and error shape.
#include <gtest/gtest.h>

#include <fstream>

#include "tests/integration/cluster_harness.h"

namespace shoal::integration {
namespace {

TEST(CliTest, NodesTokensConfigsAndSecretsThroughTheCli) {
  ClusterHarness h;
  NodeProc& m1 = h.init("m1");
  auto [rc, out] = h.cli(m1, {"node", "ls"});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("MANAGER STATUS"), std::string::npos) << out;
  EXPECT_NE(out.find("Leader"), std::string::npos) << out;
  EXPECT_NE(out.find(h.node_id(m1) + " *"), std::string::npos) << out;

  auto [rc_t, token] = h.cli(m1, {"swarm", "join-token", "-q", "worker"});
  ASSERT_EQ(rc_t, 0);
  EXPECT_EQ(token, h.worker_token(m1) + "\n");
  auto [rc_r, rotated] = h.cli(m1, {"swarm", "join-token", "--rotate", "-q", "worker"});
  ASSERT_EQ(rc_r, 0) << rotated;
  EXPECT_NE(rotated, token);
  EXPECT_EQ(rotated, h.worker_token(m1) + "\n");

  const std::string file = h.dir() + "/payload";
  std::ofstream(file) << "top secret";
  ASSERT_EQ(h.cli(m1, {"config", "create", "web", file}).first, 0);
  auto [rc_ls, ls] = h.cli(m1, {"config", "ls"});
  EXPECT_EQ(rc_ls, 0);
  EXPECT_NE(ls.find("web"), std::string::npos) << ls;
  ASSERT_EQ(h.cli(m1, {"secret", "create", "pw", file}).first, 0);
  auto [rc_si, secret] = h.cli(m1, {"secret", "inspect", "pw"});
  EXPECT_EQ(rc_si, 0);
  EXPECT_EQ(secret.find("Data"), std::string::npos) << "a secret is never readable back: " << secret;
  EXPECT_EQ(secret.find("top secret"), std::string::npos);

  // Errors: one line from the daemon, exit 1, nothing changed.
  auto [rc_dup, dup] = h.cli(m1, {"config", "create", "web", file});
  EXPECT_EQ(rc_dup, 1);
  EXPECT_NE(dup.find("Error response from daemon"), std::string::npos) << dup;
  EXPECT_NE(dup.find("already exists"), std::string::npos) << dup;
  auto [rc_rm, rm] = h.cli(m1, {"config", "rm", "web"});
  EXPECT_EQ(rc_rm, 0) << rm;
  auto [rc_gone, gone] = h.cli(m1, {"config", "inspect", "web"});
  EXPECT_EQ(rc_gone, 1) << gone;

  // A daemon that is not there.
  NodeProc nowhere;
  nowhere.socket = h.dir() + "/nowhere.sock";
  auto [rc_nd, nd] = h.cli(nowhere, {"node", "ls"});
  EXPECT_EQ(rc_nd, 1);
  EXPECT_NE(nd.find("is shoald running"), std::string::npos) << nd;
}

}  // namespace
}  // namespace shoal::integration
