// Rpc: the seam through which core code asks another node to do something and hears back.
//
// A request goes to a node by id (the transport knows its address and checks, from its
// certificate, that it is that node). Handlers run on the node's event loop with the caller's
// verified identity — nullptr for an anonymous caller, which only kAnonymous methods accept
// (fetching the root CA, joining). The transport enforces `access` before a handler runs: a
// worker's certificate never reaches a kManagerOnly handler.
#pragma once
#include <functional>
#include <string>
#include "core/env/status.h"
#include "core/env/time.h"
#include "core/env/transport.h"

namespace shoal {

enum class RpcAccess { kAnonymous, kAnyNode, kManagerOnly };

class Rpc {
 public:
  using Reply = std::function<void(Status, std::string body)>;
  using Handler = std::function<void(const PeerIdentity* from, std::string body, Reply reply)>;

  virtual ~Rpc() = default;
  virtual void serve(std::string method, RpcAccess access, Handler handler) = 0;
  // done runs exactly once: with the reply, or with unavailable / deadline_exceeded.
  virtual void call(NodeId to, std::string method, std::string body, Duration timeout, Reply done) = 0;
};

}  // namespace shoal
