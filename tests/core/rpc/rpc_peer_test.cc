// RpcPeer (core/rpc/rpc_peer.h) between two nodes joined by an in-memory wire, on a manual
// clock: calls matched to their answers by id, deadlines that fire at exactly the deadline,
// answers to no call dropped, access checked against the caller's role before a handler runs,
// bad frames dropped, and unknown methods answered with an error.
#include "core/rpc/rpc_peer.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/api/rpc.pb.h"
#include "tests/core/manual_env.h"

namespace shoal {
namespace {

using std::chrono::milliseconds;
using test::ManualClock;
using test::ManualTimers;
using test::RecordingLogSink;

constexpr NodeId kA = 0xa;
constexpr NodeId kB = 0xb;
constexpr RpcWire::ChannelId kLink = 1;  // each end's one channel: the link to the other

// One end of a link between two nodes. A frame sent arrives at the other end on a later turn,
// with the identity this end shows (nullopt: anonymous), as a TLS connection would vouch for it.
class PipeWire final : public RpcWire {
 public:
  PipeWire(Timers& timers, NodeId self) : timers_(timers), self_(self) {}

  void connect(PipeWire& other) {
    other_ = &other;
    other.other_ = this;
  }
  void set_events(Events events) override { events_ = std::move(events); }
  Result<ChannelId> channel_to(NodeId to) override {
    if (!other_ || to != other_->self_) return Status::unavailable("no address known for node " + node_id_text(to));
    return kLink;
  }
  Result<ChannelId> open_channel(const std::string& address, bool, ServerCheck, Duration) override {
    return Status::unavailable("no listener at " + address);
  }
  Status send(ChannelId channel, std::string frame) override {
    if (channel != kLink || !other_) return Status::unavailable("the channel is gone");
    if (frame.size() > max_frame) return Status::invalid_argument("frame too large");
    sent.push_back(frame);
    if (!deliver) return {};
    PipeWire* to = other_;
    std::optional<PeerIdentity> from = shows;
    timers_.after(Duration::zero(), [to, from, frame = std::move(frame)] { to->arrive(from, frame); });
    return {};
  }
  void close(ChannelId channel) override { closed.push_back(channel); }

  // A frame arriving at this end, as if the other end had sent it (a test's forgery).
  void arrive(const std::optional<PeerIdentity>& from, std::string_view frame, ChannelId channel = kLink) {
    if (events_.on_frame) events_.on_frame(channel, from ? &*from : nullptr, frame);
  }
  void lose(const Status& why) {
    if (events_.on_lost) events_.on_lost(kLink, why);
  }

  std::optional<PeerIdentity> shows;   // who this end proves to be to the other
  bool deliver = true;                 // false: frames sent are kept here and never arrive
  size_t max_frame = 1 << 20;
  std::vector<std::string> sent;       // every frame sent, in order
  std::vector<ChannelId> closed;       // channels this end closed

 private:
  Timers& timers_;
  NodeId self_;
  PipeWire* other_ = nullptr;
  Events events_;
};

struct Answer {
  Status status;
  std::string body;
  MonoTime at{};
};

rpcpb::RpcFrame parse(const std::string& bytes) {
  rpcpb::RpcFrame f;
  EXPECT_TRUE(f.ParseFromString(bytes));
  return f;
}

std::string response_frame(uint64_t id, int32_t code, const std::string& body) {
  rpcpb::RpcFrame f;
  f.mutable_response()->set_id(id);
  f.mutable_response()->set_code(code);
  f.mutable_response()->set_body(body);
  return f.SerializeAsString();
}

// Node A, a worker, and node B, a manager, each with an RpcPeer on its end of the link.
class RpcPeerTest : public ::testing::Test {
 protected:
  RpcPeerTest()
      : timers(clock),
        log_a(clock, sink),
        log_b(clock, sink),
        wire_a(timers, kA),
        wire_b(timers, kB) {
    wire_a.connect(wire_b);
    wire_a.shows = worker;
    wire_b.shows = manager;
    a = std::make_unique<RpcPeer>(timers, rng_a, log_a, wire_a, worker);
    b = std::make_unique<RpcPeer>(timers, rng_b, log_b, wire_b, manager);
    b->serve("echo", RpcAccess::kAnyNode, [this](const PeerIdentity* from, std::string body, Rpc::Reply reply) {
      ++handled;
      reply({}, body + " from " + (from ? node_id_text(from->node_id) : std::string("nobody")));
    });
    b->serve("never", RpcAccess::kAnyNode, [this](const PeerIdentity*, std::string, Rpc::Reply reply) {
      ++handled;
      kept.push_back(std::move(reply));  // answered when the test says
    });
    b->serve("admin", RpcAccess::kManagerOnly, [this](const PeerIdentity*, std::string, Rpc::Reply reply) {
      ++handled;
      reply({}, "done");
    });
    b->serve("hello", RpcAccess::kAnonymous, [this](const PeerIdentity* from, std::string, Rpc::Reply reply) {
      ++handled;
      reply({}, from ? "known" : "anonymous");
    });
  }

  // Calls `method` on `to` from A; the answer lands in the returned slot.
  std::shared_ptr<std::optional<Answer>> call(const std::string& method, Duration timeout = milliseconds(500),
                                              NodeId to = kB, std::string body = "hi") {
    auto out = std::make_shared<std::optional<Answer>>();
    auto calls = std::make_shared<int>(0);
    answers.push_back(calls);
    a->call(to, method, std::move(body), timeout, [this, out, calls](Status s, std::string b) {
      ++*calls;
      *out = Answer{std::move(s), std::move(b), clock.now};
    });
    return out;
  }
  // The id of the last request A sent.
  uint64_t last_request_id() {
    EXPECT_FALSE(wire_a.sent.empty());
    return parse(wire_a.sent.back()).request().id();
  }
  // Every `done` ran at most once.
  void expect_each_done_at_most_once() {
    for (const auto& n : answers) EXPECT_LE(*n, 1);
  }

  ManualClock clock;
  ManualTimers timers;
  RecordingLogSink sink{LogLevel::kInfo};
  Log log_a;
  Log log_b;
  Rng rng_a{1};
  Rng rng_b{2};
  const PeerIdentity worker{kA, NodeRole::kWorker, "c1"};
  const PeerIdentity manager{kB, NodeRole::kManager, "c1"};
  PipeWire wire_a;
  PipeWire wire_b;
  std::unique_ptr<RpcPeer> a;
  std::unique_ptr<RpcPeer> b;
  int handled = 0;
  std::vector<Rpc::Reply> kept;
  std::vector<std::shared_ptr<int>> answers;
};

TEST_F(RpcPeerTest, ACallIsAnsweredOnALaterTurnWithTheCallersIdentity) {
  auto answer = call("echo");
  EXPECT_FALSE(answer->has_value());  // never inside call()
  timers.advance(Duration::zero());
  ASSERT_TRUE(answer->has_value());
  EXPECT_TRUE((*answer)->status.ok()) << (*answer)->status.message();
  EXPECT_EQ((*answer)->body, "hi from 000000000000000a");
  EXPECT_EQ(handled, 1);
  ASSERT_EQ(wire_a.sent.size(), 1u);
  EXPECT_EQ(parse(wire_a.sent[0]).request().method(), "echo");
  EXPECT_EQ(parse(wire_b.sent[0]).response().id(), last_request_id());
}

TEST_F(RpcPeerTest, AHandlersErrorReachesTheCallerWithItsCodeAndMessage) {
  b->serve("create", RpcAccess::kAnyNode, [](const PeerIdentity*, std::string, Rpc::Reply reply) {
    reply(Status::already_exists("service web exists"), "ignored");
  });
  auto answer = call("create");
  timers.advance(milliseconds(1));
  ASSERT_TRUE(answer->has_value());
  EXPECT_EQ((*answer)->status.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ((*answer)->status.message(), "service web exists");
  EXPECT_EQ((*answer)->body, "");  // an error carries no body
}

TEST_F(RpcPeerTest, ACallWithNoAnswerFailsAtExactlyItsDeadline) {
  auto answer = call("never", milliseconds(250));
  timers.advance(milliseconds(249));
  EXPECT_EQ(handled, 1);
  EXPECT_FALSE(answer->has_value());
  timers.advance(milliseconds(1));
  ASSERT_TRUE(answer->has_value());
  EXPECT_EQ((*answer)->at, MonoTime(milliseconds(250)));
  EXPECT_EQ((*answer)->status.code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ((*answer)->status.message(), "'never' to node 000000000000000b: no answer within 250 ms");
  EXPECT_EQ(a->stats().timeouts, 1u);
  timers.advance(milliseconds(1000));
  expect_each_done_at_most_once();
}

TEST_F(RpcPeerTest, AnAnswerAfterTheDeadlineIsDroppedAndCompletesNothing) {
  auto answer = call("never", milliseconds(100));
  timers.advance(milliseconds(100));
  ASSERT_TRUE(answer->has_value());
  ASSERT_EQ(kept.size(), 1u);
  kept[0]({}, "too late");
  timers.advance(milliseconds(10));
  EXPECT_EQ((*answer)->status.code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(a->stats().stray_answers, 1u);
  expect_each_done_at_most_once();
}

TEST_F(RpcPeerTest, AnAnswerIsMatchedByItsIdAndAnyOtherIdIsDropped) {
  wire_a.deliver = false;  // B never sees the request: the test answers it
  auto answer = call("never", milliseconds(500));
  const uint64_t id = last_request_id();
  wire_a.arrive(manager, response_frame(id + 1, 0, "forged"));
  wire_a.arrive(manager, response_frame(id, 0, "on another channel"), /*channel=*/7);
  timers.advance(milliseconds(10));
  EXPECT_FALSE(answer->has_value());
  EXPECT_EQ(a->stats().stray_answers, 2u);

  wire_a.arrive(manager, response_frame(id, 0, "the answer"));
  timers.advance(milliseconds(10));
  ASSERT_TRUE(answer->has_value());
  EXPECT_TRUE((*answer)->status.ok());
  EXPECT_EQ((*answer)->body, "the answer");
  // Its deadline no longer fires, and a second answer to it is dropped.
  wire_a.arrive(manager, response_frame(id, 0, "again"));
  timers.advance(milliseconds(1000));
  EXPECT_EQ(a->stats().timeouts, 0u);
  EXPECT_EQ(a->stats().stray_answers, 3u);
  expect_each_done_at_most_once();
}

TEST_F(RpcPeerTest, AnAnswerWithAnUnknownStatusCodeIsAnIoError) {
  wire_a.deliver = false;
  auto answer = call("never");
  wire_a.arrive(manager, response_frame(last_request_id(), 99, ""));
  timers.advance(milliseconds(1));
  ASSERT_TRUE(answer->has_value());
  EXPECT_EQ((*answer)->status.code(), StatusCode::kIoError);
  EXPECT_NE((*answer)->status.message().find("unknown status code 99"), std::string::npos)
      << (*answer)->status.message();
}

TEST_F(RpcPeerTest, CallIdsStartAtAPointDrawnFromTheRng) {
  wire_a.deliver = false;
  call("never");
  const uint64_t first = last_request_id();
  call("never");
  EXPECT_EQ(last_request_id(), first + 1);
  EXPECT_EQ(first, Rng(1).next_u64() >> 1);  // rng_a's first draw
}

TEST_F(RpcPeerTest, AWorkerIsRefusedAManagerOnlyMethodAndItsHandlerDoesNotRun) {
  auto refused = call("admin");
  timers.advance(milliseconds(1));
  ASSERT_TRUE(refused->has_value());
  EXPECT_EQ((*refused)->status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ((*refused)->status.message(),
            "this operation needs a manager certificate (OU=swarm-manager); the caller presented a worker's");
  EXPECT_EQ(handled, 0);
  EXPECT_EQ(b->stats().refused, 1u);
  EXPECT_TRUE(wire_b.closed.empty());  // a known worker keeps its connection

  wire_a.shows = PeerIdentity{kA, NodeRole::kManager, "c1"};  // promoted: a manager's certificate
  auto allowed = call("admin");
  timers.advance(milliseconds(1));
  ASSERT_TRUE(allowed->has_value());
  EXPECT_TRUE((*allowed)->status.ok()) << (*allowed)->status.message();
  EXPECT_EQ((*allowed)->body, "done");
  EXPECT_EQ(handled, 1);
}

TEST_F(RpcPeerTest, AnAnonymousCallerMayOnlyCallAnonymousMethodsAndIsCutOffOtherwise) {
  wire_a.shows = std::nullopt;
  auto hello = call("hello");
  timers.advance(milliseconds(1));
  ASSERT_TRUE(hello->has_value());
  EXPECT_TRUE((*hello)->status.ok());
  EXPECT_EQ((*hello)->body, "anonymous");

  auto echo = call("echo");
  timers.advance(milliseconds(1));
  ASSERT_TRUE(echo->has_value());
  EXPECT_EQ((*echo)->status.code(), StatusCode::kPermissionDenied);
  EXPECT_NE((*echo)->status.message().find("without a certificate"), std::string::npos) << (*echo)->status.message();
  EXPECT_EQ(handled, 1);  // hello only
  EXPECT_EQ(wire_b.closed, std::vector<RpcWire::ChannelId>{kLink});
  // Even a method nobody serves is refused first, not answered "not found".
  auto unknown = call("nothing");
  timers.advance(milliseconds(1));
  ASSERT_TRUE(unknown->has_value());
  EXPECT_EQ((*unknown)->status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(b->stats().refused, 2u);
}

TEST_F(RpcPeerTest, AMethodWithNoHandlerAnswersNotFound) {
  auto answer = call("nothing");
  timers.advance(milliseconds(1));
  ASSERT_TRUE(answer->has_value());
  EXPECT_EQ((*answer)->status.code(), StatusCode::kNotFound);
  EXPECT_EQ((*answer)->status.message(), "node 000000000000000b serves no method 'nothing'");
  EXPECT_EQ(handled, 0);
}

TEST_F(RpcPeerTest, AFrameThatDoesNotParseIsDroppedTheChannelClosedAndNothingRuns) {
  const std::string garbage = "\xff\xff\xff not a frame";
  wire_b.arrive(worker, garbage);
  wire_b.arrive(worker, "");  // parses, but is neither a request nor an answer
  timers.advance(milliseconds(10));
  EXPECT_EQ(b->stats().bad_frames, 2u);
  EXPECT_EQ(handled, 0);
  EXPECT_TRUE(wire_b.sent.empty());  // no answer to a frame that says nothing
  EXPECT_EQ(wire_b.closed, (std::vector<RpcWire::ChannelId>{kLink, kLink}));
  bool logged = false;
  for (const auto& line : sink.lines) logged |= line.find("an RPC frame that does not parse") != std::string::npos;
  EXPECT_TRUE(logged);
  // B serves as before.
  auto answer = call("echo");
  timers.advance(milliseconds(1));
  ASSERT_TRUE(answer->has_value());
  EXPECT_TRUE((*answer)->status.ok());
}

TEST_F(RpcPeerTest, ALostChannelFailsItsCallsWithTheWiresReason) {
  wire_a.deliver = false;
  auto answer = call("never", milliseconds(500));
  timers.advance(milliseconds(10));
  wire_a.lose(Status::unavailable("connection reset by peer"));
  timers.advance(milliseconds(1));
  ASSERT_TRUE(answer->has_value());
  EXPECT_EQ((*answer)->status.code(), StatusCode::kUnavailable);
  EXPECT_EQ((*answer)->status.message(), "'never' to node 000000000000000b: connection reset by peer");
  timers.advance(milliseconds(1000));
  EXPECT_EQ(a->stats().timeouts, 0u);
  expect_each_done_at_most_once();
}

TEST_F(RpcPeerTest, ANodeTheWireCannotReachFailsOnALaterTurn) {
  auto answer = call("echo", milliseconds(500), /*to=*/0xc);
  EXPECT_FALSE(answer->has_value());
  timers.advance(Duration::zero());
  ASSERT_TRUE(answer->has_value());
  EXPECT_EQ((*answer)->status.code(), StatusCode::kUnavailable);
  EXPECT_EQ((*answer)->status.message(), "'echo' to node 000000000000000c: no address known for node 000000000000000c");
  EXPECT_TRUE(wire_a.sent.empty());
}

TEST_F(RpcPeerTest, ARequestTooLargeForAFrameFailsWithTheWiresError) {
  wire_a.max_frame = 100;
  auto answer = call("echo", milliseconds(500), kB, std::string(200, 'x'));
  timers.advance(milliseconds(1));
  ASSERT_TRUE(answer->has_value());
  EXPECT_EQ((*answer)->status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*answer)->status.message(), "'echo' to node 000000000000000b: frame too large");
  EXPECT_EQ(handled, 0);
}

TEST_F(RpcPeerTest, AReplyTooLargeForAFrameReachesTheCallerAsAnError) {
  wire_b.max_frame = 100;
  b->serve("big", RpcAccess::kAnyNode, [](const PeerIdentity*, std::string, Rpc::Reply reply) {
    reply({}, std::string(500, 'x'));
  });
  auto answer = call("big");
  timers.advance(milliseconds(1));
  ASSERT_TRUE(answer->has_value());
  EXPECT_EQ((*answer)->status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*answer)->status.message(), "the reply of 500 bytes exceeds the frame limit");
}

TEST_F(RpcPeerTest, ACallToItselfRunsTheHandlerWithoutTheWire) {
  b->serve("whoami", RpcAccess::kManagerOnly, [](const PeerIdentity* from, std::string body, Rpc::Reply reply) {
    reply({}, body + " " + node_id_text(from->node_id));
  });
  auto out = std::make_shared<std::optional<Answer>>();
  b->call(kB, "whoami", "me", milliseconds(100), [out](Status s, std::string body) { *out = Answer{s, body}; });
  EXPECT_FALSE(out->has_value());
  timers.advance(Duration::zero());
  ASSERT_TRUE(out->has_value());
  EXPECT_TRUE((*out)->status.ok()) << (*out)->status.message();
  EXPECT_EQ((*out)->body, "me 000000000000000b");
  EXPECT_TRUE(wire_b.sent.empty());
}

TEST_F(RpcPeerTest, ACallPendingWhenItsPeerIsDestroyedNeverCompletes) {
  auto answer = call("never", milliseconds(100));
  timers.advance(milliseconds(10));
  a.reset();
  ASSERT_EQ(kept.size(), 1u);
  kept[0]({}, "to nobody");
  timers.advance(milliseconds(1000));
  EXPECT_FALSE(answer->has_value());
}

}  // namespace
}  // namespace shoal
