// AggregateStore: the same answers as std::unordered_map over a random workload, stable
// indices across growth, no growth after reserve, and its memory per aggregate.
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <unordered_map>
#include <vector>

#include "rill/engine/aggregate_store.h"
#include "writer_test_util.h"

namespace {
struct State {
  std::int64_t balance = 0;
  std::uint64_t touches = 0;
};
using Store = rill::engine::AggregateStore<State>;
}  // namespace

TEST_CASE("aggregate store agrees with unordered_map on a random workload", "[writer][store]") {
  const std::uint64_t seed = rill::testing::TestSeed("aggregate store random test");
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  Store store;  // starts small: the workload forces several rehashes
  std::unordered_map<std::uint64_t, State> model;
  std::unordered_map<std::uint64_t, Store::Index> index_of;
  // Ids from a small range (hits), a sequential run (Fibonacci hashing's good case) and the
  // full 64-bit range, including 0 and the maximum.
  auto next_id = [&]() -> std::uint64_t {
    switch (rng() % 4) {
      case 0:
        return rng() % 5'000;
      case 1:
        return 1'000'000 + rng() % 50'000;
      case 2:
        return rng() % 2 == 0 ? 0 : std::numeric_limits<std::uint64_t>::max();
      default:
        return rng();
    }
  };
  for (int op = 0; op < 200'000; ++op) {
    const std::uint64_t id = next_id();
    if (rng() % 3 == 0) {
      const Store::Index i = store.Find(id);
      const auto it = model.find(id);
      REQUIRE((i == Store::kNone) == (it == model.end()));
      if (it != model.end()) {
        REQUIRE(i == index_of.at(id));
        REQUIRE(store.state(i).balance == it->second.balance);
        REQUIRE(store.version(i) == it->second.touches);
      }
    } else {
      const Store::Index i = store.FindOrInsert(id);
      const auto [it, inserted] = index_of.emplace(id, i);
      REQUIRE(it->second == i);  // indices never move
      const auto delta = static_cast<std::int64_t>(rng() % 1000) - 500;
      store.mutable_state(i).balance += delta;
      store.set_version(i, store.version(i) + 1);
      model[id].balance += delta;
      ++model[id].touches;
      REQUIRE(store.id(i) == id);
    }
  }
  REQUIRE(store.size() == model.size());
  std::size_t seen = 0;
  store.ForEach([&](std::uint64_t id, std::uint64_t version, const State& s) {
    ++seen;
    REQUIRE(model.at(id).balance == s.balance);
    REQUIRE(model.at(id).touches == version);
  });
  REQUIRE(seen == model.size());
}

TEST_CASE("aggregate store: a new entry has version 0 and a default state", "[writer][store]") {
  Store store;
  CHECK(store.Find(42) == Store::kNone);
  const Store::Index i = store.FindOrInsert(42);
  CHECK(store.version(i) == 0);
  CHECK(store.state(i).balance == 0);
  CHECK(store.FindOrInsert(42) == i);
  CHECK(store.Find(42) == i);
  CHECK(store.size() == 1);
}

TEST_CASE("aggregate store: reserve preallocates, so inserts up to n never allocate", "[writer][store]") {
  Store store;
  store.reserve(100'000);
  const std::size_t bytes = store.memory_bytes();
  for (std::uint64_t id = 0; id < 100'000; ++id) store.FindOrInsert(id * 7919);
  CHECK(store.memory_bytes() == bytes);
  CHECK(store.size() == 100'000);
  // 16-byte slots at most half full (262,144 of them here), 24-byte entries, 8-byte ids.
  std::printf("aggregate store: %.1f bytes per aggregate (16-byte state, 100k reserved)\n",
              store.bytes_per_aggregate());
  CHECK(store.bytes_per_aggregate() < 100.0);
  CHECK(store.bytes_per_aggregate() > 16.0);
}
