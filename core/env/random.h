// Rng: the one random generator of Shoal, and its range helpers.
//
// The algorithm is fixed (xoshiro256**, seeded through splitmix64) and so are the helpers, so a
// seed gives the same numbers on every machine and every library version. Standard-library
// distributions are never used: their output differs between implementations.
//
// Streams: derive("name") gives an independent generator for one consumer (a node, a fault
// source), so an extra draw in one place does not reshuffle every other stream.
//
//   Rng rng(seed);
//   Rng faults = rng.derive("faults");
//   if (faults.chance(0.01)) drop();
//   auto timeout = rng.uniform(10, 19);   // inclusive
#pragma once

#include <cstdint>
#include <string_view>

namespace shoal {

class Rng {
 public:
  explicit Rng(uint64_t seed);

  uint64_t next_u64();
  // Uniform integer in [lo, hi], both inclusive; lo <= hi. Unbiased (rejection sampling).
  uint64_t uniform(uint64_t lo, uint64_t hi);
  // Uniform double in [0, 1) with 53 bits of randomness.
  double unit();
  // True with probability p (p <= 0 never, p >= 1 always, and neither draws).
  bool chance(double p);
  // An independent stream named by `name`, derived from this generator's seed (not its state).
  Rng derive(std::string_view name) const;
  uint64_t seed() const { return seed_; }

 private:
  uint64_t seed_;
  uint64_t s_[4];
};

// splitmix64 step, exposed for seed mixing.
uint64_t mix64(uint64_t x);
// FNV-1a 64-bit hash of bytes, for names and trace hashing.
uint64_t fnv1a64(std::string_view bytes, uint64_t h = 0xcbf29ce484222325ULL);

}  // namespace shoal
