// The inventory's workload for rill's tools (docs/your-first-domain.md, "Your own tools"): the
// commands `inventory-rill bench|crashtest|demo` send, and the rules every crash test checks.
// A producer adds stock, places orders for it, and ships or cancels the orders it placed.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "inventory_domain.h"
#include "rill/tools/workload.h"

namespace inventory {

class InventoryWorkload {
 public:
  using Domain = InventoryDomain;
  using Command = InventoryDomain::Command;
  using State = rill::tools::StateView<InventoryDomain>;

  class Producer {
   public:
    // Deterministic: the same options and producer give the same commands, whatever the
    // outcomes (the crash test regenerates commands instead of recording them).
    Command Next() noexcept {
      const std::uint64_t r = Random();
      const std::uint64_t pick = r % 100;
      if (pick < 10) return AddStock{Sku(r >> 8), restock_};
      if (count_ > 0 && (pick < 35 || count_ == open_.size())) {  // ship the oldest order
        const std::uint64_t order = open_[first_];
        first_ = (first_ + 1) % open_.size();
        --count_;
        return pick % 5 == 0 ? Command{CancelOrder{order}} : Command{ShipOrder{order}};
      }
      const std::uint64_t order = next_order_;  // ids of our own: 1 + k * producers + p
      next_order_ += stride_;
      open_[(first_ + count_++) % open_.size()] = order;
      return PlaceOrder{order, Sku(r >> 8), 1 + static_cast<std::int64_t>((r >> 40) % 5)};
    }

   private:
    friend class InventoryWorkload;
    Producer(const rill::tools::WorkloadOptions& o, int p, std::int64_t restock)
        : state_(o.seed * 0x9e3779b97f4a7c15ull + static_cast<std::uint64_t>(p) + 1),
          skus_(o.aggregates),
          restock_(restock),
          next_order_(1 + static_cast<std::uint64_t>(p)),
          stride_(static_cast<std::uint64_t>(o.producers)) {}
    std::uint64_t Random() noexcept {  // splitmix64
      std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
      return z ^ (z >> 31);
    }
    std::uint64_t Sku(std::uint64_t r) const noexcept { return 1 + r % skus_; }

    std::uint64_t state_, skus_;
    std::int64_t restock_;
    std::uint64_t next_order_, stride_;
    std::array<std::uint64_t, 64> open_{};  // the orders this producer placed, oldest first
    std::size_t first_ = 0, count_ = 0;
  };

  // aggregates: how many SKUs. Contended (the crash test): little stock, so orders run short.
  explicit InventoryWorkload(const rill::tools::WorkloadOptions& o)
      : options_(o), stock_(o.contended ? 20 : 1'000'000), restock_(o.contended ? 10 : 1'000) {}

  std::vector<Command> Setup() const {
    std::vector<Command> out;
    for (std::uint64_t sku = 1; sku <= options_.aggregates; ++sku) out.push_back(AddStock{sku, stock_});
    return out;
  }
  Producer MakeProducer(int p) const { return Producer(options_, p, restock_); }

  // The rule stock must keep: reserved within what is on hand, and equal to what the open
  // orders of that SKU hold.
  std::optional<std::string> CheckInvariants(const State& state) const {
    std::map<std::uint64_t, std::int64_t> held;
    state.ForEach<Order>([&](std::uint64_t, std::uint64_t, const Order& o) { held[o.sku] += o.quantity; });
    std::optional<std::string> bad;
    state.ForEach<Sku>([&](std::uint64_t id, std::uint64_t, const Sku& s) {
      if (bad) return;
      if (s.reserved < 0 || s.reserved > s.on_hand || s.reserved != held[id])
        bad = "sku " + std::to_string(id) + ": on hand " + std::to_string(s.on_hand) + ", reserved " +
              std::to_string(s.reserved) + ", open orders hold " + std::to_string(held[id]);
    });
    return bad;
  }
  std::string Describe(const Sku& s) const {
    return "on hand " + std::to_string(s.on_hand) + ", reserved " + std::to_string(s.reserved);
  }
  std::string Describe(const Order& o) const {
    return "sku " + std::to_string(o.sku) + " x" + std::to_string(o.quantity);
  }

 private:
  rill::tools::WorkloadOptions options_;
  std::int64_t stock_, restock_;
};

}  // namespace inventory
