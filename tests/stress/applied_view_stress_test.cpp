// Stress: one projector thread advances an AppliedView while three threads register waiters
// (single and in batches, some already due) and, in half the runs, the view halts midway.
//
// Forbidden outcomes:
//   - a waiter is answered twice, or never (each waiter counts its deliveries);
//   - an accepted answer before the view reached the waiter's position;
//   - a kViewUnavailable answer for a position the view had applied before halting;
//   - anybody hangs.
// The seed is printed; RILL_STRESS_SEED replays it.
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "rill/engine/applied_view.h"

namespace {

using namespace rill::engine;

constexpr std::uint64_t kLastPosition = 200'000;
constexpr int kNotifiers = 3;
constexpr int kWaitersPerNotifier = 20'000;

struct Waiter {
  const AppliedView* view = nullptr;
  std::uint64_t position = 0;
  std::atomic<int> deliveries{0};
  std::atomic<bool> early{false};  // accepted before the view reached the position
  std::atomic<bool> accepted{false};

  static void Deliver(void* self, const CommandOutcome& o) noexcept {
    auto* w = static_cast<Waiter*>(self);
    if (o.accepted()) {
      w->accepted.store(true, std::memory_order_relaxed);
      if (w->view->position() < w->position) w->early.store(true, std::memory_order_relaxed);
    }
    w->deliveries.fetch_add(1, std::memory_order_relaxed);
  }
};

}  // namespace

TEST_CASE("applied view: every waiter is answered exactly once, never early", "[engine][applied][stress]") {
  std::uint64_t seed = std::random_device{}();
  if (const char* s = std::getenv("RILL_STRESS_SEED")) seed = std::strtoull(s, nullptr, 10);
  std::printf("applied_view_stress: seed %llu (replay with RILL_STRESS_SEED=%llu)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  for (int round = 0; round < 2; ++round) {
    const bool halt = round == 1;
    AppliedView view("stress");
    std::vector<std::unique_ptr<Waiter[]>> waiters;
    for (int n = 0; n < kNotifiers; ++n) waiters.emplace_back(new Waiter[kWaitersPerNotifier]);
    const std::uint64_t halt_at = halt ? kLastPosition / 2 : 0;

    std::thread projector([&] {
      std::mt19937_64 rng(seed);
      std::uint64_t p = 0;
      while (p < kLastPosition) {
        p += 1 + rng() % 64;
        if (halt && p >= halt_at) {
          view.Halt(p, "stress halt");
          return;
        }
        view.Advance(p);
        if (rng() % 16 == 0) std::this_thread::yield();
      }
    });
    std::vector<std::thread> notifiers;
    for (int n = 0; n < kNotifiers; ++n) {
      notifiers.emplace_back([&, n] {
        std::mt19937_64 rng(seed + 1 + static_cast<std::uint64_t>(n));
        Waiter* mine = waiters[static_cast<std::size_t>(n)].get();
        std::vector<AppliedWaiter> batch;
        for (int i = 0; i < kWaitersPerNotifier;) {
          const int chunk = rng() % 4 == 0 ? 1 + static_cast<int>(rng() % 32) : 1;
          batch.clear();
          for (int k = 0; k < chunk && i < kWaitersPerNotifier; ++k, ++i) {
            Waiter& w = mine[i];
            w.view = &view;
            // Around the projector's current position: some due already, some ahead.
            const std::uint64_t base = view.position();
            w.position = std::min<std::uint64_t>(kLastPosition, base + rng() % 512 - std::min<std::uint64_t>(base, 64));
            batch.push_back({w.position, {&Waiter::Deliver, &w}, CommandOutcome::Accepted(w.position, 1, 1, 1)});
          }
          view.NotifyBatch(batch);
        }
      });
    }
    for (auto& t : notifiers) t.join();
    projector.join();
    if (!halt) view.Close("done");  // positions beyond the last advance: answered as unavailable
    const std::uint64_t final_position = view.position();
    for (int n = 0; n < kNotifiers; ++n) {
      for (int i = 0; i < kWaitersPerNotifier; ++i) {
        const Waiter& w = waiters[static_cast<std::size_t>(n)][i];
        INFO("round " << round << " notifier " << n << " waiter " << i << " position " << w.position);
        REQUIRE(w.deliveries.load() == 1);
        REQUIRE_FALSE(w.early.load());
        // Applied before the close: must have been answered as applied.
        if (w.position <= final_position) REQUIRE(w.accepted.load());
      }
    }
  }
}
