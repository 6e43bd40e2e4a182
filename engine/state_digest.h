// rill/engine/state_digest.h: a 64-bit digest of every aggregate's state, kept up to date on
// each evolve for a few nanoseconds, so that a replay (recovery, `rill replay --verify`) can
// prove it rebuilt exactly the state the writer had (the determinism check).
//
//   rill::engine::StateDigest digest;                       // 0: no aggregate
//   const auto before = rill::engine::AggregateHash<D>(id, version, state);
//   D::Evolve(state, event); ++version;
//   digest.Replace(before, rill::engine::AggregateHash<D>(id, version, state));
//   if (digest.value() != recorded) report(position);
//
// The digest is the sum (mod 2^64) over aggregates with version > 0 of a hash of (id, version,
// state): order-independent, so the writer, a snapshot + tail and a full replay agree, and
// incremental (subtract the old hash, add the new). The state is hashed by value, field by
// field, never by its bytes: padding is indeterminate (the bank's Account has 5 bytes of it).
// A State that is a plain struct of up to 16 integers, enums, bools, floating-point values or
// nested such structs is hashed automatically; anything else (an array member, a base class,
// private fields) needs
//   static std::uint64_t DigestState(const State&);   // in the domain, over the fields Evolve sets
// A domain with several aggregate kinds hashes each by the same rules (or one DigestState
// overload per kind); the kind index is mixed in, and an aggregate that ended adds nothing.
// Not cryptographic: it catches a replay that diverges, not an adversary.
// Thread safety: plain values and pure functions.
#pragma once

#include <array>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "rill/base/splitmix64.h"
#include "rill/engine/field_reflection.h"

namespace rill::engine {

// The domain hashes kind K's state itself (DigestState(const K&), one overload per kind).
template <typename D, typename K>
concept HasDigestStateFor = requires(const K& s) {
  { D::DigestState(s) } -> std::same_as<std::uint64_t>;
};
template <typename D>
concept HasDigestState = HasDigestStateFor<D, typename D::State>;

namespace digest_internal {

template <typename T>
constexpr bool kScalar = std::is_integral_v<T> || std::is_enum_v<T> || std::is_floating_point_v<T>;

// splitmix64: odd multipliers for the fields, fixed at compile time.
constexpr std::uint64_t SplitMix(std::uint64_t i) { return SplitMix64Mix(SplitMix64::kGamma * (i + 1)) | 1; }

// The state's fields, each times its own odd constant, summed: independent multiplies that
// the CPU overlaps (a few ns per state), made non-linear by AggregateHash's final mix. An
// accidental divergence changes the sum unless it cancels exactly across fields (odds ~2^-64).
// The multipliers as a table built at compile time: computing SplitMix per field at run time
// (three dependent multiplies) made the digest cost ~48 ns per bank command in writer_apply;
// a table load and one multiply per field costs a few.
inline constexpr auto kFieldMultipliers = [] {
  std::array<std::uint64_t, 32> m{};
  for (std::size_t i = 0; i < m.size(); ++i) m[i] = SplitMix(i);
  return m;
}();

struct Accumulator {
  std::uint64_t sum = 0;
  std::size_t field = 0;
  void Add(std::uint64_t v) noexcept { sum += v * kFieldMultipliers[field++ & 31]; }
};

template <typename T>
constexpr bool Hashable();

template <typename T>
void AddValue(Accumulator& f, const T& v) noexcept;

// The fields of a plain struct, one by one (field_reflection.h).
template <typename T>
void AddFields(Accumulator& f, const T& v) noexcept {
  VisitFields(v, [&f](const auto&... x) { (AddValue(f, x), ...); });
}

template <typename T>
void AddValue(Accumulator& f, const T& v) noexcept {
  if constexpr (std::is_floating_point_v<T>) {
    if constexpr (sizeof(T) == 8) {
      f.Add(std::bit_cast<std::uint64_t>(v));
    } else if constexpr (sizeof(T) == 4) {
      f.Add(std::bit_cast<std::uint32_t>(v));
    } else {
      f.Add(std::bit_cast<std::uint64_t>(static_cast<double>(v)));
    }
  } else if constexpr (std::is_enum_v<T>) {
    f.Add(static_cast<std::uint64_t>(v));
  } else if constexpr (kScalar<T>) {
    f.Add(static_cast<std::uint64_t>(v));
  } else {
    AddFields(f, v);
  }
}

// True when AddValue can hash T by value. A struct whose brace count differs from its field
// count (an array member: brace elision counts its elements) fails in AddFields' structured
// binding at compile time ("N names provided"), never silently.
template <typename T>
constexpr bool Hashable() {
  if constexpr (kScalar<T>) {
    return true;
  } else if constexpr (std::is_aggregate_v<T> && std::is_class_v<T> && !std::is_array_v<T>) {
    return FieldCount<T>() > 0 || std::is_empty_v<T>;
  } else {
    return false;
  }
}

}  // namespace digest_internal

// The hash of one state of kind K, by value (the domain's DigestState when it has one). Need
// not be well mixed: AggregateHash mixes it with the kind, id and version.
template <typename D, typename K>
std::uint64_t KindStateHash(const K& s) noexcept {
  if constexpr (HasDigestStateFor<D, K>) {
    return D::DigestState(s);
  } else {
    static_assert(digest_internal::Hashable<K>(),
                  "the state digest cannot hash this aggregate state field by field (up to 16 fields of integers, "
                  "enums, floating point, arrays or nested such structs): give the domain "
                  "static std::uint64_t DigestState(const State&) (one overload per aggregate kind)");
    digest_internal::Accumulator f;
    digest_internal::AddValue(f, s);
    return f.sum;
  }
}
template <typename D>
std::uint64_t StateHash(const typename D::State& s) noexcept {
  return KindStateHash<D, typename D::State>(s);
}

// The contribution of one aggregate of kind index `kind` to the digest; 0 for version 0 (an
// entry with no event yet). The kind takes part, so equal states of two kinds differ; kind 0
// adds nothing, so a single-kind domain's digest is what it was before kinds existed (digest
// records in older journals still check).
template <typename D, typename K>
std::uint64_t KindAggregateHash(std::size_t kind, std::uint64_t id, std::uint64_t version, const K& s) noexcept {
  if (version == 0) return 0;
  // murmur3's fmix64 over the mixed kind, id, version and state: every input bit reaches every output bit.
  std::uint64_t h = (id * 0xD6E8FEB86659FD93ULL) ^
                    (version * 0x9E3779B97F4A7C15ULL + KindStateHash<D, K>(s) + kind * 0xA0761D6478BD642FULL);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}
// A single-kind domain's aggregate (kind 0).
template <typename D>
std::uint64_t AggregateHash(std::uint64_t id, std::uint64_t version, const typename D::State& s) noexcept {
  return KindAggregateHash<D, typename D::State>(0, id, version, s);
}

// The running sum. Wraps around by design (unsigned arithmetic).
class StateDigest {
 public:
  std::uint64_t value() const noexcept { return sum_; }
  void Replace(std::uint64_t old_hash, std::uint64_t new_hash) noexcept { sum_ += new_hash - old_hash; }
  void Add(std::uint64_t hash) noexcept { sum_ += hash; }
  void Reset(std::uint64_t value = 0) noexcept { sum_ = value; }

 private:
  std::uint64_t sum_ = 0;
};

// The digest of one kind's store (kind index `kind`); a domain's digest is the sum over its
// kinds (CommandProcessor::ComputeDigest).
template <typename D, typename Store>
std::uint64_t ComputeDigest(const Store& store, std::size_t kind = 0) {
  StateDigest d;
  store.ForEach([&](std::uint64_t id, std::uint64_t version, const auto& s) {
    d.Add(KindAggregateHash<D>(kind, id, version, s));
  });
  return d.value();
}

}  // namespace rill::engine
