// A stand-in for libFuzzer's main when the compiler has none: runs the target on every file
// named on the command line, else on N inputs drawn from a seeded Rng (random bytes, and
// mutations of the previous input), so a crash replays from the printed seed.
//
//   raft_message_fuzz 20000 1        # 20000 inputs from seed 1
//   raft_message_fuzz crash-input    # replay one input
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/env/random.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  if (argc >= 2 && std::strtoull(argv[1], nullptr, 10) == 0) {
    for (int i = 1; i < argc; ++i) {
      std::ifstream in(argv[i], std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    }
    std::printf("replayed %d input(s)\n", argc - 1);
    return 0;
  }
  const uint64_t runs = argc >= 2 ? std::strtoull(argv[1], nullptr, 10) : 10000;
  const uint64_t seed = argc >= 3 ? std::strtoull(argv[2], nullptr, 10) : 1;
  shoal::Rng rng(seed);
  std::string input;
  for (uint64_t i = 0; i < runs; ++i) {
    if (input.empty() || rng.chance(0.3)) {
      input.resize(rng.uniform(0, 256));
      for (auto& c : input) c = static_cast<char>(rng.next_u64());
    } else {
      // Mutate: flip, insert or erase a few bytes.
      for (uint64_t k = 0, n = rng.uniform(1, 4); k < n; ++k) {
        const size_t at = rng.uniform(0, input.size());
        switch (rng.uniform(0, 2)) {
          case 0: if (at < input.size()) input[at] = static_cast<char>(rng.next_u64()); break;
          case 1: input.insert(input.begin() + static_cast<long>(at), static_cast<char>(rng.next_u64())); break;
          default: if (at < input.size()) input.erase(at, 1); break;
        }
      }
    }
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  }
  std::printf("%llu inputs from seed %llu: no crash\n", static_cast<unsigned long long>(runs),
              static_cast<unsigned long long>(seed));
  return 0;
}
