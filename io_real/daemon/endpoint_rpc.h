// The core's Rpc seam on the real network: calls and handlers ride the node's TLS Endpoint.
#pragma once
#include "core/env/rpc.h"
#include "io_real/net/endpoint.h"

namespace shoal::daemon {

class EndpointRpc final : public Rpc {
 public:
  explicit EndpointRpc(net::Endpoint& endpoint) : endpoint_(endpoint) {}
  void serve(std::string method, RpcAccess access, Handler handler) override {
    endpoint_.serve(std::move(method), to_net(access), std::move(handler));
  }
  void call(NodeId to, std::string method, std::string body, Duration timeout, Reply done) override {
    endpoint_.call(to, std::move(method), std::move(body), timeout, std::move(done));
  }

 private:
  static net::Access to_net(RpcAccess a) {
    switch (a) {
      case RpcAccess::kAnonymous: return net::Access::kAnonymous;
      case RpcAccess::kAnyNode: return net::Access::kAnyNode;
      case RpcAccess::kManagerOnly: break;
    }
    return net::Access::kManagerOnly;
  }
  net::Endpoint& endpoint_;
};

}  // namespace shoal::daemon
