// Workloads for the crash test's tests, shared by the Catch2 tests (in-process parents, the
// verifier) and crashtest_tool (the child they re-execute): the bank's, the bank's with a hook
// broken on purpose (the crash test must report it), and a two-kind shop (tests/writer/
// shop_domain.h) whose orders end.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "rill/examples/bank/bank_workload.h"
#include "rill/tests/writer/shop_domain.h"
#include "rill/tools/workload.h"

namespace rill::tools::crashtest::test {

// The bank, with an invariant that breaks once any account passes version 3 (after its
// open and first deposit, the second command on it): a bug the crash test must name.
struct BrokenInvariantWorkload : examples::bank::BankWorkload {
  using BankWorkload::BankWorkload;
  std::optional<std::string> CheckInvariants(const StateView<Domain>& state) const {
    std::optional<std::string> bad;
    state.ForEach([&](std::uint64_t id, std::uint64_t version, const examples::bank::Account&) {
      if (version > 3 && !bad)
        bad = "account " + std::to_string(id) + " is at version " + std::to_string(version) +
              ", past the test's limit of 3";
    });
    return bad;
  }
};
static_assert(Workload<BrokenInvariantWorkload> && kHasInvariants<BrokenInvariantWorkload>);

// The bank, with a tally that counts each deposit one unit too high.
struct WrongTallyWorkload : examples::bank::BankWorkload {
  using BankWorkload::BankWorkload;
  std::int64_t Tally(const examples::bank::Command& c) const noexcept {
    return BankWorkload::Tally(c) + (std::holds_alternative<examples::bank::Deposit>(c) ? 1 : 0);
  }
};
static_assert(kHasTally<WrongTallyWorkload>);

// SKUs (setup: stock on each) and orders placed against them, then shipped or released (each
// ends its order: its stream restarts at version 1 if the id is placed again). Order ids are
// the producer's own series 1 + n * producers + p, so producers never collide.
class ShopWorkload {
 public:
  using Domain = testing::shop::ShopDomain;
  using Command = testing::shop::Command;

  class Producer {
   public:
    Command Next() noexcept {
      const std::uint64_t r = Random();
      const std::uint64_t pick = r % 100;
      const std::uint64_t sku = 1 + (r >> 8) % skus_;
      if (pick < 10) return testing::shop::AddStock{sku, restock_};
      if (count_ > 0 && (pick < 40 || count_ == open_.size())) {  // end the oldest order
        const std::uint64_t order = open_[first_];
        first_ = (first_ + 1) % open_.size();
        --count_;
        return pick % 4 == 0 ? Command{testing::shop::Release{order}} : Command{testing::shop::Ship{order}};
      }
      const std::uint64_t order = next_order_;
      next_order_ += stride_;
      open_[(first_ + count_++) % open_.size()] = order;
      return testing::shop::Place{order, sku, 1 + static_cast<std::int64_t>((r >> 40) % 5)};
    }

   private:
    friend class ShopWorkload;
    Producer(const WorkloadOptions& o, int p, std::int64_t restock)
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
    std::uint64_t state_, skus_;
    std::int64_t restock_;
    std::uint64_t next_order_, stride_;
    std::array<std::uint64_t, 32> open_{};  // orders placed and not yet ended, oldest first
    std::size_t first_ = 0, count_ = 0;
  };

  explicit ShopWorkload(const WorkloadOptions& o)
      : options_(o), stock_(o.contended ? 20 : 100'000), restock_(o.contended ? 10 : 1'000) {}

  std::vector<Command> Setup() const {
    std::vector<Command> out;
    for (std::uint64_t sku = 1; sku <= options_.aggregates; ++sku) out.push_back(testing::shop::AddStock{sku, stock_});
    return out;
  }
  Producer MakeProducer(int p) const { return Producer(options_, p, restock_); }

  // Stock reserved is within what is on hand and is what the open orders hold.
  std::optional<std::string> CheckInvariants(const StateView<Domain>& state) const {
    std::map<std::uint64_t, std::int64_t> held;
    state.ForEach<testing::shop::Order>(
        [&](std::uint64_t, std::uint64_t, const testing::shop::Order& o) { held[o.sku] += o.quantity; });
    std::optional<std::string> bad;
    state.ForEach<testing::shop::Sku>([&](std::uint64_t id, std::uint64_t, const testing::shop::Sku& s) {
      if (!bad && (s.reserved < 0 || s.reserved > s.on_hand || s.reserved != held[id]))
        bad = "sku " + std::to_string(id) + ": on hand " + std::to_string(s.on_hand) + ", reserved " +
              std::to_string(s.reserved) + ", open orders hold " + std::to_string(held[id]);
    });
    return bad;
  }

 private:
  WorkloadOptions options_;
  std::int64_t stock_, restock_;
};
static_assert(Workload<ShopWorkload> && kHasInvariants<ShopWorkload> && !kHasTally<ShopWorkload>);

}  // namespace rill::tools::crashtest::test
