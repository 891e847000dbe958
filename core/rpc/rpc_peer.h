// RpcPeer: a node's RPC layer, the one implementation of Rpc (core/rpc/rpc.h), in shoald and in
// the simulator alike. It gives each call an id, matches the answer that comes back on the same
// channel, fails a call when its deadline passes or its channel is lost, and serves requests
// to their handlers after checking each method's access against the caller's role. It rides an
// RpcWire (core/env/rpc_wire.h) that only carries frames: rpcpb::RpcFrame (core/api/rpc.proto).
//
// Every `done` runs exactly once and always on a later turn of the loop, never inside call().
// A call to this node itself does not touch the wire: its handler runs on a later turn, with
// this node's own identity, and its answer on the turn after.
//
// Bad input changes nothing: a frame that does not parse is dropped and counted; an anonymous
// caller asking for a method that is not kAnonymous is refused (permission_denied) and its
// channel closed; a worker asking for a kManagerOnly method is refused; an answer to no call of
// ours (too late, or on another channel than the call's) is dropped. Call ids start at a random
// point drawn from the node's Rng, so an answer meant for a previous life of the process never
// completes a call of this one.
//
//   RpcPeer rpc(env.timers, env.rng, env.log, endpoint.rpc_wire(), PeerIdentity{id, NodeRole::kManager, cid});
//   rpc.serve("node.info", RpcAccess::kAnyNode, [](const PeerIdentity* from, std::string body, Rpc::Reply r) {...});
//   rpc.call(other, "node.info", "", 2s, [](Status s, std::string body) {...});
//   rpc.call_address("198.18.0.1:2377", /*anonymous=*/true, {}, "ca.root", "", 5s, done);
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "core/env/log.h"
#include "core/env/random.h"
#include "core/env/rpc_wire.h"
#include "core/env/timers.h"
#include "core/rpc/rpc.h"

namespace shoal {

class RpcPeer final : public Rpc {
 public:
  // `rng` gives the first call id; timers and log are the node's.
  RpcPeer(Timers& timers, Rng& rng, Log& log, RpcWire& wire, PeerIdentity self);
  ~RpcPeer() override;
  RpcPeer(const RpcPeer&) = delete;
  RpcPeer& operator=(const RpcPeer&) = delete;

  void serve(std::string method, RpcAccess access, Handler handler) override;
  void call(NodeId to, std::string method, std::string body, Duration timeout, Reply done) override;
  // Calls `method` on whoever listens at `address`, over a channel of its own that is closed once
  // the call ends (RpcWire::open_channel for `anonymous` and `check`).
  void call_address(const std::string& address, bool anonymous, RpcWire::ServerCheck check, std::string method,
                    std::string body, Duration timeout, Reply done);

  // This node's identity as its own calls present it (its role changes on promote and demote).
  void set_identity(PeerIdentity self) { self_ = std::move(self); }
  const PeerIdentity& identity() const { return self_; }

  struct Stats {
    uint64_t bad_frames = 0;     // did not parse
    uint64_t refused = 0;        // requests refused for their caller's role or anonymity
    uint64_t timeouts = 0;       // calls that got no answer in time
    uint64_t stray_answers = 0;  // answers to no call of ours
  };
  const Stats& stats() const { return stats_; }

 private:
  struct Served {
    RpcAccess access;
    Handler handler;
  };
  struct Pending {
    RpcWire::ChannelId channel = 0;
    bool own_channel = false;  // opened for this call (call_address): closed when it ends
    std::string what;          // "'node.join' to 198.18.0.1:2377", for errors
    Reply done;
    TimerId timer = 0;
  };

  // Sends a request on `channel` and waits for its answer (or fails `done` later).
  void start(Result<RpcWire::ChannelId> channel, bool own_channel, std::string what, std::string method,
             std::string body, Duration timeout, Reply done);
  void call_self(std::string method, std::string body, Duration timeout, Reply done);
  void on_frame(RpcWire::ChannelId channel, const PeerIdentity* from, std::string_view frame);
  void on_lost(RpcWire::ChannelId channel, const Status& why);
  void on_request(RpcWire::ChannelId channel, const PeerIdentity* from, uint64_t id, const std::string& method,
                  std::string body);
  void answer(RpcWire::ChannelId channel, uint64_t id, const Status& status, std::string body);
  // Ends a pending call with its outcome, on a later turn.
  void finish(uint64_t id, Status status, std::string body);
  // Runs `done` on a later turn (unless this RpcPeer is gone by then).
  void later(Reply done, Status status, std::string body = {});

  Timers& timers_;
  Log& log_;
  RpcWire& wire_;
  PeerIdentity self_;
  std::map<std::string, Served> served_;
  std::map<uint64_t, Pending> pending_;
  uint64_t next_id_;
  Stats stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace shoal
