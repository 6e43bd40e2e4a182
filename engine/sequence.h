// rill/engine/sequence.h: a position in the command ring, alone on its cache lines.
//
//   rill::engine::Sequence released;        // starts at kInitialSequence (-1): nothing yet
//   released.store(41);                      // owner: "everything up to 41 is done" (release)
//   if (released.load() >= 41) { ... }      // observer: sees the slots' writes too (acquire)
//
// A Sequence is the Disruptor's unit of progress: a producer's cursor, the consumer's
// released position, a cached copy of either. Sequences only grow; -1 means "none yet".
// Each one is padded to kFalseSharingRange so two sequences written by different threads
// never share what the hardware moves (or prefetches) as a unit.
// Thread safety: any thread may load; exactly one thread stores, unless the owner says
// otherwise (the multi-producer claim counter uses fetch_add).
#pragma once

#include <atomic>
#include <cstdint>

#include "rill/base/cache_line.h"

namespace rill::engine {

// The value of a sequence before anything was claimed, published or released.
inline constexpr std::int64_t kInitialSequence = -1;

class alignas(kFalseSharingRange) Sequence {
 public:
  explicit Sequence(std::int64_t initial = kInitialSequence) noexcept : value_(initial) {}
  Sequence(const Sequence&) = delete;
  Sequence& operator=(const Sequence&) = delete;

  // Acquire: whoever reads N also sees every write its owner made before storing N (the
  // slots it published, or the reads it finished before releasing them).
  std::int64_t load() const noexcept { return value_.load(std::memory_order_acquire); }
  // Relaxed: for the owner reading its own value, or a hint that is re-checked with load().
  std::int64_t load_relaxed() const noexcept { return value_.load(std::memory_order_relaxed); }
  // Release: pairs with load(); publishes every write sequenced before it.
  void store(std::int64_t v) noexcept { value_.store(v, std::memory_order_release); }
  // Relaxed: only when no other data hangs on this value (e.g. a cache that is re-checked).
  void store_relaxed(std::int64_t v) noexcept { value_.store(v, std::memory_order_relaxed); }

  // Relaxed: a claim counter orders nothing by itself; the data is ordered by the publish
  // that follows (availability flags or the cursor), so the add only needs atomicity.
  std::int64_t fetch_add_relaxed(std::int64_t n) noexcept { return value_.fetch_add(n, std::memory_order_relaxed); }
  // Relaxed on both outcomes for the same reason as fetch_add_relaxed.
  bool compare_exchange_relaxed(std::int64_t& expected, std::int64_t desired) noexcept {
    return value_.compare_exchange_weak(expected, desired, std::memory_order_relaxed, std::memory_order_relaxed);
  }

 private:
  std::atomic<std::int64_t> value_;
};

static_assert(std::atomic<std::int64_t>::is_always_lock_free, "sequences must be lock-free");
static_assert(sizeof(Sequence) == kFalseSharingRange && alignof(Sequence) == kFalseSharingRange,
              "a Sequence must fill its false-sharing range exactly, so neighbours cannot share it");

// A counter that only its writer updates often and others read rarely (the ring-full count),
// padded like a Sequence so counting never disturbs a hot neighbour.
class alignas(kFalseSharingRange) PaddedCounter {
 public:
  // Relaxed: a statistic; nothing is ordered by it. fetch_add because several producers
  // may count at once (single-writer users could do load+store, but the path is cold).
  void increment() noexcept { value_.fetch_add(1, std::memory_order_relaxed); }
  // Relaxed: a statistic read from any thread, possibly a little stale.
  std::uint64_t load() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

static_assert(sizeof(PaddedCounter) == kFalseSharingRange && alignof(PaddedCounter) == kFalseSharingRange);

}  // namespace rill::engine
