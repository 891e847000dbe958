// SealedTransport and Keyring: sealed gossip datagrams open only under an installed key, name
// their sender, and are refused (counted by reason, never passed on) when malformed, tampered,
// sealed under an unknown key, claimed by another sender, replayed or outside the window. Runs on
// the real OpenSSL Crypto.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/gossip/keyring.h"
#include "core/gossip/sealed_transport.h"
#include "io_real/crypto/openssl_crypto.h"
#include "tests/core/manual_env.h"

namespace shoal::gossip {
namespace {

using test::ManualClock;

AeadKey key(uint8_t fill) {
  AeadKey k;
  k.fill(fill);
  return k;
}

// Records what is sent; the test delivers it by hand.
class Wire final : public Transport {
 public:
  void send(NodeId to, std::string payload) override { sent.push_back({to, std::move(payload)}); }
  void set_handler(Handler h) override { handler = std::move(h); }
  void deliver(NodeId from, std::string_view bytes) { handler(PeerIdentity{from, NodeRole::kWorker, ""}, bytes); }
  std::vector<std::pair<NodeId, std::string>> sent;
  Handler handler;
};

struct Node {
  Node(NodeId id, std::vector<AeadKey> keys, ManualClock& clock, Crypto& crypto)
      : sealed(clock, crypto, wire, id, Keyring(std::move(keys))) {
    sealed.set_handler([this](const PeerIdentity& p, std::string_view b) { got.push_back({p.node_id, std::string(b)}); });
  }
  Wire wire;
  SealedTransport sealed;
  std::vector<std::pair<NodeId, std::string>> got;
};

class SealedTransportTest : public ::testing::Test {
 protected:
  ManualClock clock;
  real::OpenSslCrypto crypto;
  Node a{1, {key(1)}, clock, crypto};
  Node b{2, {key(1)}, clock, crypto};

  // a sends `text` to b; returns the datagram on the wire.
  std::string a_sends(const std::string& text) {
    a.sealed.send(2, text);
    return a.wire.sent.back().second;
  }
  uint64_t dropped(const Node& n, const std::string& why) {
    auto it = n.sealed.stats().dropped_by_reason.find(why);
    return it == n.sealed.stats().dropped_by_reason.end() ? 0 : it->second;
  }
};

TEST_F(SealedTransportTest, ASealedDatagramOpensUnderTheSameKeyAndNamesItsSender) {
  const std::string d = a_sends("ping");
  EXPECT_EQ(d.find("ping"), std::string::npos);  // not in the clear
  b.wire.deliver(1, d);
  ASSERT_EQ(b.got.size(), 1u);
  EXPECT_EQ(b.got[0].first, 1u);
  EXPECT_EQ(b.got[0].second, "ping");
  EXPECT_EQ(b.sealed.stats().opened, 1u);
}

TEST_F(SealedTransportTest, AWrongKeyOrATamperedByteIsDroppedAsBadKey) {
  Node c{3, {key(9)}, clock, crypto};
  c.wire.deliver(1, a_sends("hello"));
  EXPECT_TRUE(c.got.empty());
  EXPECT_EQ(dropped(c, "bad-key"), 1u);
  std::string d = a_sends("hello");
  d[d.size() / 2] ^= 0x01;
  b.wire.deliver(1, d);
  EXPECT_TRUE(b.got.empty());
  EXPECT_EQ(dropped(b, "bad-key"), 1u);
}

TEST_F(SealedTransportTest, TruncatedOrUnknownFormatIsMalformed) {
  const std::string d = a_sends("x");
  b.wire.deliver(1, d.substr(0, 10));
  std::string other = d;
  other[0] = 7;
  b.wire.deliver(1, other);
  b.wire.deliver(1, "");
  EXPECT_TRUE(b.got.empty());
  EXPECT_EQ(dropped(b, "malformed"), 3u);
}

TEST_F(SealedTransportTest, ACarrierSenderOtherThanTheSealedOneIsRefused) {
  b.wire.deliver(5, a_sends("x"));
  EXPECT_TRUE(b.got.empty());
  EXPECT_EQ(dropped(b, "sender-mismatch"), 1u);
}

TEST_F(SealedTransportTest, AReplayWithinTheWindowIsDroppedOnce) {
  const std::string d = a_sends("once");
  b.wire.deliver(1, d);
  b.wire.deliver(1, d);
  EXPECT_EQ(b.got.size(), 1u);
  EXPECT_EQ(dropped(b, "replay"), 1u);
}

TEST_F(SealedTransportTest, ADatagramOlderThanTheWindowIsStale) {
  const std::string d = a_sends("late");
  clock.now += std::chrono::seconds(61);
  b.wire.deliver(1, d);
  EXPECT_TRUE(b.got.empty());
  EXPECT_EQ(dropped(b, "stale"), 1u);
  // And one from a sender whose clock runs ahead by more than the window.
  ManualClock ahead;
  ahead.now = clock.now + std::chrono::seconds(120);
  Node fast{4, {key(1)}, ahead, crypto};
  fast.sealed.send(2, "early");
  b.wire.deliver(4, fast.wire.sent.back().second);
  EXPECT_EQ(dropped(b, "stale"), 2u);
}

TEST_F(SealedTransportTest, RotationAcceptsOldAndNewKeysUntilTheOldIsRemoved) {
  // 1. b installs the new key: it still opens a's old-key datagrams.
  b.sealed.keyring().install(key(2));
  b.wire.deliver(1, a_sends("old"));
  // 2. a moves to the new key: b opens those too.
  a.sealed.keyring().install(key(2));
  ASSERT_TRUE(a.sealed.keyring().use(key(2)).ok());
  b.wire.deliver(1, a_sends("new"));
  ASSERT_EQ(b.got.size(), 2u);
  // 3. b removes the old key: an old-key datagram no longer opens.
  Node old_sender{3, {key(1)}, clock, crypto};
  ASSERT_TRUE(b.sealed.keyring().use(key(2)).ok());
  ASSERT_TRUE(b.sealed.keyring().remove(key(1)).ok());
  old_sender.sealed.send(2, "old again");
  b.wire.deliver(3, old_sender.wire.sent.back().second);
  EXPECT_EQ(b.got.size(), 2u);
  EXPECT_EQ(dropped(b, "bad-key"), 1u);
}

TEST(Keyring, ThePrimaryCannotBeRemovedAndOnlyInstalledKeysCanBeUsed) {
  Keyring ring({key(1)});
  EXPECT_EQ(ring.use(key(2)).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ring.remove(key(1)).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ring.remove(key(3)).code(), StatusCode::kNotFound);
  ring.install(key(2));
  ring.install(key(2));
  EXPECT_EQ(ring.keys().size(), 2u);
  ASSERT_TRUE(ring.use(key(2)).ok());
  EXPECT_EQ(ring.primary(), key(2));
  ASSERT_TRUE(ring.remove(key(1)).ok());
  EXPECT_EQ(ring.keys().size(), 1u);
}

}  // namespace
}  // namespace shoal::gossip
