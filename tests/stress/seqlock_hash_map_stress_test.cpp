// Stress: readers on several threads while one writer inserts, updates, erases, re-inserts and
// grows a SeqlockHashMap (projections/seqlock_hash_map.h). Run under tsan too.
//
// The writer fills a fresh map per round (so tables grow, 16 slots to thousands, while readers
// read), with a few "stable" keys that are never erased and many churning keys that are erased
// and come back (tombstones, same-size cleanups into the spare table). Every record keeps
// a == -b and names its own key; its version only grows, across erase and re-insert too.
//
// Forbidden outcomes:
//   1. a torn record: a != -b, or a record whose key field is not the key asked for;
//   2. a key's version going backwards as seen by one reader;
//   3. Get not finding a stable key (present from before the readers start to the end);
//   4. ForEach yielding a torn record, or not visiting a stable key;
//   5. after the writer stops, the map differing from the writer's std::unordered_map.
// Allowed: Get missing a churning key, ForEach visiting a key twice when a rehash intervened.
// Threads outnumber cores here: nobody waits for anybody else to make progress.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <random>
#include <thread>
#include <unordered_map>
#include <vector>

#include "rill/projections/seqlock_hash_map.h"

using rill::projections::SeqlockHashMap;

namespace {

struct Record {
  std::int64_t a = 0;
  std::int64_t b = 0;  // == -a
  std::uint64_t key = 0;
  std::uint64_t version = 0;
};

constexpr int kMaps = 6;
constexpr std::uint64_t kKeys = 12064;  // key indexes per map
constexpr std::uint64_t kStable = 64;   // indexes [0, kStable) are never erased
// Live orders, so that ~49% of the slots are live and tombstones force frequent cleanups: in
// even rounds 64 + 1950 live keys (the table grows to 4096 slots), in odd ones 64 + 190 (512).
constexpr std::uint64_t kWindow[2] = {1950, 190};
constexpr int kReaders = 3;  // + a ForEach reader + the writer: more threads than cores

std::uint64_t KeyOf(std::uint64_t index) { return (index + 1) * 0x9e3779b97f4a7c15ull; }  // sparse, distinct

}  // namespace

TEST_CASE("seqlock hash map readers never see a torn record while the writer grows and erases",
          "[stress][projections][hashmap]") {
  std::array<SeqlockHashMap<Record>, kMaps> maps;
  std::atomic<int> round{-1};  // the map the writer is filling (-1: none yet); release/acquire: see below
  std::atomic<bool> done{false};
  std::atomic<int> violations[6] = {};
  std::atomic<std::uint64_t> reads{0}, walks{0};
  std::vector<std::unordered_map<std::uint64_t, Record>> refs(kMaps);

  std::thread writer([&] {
    std::mt19937_64 rng(20240616);
    for (int r = 0; r < kMaps; ++r) {
      SeqlockHashMap<Record>& m = maps[r];
      auto& ref = refs[r];
      std::vector<std::uint64_t> version(kKeys, 0);
      auto touch = [&](std::uint64_t index) {
        const std::uint64_t key = KeyOf(index);
        const std::int64_t d = static_cast<std::int64_t>(rng() % 1000) - 500;
        const std::uint64_t v = ++version[index];
        m.Upsert(key, [&](Record& rec) {
          rec.a += d;
          rec.b -= d;
          rec.key = key;
          rec.version = v;
        });
        Record& x = ref[key];
        x.a += d;
        x.b -= d;
        x.key = key;
        x.version = v;
      };
      for (std::uint64_t i = 0; i < kStable; ++i) touch(i);
      // Release: the stable keys are in the map before a reader that sees this round looks.
      round.store(r, std::memory_order_release);
      // Orders: a window of kWindow live ones; each new order ends (erases) the oldest. Order
      // keys cycle through kKeys - kStable indexes, so ended keys come back later.
      std::uint64_t oldest = 0, next = 0;
      auto order = [](std::uint64_t n) { return kStable + n % (kKeys - kStable); };
      for (int step = 0; step < 80'000; ++step) {
        if (step % 2) {
          touch(rng() % kStable);  // readers race with these writes
        } else if (next == oldest || rng() % 2) {
          if (next - oldest == kWindow[r % 2]) {
            m.Erase(KeyOf(order(oldest)));
            ref.erase(KeyOf(order(oldest)));
            ++oldest;
          }
          touch(order(next++));
        } else {
          touch(order(oldest + rng() % (next - oldest)));
        }
      }
    }
    done.store(true, std::memory_order_release);
  });

  auto check = [&](std::uint64_t key, const Record& rec) {
    if (rec.a != -rec.b || rec.key != key) violations[1].fetch_add(1);
  };
  std::vector<std::thread> readers;
  for (int t = 0; t < kReaders; ++t) {
    readers.emplace_back([&, t] {
      std::mt19937_64 rng(7 + t);
      std::vector<std::uint64_t> seen(kKeys * kMaps, 0);
      std::uint64_t n = 0;
      // At least a few thousand reads each, however the threads are scheduled.
      while (!done.load(std::memory_order_acquire) || n < 5'000) {
        const int r = round.load(std::memory_order_acquire);
        if (r < 0) {
          std::this_thread::yield();
          continue;
        }
        const std::uint64_t index = rng() % (n % 2 == 0 ? kStable : kKeys);
        const std::uint64_t key = KeyOf(index);
        const auto got = maps[r].Get(key);
        ++n;
        if (!got) {
          if (index < kStable) violations[3].fetch_add(1);
          continue;
        }
        check(key, *got);
        std::uint64_t& last = seen[r * kKeys + index];
        if (got->version < last) violations[2].fetch_add(1);
        last = got->version;
      }
      reads.fetch_add(n);
    });
  }
  readers.emplace_back([&] {
    std::uint64_t n = 0;
    std::vector<std::uint8_t> stable_seen(kStable);
    while (!done.load(std::memory_order_acquire) || n < 50) {
      const int r = round.load(std::memory_order_acquire);
      if (r < 0) {
        std::this_thread::yield();
        continue;
      }
      std::fill(stable_seen.begin(), stable_seen.end(), 0);
      maps[r].ForEach([&](std::uint64_t key, const Record& rec) {
        check(key, rec);
        for (std::uint64_t i = 0; i < kStable; ++i)
          if (KeyOf(i) == key) stable_seen[i] = 1;
      });
      for (std::uint8_t s : stable_seen)
        if (!s) violations[4].fetch_add(1);
      ++n;
    }
    walks.fetch_add(n);
  });

  writer.join();
  for (auto& t : readers) t.join();

  for (int r = 0; r < kMaps; ++r) {
    std::size_t visited = 0;
    maps[r].ForEach([&](std::uint64_t key, const Record& rec) {
      ++visited;
      const auto it = refs[r].find(key);
      if (it == refs[r].end() || it->second.a != rec.a || it->second.version != rec.version) violations[5].fetch_add(1);
    });
    if (visited != refs[r].size() || maps[r].size() != refs[r].size()) violations[5].fetch_add(1);
    // It grew (from 16 slots) and reused its spare table for cleanups while readers read.
    INFO("map " << r << ": " << maps[r].rehashes() << " rehashes, " << maps[r].tables_allocated() << " tables");
    CHECK(maps[r].capacity() >= (r % 2 ? 512u : 4096u));
    CHECK(maps[r].rehashes() > maps[r].tables_allocated());
  }
  INFO("reads " << reads.load() << ", walks " << walks.load());
  for (int k = 1; k <= 5; ++k) {
    INFO("forbidden outcome " << k);
    CHECK(violations[k].load() == 0);
  }
  CHECK(reads.load() >= kReaders * 5'000u);
}
