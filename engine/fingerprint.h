// rill/engine/fingerprint.h: a 64-bit fingerprint of what a command means, so the idempotency
// window can tell a retry (same id, same payload) from a mistake (same id, other payload).
//
//   static std::uint64_t Fingerprint(const Command& c) {     // in a domain
//     return std::visit([&](const auto& x) { return FingerprintOf(c.index(), x.account, x.amount); }, c);
//   }
//   rill::engine::Fingerprinter f;  f.Add(post); f.Add(title);   // BytesRef: length + content
//
//   // A domain without a Fingerprint gets this one: the alternative's index, then every field
//   // of the command struct by value (integers, enums, bool, floating point, BytesRef content,
//   // nested plain structs), found by field_reflection.h: no per-field code.
//   std::uint64_t f = rill::engine::DefaultFingerprint(command_variant);
//
// It hashes values, never object bytes: padding is indeterminate, and a BytesRef's pointer
// differs between a first try and its retry while its content does not. Not cryptographic: it
// catches a reused id, not an adversary (collisions of distinct payloads have odds of 2^-64).
// 0 is reserved for "unknown" (an idempotency entry rebuilt from a journal that does not
// record fingerprints), so Finish() never returns it. Thread safety: plain values.
#pragma once

#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <type_traits>
#include <variant>

#include "rill/engine/bytes_ref.h"
#include "rill/engine/field_reflection.h"

namespace rill::engine {

inline constexpr std::uint64_t kUnknownFingerprint = 0;

class Fingerprinter {
 public:
  template <typename T>
  requires std::integral<T> || std::is_enum_v<T>
  void Add(T v) noexcept { Mix(static_cast<std::uint64_t>(v)); }

  // Floating point by its bits (so 0.0 and -0.0 differ, as two commands would).
  void Add(double v) noexcept { Mix(std::bit_cast<std::uint64_t>(v)); }
  void Add(float v) noexcept { Mix(std::bit_cast<std::uint32_t>(v)); }

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

namespace fingerprint_internal {
template <typename T>
void AddValue(Fingerprinter& f, const T& v) noexcept {
  if constexpr (std::is_same_v<T, bool>) {
    f.Add(static_cast<std::uint8_t>(v));
  } else if constexpr (std::is_integral_v<T> || std::is_enum_v<T> || std::is_same_v<T, BytesRef>) {
    f.Add(v);
  } else if constexpr (std::is_same_v<T, double> || std::is_same_v<T, float>) {
    f.Add(v);
  } else if constexpr (requires {
                         v.has_value();
                         *v;
                         typename T::value_type;
                       }) {                           // std::optional
    f.Add(static_cast<std::uint8_t>(v.has_value()));  // "no title" differs from "empty title"
    if (v.has_value()) AddValue(f, *v);
  } else {
    static_assert(kReflectable<T>,
                  "DefaultFingerprint takes a command apart field by field (up to 16 fields of integers, enums, "
                  "bool, float, double, rill::engine::BytesRef or nested such structs): for anything else give the "
                  "domain static std::uint64_t Fingerprint(const Command&)");
    VisitFields(v, [&f](const auto&... field) { (AddValue(f, field), ...); });
  }
}
}  // namespace fingerprint_internal

// Whether DefaultFingerprint can take Command apart: a scalar, an optional, or a variant /
// struct whose alternatives are plain aggregates (their fields are checked when instantiated,
// with a static_assert that says what to do).
template <typename T>
constexpr bool DefaultFingerprintable() {
  if constexpr (std::is_arithmetic_v<T> || std::is_enum_v<T> || std::is_same_v<T, BytesRef>) {
    return true;
  } else if constexpr (requires { std::variant_size<T>::value; }) {
    return []<std::size_t... I>(std::index_sequence<I...>) {
      return (DefaultFingerprintable<std::variant_alternative_t<I, T>>() && ...);
    }
    (std::make_index_sequence<std::variant_size_v<T>>{});
  } else {
    return kReflectable<T>;
  }
}

// The fingerprint of a command by value: for a std::variant, the alternative's index and then
// its fields; for a plain struct, its fields; an optional adds whether it holds a value, then
// the value. Every field counts: two commands that differ in any field differ (odds of a
// collision 2^-64). Journals record fingerprints, so this formula never changes: it equals
// FingerprintOf(index, field1, field2, ...) (pinned by tests/engine/default_fingerprint_test).
template <typename Command>
std::uint64_t DefaultFingerprint(const Command& cmd) noexcept {
  Fingerprinter f;
  if constexpr (requires {
                  cmd.index();
                  std::variant_size_v<Command>;
                }) {
    f.Add(cmd.index());
    std::visit([&f](const auto& c) { fingerprint_internal::AddValue(f, c); }, cmd);
  } else {
    fingerprint_internal::AddValue(f, cmd);
  }
  return f.Finish();
}

}  // namespace rill::engine
