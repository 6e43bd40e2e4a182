// rill/engine/aggregate_store.h: every aggregate's state and stream version, owned by the
// writer thread. Open addressing (linear probing) maps a uint64 aggregate id to a dense index;
// the states sit in one dense array, next to their versions.
//
//   rill::engine::AggregateStore<Account> store;
//   store.reserve(5'000'000);                          // no rehash, no growth up to 5M aggregates
//   auto i = store.Find(account);                      // kNone when the stream has no entry
//   auto j = store.FindOrInsert(account);              // a new entry: version 0, State{}
//   store.state(j).balance += 100; store.set_version(j, store.version(j) + 1);
//   std::printf("%.1f bytes per aggregate\n", store.bytes_per_aggregate());
//
// Layout: slots_ (16 bytes: id, dense index) at most half full, so a probe for an absent id is
// short; entries_ ({version, State}: what decide and evolve touch, together); ids_ (cold:
// iteration and snapshots). Growth doubles (amortized); reserve(n) preallocates so the steady
// state never allocates.
// Removal (an aggregate whose kind ends, domain_kinds.h): backward-shift deletion in the slots
// (no tombstones, so probes never lengthen with history) and the last dense entry moves into
// the hole. So an Index is valid only until the next Remove: the command processor holds
// indices within one command and removes after the command's last use of them. The vectors
// keep their capacity (no allocation or shrinking on the writer's path): memory is bounded by
// the peak number of LIVE aggregates, not by how many ever existed.
// Thread safety: single-writer. Only the writer thread uses it; debug builds assert that every
// mutating call comes from the thread that first mutated it. Queries go through read models.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <thread>
#include <vector>

#include "rill/engine/huge_page_allocator.h"
#include "rill/engine/prefetch.h"

namespace rill::engine {

template <typename State>
class AggregateStore {
 public:
  using Index = std::uint32_t;
  static constexpr Index kNone = std::numeric_limits<Index>::max();

  explicit AggregateStore(std::size_t expected = 0) {
    // Not reserve(): the constructing thread (Engine::Open) is usually not the writer thread.
    Rehash(SlotsFor(expected));
    entries_.reserve(expected);
    ids_.reserve(expected);
  }
  AggregateStore(const AggregateStore&) = delete;
  AggregateStore& operator=(const AggregateStore&) = delete;

  // Preallocates for n aggregates: no allocation until there are more.
  void reserve(std::size_t n) {
    CheckOwner();
    entries_.reserve(n);
    ids_.reserve(n);
    if (SlotsFor(n) > slots_.size()) Rehash(SlotsFor(n));
  }

  // The entry of `id`, or kNone.
  Index Find(std::uint64_t id) const noexcept {
    CheckOwner();
    for (std::size_t s = Home(id);; s = (s + 1) & mask_) {
      const Slot& slot = slots_[s];
      if (slot.index == kNone) return kNone;
      if (slot.id == id) return slot.index;
    }
  }

  // The entry of `id`, created (version 0, State{}) when absent. May grow the arrays: earlier
  // references to states are invalid after it (indices stay valid).
  Index FindOrInsert(std::uint64_t id) {
    CheckOwner();
    std::size_t s = Home(id);
    for (;; s = (s + 1) & mask_) {
      const Slot& slot = slots_[s];
      if (slot.index == kNone) break;
      if (slot.id == id) return slot.index;
    }
    if ((entries_.size() + 1) * 2 > slots_.size()) {  // Invariant: at most half the slots are used
      Rehash(slots_.size() * 2);
      for (s = Home(id); slots_[s].index != kNone; s = (s + 1) & mask_) {
      }
    }
    assert(entries_.size() < kNone && "more aggregates than a 32-bit index can address");
    const auto index = static_cast<Index>(entries_.size());
    entries_.push_back(Entry{});
    ids_.push_back(id);
    slots_[s] = Slot{id, index, 0};
    return index;
  }

  // Removes `id`'s entry (false: none). Invalidates the Index of the entry that was last,
  // which now lives at the removed entry's Index.
  bool Remove(std::uint64_t id) noexcept {
    CheckOwner();
    std::size_t s = Home(id);
    for (;; s = (s + 1) & mask_) {
      if (slots_[s].index == kNone) return false;
      if (slots_[s].id == id) break;
    }
    const Index hole = slots_[s].index;
    // Backward shift: each following slot of the cluster whose home is not in (s, j] moves back
    // into the gap, so every remaining id stays reachable from its home without tombstones.
    for (std::size_t j = (s + 1) & mask_; slots_[j].index != kNone; j = (j + 1) & mask_) {
      const std::size_t home = Home(slots_[j].id);
      if (((j - home) & mask_) >= ((j - s) & mask_)) {
        slots_[s] = slots_[j];
        s = j;
      }
    }
    slots_[s] = Slot{0, kNone, 0};
    // Compact the dense arrays: the last entry fills the hole, and its slot follows it.
    const auto last = static_cast<Index>(entries_.size() - 1);
    if (hole != last) {
      entries_[hole] = entries_[last];
      ids_[hole] = ids_[last];
      std::size_t m = Home(ids_[hole]);
      while (slots_[m].index != last) m = (m + 1) & mask_;
      slots_[m].index = hole;
    }
    entries_.pop_back();
    ids_.pop_back();
    return true;
  }

  std::uint64_t id(Index i) const noexcept { return ids_[i]; }
  std::uint64_t version(Index i) const noexcept { return entries_[i].version; }
  const State& state(Index i) const noexcept { return entries_[i].state; }
  State& mutable_state(Index i) noexcept {
    CheckOwner();
    return entries_[i].state;
  }
  void set_version(Index i, std::uint64_t v) noexcept {
    CheckOwner();
    entries_[i].version = v;
  }
  // Starts the fetch of id's slot, e.g. for a command a few places ahead in the batch.
  void Prefetch(std::uint64_t id) const noexcept { ::rill::engine::Prefetch(&slots_[Home(id)]); }
  // The second stage, once the slot is cached (after Prefetch): starts fetching the entry.
  void PrefetchEntry(std::uint64_t id) const noexcept {
    if (const Index i = Find(id); i != kNone) ::rill::engine::Prefetch(&entries_[i]);
  }

  std::size_t size() const noexcept { return entries_.size(); }
  // Everything the store has allocated (slots, entries, ids), by capacity.
  std::size_t memory_bytes() const noexcept {
    return slots_.capacity() * sizeof(Slot) + entries_.capacity() * sizeof(Entry) +
           ids_.capacity() * sizeof(std::uint64_t);
  }
  double bytes_per_aggregate() const noexcept {
    return entries_.empty() ? 0.0 : static_cast<double>(memory_bytes()) / static_cast<double>(entries_.size());
  }

  // fn(id, version, const State&) for every entry, in dense order (insertion order until a
  // Remove moves the last entry): snapshots, tests.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (std::size_t i = 0; i < entries_.size(); ++i) fn(ids_[i], entries_[i].version, entries_[i].state);
  }

  // Hands the store to another thread (e.g. recovery ran on the opening thread, then the
  // writer thread starts). REQUIRES: the old owner no longer uses it, and a happens-before
  // edge (such as starting the new thread) separates the two.
  void TransferOwnership() noexcept {
#ifndef NDEBUG
    owner_ = std::thread::id();
#endif
  }

 private:
  struct Slot {
    std::uint64_t id;
    Index index;  // kNone: empty
    std::uint32_t unused;
  };
  struct Entry {
    std::uint64_t version = 0;
    State state{};
  };

  static std::size_t SlotsFor(std::size_t n) {
    std::size_t slots = 16;
    while (slots < n * 2) slots *= 2;
    return slots;
  }
  // Fibonacci hashing: the top bits of id * 2^64/phi, so sequential ids spread evenly.
  std::size_t Home(std::uint64_t id) const noexcept {
    return static_cast<std::size_t>((id * 0x9E3779B97F4A7C15ULL) >> shift_);
  }

  void Rehash(std::size_t new_slots) {
    std::vector<Slot, HugePageAllocator<Slot>> old = std::move(slots_);
    slots_.assign(new_slots, Slot{0, kNone, 0});
    mask_ = new_slots - 1;
    shift_ = 64 - static_cast<unsigned>(__builtin_ctzll(new_slots));
    for (const Slot& slot : old) {
      if (slot.index == kNone) continue;
      std::size_t s = Home(slot.id);
      while (slots_[s].index != kNone) s = (s + 1) & mask_;
      slots_[s] = slot;
    }
  }

  void CheckOwner() const noexcept {
#ifndef NDEBUG
    if (owner_ == std::thread::id()) owner_ = std::this_thread::get_id();
    assert(owner_ == std::this_thread::get_id() &&
           "AggregateStore belongs to the writer thread: query state through a read model (projections/), "
           "or hand the store over with TransferOwnership()");
#endif
  }

  std::vector<Slot, HugePageAllocator<Slot>> slots_;
  std::vector<Entry, HugePageAllocator<Entry>> entries_;
  std::vector<std::uint64_t> ids_;
  std::size_t mask_ = 0;
  unsigned shift_ = 64;
#ifndef NDEBUG
  mutable std::thread::id owner_;  // set at first use: debug builds only
#endif
};

}  // namespace rill::engine
