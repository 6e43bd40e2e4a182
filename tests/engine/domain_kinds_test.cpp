// The kind traits (domain_kinds.h) at compile time, and a single-kind domain that opts into the
// multi-kind forms: Decide over Aggregates<D> with a lookup, per-event Evolve, an ending event.
#include <catch2/catch.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <tuple>
#include <variant>

#include "rill/engine/aggregates.h"
#include "rill/engine/command_processor.h"
#include "rill/engine/domain.h"
#include "rill/engine/domain_kinds.h"

namespace {

using namespace rill::engine;

// ---- A single-kind domain in the new forms ----
struct Counter {
  std::int64_t n = 0;
};
struct Added {
  std::int64_t by = 0;
};
struct Dropped {
  static constexpr bool kEndsAggregate = true;
};
struct Add {
  std::uint64_t id = 0;
  std::uint64_t copy_from = 0;  // adds that counter's value (looked up, not listed); 0: adds 1
};
struct Drop {
  std::uint64_t id = 0;
};

struct CounterDomain {
  using Command = std::variant<Add, Drop>;
  using Event = std::variant<Added, Dropped>;
  using State = Counter;
  static constexpr std::size_t kMaxStreams = 1;
  static constexpr std::size_t kMaxEvents = 1;
  using Decision = rill::engine::Decision<Event, kMaxEvents>;

  static StreamList<1> Streams(const Command& c) {
    return {std::visit([](const auto& x) { return x.id; }, c)};
  }
  static Decision Decide(const Command& c, const Aggregates<CounterDomain>& aggs, const DecideContext&) {
    Decision d;
    if (const Add* a = std::get_if<Add>(&c)) {
      std::int64_t by = 1;
      if (a->copy_from != 0) {
        const AggregateView<Counter> from = aggs.Get<Counter>(a->copy_from);
        if (!from.exists()) return Decision::Reject(RejectCode::kNotFound, 0, "no counter to copy");
        by = from.state->n;
      }
      d.Emit(a->id, Added{by});
    } else {
      if (!aggs[0].exists()) return Decision::Reject(RejectCode::kNotFound, 0, "no counter");
      d.Emit(aggs.primary().id, Dropped{});
    }
    return d;
  }
  static void Evolve(Counter& s, const Added& e) { s.n += e.by; }
  static void Evolve(Counter&, const Dropped&) {}
  static std::uint64_t Fingerprint(const Command& c) { return FingerprintOf(c.index()); }
  static std::span<const std::uint8_t> Encode(rill::codecs::Encoder&, const rill::codecs::EnvelopeFields&,
                                              const Event&) {
    static constexpr std::uint8_t kRecord[8] = {};
    return kRecord;
  }
  static std::optional<Event> FromDecoded(const rill::codecs::DecodedEvent&) { return std::nullopt; }
};
static_assert(CheckDomain<CounterDomain>());
static_assert(DecidesWithAggregates<CounterDomain> && !DecidesWithSpan<CounterDomain>);
static_assert(EvolvesPerEvent<CounterDomain> && !EvolvesWholeEvent<CounterDomain>);
static_assert(kKindCount<CounterDomain> == 1);
static_assert(kEventEnds<CounterDomain>[1] && !kEventEnds<CounterDomain>[0] && kHasEndingEvents<CounterDomain>);
static_assert(std::is_same_v<Aggregates<CounterDomain>::Listed, AggregateView<Counter>>);

// ---- Kind tables of a two-kind domain (types only) ----
struct Sku {
  std::int64_t on_hand = 0;
};
struct Order {
  std::uint64_t sku = 0;
};
struct StockAdded {
  using Aggregate = Sku;
};
struct OrderPlaced {
  using Aggregate = Order;
};
struct OrderShipped {
  using Aggregate = Order;
  static constexpr bool kEndsAggregate = true;
};
struct TwoKinds {
  using Event = std::variant<StockAdded, OrderPlaced, OrderShipped>;
  using Aggregates = std::tuple<Sku, Order>;
};
static_assert(kKindCount<TwoKinds> == 2);
static_assert(kKindIndex<TwoKinds, Sku> == 0 && kKindIndex<TwoKinds, Order> == 1);
static_assert(kKindIndex<TwoKinds, Counter> == kNoKind);
static_assert(kEventKinds<TwoKinds>[0] == 0 && kEventKinds<TwoKinds>[1] == 1 && kEventKinds<TwoKinds>[2] == 1);
static_assert(!kEventEnds<TwoKinds>[0] && !kEventEnds<TwoKinds>[1] && kEventEnds<TwoKinds>[2]);
// KindIndexOf compares kind tags (addresses of distinct statics): constant-folded in optimized
// builds, but not a constant expression under ASan, so checked at run time.
TEST_CASE("a stream's kind tag maps to its kind's index", "[engine][kinds]") {
  CHECK(KindIndexOf<TwoKinds>(Stream<Order>(5).kind) == 1);
  CHECK(KindIndexOf<TwoKinds>(Stream<Counter>(5).kind) == kNoKind);
}
static_assert(KindOfEvent<TwoKinds>(TwoKinds::Event{OrderShipped{}}) == 1);

struct Sink {
  std::uint64_t n = 0;
  std::optional<std::uint64_t> operator()(std::span<const std::uint8_t>) { return ++n; }
};

}  // namespace

TEST_CASE("a single-kind domain may decide over Aggregates and end its aggregates", "[engine][kinds]") {
  CommandProcessor<CounterDomain> p;
  Sink sink;
  REQUIRE(p.Process({}, Add{1}, 0, sink).accepted());
  REQUIRE(p.Process({}, Add{1}, 0, sink).accepted());
  REQUIRE(p.Process({}, Add{2, 1}, 0, sink).accepted());  // reads counter 1 through Get
  CHECK(p.store().state(p.store().Find(2)).n == 2);
  CHECK(p.Process({}, Add{3, 9}, 0, sink).code() == RejectCode::kNotFound);
  CHECK(p.store().size() == 2);
  REQUIRE(p.Process({}, Drop{1}, 0, sink).accepted());
  CHECK(p.store().size() == 1);
  CHECK(p.store().Find(1) == CommandProcessor<CounterDomain>::kNone);
  CHECK(p.digest() == p.ComputeDigest());
  CHECK(p.Process({}, Drop{1}, 0, sink).code() == RejectCode::kNotFound);
  const auto o = p.Process({}, Add{1}, 0, sink);
  CHECK(o.stream_version() == 1);  // a new stream
}

TEST_CASE("kind names and digests tell kinds apart", "[engine][kinds]") {
  CHECK(KindName<Order>().find("Order") != std::string_view::npos);
  CHECK(KindName<Order>().find(';') == std::string_view::npos);
  // Equal field values in two kinds hash differently; kind 0 hashes as a single-kind domain.
  const Sku s{7};
  const Order o{7};
  CHECK(KindAggregateHash<TwoKinds>(0, 1, 1, s) != KindAggregateHash<TwoKinds>(1, 1, 1, o));
  CHECK(KindAggregateHash<TwoKinds>(0, 1, 0, s) == 0);
}
