// rill/base/splitmix64.h: splitmix64 (Steele, Lea, Flood 2014), the one small generator and
// bit mixer the workloads, the load generator and the state digest share.
//
//   rill::SplitMix64 rng(seed);                  // 8 bytes of state, any seed
//   const std::uint64_t r = rng.Next();          // every bit well mixed
//   const std::uint64_t h = rill::SplitMix64Mix(key);
//
// Fast and reproducible from its seed: for workloads, tests and hashing, not cryptography.
// Thread safety: a plain value; one thread per generator.
#pragma once

#include <cstdint>

namespace rill {

// splitmix64's finalizer: every input bit reaches every output bit.
constexpr std::uint64_t SplitMix64Mix(std::uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class SplitMix64 {
 public:
  static constexpr std::uint64_t kGamma = 0x9e3779b97f4a7c15ULL;  // 2^64 / golden ratio

  explicit constexpr SplitMix64(std::uint64_t seed = 0) noexcept : state_(seed) {}
  constexpr std::uint64_t Next() noexcept { return SplitMix64Mix(state_ += kGamma); }

 private:
  std::uint64_t state_;
};

}  // namespace rill
