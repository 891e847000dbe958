// Rpc: how core code asks another node to do something and hears back, and serves what other
// nodes ask of it.
//
// A request goes to a node by id; handlers run on the node's event loop with the caller's
// identity as the wire proved it (nullptr for an anonymous caller, which only kAnonymous
// methods accept: fetching the root CA, joining). `access` is enforced before a handler runs:
// a worker's certificate never reaches a kManagerOnly handler.
//
// The one implementation is RpcPeer (core/rpc/rpc_peer.h), on whatever RpcWire carries its
// frames; tests of a component may give it a fake.
#pragma once
#include <functional>
#include <string>
#include "core/env/identity.h"
#include "core/env/status.h"
#include "core/env/time.h"

namespace shoal {

enum class RpcAccess { kAnonymous, kAnyNode, kManagerOnly };

class Rpc {
 public:
  using Reply = std::function<void(Status, std::string body)>;
  using Handler = std::function<void(const PeerIdentity* from, std::string body, Reply reply)>;

  virtual ~Rpc() = default;
  // Serves `method` (replacing any earlier handler for it).
  virtual void serve(std::string method, RpcAccess access, Handler handler) = 0;
  // done runs exactly once, never inside call(): with the reply, or with an error
  // (unavailable, deadline_exceeded, or the handler's own).
  virtual void call(NodeId to, std::string method, std::string body, Duration timeout, Reply done) = 0;
};

}  // namespace shoal
