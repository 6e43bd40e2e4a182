// rill/engine/domain_kinds.h: the aggregate kinds of a domain, resolved at compile time. A
// single-kind domain declares `using State = Account;`; a domain with several kinds declares
// `using Aggregates = std::tuple<Sku, Order>;` (each kind its own state type, store, id space
// and versions) and names each event's kind in the event:
//
//   struct Reserved { using Aggregate = Sku; std::int64_t quantity = 0; };
//   struct OrderShipped { using Aggregate = Order; static constexpr bool kEndsAggregate = true; };
//
//   rill::engine::KindsOf<D>                 // std::tuple<Sku, Order> (std::tuple<State> for one kind)
//   rill::engine::kKindCount<D>              // 2
//   rill::engine::kKindIndex<D, Order>       // 1: the position in the tuple
//   rill::engine::kEventKinds<D>[e.index()]  // the kind of an Event alternative (a table)
//   rill::engine::kEventEnds<D>[e.index()]   // whether it ends its aggregate
//   rill::engine::Stream<Order>(id)          // a StreamRef for Streams(); kind resolved by the engine
//
// An event without `using Aggregate` belongs to the only kind of a single-kind domain; in a
// multi-kind domain it is a compile error (as is an Aggregate that is not in Aggregates).
// kEndsAggregate absent means false. Ending removes the aggregate from its store (memory
// reclaimed); a later event for the same id starts its stream again at version 1, so ids of a
// kind that ends should not be reused (a new id per order, say).
// Thread safety: compile-time values only.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

namespace rill::engine {

template <typename D>
concept HasStateType = requires {
  typename D::State;
};
template <typename D>
concept HasAggregatesType = requires {
  typename D::Aggregates;
};

inline constexpr std::size_t kNoKind = 255;

namespace kinds_internal {

template <typename T>
struct IsTuple : std::false_type {};
template <typename... K>
struct IsTuple<std::tuple<K...>> : std::true_type {};

template <typename D>
struct KindsOfImpl {
  using type = std::tuple<>;
};
template <typename D>
requires HasStateType<D>
struct KindsOfImpl<D> {
  using type = std::tuple<typename D::State>;
};
template <typename D>
requires(!HasStateType<D> && HasAggregatesType<D>) struct KindsOfImpl<D> {
  using type = typename D::Aggregates;
};

template <typename K, typename Tuple>
struct IndexIn;
template <typename K, typename... Ks>
struct IndexIn<K, std::tuple<Ks...>> {
  static constexpr std::size_t value = [] {
    constexpr bool same[] = {std::is_same_v<K, Ks>..., false};
    for (std::size_t i = 0; i < sizeof...(Ks); ++i)
      if (same[i]) return i;
    return kNoKind;
  }();
};

// The Event's alternatives, as a tuple (a non-variant Event is its own only alternative).
template <typename E>
struct AlternativesOf {
  using type = std::tuple<E>;
};
template <typename... Es>
struct AlternativesOf<std::variant<Es...>> {
  using type = std::tuple<Es...>;
};

template <typename E>
concept HasAggregate = requires {
  typename E::Aggregate;
};
template <typename E>
concept HasEndsFlag = requires {
  { E::kEndsAggregate } -> std::convertible_to<bool>;
};

// Ids for kinds that need no domain: the address of a per-type constant is unique per program.
template <typename K>
struct KindTag {
  static constexpr char tag = 0;
};

}  // namespace kinds_internal

// The kind list: std::tuple<State> for a single-kind domain, D::Aggregates otherwise.
template <typename D>
using KindsOf = typename kinds_internal::KindsOfImpl<D>::type;
template <typename D>
inline constexpr std::size_t kKindCount = std::tuple_size_v<KindsOf<D>>;
template <typename D, std::size_t K>
using KindAt = std::tuple_element_t<K, KindsOf<D>>;
// K's position in KindsOf<D>, or kNoKind.
template <typename D, typename K>
inline constexpr std::size_t kKindIndex = kinds_internal::IndexIn<K, KindsOf<D>>::value;

template <typename D>
using EventAlternatives = typename kinds_internal::AlternativesOf<typename D::Event>::type;
template <typename D>
inline constexpr std::size_t kEventAlternatives = std::tuple_size_v<EventAlternatives<D>>;

// The kind index of event type E (one alternative of D::Event). The static_asserts name the
// event in the compiler's "required from" line.
template <typename D, typename E>
consteval std::size_t EventKindIndex() {
  if constexpr (kinds_internal::HasAggregate<E>) {
    constexpr std::size_t k = kKindIndex<D, typename E::Aggregate>;
    static_assert(k != kNoKind,
                  "an event's `using Aggregate = K;` names a kind that is not in the domain's Aggregates (or is not "
                  "its State): add K to `using Aggregates = std::tuple<...>`, or fix the event");
    return k;
  } else {
    static_assert(kKindCount<D> == 1,
                  "in a domain with several aggregate kinds every event says which kind it belongs to: add "
                  "`using Aggregate = K;` to the event struct (rill_aggregate in the schema)");
    return 0;
  }
}

template <typename E>
consteval bool EventEndsAggregate() {
  if constexpr (kinds_internal::HasEndsFlag<E>) {
    return static_cast<bool>(E::kEndsAggregate);
  } else {
    return false;
  }
}

// Tables indexed by the Event alternative (Event::index(), or 0 for a non-variant Event).
template <typename D>
inline constexpr auto kEventKinds = []<std::size_t... I>(std::index_sequence<I...>) {
  return std::array<std::uint8_t, sizeof...(I)>{
      static_cast<std::uint8_t>(EventKindIndex<D, std::tuple_element_t<I, EventAlternatives<D>>>())...};
}
(std::make_index_sequence<kEventAlternatives<D>>{});

template <typename D>
inline constexpr auto kEventEnds = []<std::size_t... I>(std::index_sequence<I...>) {
  return std::array<bool, sizeof...(I)>{EventEndsAggregate<std::tuple_element_t<I, EventAlternatives<D>>>()...};
}
(std::make_index_sequence<kEventAlternatives<D>>{});

// Whether any event of D ends its aggregate: when none does, removal compiles away.
template <typename D>
inline constexpr bool kHasEndingEvents = [] {
  for (bool b : kEventEnds<D>)
    if (b) return true;
  return false;
}();

// The alternative index of an event value.
template <typename D>
constexpr std::size_t EventAlternative(const typename D::Event& e) noexcept {
  if constexpr (requires { e.index(); }) {
    return e.index();
  } else {
    return 0;
  }
}
template <typename D>
constexpr std::size_t KindOfEvent(const typename D::Event& e) noexcept {
  if constexpr (kKindCount<D> == 1) {
    return 0;
  } else {
    return kEventKinds<D>[EventAlternative<D>(e)];
  }
}
template <typename D>
constexpr bool EventEnds(const typename D::Event& e) noexcept {
  if constexpr (!kHasEndingEvents<D>) {
    return false;
  } else {
    return kEventEnds<D>[EventAlternative<D>(e)];
  }
}

// One stream of a multi-kind domain's Streams(): an aggregate kind and an id. Build it with
// Stream<K>(id); `kind` identifies K (it is not an index: the engine maps it to K's position
// in the domain's Aggregates, at compile time once Streams() is inlined).
struct StreamRef {
  const void* kind = nullptr;
  std::uint64_t id = 0;
  friend constexpr bool operator==(const StreamRef&, const StreamRef&) = default;
};
template <typename K>
constexpr StreamRef Stream(std::uint64_t id) noexcept {
  return StreamRef{&kinds_internal::KindTag<K>::tag, id};
}
template <typename K>
constexpr const void* KindTagOf() noexcept {
  return &kinds_internal::KindTag<K>::tag;
}

// The kind index of a StreamRef's kind in D, or kNoKind (a kind that D does not have).
template <typename D>
constexpr std::size_t KindIndexOf(const void* kind) noexcept {
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    std::size_t k = kNoKind;
    (void)((kind == KindTagOf<KindAt<D, I>>() ? (k = I, true) : false) || ...);  // void: clang -Wunused-value
    return k;
  }
  (std::make_index_sequence<kKindCount<D>>{});
}

// Calls f(std::integral_constant<std::size_t, K>{}) for the run-time kind index k. A
// single-kind domain calls it directly (no branch). REQUIRES: k < kKindCount<D>.
template <typename D, typename F>
constexpr decltype(auto) WithKind(std::size_t k, F&& f) {
  if constexpr (kKindCount<D> == 1) {
    (void)k;
    return f(std::integral_constant<std::size_t, 0>{});
  } else {
    return [&]<std::size_t... I>(std::index_sequence<I...>)->decltype(auto) {
      using R = decltype(f(std::integral_constant<std::size_t, 0>{}));
      if constexpr (std::is_void_v<R>) {
        (void)((k == I ? (f(std::integral_constant<std::size_t, I>{}), true) : false) || ...);
      } else {
        R r{};
        (void)((k == I ? (r = f(std::integral_constant<std::size_t, I>{}), true) : false) || ...);
        return r;
      }
    }
    (std::make_index_sequence<kKindCount<D>>{});
  }
}

// Calls f(std::integral_constant<std::size_t, K>{}) for every kind, in order.
template <typename D, typename F>
constexpr void ForEachKind(F&& f) {
  [&]<std::size_t... I>(std::index_sequence<I...>) { (f(std::integral_constant<std::size_t, I>{}), ...); }
  (std::make_index_sequence<kKindCount<D>>{});
}

// The rules on kinds, one readable static_assert each (CheckDomain calls it).
template <typename D>
consteval bool CheckKinds() {
  if constexpr (HasStateType<D> && HasAggregatesType<D>) {
    using A = typename D::Aggregates;
    constexpr bool ok = std::is_same_v<A, std::tuple<>> || std::is_same_v<A, std::tuple<typename D::State>>;
    static_assert(ok,
                  "a domain declares either `using State = X;` (one aggregate kind) or `using Aggregates = "
                  "std::tuple<X, Y>;` (several), not both with different kinds");
    return ok && kEventKinds<D>.size() > 0;
  } else if constexpr (!HasStateType<D>) {
    static_assert(kinds_internal::IsTuple<typename D::Aggregates>::value,
                  "Domain::Aggregates must be a std::tuple of the aggregate kinds' state types");
    static_assert(kKindCount<D> >= 1 && kKindCount<D> < kNoKind,
                  "Domain::Aggregates lists the aggregate kinds (at least one, at most 254); for one kind, "
                  "`using State = X;` also works");
    constexpr bool distinct = []<std::size_t... I>(std::index_sequence<I...>) {
      return ((kKindIndex<D, KindAt<D, I>> == I) && ...);
    }
    (std::make_index_sequence<kKindCount<D>>{});
    static_assert(distinct, "Domain::Aggregates lists a kind twice");
    return distinct && kEventKinds<D>.size() > 0;
  } else {
    return kEventKinds<D>.size() > 0;  // instantiates every event's checks
  }
}

}  // namespace rill::engine
