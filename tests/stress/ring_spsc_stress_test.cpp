// Stress: one producer x 4M commands through a 64-slot SpscRing, with batch claims.
//
// Forbidden outcomes:
//   - an item is lost, duplicated or reordered (the consumer sees 0, 1, 2, ... exactly);
//   - a slot is read torn or stale (checksum mismatch);
//   - a batch exceeds the maximum batch size;
//   - anybody hangs.
// The producer mixes claim(1), claim(n) and try_claim(n) (yield and retry on kFull); the
// consumer alternates blocking and polling batches. The seed is printed; RILL_STRESS_SEED
// replays it.
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>

#include "rill/engine/batch_consumer.h"
#include "rill/engine/ring_buffer.h"

namespace {

using namespace rill::engine;

constexpr std::int64_t kItems = 4'000'000;  // full count under TSan too: a few seconds there

struct Item {
  std::int64_t number = -1;
  std::uint64_t check = 0;
  std::byte pad[48] = {};
};
static_assert(sizeof(Item) == 64);

std::uint64_t Check(std::int64_t n) { return static_cast<std::uint64_t>(n) * 0x9E3779B97F4A7C15ull + 1; }

}  // namespace

TEST_CASE("one producer with batch claims: every item arrives once and in order", "[engine][ring][stress]") {
  std::uint64_t seed = std::random_device{}();
  if (const char* s = std::getenv("RILL_STRESS_SEED")) seed = std::strtoull(s, nullptr, 10);
  std::printf("ring_spsc_stress seed=%llu\n", static_cast<unsigned long long>(seed));
  std::fflush(stdout);

  SpscRing<Item> ring(64);
  std::mt19937_64 rng(seed);
  const std::int64_t max_batch = std::uniform_int_distribution<std::int64_t>(1, 64)(rng);
  const std::uint64_t producer_seed = rng();

  std::thread producer([&ring, producer_seed] {
    std::mt19937_64 r(producer_seed);
    std::int64_t number = 0;
    while (number < kItems) {
      const std::int64_t n = std::min<std::int64_t>(1 + static_cast<std::int64_t>(r() % 16), kItems - number);
      Claim c;
      switch (r() % 3) {
        case 0:
          c = ring.claim();
          break;
        case 1:
          c = ring.claim(n);
          break;
        default:
          while ((c = ring.try_claim(n)).status == ClaimStatus::kFull) std::this_thread::yield();
      }
      if (!c.ok()) std::abort();
      for (std::int64_t s = c.first; s <= c.last; ++s, ++number) {
        ring[s].number = number;
        ring[s].check = Check(number);
      }
      ring.publish(c);
    }
  });

  BatchConsumer consumer(ring, max_batch);
  std::int64_t expected = 0, errors = 0, too_big = 0;
  std::uint64_t polls = 0;
  while (expected < kItems) {
    auto handle = [&](Item& item, std::int64_t seq, bool) {
      if (item.number != expected || seq != expected || item.check != Check(expected)) ++errors;
      ++expected;
    };
    const BatchResult r = (polls++ % 2 == 0) ? consumer.process_batch(handle) : consumer.try_process_batch(handle);
    REQUIRE(r.status != ConsumeStatus::kShutDown);
    if (r.count > max_batch) ++too_big;
  }
  producer.join();
  std::printf("ring_spsc_stress: max_batch=%lld full=%llu\n", static_cast<long long>(max_batch),
              static_cast<unsigned long long>(ring.full_count()));
  CHECK(errors == 0);
  CHECK(too_big == 0);
  CHECK(expected == kItems);
}
