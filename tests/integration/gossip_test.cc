// Gossip on real shoald processes: five nodes on distinct gossip ports on loopback, UDP
// and TCP, every datagram sealed with the cluster's keys. They find each other through the
// manager, a SIGKILLed node is seen dead by every other within the bound, its record leaves
// their tables, and when it comes back it gets the whole table. Garbage sent to a gossip port is
// counted and changes nothing.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "tests/integration/cluster_harness.h"

namespace shoal::integration {
namespace {
using namespace std::chrono_literals;
using nlohmann::json;

class GossipTest : public ::testing::Test {
 protected:
  void form() {
    m = &h.init("m");
    const std::string token = h.worker_token(*m);
    ASSERT_FALSE(token.empty()) << h.read_log(*m);
    nodes.push_back(m);
    for (const char* name : {"w1", "w2", "w3", "w4"}) nodes.push_back(&h.join(name, token, *m));
    for (auto* n : nodes) ids[n] = h.node_id(*n);
  }

  json view(const NodeProc& n) { return h.get_json(n, "/gossip"); }

  // n's gossip state of `subject` ("" if unknown to it).
  std::string state_seen(const NodeProc& n, const NodeProc& subject) {
    json v = view(n);
    if (!v.is_object()) return "";
    for (const auto& mem : v["Members"]) {
      if (mem.value("ID", "") == ids[&subject]) return mem.value("State", "");
    }
    return "";
  }
  size_t records(const NodeProc& n) {
    json v = view(n);
    return v.is_object() && v["Tables"].contains("nodes") ? v["Tables"]["nodes"].size() : 0;
  }
  bool everyone_sees_everyone() {
    for (auto* a : nodes) {
      for (auto* b : nodes) {
        if (state_seen(*a, *b) != "alive") return false;
      }
      if (records(*a) != nodes.size()) return false;
    }
    return true;
  }

  ClusterHarness h;
  NodeProc* m = nullptr;
  std::vector<NodeProc*> nodes;
  std::map<const NodeProc*, std::string> ids;
};

TEST_F(GossipTest, AKilledNodeIsSeenDeadEverywhereAndGetsTheWholeTableWhenItReturns) {
  form();
  ASSERT_TRUE(eventually([&] { return everyone_sees_everyone(); }, 30s)) << view(*m).dump();
  NodeProc* victim = nodes[2];
  const auto killed = std::chrono::steady_clock::now();
  h.kill(*victim, SIGKILL);
  auto all_see_dead = [&] {
    for (auto* n : nodes) {
      if (n != victim && state_seen(*n, *victim) != "dead") return false;
    }
    return true;
  };
  // The default settings: a death is declared 0.8..4.8 s after the suspicion starts at 5 nodes.
  ASSERT_TRUE(eventually(all_see_dead, 10s)) << view(*m).dump();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
  std::printf("SIGKILLed node seen dead by all 4 others: %.2f s\n", seconds);
  for (auto* n : nodes) {
    if (n == victim) continue;
    EXPECT_EQ(records(*n), nodes.size() - 1) << n->name << ": " << view(*n).dump();
  }
  h.restart(*victim);
  ASSERT_TRUE(h.wait_ready(*victim)) << h.read_log(*victim);
  ASSERT_TRUE(eventually([&] { return everyone_sees_everyone(); }, 30s)) << view(*victim).dump();
  json v = view(*victim);
  for (auto* n : nodes) EXPECT_EQ(v["Tables"]["nodes"][ids[n]]["Value"], n->name) << v.dump();
  // `shoal node ls` shows the gossip view beside the managers'.
  auto [code, out] = h.cli(*m, {"node", "ls"});
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("GOSSIP"), std::string::npos) << out;
}

TEST_F(GossipTest, GarbageOnTheGossipPortIsCountedAndChangesNothing) {
  m = &h.init("m");
  nodes.push_back(m);
  ids[m] = h.node_id(*m);
  ASSERT_TRUE(eventually([&] { return view(*m).value("Started", false); }, 20s)) << h.read_log(*m);
  const int port = std::stoi(m->gossip_addr.substr(m->gossip_addr.rfind(':') + 1));
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(static_cast<uint16_t>(port));
  // A UDP datagram of garbage, and one long enough to be tried under every key.
  const int udp = ::socket(AF_INET, SOCK_DGRAM, 0);
  const std::string shortjunk = "hello", longjunk(200, '\x01');
  ::sendto(udp, shortjunk.data(), shortjunk.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  ::sendto(udp, longjunk.data(), longjunk.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  ::close(udp);
  ASSERT_TRUE(eventually([&] {
    json d = view(*m)["Dropped"];
    return d.value("malformed", 0) >= 1 && d.value("bad-key", 0) >= 1;
  }, 10s)) << view(*m).dump();
  EXPECT_EQ(state_seen(*m, *m), "alive");
  EXPECT_EQ(records(*m), 1u);
}

}  // namespace
}  // namespace shoal::integration
