// A workload for the two-kind test domain of tests/writer (shop_domain.h: SKUs and orders),
// written as a user would with only the required parts of tools/workload.h: no Tally, no
// invariants, no read models, so the tools fall back to their defaults (the bench's projectors
// hold a StateMirror whose digest must equal the engine's).
//
// Setup: AddStock of kInitialStock to SKUs 1..N. Each producer then draws placements of new
// orders (ids 1 + k * producers + p: unique per producer, never reused since orders end, and
// overlapping the SKU ids on purpose, as two kinds' ids may), restocks, and ships or releases
// one of its last placed orders. Which order is drawn depends only on the draws, never on
// outcomes: a placement refused for want of stock makes a later ship of it a kNotFound.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "rill/base/splitmix64.h"
#include "rill/tests/writer/shop_domain.h"
#include "rill/tools/workload.h"

namespace rill::testing::shop {

class ShopWorkload {
 public:
  using Domain = ShopDomain;
  static constexpr std::int64_t kInitialStock = 1'000;

  class Producer {
   public:
    Command Next() noexcept {
      const std::uint64_t r = rng_.Next();
      const std::uint64_t sku = 1 + (r >> 8) % skus_;
      const auto pick = r % 100;
      if (pick < 40 || placed_count_ == 0) {
        const std::uint64_t order = next_order_;
        next_order_ += stride_;
        placed_[placed_count_++ % placed_.size()] = order;
        return Place{order, sku, 1 + static_cast<std::int64_t>((r >> 40) % 5)};
      }
      if (pick < 60) return AddStock{sku, 1 + static_cast<std::int64_t>((r >> 40) % 10)};
      // One of the last placed orders (each ends once; a second end of it is a kNotFound).
      const std::uint64_t order = placed_[(r >> 20) % std::min<std::uint64_t>(placed_count_, placed_.size())];
      if (pick < 80) return Ship{order};
      return Release{order};
    }

   private:
    friend class ShopWorkload;
    Producer(std::uint64_t seed, int producer, int producers, std::uint64_t skus) noexcept
        : rng_(seed * 0x9e3779b97f4a7c15ull + static_cast<std::uint64_t>(producer) + 1),
          skus_(skus),
          next_order_(1 + static_cast<std::uint64_t>(producer)),
          stride_(static_cast<std::uint64_t>(producers)) {}
    SplitMix64 rng_;
    std::uint64_t skus_;
    std::uint64_t next_order_;
    std::uint64_t stride_;
    std::array<std::uint64_t, 64> placed_{};
    std::uint64_t placed_count_ = 0;
  };

  explicit ShopWorkload(const tools::WorkloadOptions& o)
      : skus_(o.aggregates < 1 ? 1 : o.aggregates), producers_(o.producers < 1 ? 1 : o.producers), seed_(o.seed) {}

  std::vector<Command> Setup() const {
    std::vector<Command> out;
    for (std::uint64_t s = 1; s <= skus_; ++s) out.push_back(AddStock{s, kInitialStock});
    return out;
  }
  Producer MakeProducer(int producer) const noexcept { return Producer(seed_, producer, producers_, skus_); }

 private:
  std::uint64_t skus_;
  int producers_;
  std::uint64_t seed_;
};

static_assert(tools::Workload<ShopWorkload>);
static_assert(!tools::kHasTally<ShopWorkload> && !tools::kHasInvariants<ShopWorkload>);

}  // namespace rill::testing::shop
