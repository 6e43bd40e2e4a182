// AggregateStore::Remove: backward-shift deletion in the slots and compaction of the dense
// entries, checked against std::unordered_map over random inserts, updates and removals
// (RILL_STORE_SEED=<seed> replays a run), plus the corner cases by hand.
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <unordered_map>

#include "rill/engine/aggregate_store.h"

namespace {

struct State {
  std::uint64_t a = 0;
  std::int32_t b = 0;
};
using Store = rill::engine::AggregateStore<State>;

std::uint64_t StoreSeed() {
  const char* env = std::getenv("RILL_STORE_SEED");
  const std::uint64_t seed = env != nullptr ? std::strtoull(env, nullptr, 10) : std::random_device{}();
  std::printf("aggregate store removal test: seed %llu (rerun with RILL_STORE_SEED=%llu)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  return seed;
}

// Every id of the model is found with its value, the store holds nothing else, and every slot
// points at the entry of its own id.
void RequireSame(const Store& store, const std::unordered_map<std::uint64_t, std::uint64_t>& model) {
  REQUIRE(store.size() == model.size());
  for (const auto& [id, v] : model) {
    const auto i = store.Find(id);
    REQUIRE(i != Store::kNone);
    REQUIRE(store.id(i) == id);
    REQUIRE(store.version(i) == v);
    REQUIRE(store.state(i).a == id * 3 + v);
  }
  std::size_t n = 0;
  store.ForEach([&](std::uint64_t id, std::uint64_t v, const State& s) {
    ++n;
    REQUIRE(model.count(id) == 1);
    REQUIRE(model.at(id) == v);
    REQUIRE(s.a == id * 3 + v);
  });
  REQUIRE(n == model.size());
}

}  // namespace

TEST_CASE("removal matches std::unordered_map over random operations", "[engine][store]") {
  const std::uint64_t seed = StoreSeed();
  INFO("seed " << seed << " (RILL_STORE_SEED)");
  std::mt19937_64 rng(seed);
  Store store;
  std::unordered_map<std::uint64_t, std::uint64_t> model;
  // Ids from a small range (many collisions, ids coming back after removal) and clustered
  // multiples of the table size (long probe runs that wrap around the end).
  const auto pick = [&]() -> std::uint64_t {
    switch (rng() % 3) {
      case 0:
        return rng() % 300;
      case 1:
        return (rng() % 64) << 20;
      default:
        return rng();
    }
  };
  for (int step = 0; step < 200'000; ++step) {
    const std::uint64_t id = pick();
    const unsigned op = static_cast<unsigned>(rng() % 10);
    if (op < 5) {
      const auto i = store.FindOrInsert(id);
      const std::uint64_t v = store.version(i) + 1;
      store.set_version(i, v);
      store.mutable_state(i).a = id * 3 + v;
      model[id] = v;
    } else if (op < 9) {
      // Mostly ids that exist.
      std::uint64_t victim = id;
      if (!model.empty() && rng() % 4 != 0) {
        const auto i = static_cast<Store::Index>(rng() % store.size());
        victim = store.id(i);
      }
      const bool removed = store.Remove(victim);
      REQUIRE(removed == (model.erase(victim) == 1));
    } else {
      const auto i = store.Find(id);
      REQUIRE((i != Store::kNone) == (model.count(id) == 1));
    }
    if (step % 5'000 == 0) RequireSame(store, model);
  }
  RequireSame(store, model);
  while (!model.empty()) {
    const std::uint64_t id = model.begin()->first;
    REQUIRE(store.Remove(id));
    model.erase(id);
  }
  RequireSame(store, model);
}

TEST_CASE("removal by hand: first, middle and last entries, an absent id, no growth", "[engine][store]") {
  Store store;  // 16 slots, at most 8 used: every probe run is short and may wrap around
  std::unordered_map<std::uint64_t, std::uint64_t> model;
  for (std::uint64_t k = 0; k < 7; ++k) {
    const std::uint64_t id = k * 0x1000;
    const auto i = store.FindOrInsert(id);
    store.set_version(i, 1);
    store.mutable_state(i).a = id * 3 + 1;
    model[id] = 1;
  }
  for (std::uint64_t id : {std::uint64_t{0}, std::uint64_t{3 * 0x1000}, std::uint64_t{6 * 0x1000}}) {
    REQUIRE(store.Remove(id));
    model.erase(id);
    RequireSame(store, model);
  }
  CHECK_FALSE(store.Remove(0));
  // Removal never grows the footprint; reinsertion up to the old peak allocates nothing more.
  const std::size_t bytes = store.memory_bytes();
  for (std::uint64_t id = 100; id < 103; ++id) store.set_version(store.FindOrInsert(id), 1);
  CHECK(store.memory_bytes() == bytes);
}
