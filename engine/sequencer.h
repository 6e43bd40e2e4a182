// rill/engine/sequencer.h: what both sequencers share: claim and consume results, the
// Sequencer concept, and the consumer-side state (released position, shutdown, full count).
//
//   Claim c = sequencer.try_claim(4);          // producer: four slots, or kFull / kShutDown
//   if (c.ok()) { /* write slots c.first..c.last */ sequencer.publish(c.first, c.last); }
//   Available a = sequencer.wait_for(next);    // consumer: highest contiguous published
//   /* read slots next..a.last */ sequencer.release(a.last);
//
// A sequencer hands out sequence numbers and says which are published; it owns no slots
// (RingBuffer does). Use SingleProducerSequencer when exactly one thread claims, else
// MultiProducerSequencer. Exactly one consumer thread calls wait_for/poll/release.
// Thread safety: see each sequencer; shutdown(), is_shut_down() and full_count() are safe
// from any thread.
#pragma once

#include <algorithm>
#include <atomic>
#include <concepts>
#include <cstdint>

#include "rill/base/cache_line.h"
#include "rill/engine/sequence.h"
#include "rill/engine/wait_strategy.h"

namespace rill::engine {

enum class ClaimStatus : std::uint8_t {
  kOk,        // the slots are yours: write them, then publish every one of them
  kFull,      // try_claim only: not enough free slots now; nothing was claimed
  kShutDown,  // the ring was shut down: nothing was claimed, and nothing will be
};

// The outcome of a claim: slots first..last (inclusive) when ok().
struct [[nodiscard]] Claim {
  ClaimStatus status = ClaimStatus::kShutDown;
  std::int64_t first = kInitialSequence;
  std::int64_t last = kInitialSequence;
  bool ok() const noexcept { return status == ClaimStatus::kOk; }
};

enum class ConsumeStatus : std::uint8_t {
  kOk,        // sequences up to `last` are published and may be read
  kEmpty,     // poll only: nothing new is published
  kShutDown,  // shut down and everything published before it has been handed out
};

// The outcome of wait_for/poll: slots next..last (inclusive) are readable when ok().
struct [[nodiscard]] Available {
  ConsumeStatus status = ConsumeStatus::kShutDown;
  std::int64_t last = kInitialSequence;
  bool ok() const noexcept { return status == ConsumeStatus::kOk; }
};

// clang-format off
template <typename S>
concept Sequencer = requires(S& s, const S& cs, std::int64_t seq) {
  { s.claim(seq) } noexcept -> std::same_as<Claim>;
  { s.try_claim(seq) } noexcept -> std::same_as<Claim>;
  { s.publish(seq) } noexcept;
  { s.publish(seq, seq) } noexcept;
  { s.wait_for(seq, seq) } noexcept -> std::same_as<Available>;
  { s.poll(seq, seq) } noexcept -> std::same_as<Available>;
  { s.release(seq) } noexcept;
  { s.shutdown() } noexcept;
  { cs.is_shut_down() } noexcept -> std::same_as<bool>;
  { cs.full_count() } noexcept -> std::same_as<std::uint64_t>;
  { cs.capacity() } noexcept -> std::same_as<std::int64_t>;
};
// clang-format on

namespace detail {

// The part of a sequencer that is the same for one or many producers. Layout: a read-mostly
// line (capacity, shutdown flag), then each independently written word on its own line.
template <WaitStrategy ConsumerWait, WaitStrategy ProducerWait>
class SequencerCore {
 public:
  // REQUIRES: capacity is a power of two >= 1 (RingBuffer checks it).
  explicit SequencerCore(std::int64_t capacity) noexcept : capacity_(capacity) {}

  std::int64_t capacity() const noexcept { return capacity_; }

  // Consumer: slots up to `seq` may be overwritten. Once per batch.
  void release(std::int64_t seq) noexcept {
    released_.store(seq);     // release: our reads of the slots happen before their reuse
    producer_wait_.notify();  // a producer may be waiting for space
  }

  // Wakes every waiting producer and the consumer; later claims return kShutDown, and the
  // consumer gets kShutDown once it has drained what was published. Cannot be undone.
  void shutdown() noexcept {
    // Release: pairs with the waiters' acquire load; wake_all's release bump then makes a
    // waiter that reads the new epoch see the flag, so no waiter sleeps through it.
    shut_down_.store(true, std::memory_order_release);
    consumer_wait_.wake_all();
    producer_wait_.wake_all();
  }
  // Acquire: pairs with shutdown(); used by waiters deciding whether to give up.
  bool is_shut_down() const noexcept { return shut_down_.load(std::memory_order_acquire); }
  // Relaxed: the fast-path check at the top of a claim. A claim racing with shutdown may
  // still succeed; that is indistinguishable from claiming just before it.
  bool is_shut_down_relaxed() const noexcept { return shut_down_.load(std::memory_order_relaxed); }

  // How many claims found the ring full (try_claim refused, or claim had to wait).
  std::uint64_t full_count() const noexcept { return full_count_.load(); }

  const ConsumerWait& consumer_wait() const noexcept { return consumer_wait_; }
  const ProducerWait& producer_wait() const noexcept { return producer_wait_; }

 protected:
  // Waits until the consumer released `wrap`, i.e. claiming up to wrap + capacity is safe.
  // Returns the released position seen, or a value < wrap when shut down first.
  std::int64_t wait_for_space(std::int64_t wrap) noexcept {
    std::int64_t released = released_.load();  // acquire: pairs with release()
    if (released >= wrap) return released;     // only our cached copy was stale
    full_count_.increment();
    producer_wait_.wait_until([&]() noexcept {
      released = released_.load();  // acquire: see above
      return released >= wrap || is_shut_down();
    });
    return released;
  }

  // Waits until published(next) or shutdown; true when `next` is published.
  template <typename Published>
  bool wait_published(std::int64_t next, Published&& published) noexcept {
    if (published(next)) return true;
    consumer_wait_.wait_until([&]() noexcept { return published(next) || is_shut_down(); });
    return published(next);  // drain first: shutdown reports only when nothing is left
  }

  void notify_consumer() noexcept { consumer_wait_.notify(); }

  // Read-mostly line.
  alignas(kFalseSharingRange) const std::int64_t capacity_;
  std::atomic<bool> shut_down_{false};
  // Written by the consumer, once per batch; read by producers when their cache is stale.
  Sequence released_;
  PaddedCounter full_count_;
  [[no_unique_address]] ConsumerWait consumer_wait_;
  [[no_unique_address]] ProducerWait producer_wait_;
};

}  // namespace detail
}  // namespace rill::engine
