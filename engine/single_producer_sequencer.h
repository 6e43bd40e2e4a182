// rill/engine/single_producer_sequencer.h: sequence numbers for a ring with ONE producer thread.
//
//   SingleProducerSequencer<> seq(1024);
//   Claim c = seq.claim(8);                  // waits (PhasedBackoff) while the ring is full
//   if (!c.ok()) return;                     // kShutDown
//   ... write slots c.first..c.last ...
//   seq.publish(c.first, c.last);            // one release store for the whole batch
//
// Claiming is plain arithmetic on producer-local fields: no atomic read-modify-write. The
// consumer's released position is read only when the cached copy says the ring may be full.
// Thread safety: claim/try_claim/publish from one producer thread only (debug builds assert
// it; use MultiProducerSequencer for several); the consumer side from one consumer thread.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "rill/base/cache_line.h"
#include "rill/engine/sequence.h"
#include "rill/engine/sequencer.h"
#include "rill/engine/wait_strategy.h"

namespace rill::engine {

template <WaitStrategy ConsumerWait = PhasedBackoff, WaitStrategy ProducerWait = PhasedBackoff>
class SingleProducerSequencer : public detail::SequencerCore<ConsumerWait, ProducerWait> {
  using Core = detail::SequencerCore<ConsumerWait, ProducerWait>;

 public:
  // REQUIRES: capacity is a power of two >= 1.
  explicit SingleProducerSequencer(std::int64_t capacity) noexcept : Core(capacity) {}
  SingleProducerSequencer(const SingleProducerSequencer&) = delete;
  SingleProducerSequencer& operator=(const SingleProducerSequencer&) = delete;

  // Claims n consecutive slots, waiting for the consumer while the ring is full.
  // REQUIRES: 1 <= n <= capacity(). Returns kOk or kShutDown.
  Claim claim(std::int64_t n = 1) noexcept {
    assert(n >= 1 && n <= this->capacity_);
    CheckSingleProducer();
    if (this->is_shut_down_relaxed()) return {ClaimStatus::kShutDown};
    const std::int64_t last = local_.next + n;
    const std::int64_t wrap = last - this->capacity_;
    if (wrap > local_.cached_released) {
      const std::int64_t released = this->wait_for_space(wrap);
      if (released < wrap) return {ClaimStatus::kShutDown};
      local_.cached_released = released;
    }
    return Take(last, n);
  }

  // As claim, but never waits: kFull when fewer than n slots are free. Never throws.
  Claim try_claim(std::int64_t n = 1) noexcept {
    assert(n >= 1 && n <= this->capacity_);
    CheckSingleProducer();
    if (this->is_shut_down_relaxed()) return {ClaimStatus::kShutDown};
    const std::int64_t last = local_.next + n;
    const std::int64_t wrap = last - this->capacity_;
    if (wrap > local_.cached_released) {
      local_.cached_released = this->released_.load();  // acquire: pairs with release()
      if (wrap > local_.cached_released) {
        this->full_count_.increment();
        return {ClaimStatus::kFull};
      }
    }
    return Take(last, n);
  }

  // Makes slots up to `seq` visible to the consumer. Publish in claim order (one producer).
  void publish(std::int64_t seq) noexcept {
    cursor_.store(seq);  // release: the slot writes happen before the consumer's reads
    this->notify_consumer();
  }
  void publish(std::int64_t /*first*/, std::int64_t last) noexcept { publish(last); }

  // Consumer: waits until `next` is published (or shutdown), returns the highest published
  // sequence, at most `limit`. kShutDown only once nothing published is left.
  Available wait_for(std::int64_t next, std::int64_t limit) noexcept {
    // Acquire (Sequence::load): the slots up to the cursor are written.
    if (!this->wait_published(next, [this](std::int64_t s) noexcept { return cursor_.load() >= s; })) {
      return {ConsumeStatus::kShutDown, next - 1};
    }
    return {ConsumeStatus::kOk, std::min(cursor_.load(), limit)};  // acquire: slots up to it
  }

  // Consumer: as wait_for, but kEmpty (or kShutDown) at once when `next` is not published.
  Available poll(std::int64_t next, std::int64_t limit) noexcept {
    const std::int64_t published = cursor_.load();  // acquire: slots up to it are written
    if (published >= next) return {ConsumeStatus::kOk, std::min(published, limit)};
    return {this->is_shut_down() && cursor_.load() < next ? ConsumeStatus::kShutDown : ConsumeStatus::kEmpty, next - 1};
  }

 private:
  Claim Take(std::int64_t last, std::int64_t n) noexcept {
    local_.next = last;
    return {ClaimStatus::kOk, last - n + 1, last};
  }

  void CheckSingleProducer() noexcept {
#ifndef NDEBUG
    const std::thread::id me = std::this_thread::get_id();
    std::thread::id owner{};
    // Relaxed: a diagnostic; the first claimer records itself and nothing else is ordered.
    if (!owner_.compare_exchange_strong(owner, me, std::memory_order_relaxed) && owner != me) {
      std::fputs(
          "rill: SingleProducerSequencer (SpscRing): a second thread claimed a slot. "
          "Use MultiProducerSequencer (MpscRing) when more than one thread produces.\n",
          stderr);
      std::abort();  // a debug-build assertion: the ring would otherwise corrupt silently
    }
#endif
  }

  // Producer-local: written and read only by the producer thread, so plain fields.
  struct alignas(kFalseSharingRange) Local {
    std::int64_t next = kInitialSequence;             // last sequence claimed
    std::int64_t cached_released = kInitialSequence;  // consumer's position when last read
  };
  static_assert(sizeof(Local) == kFalseSharingRange);

  Local local_;
  // Invariant: cursor_ <= local_.next, and local_.next - capacity <= released_.
  Sequence cursor_;  // last published sequence; written by the producer, read by the consumer
#ifndef NDEBUG
  std::atomic<std::thread::id> owner_{};
#endif
};

static_assert(Sequencer<SingleProducerSequencer<>>);

}  // namespace rill::engine
