#include "io_sim/world/sim_rpc_wire.h"

#include <charconv>
#include <cstring>

namespace shoal::sim {

std::string sim_address(NodeId id) { return "n" + std::to_string(id) + ":2377"; }

NodeId parse_sim_address(std::string_view address) {
  if (address.size() < 2 || address[0] != 'n') return 0;
  const size_t colon = address.find(':');
  const std::string_view digits = address.substr(1, colon == std::string_view::npos ? address.npos : colon - 1);
  NodeId id = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (ec != std::errc() || end != digits.data() + digits.size()) return 0;
  return id;
}

// ---- ChannelMux ----------------------------------------------------------------------------

ChannelMux::ChannelMux(Transport& transport) : transport_(transport) {
  transport_.set_handler([this](const PeerIdentity& from, std::string_view payload) { on_message(from, payload); });
}

ChannelMux::~ChannelMux() { transport_.set_handler(nullptr); }

void ChannelMux::Channel::send(NodeId to, std::string payload) {
  payload.insert(payload.begin(), tag_);
  mux_.transport_.send(to, std::move(payload));
}

void ChannelMux::on_message(const PeerIdentity& from, std::string_view payload) {
  if (payload.empty()) return;
  const char tag = payload.front();
  payload.remove_prefix(1);
  if (tag == 'R' && raft_.handler_) return raft_.handler_(from, payload);
  if (tag == 'C' && rpc_.handler_) return rpc_.handler_(from, payload);
  if (tag == 'G' && gossip_.handler_) return gossip_.handler_(from, payload);
}

// ---- SimRpcWire ----------------------------------------------------------------------------

namespace {

// Every frame carries a header: the conversation it belongs to (0: the node channel) and flags.
constexpr size_t kHeader = sizeof(uint64_t) + 1;
constexpr uint8_t kAnonymous = 1;    // the opener shows no identity
constexpr uint8_t kFromOpener = 2;   // from the node that opened the conversation (else: to it)

std::string with_header(uint64_t conversation, uint8_t flags, std::string frame) {
  std::string out(kHeader, '\0');
  std::memcpy(out.data(), &conversation, sizeof conversation);
  out[sizeof conversation] = static_cast<char>(flags);
  return out + frame;
}

}  // namespace

SimRpcWire::SimRpcWire(Transport& channel, NodeId self, Resolve resolve, IdentityOf identity_of, ChainOf chain_of)
    : channel_(channel),
      self_(self),
      resolve_(std::move(resolve)),
      identity_of_(std::move(identity_of)),
      chain_of_(std::move(chain_of)) {
  channel_.set_handler([this](const PeerIdentity& from, std::string_view payload) { on_message(from, payload); });
}

SimRpcWire::~SimRpcWire() { channel_.set_handler(nullptr); }

Result<RpcWire::ChannelId> SimRpcWire::channel_to(NodeId to) {
  const NodeId host = resolve_ ? resolve_(to) : to;
  if (host == 0 || host >= kFirstConversation) return Status::unavailable("no address known for that node");
  return ChannelId{host};
}

Result<RpcWire::ChannelId> SimRpcWire::open_channel(const std::string& address, bool anonymous, ServerCheck check,
                                                    Duration) {
  const NodeId to = parse_sim_address(address);
  if (to == 0) return Status::unavailable("cannot resolve " + address);
  if (check) {
    // The TLS handshake's moment: the caller sees the server's chain before anything is sent.
    if (Status s = check(chain_of_ ? chain_of_(to) : std::string()); !s.ok()) return s;
  }
  const ChannelId id = next_++;
  opened_[id] = Opened{to, anonymous};
  return id;
}

Status SimRpcWire::send(ChannelId channel, std::string frame) {
  if (channel < kFirstConversation) {
    channel_.send(channel, with_header(0, 0, std::move(frame)));
    return {};
  }
  if (auto it = opened_.find(channel); it != opened_.end()) {
    const uint8_t flags = kFromOpener | (it->second.anonymous ? kAnonymous : 0);
    channel_.send(it->second.to, with_header(channel, flags, std::move(frame)));
    return {};
  }
  if (auto it = inbound_.find(channel); it != inbound_.end()) {
    channel_.send(it->second.from, with_header(it->second.conversation, 0, std::move(frame)));
    return {};
  }
  return Status::unavailable("the channel is closed");
}

void SimRpcWire::close(ChannelId channel) {
  opened_.erase(channel);
  if (auto it = inbound_.find(channel); it != inbound_.end()) {
    inbound_by_opener_.erase({it->second.from, it->second.conversation});
    inbound_.erase(it);
  }
}

void SimRpcWire::on_message(const PeerIdentity& from, std::string_view payload) {
  if (payload.size() < kHeader || !events_.on_frame) return;
  uint64_t conversation = 0;
  std::memcpy(&conversation, payload.data(), sizeof conversation);
  const auto flags = static_cast<uint8_t>(payload[sizeof conversation]);
  payload.remove_prefix(kHeader);
  const std::optional<PeerIdentity> who = identity_of_ ? identity_of_(from.node_id) : std::optional<PeerIdentity>(from);
  const PeerIdentity* sender = who ? &*who : nullptr;
  // An anonymous opener shows no certificate; the answers in a conversation this node opened
  // anonymously come from a server its own check already looked at (open_channel).
  bool anonymous = false;
  if (conversation != 0 && (flags & kFromOpener)) {
    anonymous = (flags & kAnonymous) != 0;
  } else if (conversation != 0) {
    auto it = opened_.find(conversation);
    anonymous = it != opened_.end() && it->second.anonymous;
  }
  if (!sender && !anonymous) {
    ++refused_;  // a handshake would have failed: nothing of it reaches the node
    return;
  }
  if (conversation == 0) return events_.on_frame(from.node_id, sender, payload);
  if (flags & kFromOpener) {
    // A conversation another node opened with us: its own inbound channel here.
    auto [it, fresh] = inbound_by_opener_.try_emplace({from.node_id, conversation}, 0);
    if (fresh) {
      it->second = next_++;
      inbound_[it->second] = Inbound{from.node_id, conversation};
    }
    return events_.on_frame(it->second, (flags & kAnonymous) ? nullptr : sender, payload);
  }
  // An answer in a conversation we opened: only from the node we opened it with.
  auto it = opened_.find(conversation);
  if (it == opened_.end() || it->second.to != from.node_id) return;
  events_.on_frame(conversation, sender, payload);
}

}  // namespace shoal::sim
