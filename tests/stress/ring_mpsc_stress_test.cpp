// Stress: 4 producers x 1M commands through a 64-slot MpscRing (it wraps ~62k times).
//
// Forbidden outcomes:
//   - an item is lost or consumed twice (per-producer counts differ from what was sent);
//   - a producer's items arrive out of its order;
//   - a slot is read torn or stale (its checksum does not match its producer and number);
//   - a handler batch exceeds the maximum batch size, or end_of_batch is not on its last slot;
//   - anybody hangs (the test never finishes).
// Producers mix single claims, batch claims and try_claim (yield and retry on kFull); the
// consumer's maximum batch size is random. The seed is printed; RILL_STRESS_SEED replays it.
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

constexpr std::int64_t kPerProducer = 1'000'000;  // full count under TSan too: ~3 s there
constexpr int kProducers = 4;

struct Item {
  std::int32_t producer = -1;
  std::int64_t number = -1;
  std::uint64_t check = 0;
  std::byte pad[40] = {};  // a 64-byte command, like the real ones
};
static_assert(sizeof(Item) == 64);

std::uint64_t Check(std::int32_t producer, std::int64_t number) {
  return (static_cast<std::uint64_t>(number) * 0x9E3779B97F4A7C15ull) ^ static_cast<std::uint64_t>(producer + 1);
}

std::uint64_t Seed() {
  if (const char* s = std::getenv("RILL_STRESS_SEED")) return std::strtoull(s, nullptr, 10);
  return std::random_device{}();
}

}  // namespace

TEST_CASE("4 producers x 1M items through a small ring: each consumed once, in each producer's order",
          "[engine][ring][stress]") {
  const std::uint64_t seed = Seed();
  std::printf("ring_mpsc_stress seed=%llu (RILL_STRESS_SEED=%llu to replay)\n", static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(seed));
  std::fflush(stdout);

  MpscRing<Item> ring(64);
  std::mt19937_64 rng(seed);
  const std::int64_t max_batch = std::uniform_int_distribution<std::int64_t>(1, 64)(rng);
  BatchConsumer consumer(ring, max_batch);

  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    const std::uint64_t producer_seed = rng();
    producers.emplace_back([&ring, p, producer_seed] {
      std::mt19937_64 r(producer_seed);
      std::int64_t number = 0;
      while (number < kPerProducer) {
        const int mode = static_cast<int>(r() % 3);
        const std::int64_t n = std::min<std::int64_t>(1 + static_cast<std::int64_t>(r() % 8), kPerProducer - number);
        Claim c;
        if (mode == 0) {
          c = ring.claim();
        } else if (mode == 1) {
          c = ring.claim(n);
        } else {
          while ((c = ring.try_claim(n)).status == ClaimStatus::kFull) std::this_thread::yield();
        }
        if (!c.ok()) std::abort();  // nobody shuts this ring down
        for (std::int64_t s = c.first; s <= c.last; ++s, ++number) {
          Item& item = ring[s];
          item.producer = p;
          item.number = number;
          item.check = Check(p, number);
        }
        ring.publish(c);
      }
    });
  }

  std::vector<std::int64_t> next(kProducers, 0);
  std::int64_t consumed = 0, bad_order = 0, torn = 0, bad_batch = 0, batches = 0;
  std::int64_t in_batch = 0;
  while (consumed < kProducers * kPerProducer) {
    const BatchResult r = consumer.process_batch([&](Item& item, std::int64_t, bool end_of_batch) {
      ++in_batch;
      if (item.producer < 0 || item.producer >= kProducers || item.check != Check(item.producer, item.number)) {
        ++torn;
        return;
      }
      if (item.number != next[static_cast<std::size_t>(item.producer)]) ++bad_order;
      next[static_cast<std::size_t>(item.producer)] = item.number + 1;
      if (end_of_batch) {
        if (in_batch > max_batch) ++bad_batch;
        in_batch = 0;
        ++batches;
      }
    });
    REQUIRE(r.status == ConsumeStatus::kOk);
    if (in_batch != 0) ++bad_batch;  // end_of_batch was missing on the batch's last slot
    in_batch = 0;
    consumed += r.count;
  }
  for (auto& t : producers) t.join();
  std::printf("ring_mpsc_stress: max_batch=%lld batches=%lld full=%llu\n", static_cast<long long>(max_batch),
              static_cast<long long>(batches), static_cast<unsigned long long>(ring.full_count()));

  CHECK(torn == 0);
  CHECK(bad_order == 0);
  CHECK(bad_batch == 0);
  CHECK(consumed == kProducers * kPerProducer);
  for (int p = 0; p < kProducers; ++p) CHECK(next[static_cast<std::size_t>(p)] == kPerProducer);
  // Nothing more may arrive: every claimed slot was consumed exactly once.
  CHECK(consumer.try_process_batch([](Item&, std::int64_t, bool) {}).status == ConsumeStatus::kEmpty);
}
