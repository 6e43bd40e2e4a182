// The inventory domain: SKUs hold stock, orders reserve some of it until they ship or are
// cancelled. Two aggregate kinds (Sku, Order), each with its own ids and versions. The events
// come from inventory.fbs (inventory_events.h is generated from it): this file holds only what
// a person decides: the commands, the state each kind keeps, Decide and Evolve.
#pragma once

#include <cstddef>
#include <cstdint>
#include <variant>

#include "inventory_events.h"  // generated: StockAdded, ..., OrderCancelled, InventoryEvents
#include "rill/engine/domain.h"

namespace inventory {

using rill::engine::RejectCode;
using rill::engine::Stream;

// ---- Commands: what a client asks for. Plain structs; the engine fingerprints them by field
// (so a retry with the same command id and another payload is refused).
struct AddStock {
  std::uint64_t sku = 0;
  std::int64_t quantity = 0;
};
struct PlaceOrder {  // reserves `quantity` units of `sku`
  std::uint64_t order = 0;
  std::uint64_t sku = 0;
  std::int64_t quantity = 0;
};
struct CancelOrder {  // no SKU here: Decide finds it in the order
  std::uint64_t order = 0;
};
struct ShipOrder {
  std::uint64_t order = 0;
};

// ---- State: only what decisions need. The generated header forward-declares both kinds
// (rill_aggregate in the schema); these are their definitions.
struct Sku {
  std::int64_t on_hand = 0;   // in the warehouse, reserved or not
  std::int64_t reserved = 0;  // promised to open orders
};
struct Order {
  std::uint64_t sku = 0;
  std::int64_t quantity = 0;
};

// Rejection::domain_code values, for clients that branch on the reason.
enum Reason : std::uint32_t { kBadQuantity = 1, kShortOfStock = 2, kOrderExists = 3, kOrderNotOpen = 4 };

// InventoryEvents (generated) gives Event, Aggregates = std::tuple<Sku, Order>, RegisterEvents,
// Encode and FromDecoded.
struct InventoryDomain : InventoryEvents {
  using Command = std::variant<AddStock, PlaceOrder, CancelOrder, ShipOrder>;
  static constexpr std::size_t kMaxStreams = 2;  // PlaceOrder: the order and its SKU
  static constexpr std::size_t kMaxEvents = 2;   // one event on each
  using Decision = rill::engine::Decision<Event, kMaxEvents>;
  using Aggs = rill::engine::Aggregates<InventoryDomain>;

  // The aggregates a command names; the first is the one an expected version is checked
  // against. Cancel and ship name only the order: its SKU is looked up in Decide.
  static rill::engine::StreamList<kMaxStreams, rill::engine::StreamRef> Streams(const Command& cmd) noexcept {
    if (const auto* c = std::get_if<AddStock>(&cmd)) return {Stream<Sku>(c->sku)};
    if (const auto* c = std::get_if<PlaceOrder>(&cmd)) return {Stream<Order>(c->order), Stream<Sku>(c->sku)};
    if (const auto* c = std::get_if<CancelOrder>(&cmd)) return {Stream<Order>(c->order)};
    return {Stream<Order>(std::get<ShipOrder>(cmd).order)};
  }

  static Decision Decide(const Command& cmd, const Aggs& aggs, const rill::engine::DecideContext&) noexcept {
    return std::visit([&](const auto& c) { return DecideOne(c, aggs); }, cmd);
  }

  // One overload per event; the engine picks the aggregate from the event's kind. Replay calls
  // the same functions, so state after a restart is the state before it.
  static void Evolve(Sku& s, const StockAdded& e) noexcept { s.on_hand += e.quantity; }
  static void Evolve(Sku& s, const StockReserved& e) noexcept { s.reserved += e.quantity; }
  static void Evolve(Sku& s, const StockReleased& e) noexcept { s.reserved -= e.quantity; }
  static void Evolve(Sku& s, const StockShipped& e) noexcept {
    s.reserved -= e.quantity;
    s.on_hand -= e.quantity;
  }
  static void Evolve(Order& o, const OrderPlaced& e) noexcept { o = Order{e.sku, e.quantity}; }
  // Both end the order (rill_ends): the engine then drops it, nothing to update here.
  static void Evolve(Order&, const OrderShipped&) noexcept {}
  static void Evolve(Order&, const OrderCancelled&) noexcept {}

 private:
  static Decision DecideOne(const AddStock& c, const Aggs&) noexcept {
    if (c.quantity <= 0) return Decision::Reject(RejectCode::kInvalidCommand, kBadQuantity, "quantity must be > 0");
    Decision d;
    d.Emit(c.sku, StockAdded{c.quantity});
    return d;
  }

  static Decision DecideOne(const PlaceOrder& c, const Aggs& aggs) noexcept {
    if (c.quantity <= 0) return Decision::Reject(RejectCode::kInvalidCommand, kBadQuantity, "quantity must be > 0");
    // An ended order is gone from memory, so only open ones are caught here: never reuse ids.
    if (aggs.At<Order>(0).exists())
      return Decision::Reject(RejectCode::kAlreadyExists, kOrderExists, "order %llu already exists", ULL(c.order));
    const Sku* sku = aggs.At<Sku>(1).state;  // nullptr: no stock was ever added
    const std::int64_t available = sku ? sku->on_hand - sku->reserved : 0;
    if (available < c.quantity)
      return Decision::Reject(RejectCode::kRuleViolated, kShortOfStock, "sku %llu has %lld available, order wants %lld",
                              ULL(c.sku), static_cast<long long>(available), static_cast<long long>(c.quantity));
    Decision d;  // both events or neither: a command is atomic
    d.Emit(c.order, OrderPlaced{c.sku, c.quantity});
    d.Emit(c.sku, StockReserved{c.order, c.quantity});
    return d;
  }

  // Cancel and ship: read the order, then the SKU it names (a lookup Streams did not list).
  // The first event ends the order; the second moves the SKU's stock.
  template <typename Ends, typename SkuEvent>
  static Decision EndOrder(std::uint64_t id, const Aggs& aggs) noexcept {
    const rill::engine::AggregateView<Order> order = aggs.At<Order>(0);
    if (!order.exists())
      return Decision::Reject(RejectCode::kRuleViolated, kOrderNotOpen,
                              "order %llu is not open: never placed, or already shipped or cancelled", ULL(id));
    const std::uint64_t sku = order.state->sku;
    if (!aggs.Get<Sku>(sku).exists())  // cannot happen: placing it reserved stock there
      return Decision::Reject(RejectCode::kInternalError, 0, "order %llu names unknown sku %llu", ULL(id), ULL(sku));
    Decision d;
    d.Emit(id, Ends{});
    d.Emit(sku, SkuEvent{id, order.state->quantity});
    return d;
  }
  static Decision DecideOne(const CancelOrder& c, const Aggs& aggs) noexcept {
    return EndOrder<OrderCancelled, StockReleased>(c.order, aggs);
  }
  static Decision DecideOne(const ShipOrder& c, const Aggs& aggs) noexcept {
    return EndOrder<OrderShipped, StockShipped>(c.order, aggs);
  }

  static unsigned long long ULL(std::uint64_t v) noexcept { return v; }  // for %llu
};

// Every rule the engine relies on, checked here with a readable message each.
static_assert(rill::engine::CheckDomain<InventoryDomain>());

}  // namespace inventory
