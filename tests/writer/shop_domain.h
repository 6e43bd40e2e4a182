// A two-kind test domain, written by hand as a user would (the codec too, until the generator
// writes it): SKUs and orders. Placing an order reserves stock on its SKU; releasing or
// shipping an order reads the order, then the SKU it names (a lookup decide did not list), and
// ends the order (its memory is reclaimed). Sku and Order both hold two int64s, so the digest
// must tell the kinds apart.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <tuple>
#include <type_traits>
#include <variant>

#include "rill/codecs/decoder.h"
#include "rill/codecs/encoder.h"
#include "rill/codecs/schema_registry.h"
#include "rill/engine/aggregates.h"
#include "rill/engine/domain.h"
#include "rill/engine/fingerprint.h"
#include "rill/engine/test/shop_generated.h"

namespace rill::codecs::embedded {
std::span<const std::uint8_t> shop_bfbs();
}  // namespace rill::codecs::embedded

namespace rill::testing::shop {
inline constexpr std::uint16_t kShopDomainId = 0x7E58;
}  // namespace rill::testing::shop

#define RILL_SHOP_EVENT(T, N)                                                                                     \
  RILL_EVENT_TYPE(rill::test::shopfb::T, rill::codecs::MakeEventTypeId(rill::testing::shop::kShopDomainId, N), 1, \
                  "shop." #T)
RILL_SHOP_EVENT(StockAdded, 1);
RILL_SHOP_EVENT(StockReserved, 2);
RILL_SHOP_EVENT(StockReleased, 3);
RILL_SHOP_EVENT(StockShipped, 4);
RILL_SHOP_EVENT(OrderPlaced, 5);
RILL_SHOP_EVENT(OrderReleased, 6);
RILL_SHOP_EVENT(OrderShipped, 7);
#undef RILL_SHOP_EVENT

namespace rill::testing::shop {

namespace fb = ::rill::test::shopfb;
using engine::RejectCode;
using engine::Stream;

struct Sku {
  std::int64_t on_hand = 0;
  std::int64_t reserved = 0;
};
struct Order {
  std::uint64_t sku = 0;
  std::int64_t quantity = 0;
};

// ---- Events: each names its kind; the order's last event ends it ----
struct StockAdded {
  using Aggregate = Sku;
  std::int64_t quantity = 0;
};
struct StockReserved {
  using Aggregate = Sku;
  std::uint64_t order = 0;
  std::int64_t quantity = 0;
};
struct StockReleased {
  using Aggregate = Sku;
  std::int64_t quantity = 0;
};
struct StockShipped {
  using Aggregate = Sku;
  std::int64_t quantity = 0;
};
struct OrderPlaced {
  using Aggregate = Order;
  std::uint64_t sku = 0;
  std::int64_t quantity = 0;
};
struct OrderReleased {
  using Aggregate = Order;
  static constexpr bool kEndsAggregate = true;
};
struct OrderShipped {
  using Aggregate = Order;
  static constexpr bool kEndsAggregate = true;
};
using Event =
    std::variant<StockAdded, StockReserved, StockReleased, StockShipped, OrderPlaced, OrderReleased, OrderShipped>;

// ---- Commands ----
struct AddStock {
  std::uint64_t sku = 0;
  std::int64_t quantity = 0;
};
struct Place {
  std::uint64_t order = 0;
  std::uint64_t sku = 0;
  std::int64_t quantity = 0;
};
struct Release {
  std::uint64_t order = 0;
};
struct Ship {
  std::uint64_t order = 0;
};
// A domain bug on purpose: an event for the order after the one that ends it.
struct ShipTwice {
  std::uint64_t order = 0;
};
using Command = std::variant<AddStock, Place, Release, Ship, ShipTwice>;

struct ShopDomain {
  using Command = shop::Command;
  using Event = shop::Event;
  using Aggregates = std::tuple<Sku, Order>;
  static constexpr std::size_t kMaxStreams = 2;
  static constexpr std::size_t kMaxEvents = 2;
  using Decision = engine::Decision<Event, kMaxEvents>;
  using Streams_ = engine::StreamList<kMaxStreams, engine::StreamRef>;

  static void RegisterEvents(codecs::SchemaRegistryBuilder& b) {
    b.AddSchema("shop", codecs::embedded::shop_bfbs())
        .AddEvent<fb::StockAdded>("shop")
        .AddEvent<fb::StockReserved>("shop")
        .AddEvent<fb::StockReleased>("shop")
        .AddEvent<fb::StockShipped>("shop")
        .AddEvent<fb::OrderPlaced>("shop")
        .AddEvent<fb::OrderReleased>("shop")
        .AddEvent<fb::OrderShipped>("shop");
  }

  static Streams_ Streams(const Command& cmd) noexcept {
    if (const AddStock* c = std::get_if<AddStock>(&cmd)) return {Stream<Sku>(c->sku)};
    if (const Place* c = std::get_if<Place>(&cmd)) return {Stream<Order>(c->order), Stream<Sku>(c->sku)};
    return {Stream<Order>(std::visit([](const auto& c) { return OrderOf(c); }, cmd))};
  }

  static Decision Decide(const Command& cmd, const engine::Aggregates<ShopDomain>& aggs,
                         const engine::DecideContext&) noexcept {
    return std::visit([&](const auto& c) { return DecideOne(c, aggs); }, cmd);
  }

  static void Evolve(Sku& s, const StockAdded& e) noexcept { s.on_hand += e.quantity; }
  static void Evolve(Sku& s, const StockReserved& e) noexcept { s.reserved += e.quantity; }
  static void Evolve(Sku& s, const StockReleased& e) noexcept { s.reserved -= e.quantity; }
  static void Evolve(Sku& s, const StockShipped& e) noexcept {
    s.reserved -= e.quantity;
    s.on_hand -= e.quantity;
  }
  static void Evolve(Order& o, const OrderPlaced& e) noexcept {
    o.sku = e.sku;
    o.quantity = e.quantity;
  }
  static void Evolve(Order&, const OrderReleased&) noexcept {}
  static void Evolve(Order&, const OrderShipped&) noexcept {}

  static std::uint64_t Fingerprint(const Command& cmd) noexcept {
    return std::visit(
        [&](const auto& c) -> std::uint64_t {
          using C = std::decay_t<decltype(c)>;
          if constexpr (std::is_same_v<C, AddStock>) {
            return engine::FingerprintOf(cmd.index(), c.sku, c.quantity);
          } else if constexpr (std::is_same_v<C, Place>) {
            return engine::FingerprintOf(cmd.index(), c.order, c.sku, c.quantity);
          } else {
            return engine::FingerprintOf(cmd.index(), c.order);
          }
        },
        cmd);
  }

  static std::span<const std::uint8_t> Encode(codecs::Encoder& enc, const codecs::EnvelopeFields& env,
                                              const Event& event) {
    return std::visit([&](const auto& e) { return EncodeOne(enc, env, e); }, event);
  }

  static std::optional<Event> FromDecoded(const codecs::DecodedEvent& d) noexcept {
    if (const auto* t = d.As<fb::StockAdded>()) return StockAdded{t->quantity()};
    if (const auto* t = d.As<fb::StockReserved>()) return StockReserved{t->order(), t->quantity()};
    if (const auto* t = d.As<fb::StockReleased>()) return StockReleased{t->quantity()};
    if (const auto* t = d.As<fb::StockShipped>()) return StockShipped{t->quantity()};
    if (const auto* t = d.As<fb::OrderPlaced>()) return OrderPlaced{t->sku(), t->quantity()};
    if (d.As<fb::OrderReleased>() != nullptr) return OrderReleased{};
    if (d.As<fb::OrderShipped>() != nullptr) return OrderShipped{};
    return std::nullopt;
  }

 private:
  using Aggs = engine::Aggregates<ShopDomain>;
  template <typename C>
  static std::uint64_t OrderOf(const C& c) noexcept {
    if constexpr (requires { c.order; }) {
      return c.order;
    } else {
      return 0;
    }
  }

  static Decision DecideOne(const AddStock& c, const Aggs&) noexcept {
    if (c.quantity <= 0) return Decision::Reject(RejectCode::kInvalidCommand, 0, "quantity must be positive");
    Decision d;
    d.Emit(c.sku, StockAdded{c.quantity});
    return d;
  }
  static Decision DecideOne(const Place& c, const Aggs& aggs) noexcept {
    if (aggs.primary().exists()) return Decision::Reject(RejectCode::kAlreadyExists, 0, "order exists");
    const engine::AggregateView<Sku> sku = aggs.At<Sku>(1);
    if (!sku.exists()) return Decision::Reject(RejectCode::kNotFound, 0, "no sku %llu", (unsigned long long)c.sku);
    if (sku.state->on_hand - sku.state->reserved < c.quantity)
      return Decision::Reject(RejectCode::kRuleViolated, 1, "short of stock");
    Decision d;
    d.Emit(c.order, OrderPlaced{c.sku, c.quantity});
    d.Emit(c.sku, StockReserved{c.order, c.quantity});
    return d;
  }
  // Reads the order (listed), then its SKU (looked up): a decision that depends on state.
  template <typename Ends, typename SkuEvent>
  static Decision EndOrder(std::uint64_t id, const Aggs& aggs) noexcept {
    const engine::AggregateView<Order> order = aggs.primary().As<Order>();
    if (!order.exists()) return Decision::Reject(RejectCode::kNotFound, 0, "no order %llu", (unsigned long long)id);
    const engine::AggregateView<Sku> sku = aggs.Get<Sku>(order.state->sku);
    if (!sku.exists() || sku.state->reserved < order.state->quantity)
      return Decision::Reject(RejectCode::kInternalError, 0, "order %llu reserved nothing", (unsigned long long)id);
    Decision d;
    d.Emit(id, Ends{});
    d.Emit(order.state->sku, SkuEvent{order.state->quantity});
    return d;
  }
  static Decision DecideOne(const Release& c, const Aggs& aggs) noexcept {
    return EndOrder<OrderReleased, StockReleased>(c.order, aggs);
  }
  static Decision DecideOne(const Ship& c, const Aggs& aggs) noexcept {
    return EndOrder<OrderShipped, StockShipped>(c.order, aggs);
  }
  static Decision DecideOne(const ShipTwice& c, const Aggs&) noexcept {
    Decision d;
    d.Emit(c.order, OrderShipped{});
    d.Emit(c.order, OrderPlaced{});
    return d;
  }

  template <typename T, typename Build>
  static std::span<const std::uint8_t> Enc(codecs::Encoder& enc, const codecs::EnvelopeFields& env, Build&& build) {
    return enc.Encode<T>(env, build);
  }
  static std::span<const std::uint8_t> EncodeOne(codecs::Encoder& enc, const codecs::EnvelopeFields& env,
                                                 const StockAdded& e) {
    return Enc<fb::StockAdded>(enc, env, [&](auto& b) { return fb::CreateStockAdded(b, e.quantity); });
  }
  static std::span<const std::uint8_t> EncodeOne(codecs::Encoder& enc, const codecs::EnvelopeFields& env,
                                                 const StockReserved& e) {
    return Enc<fb::StockReserved>(enc, env, [&](auto& b) { return fb::CreateStockReserved(b, e.order, e.quantity); });
  }
  static std::span<const std::uint8_t> EncodeOne(codecs::Encoder& enc, const codecs::EnvelopeFields& env,
                                                 const StockReleased& e) {
    return Enc<fb::StockReleased>(enc, env, [&](auto& b) { return fb::CreateStockReleased(b, e.quantity); });
  }
  static std::span<const std::uint8_t> EncodeOne(codecs::Encoder& enc, const codecs::EnvelopeFields& env,
                                                 const StockShipped& e) {
    return Enc<fb::StockShipped>(enc, env, [&](auto& b) { return fb::CreateStockShipped(b, e.quantity); });
  }
  static std::span<const std::uint8_t> EncodeOne(codecs::Encoder& enc, const codecs::EnvelopeFields& env,
                                                 const OrderPlaced& e) {
    return Enc<fb::OrderPlaced>(enc, env, [&](auto& b) { return fb::CreateOrderPlaced(b, e.sku, e.quantity); });
  }
  static std::span<const std::uint8_t> EncodeOne(codecs::Encoder& enc, const codecs::EnvelopeFields& env,
                                                 const OrderReleased&) {
    return Enc<fb::OrderReleased>(enc, env, [&](auto& b) { return fb::CreateOrderReleased(b); });
  }
  static std::span<const std::uint8_t> EncodeOne(codecs::Encoder& enc, const codecs::EnvelopeFields& env,
                                                 const OrderShipped&) {
    return Enc<fb::OrderShipped>(enc, env, [&](auto& b) { return fb::CreateOrderShipped(b); });
  }
};

static_assert(engine::CheckDomain<ShopDomain>());

}  // namespace rill::testing::shop
