// The join-token parser takes any text: a token that round-trips exactly, or a clear error.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/ca/join_token.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto t = shoal::ca::parse_join_token(text);
  if (!t.ok()) {
    if (t.status().message().empty()) __builtin_trap();
    return 0;
  }
  if (shoal::ca::format_join_token(*t) != text) __builtin_trap();  // one token, one spelling
  return 0;
}
