#include "core/wire/frame.h"

#include <cstring>

#include "core/env/check.h"

namespace shoal::wire {

bool is_known_frame_type(uint8_t t) { return t >= 1 && t <= 3; }

std::string encode_frame(FrameType type, std::string_view body) {
  SHOAL_CHECK(body.size() <= UINT32_MAX, "frame body of %zu bytes", body.size());
  std::string out;
  out.reserve(kFrameHeaderSize + body.size());
  out.append(kFrameMagic, 4);
  out.push_back(static_cast<char>(kFrameVersion));
  out.push_back(static_cast<char>(type));
  out.push_back(0);
  out.push_back(0);
  const auto n = static_cast<uint32_t>(body.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((n >> shift) & 0xff));
  out.append(body);
  return out;
}

Status FrameDecoder::feed(std::string_view bytes) {
  if (!error_.ok()) return error_;
  buf_.append(bytes);
  error_ = parse();
  return error_;
}

Status FrameDecoder::parse() {
  size_t at = 0;
  while (buf_.size() - at >= kFrameHeaderSize) {
    const char* h = buf_.data() + at;
    if (std::memcmp(h, kFrameMagic, 4) != 0) {
      return Status::invalid_argument("frame: bad magic (not a Shoal peer, or out of step)");
    }
    const auto version = static_cast<uint8_t>(h[4]);
    if (version != kFrameVersion) {
      return Status::invalid_argument("frame: unsupported version " + std::to_string(version) +
                                      " (this node speaks " + std::to_string(kFrameVersion) + ")");
    }
    const auto type = static_cast<uint8_t>(h[5]);
    if (!is_known_frame_type(type)) {
      return Status::invalid_argument("frame: unknown type " + std::to_string(type));
    }
    if (h[6] != 0 || h[7] != 0) return Status::invalid_argument("frame: reserved bytes are not zero");
    uint32_t n = 0;
    for (int i = 8; i < 12; ++i) n = (n << 8) | static_cast<uint8_t>(h[i]);
    if (n > max_body_) {
      return Status::invalid_argument("frame: body of " + std::to_string(n) + " bytes exceeds the limit of " +
                                      std::to_string(max_body_));
    }
    if (buf_.size() - at - kFrameHeaderSize < n) break;  // wait for the rest of the body
    ready_.push_back({static_cast<FrameType>(type), buf_.substr(at + kFrameHeaderSize, n)});
    at += kFrameHeaderSize + n;
  }
  buf_.erase(0, at);
  return {};
}

std::optional<Frame> FrameDecoder::next() {
  if (ready_.empty()) return std::nullopt;
  Frame f = std::move(ready_.front());
  ready_.pop_front();
  return f;
}

}  // namespace shoal::wire
