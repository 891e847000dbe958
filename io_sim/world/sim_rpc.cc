#include "io_sim/world/sim_rpc.h"

#include "core/api/rpc.pb.h"

namespace shoal::sim {

// ---- ChannelMux ----------------------------------------------------------------------------

ChannelMux::ChannelMux(Transport& transport) : transport_(transport) {
  transport_.set_handler([this](const PeerIdentity& from, std::string_view payload) { on_message(from, payload); });
}

void ChannelMux::Channel::send(NodeId to, std::string payload) {
  payload.insert(payload.begin(), tag_);
  mux_.transport_.send(to, std::move(payload));
}

void ChannelMux::send_rpc(NodeId to, std::string payload) {
  payload.insert(payload.begin(), 'C');
  transport_.send(to, std::move(payload));
}

void ChannelMux::on_message(const PeerIdentity& from, std::string_view payload) {
  if (payload.empty()) return;
  const char tag = payload.front();
  payload.remove_prefix(1);
  if (tag == 'R' && raft_.handler_) return raft_.handler_(from, payload);
  if (tag == 'C' && rpc_handler_) return rpc_handler_(from, payload);
}

// ---- SimRpc --------------------------------------------------------------------------------

namespace {

bool allowed(RpcAccess access, const PeerIdentity* from) {
  switch (access) {
    case RpcAccess::kAnonymous: return true;
    case RpcAccess::kAnyNode: return from != nullptr;
    case RpcAccess::kManagerOnly: return from != nullptr && from->role == NodeRole::kManager;
  }
  return false;
}

}  // namespace

SimRpc::SimRpc(Env& env, ChannelMux& mux, NodeId self, RoleOf role_of)
    : env_(env), mux_(mux), self_(self), role_of_(std::move(role_of)), next_id_(env.rng.next_u64()) {
  mux_.set_rpc_handler([this](const PeerIdentity& from, std::string_view payload) { on_frame(from, payload); });
}

SimRpc::~SimRpc() {
  *alive_ = false;
  mux_.set_rpc_handler(nullptr);
}

void SimRpc::serve(std::string method, RpcAccess access, Handler handler) {
  served_[std::move(method)] = Served{access, std::move(handler)};
}

void SimRpc::call(NodeId to, std::string method, std::string body, Duration timeout, Reply done) {
  const uint64_t id = next_id_++;
  Pending& p = pending_[id];
  p.to = to;
  p.done = std::move(done);
  p.timer = env_.timers.after(timeout, [this, id, method] {
    finish(id, Status::deadline_exceeded(method + ": no answer in time"), "");
  });
  if (to == self_) {
    // As the real EndpointRpc: a self-call runs on a later turn, with this node's own identity.
    env_.timers.after(Duration(0), [this, id, method = std::move(method), body = std::move(body)]() mutable {
      const PeerIdentity me{self_, role_of_(self_), "sim"};
      dispatch(me, method, std::move(body), [this, id, alive = std::weak_ptr<bool>(alive_)](Status s, std::string b) {
        if (alive.expired()) return;
        env_.timers.after(Duration(0), [this, id, s, b = std::move(b)]() mutable { finish(id, s, std::move(b)); });
      });
    });
    return;
  }
  rpcpb::RpcFrame frame;
  auto* req = frame.mutable_request();
  req->set_id(id);
  req->set_method(std::move(method));
  req->set_body(std::move(body));
  mux_.send_rpc(to, frame.SerializeAsString());
}

void SimRpc::on_frame(const PeerIdentity& from_net, std::string_view payload) {
  rpcpb::RpcFrame frame;
  if (!frame.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) return;  // dropped, as a bad frame
  if (frame.has_response()) {
    const auto& r = frame.response();
    auto it = pending_.find(r.id());
    if (it == pending_.end() || it->second.to != from_net.node_id) return;  // not an answer to a call of ours
    return finish(r.id(), Status(static_cast<StatusCode>(r.code()), r.message()), r.body());
  }
  if (!frame.has_request()) return;
  const PeerIdentity from{from_net.node_id, role_of_(from_net.node_id), from_net.cluster_id};
  const uint64_t id = frame.request().id();
  const NodeId caller = from.node_id;
  dispatch(from, frame.request().method(), std::move(*frame.mutable_request()->mutable_body()),
           [this, id, caller, alive = std::weak_ptr<bool>(alive_)](Status s, std::string b) {
             if (alive.expired()) return;
             rpcpb::RpcFrame out;
             auto* resp = out.mutable_response();
             resp->set_id(id);
             resp->set_code(static_cast<int32_t>(s.code()));
             resp->set_message(s.message());
             resp->set_body(std::move(b));
             mux_.send_rpc(caller, out.SerializeAsString());
           });
}

void SimRpc::dispatch(const PeerIdentity& from, const std::string& method, std::string body,
                      std::function<void(Status, std::string)> respond) {
  auto it = served_.find(method);
  if (it == served_.end()) return respond(Status::unavailable("this node serves no " + method), "");
  if (!allowed(it->second.access, &from)) {
    return respond(Status::permission_denied(method + " is not open to a " + role_name(from.role)), "");
  }
  // The handler may outlive nothing: it runs now and replies now or later through `respond`.
  it->second.handler(&from, std::move(body), std::move(respond));
}

void SimRpc::finish(uint64_t id, Status status, std::string body) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;  // answered already, or timed out
  Reply done = std::move(it->second.done);
  env_.timers.cancel(it->second.timer);
  pending_.erase(it);
  done(status, std::move(body));
}

}  // namespace shoal::sim
