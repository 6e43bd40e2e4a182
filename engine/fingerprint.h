// rill/engine/fingerprint.h: a 64-bit fingerprint of what a command means, so the idempotency
// window can tell a retry (same id, same payload) from a mistake (same id, other payload).
//
//   static std::uint64_t Fingerprint(const Command& c) {     // in a domain
//     return std::visit([&](const auto& x) { return FingerprintOf(c.index(), x.account, x.amount); }, c);
//   }
//   rill::engine::Fingerprinter f;  f.Add(post); f.Add(title);   // BytesRef: length + content
//
// It hashes values, never object bytes: padding is indeterminate, and a BytesRef's pointer
// differs between a first try and its retry while its content does not. Not cryptographic: it
// catches a reused id, not an adversary (collisions of distinct payloads have odds of 2^-64).
// 0 is reserved for "unknown" (an idempotency entry rebuilt from a journal that does not
// record fingerprints), so Finish() never returns it. Thread safety: plain values.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "rill/engine/bytes_ref.h"

namespace rill::engine {

inline constexpr std::uint64_t kUnknownFingerprint = 0;

class Fingerprinter {
 public:
  template <typename T>
  requires std::integral<T> || std::is_enum_v<T>
  void Add(T v) noexcept { Mix(static_cast<std::uint64_t>(v)); }

  void Add(BytesRef bytes) noexcept {
    Mix(bytes.size());
    const char* p = bytes.data();
    std::size_t n = bytes.size();
    for (; n >= 8; p += 8, n -= 8) {
      std::uint64_t w;
      std::memcpy(&w, p, 8);
      Mix(w);
    }
    if (n > 0) {
      std::uint64_t w = 0;
      std::memcpy(&w, p, n);
      Mix(w);
    }
  }

  std::uint64_t Finish() const noexcept {
    // murmur3's fmix64: every input bit affects every output bit.
    std::uint64_t h = h_;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h == kUnknownFingerprint ? 1 : h;
  }

 private:
  void Mix(std::uint64_t w) noexcept {
    h_ ^= w * 0x87c37b91114253d5ULL;
    h_ = ((h_ << 31) | (h_ >> 33)) * 0x4cf5ad432745937fULL + 0x52dce729;
  }
  std::uint64_t h_ = 0x9E3779B97F4A7C15ULL;
};

// The fingerprint of a list of integers, enums and BytesRefs, in order.
template <typename... Ts>
std::uint64_t FingerprintOf(const Ts&... fields) noexcept {
  Fingerprinter f;
  (f.Add(fields), ...);
  return f.Finish();
}

}  // namespace rill::engine
