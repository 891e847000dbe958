#include "core/rpc/rpc_peer.h"

#include "core/api/rpc.pb.h"
#include "core/env/check.h"

namespace shoal {
namespace {

// The channel a call to this node itself is pending on: no wire channel is 0.
constexpr RpcWire::ChannelId kSelf = 0;

bool allowed(RpcAccess access, const PeerIdentity& from) {
  return access != RpcAccess::kManagerOnly || from.role == NodeRole::kManager;
}

std::string ms_text(Duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

}  // namespace

RpcPeer::RpcPeer(Timers& timers, Rng& rng, Log& log, RpcWire& wire, PeerIdentity self)
    : timers_(timers), log_(log), wire_(wire), self_(std::move(self)), next_id_(rng.next_u64() >> 1) {
  RpcWire::Events events;
  events.on_frame = [this](RpcWire::ChannelId c, const PeerIdentity* from, std::string_view frame) {
    on_frame(c, from, frame);
  };
  events.on_lost = [this](RpcWire::ChannelId c, const Status& why) { on_lost(c, why); };
  wire_.set_events(std::move(events));
}

RpcPeer::~RpcPeer() {
  *alive_ = false;
  wire_.set_events({});
  for (auto& [id, p] : pending_) {
    timers_.cancel(p.timer);
    if (p.own_channel) wire_.close(p.channel);
  }
}

void RpcPeer::serve(std::string method, RpcAccess access, Handler handler) {
  served_[std::move(method)] = Served{access, std::move(handler)};
}

void RpcPeer::call(NodeId to, std::string method, std::string body, Duration timeout, Reply done) {
  if (to == self_.node_id && to != 0) return call_self(std::move(method), std::move(body), timeout, std::move(done));
  std::string what = "'" + method + "' to node " + node_id_text(to);
  start(wire_.channel_to(to), false, std::move(what), std::move(method), std::move(body), timeout, std::move(done));
}

void RpcPeer::call_address(const std::string& address, bool anonymous, RpcWire::ServerCheck check, std::string method,
                           std::string body, Duration timeout, Reply done) {
  std::string what = "'" + method + "' to " + address;
  start(wire_.open_channel(address, anonymous, std::move(check), timeout), true, std::move(what), std::move(method),
        std::move(body), timeout, std::move(done));
}

void RpcPeer::start(Result<RpcWire::ChannelId> channel, bool own_channel, std::string what, std::string method,
                    std::string body, Duration timeout, Reply done) {
  if (!channel.ok()) return later(std::move(done), Status(channel.status().code(), what + ": " + channel.status().message()));
  const uint64_t id = next_id_++;
  rpcpb::RpcFrame frame;
  auto* req = frame.mutable_request();
  req->set_id(id);
  req->set_method(std::move(method));
  req->set_body(std::move(body));
  if (Status s = wire_.send(*channel, frame.SerializeAsString()); !s.ok()) {
    if (own_channel) wire_.close(*channel);
    return later(std::move(done), Status(s.code(), what + ": " + s.message()));
  }
  Pending& p = pending_[id];
  p.channel = *channel;
  p.own_channel = own_channel;
  p.what = std::move(what);
  p.done = std::move(done);
  p.timer = timers_.after(timeout, [this, id, timeout] {
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    ++stats_.timeouts;
    log_.debug("rpc", "{} timed out after {}", it->second.what, ms_text(timeout));
    finish(id, Status::deadline_exceeded(it->second.what + ": no answer within " + ms_text(timeout)), "");
  });
}

// As if it had come over the wire from this node: the handler on a later turn, the answer on
// the turn after, and the same deadline as any call.
void RpcPeer::call_self(std::string method, std::string body, Duration timeout, Reply done) {
  const uint64_t id = next_id_++;
  Pending& p = pending_[id];
  p.channel = kSelf;
  p.what = "'" + method + "' to this node";
  p.done = std::move(done);
  p.timer = timers_.after(timeout, [this, id, timeout] {
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    ++stats_.timeouts;
    finish(id, Status::deadline_exceeded(it->second.what + ": no answer within " + ms_text(timeout)), "");
  });
  std::weak_ptr<bool> alive = alive_;
  timers_.after(Duration::zero(), [this, alive, id, method = std::move(method), body = std::move(body)]() mutable {
    if (alive.expired()) return;
    on_request(kSelf, &self_, id, method, std::move(body));
  });
}

void RpcPeer::on_frame(RpcWire::ChannelId channel, const PeerIdentity* from, std::string_view bytes) {
  rpcpb::RpcFrame frame;
  if (!frame.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
      frame.kind_case() == rpcpb::RpcFrame::KIND_NOT_SET) {
    ++stats_.bad_frames;
    log_.warn("rpc", "closing a channel from {}: an RPC frame that does not parse",
                  from ? node_id_text(from->node_id) : std::string("an anonymous peer"));
    wire_.close(channel);
    return;
  }
  if (frame.has_request()) {
    auto* req = frame.mutable_request();
    return on_request(channel, from, req->id(), req->method(), std::move(*req->mutable_body()));
  }
  const rpcpb::RpcResponse& resp = frame.response();
  auto it = pending_.find(resp.id());
  if (it == pending_.end() || it->second.channel != channel) {
    ++stats_.stray_answers;  // answered too late, or not a call of ours
    return;
  }
  const int32_t code = resp.code();
  Status status;
  if (code < 0 || code > static_cast<int32_t>(StatusCode::kDeadlineExceeded)) {
    status = Status::io_error("the peer answered with an unknown status code " + std::to_string(code) + ": " +
                              resp.message());
  } else if (code != 0) {
    status = Status(static_cast<StatusCode>(code), resp.message());
  }
  finish(resp.id(), std::move(status), resp.body());
}

void RpcPeer::on_request(RpcWire::ChannelId channel, const PeerIdentity* from, uint64_t id, const std::string& method,
                         std::string body) {
  auto m = served_.find(method);
  if (from == nullptr) {
    if (m == served_.end() || m->second.access != RpcAccess::kAnonymous) {
      ++stats_.refused;
      log_.warn("rpc", "refused a call of '{}' from a peer without a certificate, and closed its channel", method);
      answer(channel, id,
             Status::permission_denied("refused a call of '" + method +
                                       "' from a connection without a certificate (such a connection may only fetch "
                                       "the CA and join)"),
             "");
      wire_.close(channel);
      return;
    }
  } else if (m == served_.end()) {
    return answer(channel, id, Status::not_found("node " + node_id_text(self_.node_id) + " serves no method '" + method + "'"),
                  "");
  } else if (!allowed(m->second.access, *from)) {
    ++stats_.refused;
    log_.info("rpc", "refused '{}' to node {}: it needs a manager certificate", method, node_id_text(from->node_id));
    return answer(channel, id,
                  Status::permission_denied(
                      "this operation needs a manager certificate (OU=swarm-manager); the caller presented a " +
                      std::string(role_name(from->role)) + "'s"),
                  "");
  }
  auto once = std::make_shared<bool>(false);
  Reply reply = [this, alive = std::weak_ptr<bool>(alive_), channel, id, once, method](Status s, std::string b) {
    SHOAL_CHECK(!*once, "the handler of '%s' replied twice", method.c_str());
    *once = true;
    if (alive.expired()) return;
    if (channel == kSelf) return finish(id, std::move(s), std::move(b));
    answer(channel, id, s, std::move(b));
  };
  // A copy: the handler may replace itself (serve) while it runs.
  Handler handler = m->second.handler;
  const PeerIdentity caller = from ? *from : PeerIdentity{};
  handler(from ? &caller : nullptr, std::move(body), std::move(reply));
}

void RpcPeer::answer(RpcWire::ChannelId channel, uint64_t id, const Status& status, std::string body) {
  rpcpb::RpcFrame frame;
  auto* resp = frame.mutable_response();
  resp->set_id(id);
  resp->set_code(static_cast<int32_t>(status.code()));
  if (!status.ok()) resp->set_message(status.message());
  const size_t body_size = body.size();
  if (status.ok()) resp->set_body(std::move(body));
  Status sent = wire_.send(channel, frame.SerializeAsString());
  if (sent.code() == StatusCode::kInvalidArgument && status.ok()) {
    // Too large for a frame: the caller hears why instead.
    return answer(channel, id,
                  Status::invalid_argument("the reply of " + std::to_string(body_size) + " bytes exceeds the frame limit"),
                  "");
  }
  if (!sent.ok()) log_.debug("rpc", "answer to call {} dropped: {}", id, sent.message());
}

void RpcPeer::on_lost(RpcWire::ChannelId channel, const Status& why) {
  std::vector<uint64_t> lost;
  for (const auto& [id, p] : pending_) {
    if (p.channel == channel) lost.push_back(id);
  }
  // The wire's reason keeps its code: a server the caller's check refused is not "unavailable".
  const StatusCode code = why.ok() ? StatusCode::kUnavailable : why.code();
  for (uint64_t id : lost) finish(id, Status(code, pending_[id].what + ": " + why.message()), "");
}

void RpcPeer::finish(uint64_t id, Status status, std::string body) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;  // answered already, or timed out
  Pending p = std::move(it->second);
  pending_.erase(it);
  timers_.cancel(p.timer);
  if (p.own_channel) wire_.close(p.channel);
  later(std::move(p.done), std::move(status), std::move(body));
}

void RpcPeer::later(Reply done, Status status, std::string body) {
  timers_.after(Duration::zero(), [alive = std::weak_ptr<bool>(alive_), done = std::move(done),
                                       status = std::move(status), body = std::move(body)]() mutable {
    if (!alive.expired()) done(std::move(status), std::move(body));
  });
}

}  // namespace shoal
