// rill/engine/multi_producer_sequencer.h: sequence numbers for a ring with many producer threads.
//
//   MultiProducerSequencer<> seq(1024);
//   Claim c = seq.try_claim();               // from any thread; kFull means "say no"
//   if (c.ok()) { ... write slot c.first ...; seq.publish(c.first); }
//
// claim() takes sequences with one fetch_add; try_claim() with a compare-exchange, so a
// refused claim takes nothing. Producers publish out of order, so each slot has an
// availability flag holding the lap ("round") it was last published in, as in the
// Disruptor's availableBuffer; the consumer hands out the longest contiguous published run.
// Producers share one cached copy of the consumer's position and read the real one only
// when the copy says the ring may be full.
// Thread safety: claim/try_claim/publish from any number of threads; the consumer side
// (wait_for, poll, release) from one thread.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cassert>
#include <cstdint>

#include "rill/base/cache_line.h"
#include "rill/engine/padded_array.h"
#include "rill/engine/sequence.h"
#include "rill/engine/sequencer.h"
#include "rill/engine/wait_strategy.h"

namespace rill::engine {

template <WaitStrategy ConsumerWait = PhasedBackoff, WaitStrategy ProducerWait = PhasedBackoff>
class MultiProducerSequencer : public detail::SequencerCore<ConsumerWait, ProducerWait> {
  using Core = detail::SequencerCore<ConsumerWait, ProducerWait>;

 public:
  // REQUIRES: capacity is a power of two >= 1.
  explicit MultiProducerSequencer(std::int64_t capacity)
      : Core(capacity),
        mask_(capacity - 1),
        round_shift_(std::countr_zero(static_cast<std::uint64_t>(capacity))),
        available_(static_cast<std::size_t>(capacity)) {
    // Relaxed: construction happens before the ring is shared with any thread.
    for (std::size_t i = 0; i < available_.size(); ++i) available_[i].store(kNeverPublished, std::memory_order_relaxed);
  }
  MultiProducerSequencer(const MultiProducerSequencer&) = delete;
  MultiProducerSequencer& operator=(const MultiProducerSequencer&) = delete;

  // Claims n consecutive slots, waiting for the consumer while the ring is full.
  // REQUIRES: 1 <= n <= capacity(). Returns kOk or kShutDown.
  Claim claim(std::int64_t n = 1) noexcept {
    assert(n >= 1 && n <= this->capacity_);
    if (this->is_shut_down_relaxed()) return {ClaimStatus::kShutDown};
    // Relaxed: taking numbers orders no data; the slots are ordered by publish and gating.
    const std::int64_t last = claimed_.fetch_add_relaxed(n) + n;
    const std::int64_t wrap = last - this->capacity_;
    if (wrap > gating_cache_.load()) {  // acquire: see the release store in try_claim
      const std::int64_t released = this->wait_for_space(wrap);
      // The sequences are taken but will never be published; the ring is shutting down, so
      // the consumer stops at the gap without waiting for it.
      if (released < wrap) return {ClaimStatus::kShutDown};
      gating_cache_.store(released);  // release: see try_claim
    }
    return {ClaimStatus::kOk, last - n + 1, last};
  }

  // As claim, but never waits and takes nothing when fewer than n slots are free.
  Claim try_claim(std::int64_t n = 1) noexcept {
    assert(n >= 1 && n <= this->capacity_);
    if (this->is_shut_down_relaxed()) return {ClaimStatus::kShutDown};
    std::int64_t current = claimed_.load_relaxed();  // relaxed: validated by the CAS below
    std::int64_t last = 0;
    do {
      last = current + n;
      const std::int64_t wrap = last - this->capacity_;
      // Acquire: trusting another producer's copy must still order our writes after the
      // consumer's reads (that producer's release store passes its edge on).
      if (wrap > gating_cache_.load()) {
        // Acquire: our slot writes must come after the consumer's reads of those slots.
        const std::int64_t released = this->released_.load();
        if (wrap > released) {
          this->full_count_.increment();
          return {ClaimStatus::kFull};
        }
        // Release: a producer that acquires this copy inherits our happens-before edge
        // from the consumer's release, so writing on its strength is not a data race.
        gating_cache_.store(released);
      }
    } while (!claimed_.compare_exchange_relaxed(current, last));  // relaxed: as in claim()
    return {ClaimStatus::kOk, last - n + 1, last};
  }

  void publish(std::int64_t seq) noexcept {
    MarkPublished(seq);
    this->notify_consumer();
  }
  // Publishes first..last (one claim), then notifies once.
  void publish(std::int64_t first, std::int64_t last) noexcept {
    for (std::int64_t s = first; s <= last; ++s) MarkPublished(s);
    this->notify_consumer();
  }

  // Consumer: waits until `next` is published (or shutdown), returns the end of the
  // contiguous published run from `next`, at most `limit`. kShutDown only when `next`
  // is still unpublished after shutdown.
  Available wait_for(std::int64_t next, std::int64_t limit) noexcept {
    if (!this->wait_published(next, [this](std::int64_t s) noexcept { return IsPublished(s); })) {
      return {ConsumeStatus::kShutDown, next - 1};
    }
    return {ConsumeStatus::kOk, HighestContiguous(next, limit)};
  }

  Available poll(std::int64_t next, std::int64_t limit) noexcept {
    if (IsPublished(next)) return {ConsumeStatus::kOk, HighestContiguous(next, limit)};
    return {this->is_shut_down() && !IsPublished(next) ? ConsumeStatus::kShutDown : ConsumeStatus::kEmpty, next - 1};
  }

 private:
  static constexpr std::uint32_t kNeverPublished = 0xffffffffu;

  // The lap of `seq`; truncated to 32 bits consistently, so laps k and k+1 always differ.
  std::uint32_t Round(std::int64_t seq) const noexcept {
    return static_cast<std::uint32_t>(static_cast<std::uint64_t>(seq) >> round_shift_);
  }
  std::size_t Index(std::int64_t seq) const noexcept { return static_cast<std::size_t>(seq & mask_); }

  void MarkPublished(std::int64_t seq) noexcept {
    // Release: the slot's writes happen before a consumer that sees this round reads it.
    available_[Index(seq)].store(Round(seq), std::memory_order_release);
  }
  bool IsPublished(std::int64_t seq) const noexcept {
    // Acquire: pairs with MarkPublished, so the slot's contents are visible.
    return available_[Index(seq)].load(std::memory_order_acquire) == Round(seq);
  }

  // REQUIRES: IsPublished(next). The last of the run next, next+1, ... that is published.
  std::int64_t HighestContiguous(std::int64_t next, std::int64_t limit) const noexcept {
    // Relaxed: only bounds the scan; IsPublished's acquire orders the data. Seeing
    // `next` published implies (happens-before) that it was claimed, so claimed >= next.
    const std::int64_t hi = std::min(claimed_.load_relaxed(), limit);
    for (std::int64_t s = next + 1; s <= hi; ++s) {
      if (!IsPublished(s)) return s - 1;
    }
    return std::max(hi, next);
  }

  const std::int64_t mask_;
  const int round_shift_;
  PaddedArray<std::atomic<std::uint32_t>> available_;  // per slot: Round() of its last publish
  Sequence claimed_;                                   // last sequence claimed by any producer (fetch_add / CAS)
  Sequence gating_cache_;                              // producers' shared copy of the consumer's released position
};

static_assert(Sequencer<MultiProducerSequencer<>>);

}  // namespace rill::engine
