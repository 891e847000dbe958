// The simulator's side of a node's network beside Raft: ChannelMux, which splits the node's one
// simulated Transport into Raft's channel, the RPC channel and gossip's, and SimRpcWire, the RpcWire
// (core/env/rpc_wire.h) on that channel, under the node's RpcPeer (core/rpc/rpc_peer.h) exactly
// as the TLS Endpoint is under shoald's.
//
// Channels. The channel to a node is the World's id of the host it is on (the host that the
// node's address names, through Resolve): a frame from host H arrives on channel H, and answers
// to it go back there. A channel opened to an address ("n3:2377", sim_address()) is a
// conversation of its own, numbered from 2^32 up; the node called keeps an inbound channel for
// it, so its answers come back to that conversation and not to the node channel. A conversation
// opened anonymously shows the callee no identity (nullptr), as a joining node that has no
// certificate yet.
//
// Identities. The World vouches only for which host sent a message; who that host is (its
// certificate's identity, verified as a TLS handshake would, and its chain for a caller's server
// check) comes through IdentityOf and ChainOf. A frame from a host that proves no identity is
// dropped, as a refused handshake would drop it, unless its conversation is anonymous. Closing a
// channel is local: the other side learns nothing, as in the simulator every call ends by its
// answer or its deadline.
//
//   ChannelMux mux(env.transport);
//   SimRpcWire wire(mux.rpc(), self, resolve, identity_of, chain_of);
//   RpcPeer rpc(env.timers, env.rng, env.log, wire, self_identity);
//   raft::RaftNode raft(Env{..., mux.raft(), ...}, ...);
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/env/rpc_wire.h"
#include "core/env/transport.h"

namespace shoal::sim {

// "n<id>:2377": where a simulated node listens for RPCs.
std::string sim_address(NodeId id);
// The node a sim_address() names; 0 if it names none.
NodeId parse_sim_address(std::string_view address);

class ChannelMux {
 public:
  explicit ChannelMux(Transport& transport);
  ~ChannelMux();
  ChannelMux(const ChannelMux&) = delete;
  ChannelMux& operator=(const ChannelMux&) = delete;

  // Raft's channel: a Transport of its own.
  Transport& raft() { return raft_; }
  // The RPC channel.
  Transport& rpc() { return rpc_; }
  // Gossip's datagrams.
  Transport& gossip() { return gossip_; }

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
  Channel rpc_{*this, 'C'};
  Channel gossip_{*this, 'G'};
};

class SimRpcWire final : public RpcWire {
 public:
  // The host a node's channel goes to (0: none known).
  using Resolve = std::function<NodeId(NodeId node)>;
  // Who host H is to this node (its certificate's identity, verified); nullopt: it proves none.
  using IdentityOf = std::function<std::optional<PeerIdentity>(NodeId host)>;
  // The certificate chain host H presents as a server (PEM, leaf first).
  using ChainOf = std::function<std::string(NodeId host)>;

  SimRpcWire(Transport& channel, NodeId self, Resolve resolve, IdentityOf identity_of, ChainOf chain_of);

  // Frames dropped because their sender proved no identity.
  uint64_t refused() const { return refused_; }
  ~SimRpcWire() override;
  SimRpcWire(const SimRpcWire&) = delete;
  SimRpcWire& operator=(const SimRpcWire&) = delete;

  void set_events(Events events) override { events_ = std::move(events); }
  Result<ChannelId> channel_to(NodeId to) override;
  Result<ChannelId> open_channel(const std::string& address, bool anonymous, ServerCheck check,
                                 Duration connect_timeout) override;
  Status send(ChannelId channel, std::string frame) override;
  void close(ChannelId channel) override;

 private:
  static constexpr ChannelId kFirstConversation = ChannelId{1} << 32;
  struct Opened {  // a conversation this node opened
    NodeId to = 0;
    bool anonymous = false;
  };
  struct Inbound {  // a conversation another node opened with this one
    NodeId from = 0;
    ChannelId conversation = 0;  // its number at the opener
  };
  void on_message(const PeerIdentity& from, std::string_view payload);

  Transport& channel_;
  NodeId self_;
  Resolve resolve_;
  IdentityOf identity_of_;
  ChainOf chain_of_;
  Events events_;
  ChannelId next_ = kFirstConversation;
  std::map<ChannelId, Opened> opened_;
  std::map<ChannelId, Inbound> inbound_;
  std::map<std::pair<NodeId, ChannelId>, ChannelId> inbound_by_opener_;
  uint64_t refused_ = 0;
};

}  // namespace shoal::sim
