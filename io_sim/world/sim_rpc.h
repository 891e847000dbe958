// SimRpc: the Rpc seam (core/env/rpc.h) over a simulated node's one Transport, which it shares
// with Raft.
//
// The World gives each node a single Transport; a manager needs two channels on it, Raft's
// messages and RPC frames, as the real Endpoint gives it. ChannelMux splits the one into two by
// a leading tag byte. SimRpc then carries rpcpb::RpcFrame requests and responses (the same
// messages the real transport uses) on its channel, times calls out on the node's own timers,
// and enforces each method's access with the caller's role as the cluster knows it (the World's
// identities do not carry roles). A call to the node itself runs on a later turn of its loop.
//
// Everything lives and dies with the node's app: after a crash, calls in flight never answer
// (their timers are gone too), exactly as a process that died. A peer may still answer one of
// them after the restart, and the World delivers that answer to the new life (it was sent to
// the node's current incarnation), where a real process would never see it (it went to a
// connection that died with the old one); so call numbers start at a random point each life, and
// an answer counts only from the node that was called.
//
//   ChannelMux mux(env.transport);
//   SimRpc rpc(env, mux, self, [](NodeId id) { return id <= 3 ? NodeRole::kManager : NodeRole::kWorker; });
//   raft::RaftNode raft(Env{..., mux.raft(), ...}, ...);
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/env/env.h"
#include "core/env/rpc.h"

namespace shoal::sim {

class ChannelMux {
 public:
  explicit ChannelMux(Transport& transport);
  ChannelMux(const ChannelMux&) = delete;
  ChannelMux& operator=(const ChannelMux&) = delete;

  // Raft's channel: a Transport of its own.
  Transport& raft() { return raft_; }
  // The RPC channel.
  void send_rpc(NodeId to, std::string payload);
  void set_rpc_handler(Transport::Handler handler) { rpc_handler_ = std::move(handler); }

 private:
  class Channel final : public Transport {
   public:
    Channel(ChannelMux& mux, char tag) : mux_(mux), tag_(tag) {}
    void send(NodeId to, std::string payload) override;
    void set_handler(Handler handler) override { handler_ = std::move(handler); }
    Handler handler_;

   private:
    ChannelMux& mux_;
    char tag_;
  };
  void on_message(const PeerIdentity& from, std::string_view payload);

  Transport& transport_;
  Channel raft_{*this, 'R'};
  Transport::Handler rpc_handler_;
};

class SimRpc final : public Rpc {
 public:
  using RoleOf = std::function<NodeRole(NodeId)>;

  SimRpc(Env& env, ChannelMux& mux, NodeId self, RoleOf role_of);
  ~SimRpc() override;
  SimRpc(const SimRpc&) = delete;
  SimRpc& operator=(const SimRpc&) = delete;

  void serve(std::string method, RpcAccess access, Handler handler) override;
  void call(NodeId to, std::string method, std::string body, Duration timeout, Reply done) override;

 private:
  struct Served {
    RpcAccess access;
    Handler handler;
  };
  struct Pending {
    NodeId to = 0;  // an answer counts only from the node called
    Reply done;
    TimerId timer = 0;
  };
  void on_frame(const PeerIdentity& from, std::string_view payload);
  // Runs a request's handler (or refuses it); `respond` sends the answer back.
  void dispatch(const PeerIdentity& from, const std::string& method, std::string body,
                std::function<void(Status, std::string)> respond);
  void finish(uint64_t id, Status status, std::string body);

  Env& env_;
  ChannelMux& mux_;
  NodeId self_;
  RoleOf role_of_;
  std::map<std::string, Served> served_;
  std::map<uint64_t, Pending> pending_;
  // Drawn from the node's stream, not 1: a late answer to a previous life's call must not
  // complete this life's call of the same number (see the top of this file).
  uint64_t next_id_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace shoal::sim
