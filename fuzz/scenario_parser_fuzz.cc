// The scenario parser takes any bytes: it returns a scenario or a clear error, never crashes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "io_sim/scenario/scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto sc = shoal::sim::parse_scenario(text, "fuzz");
  if (!sc.ok() && sc.status().message().empty()) __builtin_trap();  // errors must say something
  return 0;
}
