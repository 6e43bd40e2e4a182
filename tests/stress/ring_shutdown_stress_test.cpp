// Stress: shut an MpscRing down at a random moment while producers and the consumer run.
//
// Forbidden outcomes:
//   - anybody hangs: a producer blocked in claim, or the consumer blocked in wait_for,
//     sleeps through shutdown (the test would never finish);
//   - a claim or try_claim returns kOk after that producer already saw kShutDown (once
//     shut down, always shut down);
//   - the consumer sees an item twice, or a producer's items out of order.
// (Draining after shutdown is checked by a unit test: here a claim that was refused while
// waiting for space leaves a gap, and the consumer rightly stops there.)
// Each round shuts down after the consumer has seen a random number of items, so shutdown
// lands while threads run, spin, yield or sleep. No timing is involved. Seed printed.
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>
#include <vector>

#include "rill/engine/batch_consumer.h"
#include "rill/engine/ring_buffer.h"

namespace {

using namespace rill::engine;

constexpr int kRounds = 300;  // ~3 s under TSan
constexpr int kProducers = 3;

struct Item {
  std::int32_t producer = -1;
  std::int64_t number = -1;
};

}  // namespace

TEST_CASE("shutdown at a random moment wakes everyone and loses no ordering", "[engine][ring][stress][shutdown]") {
  std::uint64_t seed = std::random_device{}();
  if (const char* s = std::getenv("RILL_STRESS_SEED")) seed = std::strtoull(s, nullptr, 10);
  std::printf("ring_shutdown_stress seed=%llu\n", static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  std::mt19937_64 rng(seed);

  std::int64_t errors = 0;
  for (int round = 0; round < kRounds; ++round) {
    MpscRing<Item> ring(8);
    const std::int64_t stop_after = static_cast<std::int64_t>(rng() % 2000);
    std::atomic<std::int64_t> consumed{0};
    std::atomic<int> claims_after_shutdown{0};

    std::vector<std::thread> producers;
    for (int p = 0; p < kProducers; ++p) {
      producers.emplace_back([&, p] {
        std::int64_t number = 0;
        for (;;) {
          // Producer 0 uses try_claim, the others block in claim.
          Claim c;
          if (p == 0) {
            while ((c = ring.try_claim()).status == ClaimStatus::kFull) std::this_thread::yield();
          } else {
            c = ring.claim();
          }
          if (!c.ok()) break;
          ring[c.first] = Item{p, number++};
          ring.publish(c);
        }
        // Once shut down, always shut down.
        if (ring.claim().ok() || ring.try_claim().ok()) ++claims_after_shutdown;
      });
    }

    std::int64_t round_errors = 0;
    std::thread consumer_thread([&] {
      BatchConsumer consumer(ring, 1 + static_cast<std::int64_t>(round % 8));
      std::vector<std::int64_t> next(kProducers, 0);
      consumer.run([&](Item& item, std::int64_t, bool) {
        if (item.number != next[static_cast<std::size_t>(item.producer)]++) ++round_errors;
        // Relaxed: only a progress counter for the main thread's trigger.
        consumed.fetch_add(1, std::memory_order_relaxed);
      });
    });

    while (consumed.load(std::memory_order_relaxed) < stop_after) std::this_thread::yield();
    ring.shutdown();
    for (auto& t : producers) t.join();
    consumer_thread.join();
    errors += round_errors + claims_after_shutdown.load();
  }
  CHECK(errors == 0);
}
