// Frames: how Shoal's messages travel on a byte stream (TCP+TLS between nodes).
//
// A frame is a fixed 12-byte header followed by a body (a serialized protobuf message):
//
//   offset 0  4 bytes  magic "SHOL"
//   offset 4  1 byte   version (kFrameVersion)
//   offset 5  1 byte   type (FrameType: what the body is)
//   offset 6  2 bytes  reserved, zero
//   offset 8  4 bytes  body length, big-endian, at most the decoder's limit
//
// FrameDecoder takes bytes as they arrive and hands out whole frames. Anything malformed — a
// wrong magic, an unknown version or type, reserved bits set, a body over the limit — is a
// Status error naming what was wrong; the decoder then refuses all further input, because the
// stream can no longer be trusted to be in step (the connection must be closed). Pure logic:
// no I/O, usable by the real transport and by tests alike.
//
//   std::string bytes = encode_frame(FrameType::kRaft, msg.SerializeAsString());
//   FrameDecoder d(kDefaultMaxFrameBody);
//   Status s = d.feed(bytes);               // bytes may come in any pieces
//   while (auto f = d.next()) handle(f->type, f->body);
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "core/env/status.h"

namespace shoal::wire {

inline constexpr char kFrameMagic[4] = {'S', 'H', 'O', 'L'};
inline constexpr uint8_t kFrameVersion = 1;
inline constexpr size_t kFrameHeaderSize = 12;
// Large enough for a Raft snapshot of a big cluster's state; small enough to bound memory.
inline constexpr uint32_t kDefaultMaxFrameBody = 64u << 20;

enum class FrameType : uint8_t {
  kRaft = 1,    // a raftpb::Message
  kGossip = 2,  // reserved: gossip has its own port (GossipNet); the cluster endpoint refuses it
  kRpc = 3,     // an RpcFrame (core/api/rpc.proto): a call between nodes or its answer
};
bool is_known_frame_type(uint8_t t);

struct Frame {
  FrameType type;
  std::string body;
};

// The bytes of one frame. The body must not exceed kDefaultMaxFrameBody... or the peer's limit.
std::string encode_frame(FrameType type, std::string_view body);

class FrameDecoder {
 public:
  explicit FrameDecoder(uint32_t max_body = kDefaultMaxFrameBody) : max_body_(max_body) {}

  // Appends bytes from the stream. Returns the first error found (and keeps returning it).
  Status feed(std::string_view bytes);
  // The next whole frame, if one has arrived.
  std::optional<Frame> next();
  bool failed() const { return !error_.ok(); }
  // Bytes held that do not yet make a whole frame.
  size_t buffered() const { return buf_.size(); }

 private:
  Status parse();

  uint32_t max_body_;
  std::string buf_;
  std::deque<Frame> ready_;
  Status error_;
};

}  // namespace shoal::wire
