// The frame decoder takes any byte stream, in any pieces: frames out, or one clear error.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/wire/frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  shoal::wire::FrameDecoder d(1 << 16);
  // Feed in pieces whose sizes come from the input itself.
  size_t at = 0;
  while (at < bytes.size()) {
    const size_t piece = 1 + static_cast<uint8_t>(bytes[at]) % 64;
    const shoal::Status s = d.feed(bytes.substr(at, piece));
    while (auto f = d.next()) {
      if (f->body.size() > (1 << 16)) __builtin_trap();  // the limit must hold
    }
    if (!s.ok()) {
      if (s.message().empty() || d.feed("x").ok()) __builtin_trap();  // errors stick and speak
      break;
    }
    at += piece;
  }
  return 0;
}
