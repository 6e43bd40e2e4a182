// rill/engine/aggregates.h: what a multi-kind domain's decide() sees: the streams it listed
// and a read-only lookup of any aggregate of any kind. Also the stores behind it (one
// AggregateStore per kind) and the kind dispatch the command processor uses.
//
//   static Decision Decide(const Command& cmd, const rill::engine::Aggregates<Shop>& aggs,
//                          const rill::engine::DecideContext& ctx) {
//     const Release& r = std::get<Release>(cmd);                 // Streams: {Stream<Order>(r.order)}
//     const auto order = aggs.primary().As<Order>();             // or aggs.At<Order>(0)
//     if (!order.exists()) return Decision::Reject(RejectCode::kNotFound, 0, "no order %llu", ...);
//     const auto sku = aggs.Get<Sku>(order.state->sku);          // looked up, not listed
//     Decision d;
//     d.Emit(r.order, OrderReleased{});                          // the kind comes from the event
//     d.Emit(order.state->sku, StockReleased{order.state->quantity});
//     return d;
//   }
//
// A single-kind domain may take `const Aggregates<D>&` too; then aggs[i] is an
// AggregateView<State> directly. Views point into the stores and are valid during decide only.
// Thread safety: the writer thread (decide runs there).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include "rill/engine/aggregate_store.h"
#include "rill/engine/command_outcome.h"
#include "rill/engine/decision.h"
#include "rill/engine/domain_kinds.h"
#include "rill/engine/state_digest.h"

namespace rill::engine {

namespace kinds_internal {
template <typename Tuple>
struct StoresFor;
template <typename... Ks>
struct StoresFor<std::tuple<Ks...>> {
  using type = std::tuple<AggregateStore<Ks>...>;
};
}  // namespace kinds_internal

// One AggregateStore per kind, in the order of KindsOf<D>.
template <typename D>
using AggregateStores = typename kinds_internal::StoresFor<KindsOf<D>>::type;

// A readable name of kind K, for messages ("inventory::Order").
template <typename K>
constexpr std::string_view KindName() noexcept {
  constexpr std::string_view f = __PRETTY_FUNCTION__;  // "... [with K = ns::Order; ...]" (GCC), "[K = ns::Order]"
  constexpr std::size_t b = f.find("K = ");
  if constexpr (b == std::string_view::npos) {
    return f;
  } else {
    constexpr std::string_view rest = f.substr(b + 4);
    return rest.substr(0, rest.find_first_of(";]"));
  }
}
template <typename D>
std::string_view KindNameAt(std::size_t kind) noexcept {
  return WithKind<D>(kind, [](auto k) { return KindName<KindAt<D, decltype(k)::value>>(); });
}

template <typename D>
class Aggregates {
 public:
  using Stores = AggregateStores<D>;
  // What aggs[i] gives: the typed view when the domain has one kind, else a StreamView.
  using Listed = std::conditional_t<kKindCount<D> == 1, AggregateView<KindAt<D, 0>>, StreamView>;

  // REQUIRES: stores outlives this; listed[i] describes Streams(cmd)[i].
  Aggregates(const Stores& stores, std::span<const StreamView> listed) noexcept : stores_(&stores), listed_(listed) {}

  // The streams Streams(cmd) listed, in its order; [0] is the primary stream.
  std::size_t size() const noexcept { return listed_.size(); }
  Listed operator[](std::size_t i) const noexcept {
    if constexpr (kKindCount<D> == 1) {
      using State = KindAt<D, 0>;
      return AggregateView<State>{listed_[i].id, listed_[i].version, static_cast<const State*>(listed_[i].state)};
    } else {
      return listed_[i];
    }
  }
  Listed primary() const noexcept { return (*this)[0]; }
  // The i-th listed stream as kind K. REQUIRES: it was listed as Stream<K>(id).
  template <typename K>
  AggregateView<K> At(std::size_t i) const noexcept {
    return listed_[i].template As<K>();
  }

  // Any aggregate of kind K, listed or not: exists() is false when it has no events (or ended).
  template <typename K>
  AggregateView<K> Get(std::uint64_t id) const noexcept {
    static_assert(kKindIndex<D, K> != kNoKind,
                  "Aggregates::Get<K>(id): K is not one of the domain's aggregate kinds (Domain::Aggregates)");
    const AggregateStore<K>& store = std::get<kKindIndex<D, K>>(*stores_);
    const auto i = store.Find(id);
    if (i == AggregateStore<K>::kNone || store.version(i) == kNoStream) return AggregateView<K>{id, kNoStream, nullptr};
    return AggregateView<K>{id, store.version(i), &store.state(i)};
  }

 private:
  const Stores* stores_;
  std::span<const StreamView> listed_;
};

// ---- The forms a domain may use, detected at compile time (domain.h checks them) ----------

template <typename D>
using DecisionOf = Decision<typename D::Event, D::kMaxEvents>;

// Streams(): plain ids (one kind only) or StreamRefs.
template <typename D>
concept StreamsByRef = requires(const typename D::Command& c) {
  { D::Streams(c) } -> std::same_as<StreamList<D::kMaxStreams, StreamRef>>;
};
template <typename D>
concept StreamsById = kKindCount<D>
== 1 && requires(const typename D::Command& c) {
  { D::Streams(c) } -> std::same_as<StreamList<D::kMaxStreams>>;
};
template <typename D>
using StreamListOf =
    std::conditional_t<StreamsByRef<D>, StreamList<D::kMaxStreams, StreamRef>, StreamList<D::kMaxStreams>>;

// Decide(): a span of typed views (one kind only) or Aggregates<D>.
template <typename D>
concept DecidesWithSpan = kKindCount<D>
== 1 &&
    requires(const typename D::Command& c, std::span<const AggregateView<KindAt<D, 0>>> a, const DecideContext& ctx) {
  { D::Decide(c, a, ctx) } -> std::same_as<DecisionOf<D>>;
};
template <typename D>
concept DecidesWithAggregates = requires(const typename D::Command& c, const Aggregates<D>& a,
                                         const DecideContext& ctx) {
  { D::Decide(c, a, ctx) } -> std::same_as<DecisionOf<D>>;
};

// Evolve(): Evolve(State&, const Event&) (one kind only), or one overload per event:
// Evolve(Kind&, const E&) for each alternative E of Event, Kind = E's kind.
template <typename D>
concept EvolvesWholeEvent = kKindCount<D>
== 1 && requires(KindAt<D, 0>& s, const typename D::Event& e) {
  { D::Evolve(s, e) } -> std::same_as<void>;
};
template <typename D, typename E>
concept EvolvesEvent = requires(KindAt<D, EventKindIndex<D, E>()>& s, const E& e) {
  { D::Evolve(s, e) } -> std::same_as<void>;
};
template <typename D>
concept EvolvesPerEvent = []<std::size_t... I>(std::index_sequence<I...>) {
  return (EvolvesEvent<D, std::tuple_element_t<I, EventAlternatives<D>>> && ...);
}
(std::make_index_sequence<kEventAlternatives<D>>{});

// Applies `event` to the entry `index` of its kind's store: REQUIRES the index is of that kind.
template <typename D>
void EvolveEntry(AggregateStores<D>& stores, typename AggregateStore<KindAt<D, 0>>::Index index,
                 const typename D::Event& event) noexcept {
  if constexpr (EvolvesWholeEvent<D>) {
    D::Evolve(std::get<0>(stores).mutable_state(index), event);
  } else {
    std::visit(
        [&](const auto& e) {
          constexpr std::size_t k = EventKindIndex<D, std::decay_t<decltype(e)>>();
          D::Evolve(std::get<k>(stores).mutable_state(index), e);
        },
        event);
  }
}

// Evolves entry `idx` (of `event`'s kind) with `event`, now at `version`, and updates the digest.
template <typename D>
void ApplyEvent(AggregateStores<D>& stores, StateDigest& digest, std::uint64_t id,
                typename AggregateStore<KindAt<D, 0>>::Index idx, std::uint64_t version,
                const typename D::Event& event) noexcept {
  WithKind<D>(KindOfEvent<D>(event), [&](auto kc) {
    auto& store = std::get<kc.value>(stores);
    const std::uint64_t before = KindAggregateHash<D>(kc.value, id, store.version(idx), store.state(idx));
    EvolveEntry<D>(stores, idx, event);
    store.set_version(idx, version);
    digest.Replace(before, KindAggregateHash<D>(kc.value, id, version, store.state(idx)));
  });
}

// An aggregate that ended: out of the digest, out of its store (memory reclaimed).
template <typename D>
void EndAggregate(AggregateStores<D>& stores, StateDigest& digest, std::size_t k, std::uint64_t id) noexcept {
  WithKind<D>(k, [&](auto kc) {
    auto& store = std::get<kc.value>(stores);
    const auto idx = store.Find(id);
    if (idx == store.kNone) return;
    digest.Replace(KindAggregateHash<D>(kc.value, id, store.version(idx), store.state(idx)), 0);
    store.Remove(id);
  });
}

// An event after the one that ends its aggregate, in the same command, would be applied to the
// ended state by the writer but start a new stream in a replay: refused, a domain bug.
template <typename D>
std::optional<Rejection> CheckEnds(std::span<const StreamEvent<typename D::Event>> events) noexcept {
  for (std::size_t e = 0; e < events.size(); ++e) {
    if (!EventEnds<D>(events[e].event)) continue;
    for (std::size_t f = e + 1; f < events.size(); ++f) {
      if (events[f].stream_id == events[e].stream_id &&
          KindOfEvent<D>(events[f].event) == KindOfEvent<D>(events[e].event))
        return Rejection::Format(RejectCode::kInternalError, 0,
                                 "decide emitted an event for stream %llu after the event that ends it",
                                 static_cast<unsigned long long>(events[e].stream_id));
    }
  }
  return std::nullopt;
}

// "stream 7", or "inventory::Order stream 7" when the domain has several kinds (messages).
template <typename D>
std::string StreamName(std::size_t k, std::uint64_t id) {
  if constexpr (kKindCount<D> == 1) {
    (void)k;
    return "stream " + std::to_string(id);
  } else {
    return std::string(KindNameAt<D>(k)) + " stream " + std::to_string(id);
  }
}

}  // namespace rill::engine
