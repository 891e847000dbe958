// The core's Rpc seam on the real network: calls and handlers ride the node's TLS Endpoint.
// A call to this node itself (a manager's own agent talking to its dispatcher) does not go
// through the network: the handler runs on the next turn of the event loop, with this node's
// own identity, as if it had arrived over TLS.
#pragma once
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <map>
#include <memory>
#include <string>

#include "core/env/rpc.h"
#include "io_real/net/endpoint.h"

namespace shoal::daemon {

class EndpointRpc final : public Rpc {
 public:
  EndpointRpc(boost::asio::io_context& io, net::Endpoint& endpoint, PeerIdentity self)
      : io_(io), endpoint_(endpoint), self_(std::move(self)) {}
  ~EndpointRpc() override { *alive_ = false; }

  void serve(std::string method, RpcAccess access, Handler handler) override {
    local_[method] = handler;
    endpoint_.serve(std::move(method), to_net(access), std::move(handler));
  }
  void call(NodeId to, std::string method, std::string body, Duration timeout, Reply done) override {
    if (to != self_.node_id) return endpoint_.call(to, std::move(method), std::move(body), timeout, std::move(done));
    auto it = local_.find(method);
    if (it == local_.end()) {
      return boost::asio::post(io_, [done = std::move(done), method] {
        done(Status::unavailable("this node serves no " + method), "");
      });
    }
    boost::asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_), handler = it->second, body = std::move(body),
                            done = std::move(done)]() mutable {
      if (alive.expired()) return;
      // The reply may come later (a long poll), and must run on a later turn like a network one.
      handler(&self_, std::move(body), [this, alive, done = std::move(done)](Status s, std::string reply) {
        if (alive.expired()) return;
        boost::asio::post(io_, [done, s, reply = std::move(reply)] { done(s, reply); });
      });
    });
  }
  // This node's identity as its own calls present it (its role changes on promote/demote).
  void set_identity(PeerIdentity self) { self_ = std::move(self); }

 private:
  static net::Access to_net(RpcAccess a) {
    switch (a) {
      case RpcAccess::kAnonymous: return net::Access::kAnonymous;
      case RpcAccess::kAnyNode: return net::Access::kAnyNode;
      case RpcAccess::kManagerOnly: break;
    }
    return net::Access::kManagerOnly;
  }
  boost::asio::io_context& io_;
  net::Endpoint& endpoint_;
  PeerIdentity self_;
  std::map<std::string, Handler> local_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace shoal::daemon
