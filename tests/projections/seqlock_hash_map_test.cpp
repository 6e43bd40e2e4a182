// Tests of projections/seqlock_hash_map.h on one thread: insert, update, erase, growth and
// tombstone cleanup, and a randomized run against std::unordered_map (seed printed; replay it
// with RILL_TEST_SEED=<seed>). Concurrent readers: tests/stress/seqlock_hash_map_stress_test.cpp.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <unordered_map>

#include "rill/projections/seqlock_hash_map.h"
#include "rill/tests/support/allocation_counter.h"

using rill::projections::SeqlockHashMap;

namespace {

struct Order {
  std::uint64_t sku = 0;
  std::int64_t quantity = 0;
  std::uint16_t state = 0;  // padding after it: records need not be a whole number of words
};
bool operator==(const Order& a, const Order& b) {
  return a.sku == b.sku && a.quantity == b.quantity && a.state == b.state;
}

std::uint64_t SeedFromEnvOr(std::uint64_t fallback) {
  if (const char* s = std::getenv("RILL_TEST_SEED")) return std::strtoull(s, nullptr, 10);
  return fallback;
}

template <typename R>
std::map<std::uint64_t, R> Contents(const SeqlockHashMap<R>& m) {
  std::map<std::uint64_t, R> out;
  m.ForEach([&](std::uint64_t k, const R& r) { CHECK(out.emplace(k, r).second); });  // each key once
  return out;
}

}  // namespace

TEST_CASE("upsert inserts a new key from Record{} and updates an existing one in place", "[projections][hashmap]") {
  SeqlockHashMap<Order> m;
  CHECK(m.empty());
  CHECK_FALSE(m.Get(7).has_value());
  CHECK(m.Upsert(7, [](Order& o) {
    CHECK(o == Order{});
    o.sku = 70;
    o.quantity = 3;
  }));
  CHECK_FALSE(m.Upsert(7, [](Order& o) { o.quantity += 2; }));
  REQUIRE(m.Get(7).has_value());
  CHECK(*m.Get(7) == Order{70, 5, 0});
  CHECK(m.size() == 1);
  CHECK(m.Put(0, Order{1, 1, 1}));                  // key 0 is an ordinary key
  CHECK(m.Put(~std::uint64_t{0}, Order{2, 2, 2}));  // so is the largest
  CHECK(m.Get(0)->sku == 1);
  CHECK(m.Get(~std::uint64_t{0})->sku == 2);
  CHECK(m.size() == 3);
}

TEST_CASE("erase removes a key, and the key can come back", "[projections][hashmap]") {
  SeqlockHashMap<Order> m;
  for (std::uint64_t k = 1; k <= 5; ++k) m.Put(k * 1'000'003, Order{k, 0, 0});
  CHECK(m.Erase(3 * 1'000'003));
  CHECK_FALSE(m.Erase(3 * 1'000'003));
  CHECK_FALSE(m.Erase(42));
  CHECK_FALSE(m.Get(3 * 1'000'003).has_value());
  CHECK(m.size() == 4);
  for (std::uint64_t k : {1, 2, 4, 5}) CHECK(m.Get(k * 1'000'003)->sku == k);
  CHECK(m.Upsert(3 * 1'000'003, [](Order& o) { CHECK(o == Order{}); }));  // a new key again: Record{}
  CHECK(m.size() == 5);
  CHECK(Contents(m).size() == 5);
}

TEST_CASE("the map grows past its reserve and keeps every key", "[projections][hashmap]") {
  SeqlockHashMap<Order> m(/*expected=*/10);
  const std::size_t first_capacity = m.capacity();
  for (std::uint64_t k = 0; k < 10; ++k) m.Put(k << 40, Order{k, 0, 0});
  CHECK(m.capacity() == first_capacity);  // no growth within the reserve
  CHECK(m.tables_allocated() == 2);       // the table and its spare
  for (std::uint64_t k = 10; k < 10'000; ++k) m.Put(k << 40, Order{k, 0, 0});
  CHECK(m.capacity() > first_capacity);
  CHECK(m.size() * 4 <= m.capacity() * 3);  // at most 3/4 full
  for (std::uint64_t k = 0; k < 10'000; ++k) REQUIRE(m.Get(k << 40)->sku == k);
  CHECK(Contents(m).size() == 10'000);
}

TEST_CASE("churn within the reserve reuses the spare table and never allocates", "[projections][hashmap]") {
  // Orders that come and go: tombstones pile up and force same-size cleanups, which must
  // alternate between the two tables Reserve allocated.
  constexpr std::uint64_t kLive = 120;
  SeqlockHashMap<Order> m(/*expected=*/kLive);
  const std::size_t capacity = m.capacity();
  std::vector<std::uint64_t> live(kLive + 1);  // a ring of the live keys, allocated before counting
  int wrong = 0;                               // no Catch assertion inside the counted loop
  const long before = rill::test::ThreadAllocations();
  for (std::uint64_t n = 1; n <= 50'000; ++n) {
    const std::uint64_t key = n * 0x9e3779b97f4a7c15ull;
    if (n > kLive && !m.Erase(live[(n - kLive) % (kLive + 1)])) ++wrong;  // the oldest
    live[n % (kLive + 1)] = key;
    m.Put(key, Order{n, 0, 1});
    if (m.Get(key)->sku != n) ++wrong;
  }
  CHECK(rill::test::ThreadAllocations() - before == 0);
  CHECK(wrong == 0);
  CHECK(m.capacity() == capacity);
  CHECK(m.tables_allocated() == 2);
  CHECK(m.rehashes() > 10);  // cleanups did happen
  CHECK(m.size() == kLive);
  for (std::uint64_t n = 50'000 - kLive + 1; n <= 50'000; ++n) CHECK(m.Get(n * 0x9e3779b97f4a7c15ull)->sku == n);
}

TEST_CASE("erasing the end of a cluster frees its tombstones at once", "[projections][hashmap]") {
  SeqlockHashMap<Order> m(/*expected=*/4);
  // Insert and erase many keys one at a time: each erase leaves the only entry's slot followed
  // by an empty slot, so no tombstone survives and no cleanup rehash is ever needed.
  for (std::uint64_t k = 1; k < 100'000; ++k) {
    m.Put(k, Order{k, 0, 0});
    REQUIRE(m.Erase(k));
  }
  CHECK(m.rehashes() == 0);
  CHECK(m.empty());
}

TEST_CASE("randomized operations agree with std::unordered_map", "[projections][hashmap]") {
  const std::uint64_t seed = SeedFromEnvOr(std::random_device{}());
  std::printf("seqlock_hash_map randomized test: seed %llu (replay with RILL_TEST_SEED=%llu)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  INFO("seed " << seed << " (replay with RILL_TEST_SEED=" << seed << ")");
  std::mt19937_64 rng(seed);
  const std::size_t reserve = rng() % 2 ? 0 : 256;
  SeqlockHashMap<Order> m(reserve);
  std::unordered_map<std::uint64_t, Order> ref;
  // A small key space so that inserts, updates, erases and re-inserts of the same keys mix;
  // sometimes sparse (large, spread) keys, sometimes dense ones that collide in the low bits.
  const std::uint64_t space = 64 + rng() % 4000;
  const std::uint64_t stride = rng() % 2 ? 1 : (std::uint64_t{1} << (20 + rng() % 40));
  for (int step = 0; step < 200'000; ++step) {
    const std::uint64_t key = (rng() % space) * stride;
    const int op = static_cast<int>(rng() % 100);
    if (op < 45) {
      const std::int64_t q = static_cast<std::int64_t>(rng() % 100);
      const bool inserted = m.Upsert(key, [&](Order& o) {
        o.sku = key;
        o.quantity += q;
        o.state = 1;
      });
      const bool ref_inserted = ref.count(key) == 0;
      Order& r = ref[key];
      r.sku = key;
      r.quantity += q;
      r.state = 1;
      REQUIRE(inserted == ref_inserted);
    } else if (op < 85) {
      REQUIRE(m.Erase(key) == (ref.erase(key) == 1));
    } else {
      const auto got = m.Get(key);
      const auto it = ref.find(key);
      REQUIRE(got.has_value() == (it != ref.end()));
      if (got) REQUIRE(*got == it->second);
    }
    REQUIRE(m.size() == ref.size());
  }
  const auto all = Contents(m);
  REQUIRE(all.size() == ref.size());
  for (const auto& [k, r] : ref) REQUIRE(all.at(k) == r);
  if (reserve == 0) CHECK(m.rehashes() > 0);  // it grew from 16 slots
}
