// rill/engine/field_reflection.h: the fields of a plain struct, one by one, without naming
// them: what lets the engine fingerprint a command (fingerprint.h) and digest a state
// (state_digest.h) by value, with no per-field code in the domain.
//
//   struct Deposit { std::uint64_t account; std::int64_t amount; };
//   static_assert(rill::engine::FieldCount<Deposit>() == 2);
//   rill::engine::VisitFields(Deposit{7, 500}, [](const auto&... f) { (use(f), ...); });
//
// How: C++20 has no reflection, so the field count is the largest N <= 16 for which T{f1..fN}
// compiles (each f converts to anything), and a structured binding of that many names hands
// out the fields. This works for aggregates (no base class, no private fields, no
// constructors); an array member breaks the count (brace elision counts its elements) and
// then the structured binding fails to compile ("N names provided"), never silently.
// Thread safety: compile-time only.
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

namespace rill::engine {

namespace field_reflection_internal {
// Converts to any field type, to count an aggregate's fields by brace initialization.
struct AnyField {
  template <typename T>
  operator T() const noexcept;  // never defined: unevaluated contexts only
};

template <typename T, std::size_t... I>
constexpr bool InitializableWith(std::index_sequence<I...>) {
  return requires { T{(void(I), AnyField{})...}; };
}
}  // namespace field_reflection_internal

inline constexpr std::size_t kMaxReflectedFields = 16;

// The number of fields of the plain aggregate T (at most kMaxReflectedFields).
template <typename T, std::size_t N = kMaxReflectedFields>
constexpr std::size_t FieldCount() {
  if constexpr (N == 0) {
    return 0;
  } else if constexpr (field_reflection_internal::InitializableWith<T>(std::make_index_sequence<N>{})) {
    return N;
  } else {
    return FieldCount<T, N - 1>();
  }
}

// True for a struct VisitFields can take apart.
template <typename T>
constexpr bool kReflectable = std::is_aggregate_v<T>&& std::is_class_v<T> &&
                              (FieldCount<T>() > 0 || std::is_empty_v<T>);

// fn(field1, field2, ...) with const references to T's fields, in declaration order.
// Structured bindings need the exact count, so one branch per count.
template <typename T, typename Fn>
decltype(auto) VisitFields(const T& v, Fn&& fn) {
  constexpr std::size_t n = FieldCount<T>();
  // clang-format off
  if constexpr (n == 0) { return fn(); }
  else if constexpr (n == 1) { const auto& [a] = v; return fn(a); }
  else if constexpr (n == 2) { const auto& [a, b] = v; return fn(a, b); }
  else if constexpr (n == 3) { const auto& [a, b, c] = v; return fn(a, b, c); }
  else if constexpr (n == 4) { const auto& [a, b, c, d] = v; return fn(a, b, c, d); }
  else if constexpr (n == 5) { const auto& [a, b, c, d, e] = v; return fn(a, b, c, d, e); }
  else if constexpr (n == 6) { const auto& [a, b, c, d, e, g] = v; return fn(a, b, c, d, e, g); }
  else if constexpr (n == 7) { const auto& [a, b, c, d, e, g, h] = v; return fn(a, b, c, d, e, g, h); }
  else if constexpr (n == 8) { const auto& [a, b, c, d, e, g, h, i] = v; return fn(a, b, c, d, e, g, h, i); }
  else if constexpr (n == 9) { const auto& [a, b, c, d, e, g, h, i, j] = v; return fn(a, b, c, d, e, g, h, i, j); }
  else if constexpr (n == 10) { const auto& [a, b, c, d, e, g, h, i, j, k] = v; return fn(a, b, c, d, e, g, h, i, j, k); }
  else if constexpr (n == 11) { const auto& [a, b, c, d, e, g, h, i, j, k, l] = v; return fn(a, b, c, d, e, g, h, i, j, k, l); }
  else if constexpr (n == 12) { const auto& [a, b, c, d, e, g, h, i, j, k, l, m] = v; return fn(a, b, c, d, e, g, h, i, j, k, l, m); }
  else if constexpr (n == 13) { const auto& [a, b, c, d, e, g, h, i, j, k, l, m, o] = v; return fn(a, b, c, d, e, g, h, i, j, k, l, m, o); }
  else if constexpr (n == 14) { const auto& [a, b, c, d, e, g, h, i, j, k, l, m, o, p] = v; return fn(a, b, c, d, e, g, h, i, j, k, l, m, o, p); }
  else if constexpr (n == 15) { const auto& [a, b, c, d, e, g, h, i, j, k, l, m, o, p, q] = v; return fn(a, b, c, d, e, g, h, i, j, k, l, m, o, p, q); }
  else { static_assert(n == 16); const auto& [a, b, c, d, e, g, h, i, j, k, l, m, o, p, q, r] = v; return fn(a, b, c, d, e, g, h, i, j, k, l, m, o, p, q, r); }
  // clang-format on
}

}  // namespace rill::engine
