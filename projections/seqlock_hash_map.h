// rill/projections/seqlock_hash_map.h: a hash map from sparse uint64 keys (order ids, SKU
// codes) to small records, written by one thread and read by any, without locks or torn values.
//
//   SeqlockHashMap<Order> orders(/*expected=*/100'000);          // Reserve: no allocation below it
//   orders.Upsert(id, [&](Order& o) { o.quantity += q; });      // projector thread; new key: Order{}
//   orders.Erase(id);                                            // projector thread: the order ended
//   std::optional<Order> o = orders.Get(id);                     // any thread
//   orders.ForEach([](std::uint64_t id, const Order& o) { ... }); // any thread, weakly consistent
//
// Open addressing with linear probing over slots that each hold a SeqlockWords cell (state,
// key, record words), so a reader copies a slot exactly as it copies a ChunkedArray record
// (seqlock.h, the "fences" variant) and the writer never waits for readers. Dense ids belong
// in a ChunkedArray (no hashing, no probing); use this map when ids are sparse.
//
// Erase leaves a tombstone: entries never move inside a table, so a reader probing for a key
// that is present the whole time always finds it (backward-shift deletion would move an entry
// behind a probing reader's back). A tombstone followed by an empty slot becomes empty again
// at once; the others are dropped by the next rehash. Invariant: for a key stored at slot p,
// every slot from its home slot to p is non-empty (full or tombstone).
//
// Growth and cleanup: when an insert would fill more than 3/4 of the slots (live entries plus
// tombstones), the writer copies the live entries into another table and publishes it: twice
// the size when more than half would be live, else a same-size "spare" table. Tables are never
// freed while the map lives (a reader holds no reference count, so nothing says when it left).
// Growth retires the old table and its spare (halving sizes: together under twice the new one).
// Same-size cleanups alternate between the current table and one spare, so churn (insert,
// erase, insert...) does not grow memory: each table carries a generation, odd while the writer
// refills it, and a reader that saw it change starts its lookup again on the published table.
// Memory: at most ~4x the current table (current + spare + retired); Reserve(n) allocates the
// table and its spare once, after which nothing allocates while at most n keys are live.
//
// Thread safety: Reserve/Upsert/Put/Erase from the one writer thread (the projector; a model's
// Load may run on the controlling thread before the projector starts). Get/ForEach/size/
// capacity from any thread.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

#include "rill/base/splitmix64.h"
#include "rill/projections/seqlock.h"

namespace rill::projections {

template <typename Record>
class SeqlockHashMap {
  static_assert(std::is_trivially_copyable_v<Record>,
                "SeqlockHashMap<Record>: records are copied word by word, so must be trivially copyable");
  static_assert(std::is_default_constructible_v<Record>,
                "SeqlockHashMap<Record>: Upsert starts a new key from Record{}");

 public:
  static constexpr std::size_t kRecordWords = (sizeof(Record) + 7) / 8;
  static constexpr std::size_t kMinCapacity = 16;

  explicit SeqlockHashMap(std::size_t expected = 0) {
    table_ = NewTable(CapacityFor(expected));
    current_.store(table_, std::memory_order_relaxed);  // published by whatever publishes the map
    if (expected > 0) spare_ = NewTable(table_->capacity());
  }
  SeqlockHashMap(const SeqlockHashMap&) = delete;
  SeqlockHashMap& operator=(const SeqlockHashMap&) = delete;

  // Writer: room for n live keys without growing, and the spare for cleanups, allocated now.
  void Reserve(std::size_t n) {
    if (CapacityFor(n) > table_->capacity()) Rehash(CapacityFor(n));
    if (spare_ == nullptr) spare_ = NewTable(table_->capacity());
  }

  // Writer: fn(Record&) updates the key's record in place (a new key starts from Record{}); the
  // change is published in one seqlock write. True when the key was inserted.
  template <typename F>
  bool Upsert(std::uint64_t key, F&& fn) {
    Table* t = table_;
    std::size_t tomb = kNone;
    std::size_t i = Home(*t, key);
    for (;; i = (i + 1) & t->mask) {  // ends: a table always has an empty slot (load <= 3/4)
      Slot& s = t->slots[i];
      const std::uint64_t state = s.OwnWord(kState);
      if (state == kEmpty) break;
      if (state == kFull && s.OwnWord(kKey) == key) {
        Record r = OwnRecord(s);
        fn(r);
        s.BeginWrite();
        WriteRecord(s, r);
        s.EndWrite();
        return false;
      }
      if (state == kTombstone && tomb == kNone) tomb = i;
    }
    if (tomb == kNone && (live_ + tombstones_ + 1) * 4 > t->capacity() * 3) {
      // No tombstone to reuse and the table is full enough: rehash, then probe the new table.
      Rehash((live_ + 1) * 2 > t->capacity() ? CapacityFor(live_ + 1) : t->capacity());
      t = table_;
      for (i = Home(*t, key); t->slots[i].OwnWord(kState) != kEmpty; i = (i + 1) & t->mask) {
      }
    } else if (tomb != kNone) {
      i = tomb;  // the key is absent (probed to an empty slot), so its first tombstone may hold it
      --tombstones_;
    }
    Record r{};
    fn(r);
    Slot& s = t->slots[i];
    s.BeginWrite();
    s.WriteWord(kKey, key);
    WriteRecord(s, r);
    s.WriteWord(kState, kFull);
    s.EndWrite();
    size_.store(++live_, std::memory_order_relaxed);  // relaxed: a count, orders nothing
    return true;
  }
  // Writer: sets the key's record. True when the key was inserted.
  bool Put(std::uint64_t key, const Record& value) {
    return Upsert(key, [&](Record& r) { r = value; });
  }

  // Writer: removes the key (leaves a tombstone, see above). False when it was absent.
  bool Erase(std::uint64_t key) {
    Table& t = *table_;
    std::size_t i = Home(t, key);
    for (;; i = (i + 1) & t.mask) {
      const std::uint64_t state = t.slots[i].OwnWord(kState);
      if (state == kEmpty) return false;
      if (state == kFull && t.slots[i].OwnWord(kKey) == key) break;
    }
    WriteState(t.slots[i], kTombstone);
    ++tombstones_;
    size_.store(--live_, std::memory_order_relaxed);
    // If the next slot is empty, no key's probe path runs through slot i (Invariant), so i and
    // the tombstones right before it can be empty again: readers looking for a present key never
    // reach them, and readers looking for an absent key stop earlier, which is still right.
    if (t.slots[(i + 1) & t.mask].OwnWord(kState) == kEmpty) {
      for (; t.slots[i].OwnWord(kState) == kTombstone; i = (i - 1) & t.mask) {
        WriteState(t.slots[i], kEmpty);
        --tombstones_;
      }
    }
    return true;
  }

  // Any thread: the key's record, never torn; nullopt when absent. A key present during the
  // whole call is found; one inserted or erased meanwhile may or may not be.
  std::optional<Record> Get(std::uint64_t key) const noexcept {
    for (unsigned attempt = 0;; Backoff(attempt)) {
      // Acquire: pairs with the release in Rehash, so the published table's slots are visible.
      const Table* t = current_.load(std::memory_order_acquire);
      // Acquire: pairs with the release that made the generation odd in Rehash: a reader that
      // sees it odd also sees the newer table in current_ on its next attempt.
      const std::uint64_t gen = t->gen.load(std::memory_order_acquire);
      if (gen & 1) continue;
      std::optional<Record> found;
      std::size_t i = Home(*t, key);
      for (std::size_t n = 0; n <= t->mask; ++n, i = (i + 1) & t->mask) {  // bounded if t is refilled
        std::uint64_t w[kSlotWords];
        ReadSlot(t->slots[i], w);
        if (w[kState] == kEmpty) break;
        if (w[kState] == kFull && w[kKey] == key) {
          found.emplace(ToRecord(w));
          break;
        }
      }
      // Acquire fence: the slot loads above are ordered before the re-read of the generation,
      // so if one of them saw a refill's write, the re-read sees the refill's odd (or later) value.
      std::atomic_thread_fence(std::memory_order_acquire);
      if (t->gen.load(std::memory_order_relaxed) == gen) return found;
    }
  }

  // Any thread: f(key, const Record&) for each live key. Weakly consistent: each record is
  // consistent, keys present during the whole walk are visited, keys inserted or erased
  // meanwhile may or may not be. When the writer rehashes the table during the walk (growth, or
  // a cleanup: at most once per capacity/4 inserts) the walk starts over on the new table, so f
  // may then see a key again. On the writer thread nothing rehashes meanwhile: exactly once.
  template <typename F>
  void ForEach(F&& f) const {
    for (unsigned attempt = 0;; Backoff(attempt)) {
      const Table* t = current_.load(std::memory_order_acquire);  // as in Get
      const std::uint64_t gen = t->gen.load(std::memory_order_acquire);
      if (gen & 1) continue;
      bool changed = false;
      for (std::size_t i = 0; i <= t->mask; ++i) {
        std::uint64_t w[kSlotWords];
        ReadSlot(t->slots[i], w);
        std::atomic_thread_fence(std::memory_order_acquire);  // as in Get, per slot: f only sees
        if (t->gen.load(std::memory_order_relaxed) != gen) {  // slots read before any refill
          changed = true;
          break;
        }
        if (w[kState] == kFull) f(w[kKey], ToRecord(w));
      }
      if (!changed) return;
    }
  }

  // Any thread: live keys (relaxed: exact on the writer thread, a recent value elsewhere).
  std::size_t size() const noexcept { return size_.load(std::memory_order_relaxed); }
  bool empty() const noexcept { return size() == 0; }
  // Any thread: slots in the published table.
  std::size_t capacity() const noexcept { return current_.load(std::memory_order_acquire)->capacity(); }
  // Writer: tables allocated so far (current, spare and retired ones; for tests and metrics).
  std::size_t tables_allocated() const noexcept { return tables_.size(); }
  // Writer: rehashes so far (growth and cleanups).
  std::uint64_t rehashes() const noexcept { return rehashes_; }

 private:
  static constexpr std::size_t kState = 0, kKey = 1, kFirstRecordWord = 2;
  static constexpr std::size_t kSlotWords = kFirstRecordWord + kRecordWords;
  static constexpr std::uint64_t kEmpty = 0, kFull = 1, kTombstone = 2;
  static constexpr std::size_t kNone = ~std::size_t{0};
  using Slot = SeqlockWords<kSlotWords>;

  struct Table {
    explicit Table(std::size_t capacity) : mask(capacity - 1), slots(new Slot[capacity]) {}
    std::size_t capacity() const noexcept { return mask + 1; }
    const std::size_t mask;
    std::atomic<std::uint64_t> gen{0};  // odd while the writer refills this table (a spare)
    const std::unique_ptr<Slot[]> slots;
  };

  // A table where n live keys fill at most half the slots.
  static std::size_t CapacityFor(std::size_t n) noexcept { return std::max(kMinCapacity, std::bit_ceil(n * 2 + 1)); }
  static std::size_t Home(const Table& t, std::uint64_t key) noexcept {
    return static_cast<std::size_t>(SplitMix64Mix(key)) & t.mask;  // sequential ids spread out
  }
  static void Backoff(unsigned& attempt) noexcept {
    // The writer holds a slot odd for a few stores, but may be preempted meanwhile (threads
    // can outnumber cores): yield rather than spin for a whole time slice.
    if (++attempt < 64) {
      Slot::CpuRelax();
    } else {
      std::this_thread::yield();
    }
  }
  static void ReadSlot(const Slot& s, std::uint64_t* w) noexcept {
    for (unsigned attempt = 0; !s.TryRead(w); Backoff(attempt)) {
    }
  }
  static Record ToRecord(const std::uint64_t* w) noexcept {
    Record r;
    // void*: a trivially copyable Record may still have member initializers (gcc warns).
    std::memcpy(static_cast<void*>(&r), w + kFirstRecordWord, sizeof(Record));
    return r;
  }
  static Record OwnRecord(const Slot& s) noexcept {
    std::uint64_t w[kRecordWords];
    for (std::size_t k = 0; k < kRecordWords; ++k) w[k] = s.OwnWord(kFirstRecordWord + k);
    Record r;
    std::memcpy(static_cast<void*>(&r), w, sizeof(Record));
    return r;
  }
  // Inside BeginWrite/EndWrite.
  static void WriteRecord(Slot& s, const Record& r) noexcept {
    std::uint64_t w[kRecordWords] = {};
    std::memcpy(w, &r, sizeof(Record));
    for (std::size_t k = 0; k < kRecordWords; ++k) s.WriteWord(kFirstRecordWord + k, w[k]);
  }
  static void WriteState(Slot& s, std::uint64_t state) noexcept {
    s.BeginWrite();
    s.WriteWord(kState, state);
    s.EndWrite();
  }

  Table* NewTable(std::size_t capacity) {
    tables_.push_back(std::make_unique<Table>(capacity));
    return tables_.back().get();
  }

  // Writer: copies the live entries into a table of `capacity` slots and publishes it.
  void Rehash(std::size_t capacity) {
    Table* target = nullptr;
    const bool reuse = capacity == table_->capacity() && spare_ != nullptr;
    if (reuse) {
      target = spare_;
      // Release store: a reader that sees the odd generation also sees current_ (stored before,
      // when this table was retired) pointing elsewhere. Release fence: the odd value is visible
      // before any slot write below (as in SeqlockWords::BeginWrite).
      const std::uint64_t g = target->gen.load(std::memory_order_relaxed);
      target->gen.store(g + 1, std::memory_order_release);
      std::atomic_thread_fence(std::memory_order_release);
      for (std::size_t i = 0; i <= target->mask; ++i)
        if (target->slots[i].OwnWord(kState) != kEmpty) WriteState(target->slots[i], kEmpty);
    } else {
      target = NewTable(capacity);
    }
    for (std::size_t i = 0; i <= table_->mask; ++i) {
      const Slot& from = table_->slots[i];
      if (from.OwnWord(kState) != kFull) continue;
      const std::uint64_t key = from.OwnWord(kKey);
      std::size_t j = Home(*target, key);
      while (target->slots[j].OwnWord(kState) != kEmpty) j = (j + 1) & target->mask;
      Slot& to = target->slots[j];
      to.BeginWrite();
      to.WriteWord(kKey, key);
      for (std::size_t k = kFirstRecordWord; k < kSlotWords; ++k) to.WriteWord(k, from.OwnWord(k));
      to.WriteWord(kState, kFull);
      to.EndWrite();
    }
    // Release (even generation): the refill happens-before a reader's acquire load that sees it.
    if (reuse) target->gen.store(target->gen.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    // Release: pairs with the acquire in Get; readers that see the new table see it filled.
    current_.store(target, std::memory_order_release);
    Table* old = table_;
    table_ = target;
    tombstones_ = 0;
    ++rehashes_;
    // The old table of the same size becomes the next spare; after growth it and the old spare
    // are retired (kept, never written again) and a new spare is allocated at the next cleanup.
    spare_ = old->capacity() == target->capacity() ? old : nullptr;
  }

  // Writer-private.
  Table* table_ = nullptr;  // == current_
  Table* spare_ = nullptr;  // same capacity as table_, not published, or nullptr
  std::size_t live_ = 0;
  std::size_t tombstones_ = 0;
  std::uint64_t rehashes_ = 0;
  std::vector<std::unique_ptr<Table>> tables_;  // every table ever allocated, freed with the map
  // Shared with readers.
  std::atomic<Table*> current_{nullptr};
  std::atomic<std::size_t> size_{0};
};

}  // namespace rill::projections
