// rill/engine/wait_strategy.h: how a ring's consumer, or a producer facing a full ring, waits.
//
//   rill::engine::PhasedBackoff wait;                  // the default: spin, yield, then sleep
//   wait.wait_until([&] { return cursor.load() >= next || stopped.load(); });   // waiter
//   cursor.store(next); wait.notify();                                           // waker
//
// Policies are small structs checked by the WaitStrategy concept, chosen at compile time:
// no virtual call on the hot path. Each ring owns two instances: one its consumer waits on
// (producers notify after publishing) and one its producers wait on when the ring is full
// (the consumer notifies after releasing slots).
//
//   BusySpin       lowest latency; burns a core. Only when every waiting thread has its own core.
//   Yield          spins briefly, then sched_yield()s; still 100% CPU while idle.
//   Block          sleeps on a futex at once; notify() costs one load unless someone sleeps.
//   PhasedBackoff  spins ~2.5 us, yields up to 32 times, then Block. Idle costs nothing,
//                  and a thread that waits for a descheduled peer gives its core away.
//
// Thread safety: wait_until may be called by several threads at once (producers waiting for
// space); notify and wake_all from any thread. The predicate must be safe to call repeatedly.
#pragma once

#include <atomic>
#include <concepts>
#include <cstdint>
#include <thread>

#include "rill/base/cache_line.h"
#include "rill/base/futex.h"

namespace rill::engine {

namespace detail {

// Pause the core in a spin loop: frees the pipeline for the sibling hyperthread and avoids
// the memory-order mis-speculation flush when the awaited line finally changes.
inline void CpuRelax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// Asymmetric Dekker barriers (see engine/README.md, "Implementation"). A notifier stores its
// progress and then reads the sleeper count; a sleeper increments the count and then re-reads
// the progress. Each side needs a StoreLoad barrier, but the notifier runs once per publish
// and the sleeper only before a futex wait. So the notifier uses LightBarrier (a compiler
// barrier) and the sleeper HeavyBarrier, which is membarrier(PRIVATE_EXPEDITED): it makes
// every running thread of the process execute a full barrier. Where membarrier is missing,
// both are full seq_cst fences.
extern std::atomic<bool> g_light_barrier_is_compiler_only;
void HeavyBarrier() noexcept;
inline void LightBarrier() noexcept {
  // Relaxed: the flag only goes false -> true, and only after registration succeeded, after
  // which every HeavyBarrier is a membarrier. Reading a stale false costs a real fence: safe.
  if (g_light_barrier_is_compiler_only.load(std::memory_order_relaxed)) {
    std::atomic_signal_fence(std::memory_order_seq_cst);
  } else {
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
}

struct AlwaysReady {
  bool operator()() const noexcept { return true; }
};

}  // namespace detail

// wait_until(ready): returns once ready() has returned true; may call it any number of times.
// notify(): the caller made progress some waiter may need (after its release store).
// wake_all(): wake every sleeper unconditionally (shutdown); the caller stored its flag first.
// clang-format off
template <typename W>
concept WaitStrategy = requires(W& w, detail::AlwaysReady ready) {
  { w.wait_until(ready) } noexcept;
  { w.notify() } noexcept;
  { w.wake_all() } noexcept;
};
// clang-format on

struct BusySpin {
  template <typename Ready>
  void wait_until(Ready&& ready) noexcept {
    while (!ready()) detail::CpuRelax();
  }
  void notify() noexcept {}
  void wake_all() noexcept {}
};

struct Yield {
  static constexpr int kSpinTries = 64;
  template <typename Ready>
  void wait_until(Ready&& ready) noexcept {
    for (int i = 0; i < kSpinTries; ++i) {
      if (ready()) return;
      detail::CpuRelax();
    }
    while (!ready()) std::this_thread::yield();
  }
  void notify() noexcept {}
  void wake_all() noexcept {}
};

// Sleeps on a futex; a notifier enters the kernel only when someone sleeps.
//
// A waiter registers in sleepers_ and never unregisters: the notifier that wakes it zeroes
// the count. So while a woken consumer waits for a CPU, the producers' further publishes
// read zero and skip the syscall, instead of each issuing one (a storm that shows when threads
// outnumber cores). A waiter that registers and then finds its condition true leaves its
// registration behind, which costs one spurious wake later, never a lost one.
class alignas(kFalseSharingRange) Block {
 public:
  template <typename Ready>
  void wait_until(Ready&& ready) noexcept {
    while (!ready()) {
      // Read the epoch BEFORE registering. A notifier that consumes our registration bumps the
      // epoch after it, hence after this read, so FutexWait then returns at once and we loop
      // and register again. Acquire: pairs with the bump's release (it also rules out reading
      // a bump that follows the consumption of our own, later, registration).
      const std::uint32_t epoch = epoch_.load(std::memory_order_acquire);
      // Seq_cst, then HeavyBarrier: the registration must be visible before we re-read the
      // progress, or a notifier could read sleepers_ == 0 while we read stale progress.
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      detail::HeavyBarrier();
      if (!ready()) FutexWait(epoch_, epoch, -1);
    }
  }

  void notify() noexcept {
    detail::LightBarrier();  // orders the caller's release store of its progress before this load
    // Relaxed load: ordered by the barrier pair; zero means every waiter-to-be will see the
    // caller's progress when it re-checks. Acq_rel exchange: exactly one notifier takes the
    // registrations and wakes; the rest read zero.
    if (sleepers_.load(std::memory_order_relaxed) != 0 && sleepers_.exchange(0, std::memory_order_acq_rel) != 0) {
      wake_all();
    }
  }

  void wake_all() noexcept {
    // Release: a waiter that reads the new epoch sees every write the caller made before,
    // notably its progress or the shutdown flag.
    epoch_.fetch_add(1, std::memory_order_release);
    FutexWakeAll(epoch_);
  }

  // Registrations not yet taken by a wake: non-zero while a thread sleeps (or is about to).
  // For tests and diagnostics. Relaxed: a snapshot, ordered with nothing.
  std::uint32_t sleepers() const noexcept { return sleepers_.load(std::memory_order_relaxed); }

 private:
  // Both words change only around a sleep, so they share a line that stays read-only (and
  // cheap for notify() to read) while nobody sleeps.
  std::atomic<std::uint32_t> sleepers_{0};
  std::atomic<std::uint32_t> epoch_{0};  // the futex word: bumped by every wake
};

static_assert(sizeof(Block) == kFalseSharingRange && alignof(Block) == kFalseSharingRange,
              "Block's words must not share a line with a ring's hot sequences");

// Spin, then yield, then sleep. 128 pauses take ~2.5 us here (a pause is ~20 ns on this
// machine, 10-140 cycles by CPU generation): enough to catch a peer running on another core.
// 32 yields add ~10 us when nothing else wants the core, and hand the core over at once when
// something does (threads outnumber cores). Then Block: an idle wait costs nothing. On this
// VM the longer phases cut the ring's round trip from ~7-60 us (64 pauses, 8 yields: the
// waiter kept falling asleep) to ~1.3 us, with no loss of throughput.
template <int SpinTries = 128, int YieldTries = 32>
class PhasedBackoffT {
 public:
  template <typename Ready>
  void wait_until(Ready&& ready) noexcept {
    for (int i = 0; i < SpinTries; ++i) {
      if (ready()) return;
      detail::CpuRelax();
    }
    for (int i = 0; i < YieldTries; ++i) {
      if (ready()) return;
      std::this_thread::yield();
    }
    block_.wait_until(ready);
  }
  void notify() noexcept { block_.notify(); }
  void wake_all() noexcept { block_.wake_all(); }
  std::uint32_t sleepers() const noexcept { return block_.sleepers(); }

 private:
  Block block_;
};

using PhasedBackoff = PhasedBackoffT<>;

static_assert(WaitStrategy<BusySpin> && WaitStrategy<Yield> && WaitStrategy<Block> && WaitStrategy<PhasedBackoff>);

}  // namespace rill::engine
