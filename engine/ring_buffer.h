// rill/engine/ring_buffer.h: the command ring: preallocated slots plus a sequencer.
//
//   struct Command { std::uint64_t id; std::uint32_t type; std::byte body[52]; };
//   rill::engine::MpscRing<Command> ring(1024);           // any number of producer threads
//
//   // producer (any thread): write the slot in place, then publish it
//   rill::engine::ClaimStatus s = ring.try_publish_event([&](Command& c, std::int64_t) { c.id = 7; });
//   if (s == rill::engine::ClaimStatus::kFull) { /* backpressure: say no */ }
//
//   // consumer (one thread): see batch_consumer.h
//   rill::engine::BatchConsumer consumer(ring);
//   consumer.run([](Command& c, std::int64_t seq, bool end_of_batch) { ... });
//
//   ring.shutdown();   // wakes blocked producers and the consumer with kShutDown
//
// All slots are built in the constructor and destroyed in the destructor; claim, publish
// and consume allocate nothing. Slots are reused in place: a producer overwrites whatever
// the slot held a lap ago, so give every field a value (commands are trivially copyable
// structs or fixed-size variants).
// Thread safety: producers per the Sequencer (one thread for SpscRing, any for MpscRing);
// exactly one consumer thread; shutdown(), full_count() from any thread. The ring must
// outlive every thread that uses it.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "rill/base/cache_line.h"
#include "rill/engine/multi_producer_sequencer.h"
#include "rill/engine/padded_array.h"
#include "rill/engine/sequencer.h"
#include "rill/engine/single_producer_sequencer.h"
#include "rill/engine/wait_strategy.h"

namespace rill::engine {

template <typename T, Sequencer Seq = MultiProducerSequencer<>>
class RingBuffer {
  static_assert(alignof(Seq) >= kFalseSharingRange && sizeof(Seq) % kFalseSharingRange == 0,
                "the read-only fields after the sequencer must not share a line with its hot ones");

 public:
  using value_type = T;
  using sequencer_type = Seq;

  // Throws std::invalid_argument unless capacity is a power of two in [1, 2^30]: a start-up
  // error, in the spirit of a bad Options field.
  explicit RingBuffer(std::size_t capacity)
      : sequencer_(static_cast<std::int64_t>(CheckedCapacity(capacity))), mask_(capacity - 1), slots_(capacity) {}
  RingBuffer(const RingBuffer&) = delete;
  RingBuffer& operator=(const RingBuffer&) = delete;

  std::int64_t capacity() const noexcept { return sequencer_.capacity(); }

  // The slot for `seq`. REQUIRES: the caller claimed seq and has not published it, or is the
  // consumer and seq is available and not yet released.
  T& operator[](std::int64_t seq) noexcept { return slots_[static_cast<std::size_t>(seq) & mask_]; }
  const T& operator[](std::int64_t seq) const noexcept { return slots_[static_cast<std::size_t>(seq) & mask_]; }

  // Producer side. claim waits (per the producer wait strategy) while full; try_claim says
  // kFull at once. Every claimed sequence must be published, even if its command is void.
  Claim claim(std::int64_t n = 1) noexcept { return sequencer_.claim(n); }
  Claim try_claim(std::int64_t n = 1) noexcept { return sequencer_.try_claim(n); }
  void publish(std::int64_t seq) noexcept { sequencer_.publish(seq); }
  void publish(const Claim& c) noexcept { sequencer_.publish(c.first, c.last); }

  // Claim one slot, fill(slot, seq) it in place, publish it. fill must not throw.
  template <typename Fill>
  ClaimStatus publish_event(Fill&& fill) noexcept {
    return Emplace(claim(1), std::forward<Fill>(fill));
  }
  template <typename Fill>
  ClaimStatus try_publish_event(Fill&& fill) noexcept {
    return Emplace(try_claim(1), std::forward<Fill>(fill));
  }

  // Consumer side (one thread). Prefer BatchConsumer, which keeps the position for you.
  Available wait_for(std::int64_t next, std::int64_t limit = kNoLimit) noexcept {
    return sequencer_.wait_for(next, limit);
  }
  Available poll(std::int64_t next, std::int64_t limit = kNoLimit) noexcept { return sequencer_.poll(next, limit); }
  void release(std::int64_t seq) noexcept { sequencer_.release(seq); }

  void shutdown() noexcept { sequencer_.shutdown(); }
  bool is_shut_down() const noexcept { return sequencer_.is_shut_down(); }
  // How many claims found the ring full.
  std::uint64_t full_count() const noexcept { return sequencer_.full_count(); }

  // For tests and diagnostics (e.g. sequencer().consumer_wait().sleepers()).
  const Seq& sequencer() const noexcept { return sequencer_; }

  static constexpr std::int64_t kNoLimit = std::numeric_limits<std::int64_t>::max();

 private:
  static std::size_t CheckedCapacity(std::size_t capacity) {
    if (!std::has_single_bit(capacity) || capacity > (std::size_t{1} << 30)) {
      throw std::invalid_argument("rill::engine::RingBuffer: capacity must be a power of two between 1 and 2^30, got " +
                                  std::to_string(capacity) + "; round it with std::bit_ceil");
    }
    return capacity;
  }

  template <typename Fill>
  ClaimStatus Emplace(Claim c, Fill&& fill) noexcept {
    if (!c.ok()) return c.status;
    fill((*this)[c.first], c.first);
    sequencer_.publish(c.first);
    return ClaimStatus::kOk;
  }

  Seq sequencer_;           // hot sequences, each on its own line(s)
  const std::size_t mask_;  // read-only after construction
  PaddedArray<T> slots_;    // padded at both ends
};

// Many producer threads, one consumer: the writer's command ring.
template <typename T, WaitStrategy ConsumerWait = PhasedBackoff, WaitStrategy ProducerWait = PhasedBackoff>
using MpscRing = RingBuffer<T, MultiProducerSequencer<ConsumerWait, ProducerWait>>;

// One producer thread, one consumer: no atomic read-modify-write anywhere on the hot path.
template <typename T, WaitStrategy ConsumerWait = PhasedBackoff, WaitStrategy ProducerWait = PhasedBackoff>
using SpscRing = RingBuffer<T, SingleProducerSequencer<ConsumerWait, ProducerWait>>;

}  // namespace rill::engine
