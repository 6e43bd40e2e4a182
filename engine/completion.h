// rill/engine/completion.h: how a command's outcome gets back to its submitter, with no
// allocation per command: a caller-owned Completion to wait on, or a callback.
//
//   rill::engine::Completion done;                              // caller-owned, reusable
//   if (engine.submit(cmd, meta, AckLevel::kJournaled, done) == ClaimStatus::kOk) {
//     /* ... other work ... */
//     const CommandOutcome& o = done.Wait();                    // spins briefly, then sleeps
//   }
//   engine.submit(cmd, meta, AckLevel::kDurable, {&OnDone, ctx});   // OnDone(ctx, outcome)
//
// Lifetime contract: a Completion (or a callback's context) must stay alive, and must not be
// submitted again, until its outcome is delivered (Wait() returned / ready() is true / the
// callback ran). So must any BytesRef payload of the command. Every command that was accepted
// into the ring gets exactly one outcome, also at shutdown (kShutdown when never processed).
// Callbacks run on the writer thread: they must be short and must never submit-and-wait on
// the same engine (that would deadlock the writer).
//
// Mechanics: one atomic word (pending / sleeping / done). The waiter spins a little, then
// announces that it sleeps (CAS pending -> sleeping) and sleeps on a futex; the completer
// publishes the outcome with an exchange to done and makes the wake syscall only when it
// sees "sleeping": no syscall per command while the waiter is still spinning.
// Thread safety: one submitter and the engine; Wait/ready/outcome from the submitter's thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

#include "rill/base/futex.h"
#include "rill/engine/command_outcome.h"
#include "rill/engine/wait_strategy.h"

namespace rill::engine {

// Called once with the command's outcome (valid during the call only).
using CompletionCallback = void (*)(void* context, const CommandOutcome& outcome) noexcept;

// Where the writer delivers an outcome: a function pointer and its context (16 bytes, in the
// ring slot).
struct CompletionTarget {
  CompletionCallback fn = nullptr;
  void* context = nullptr;

  void Deliver(const CommandOutcome& outcome) const noexcept {
    if (fn != nullptr) fn(context, outcome);
  }
};

class Completion {
 public:
  Completion() noexcept = default;
  Completion(const Completion&) = delete;
  Completion& operator=(const Completion&) = delete;

  // True once the outcome is delivered. Acquire: pairs with Complete's exchange, so outcome()
  // is visible after it returns true.
  bool ready() const noexcept { return state_.load(std::memory_order_acquire) == kDone; }

  // Waits for the outcome and returns it (valid while this object lives and is not reused).
  const CommandOutcome& Wait() noexcept {
    // Spin first: the writer usually answers within a few microseconds (one batch).
    for (int i = 0; i < kSpins; ++i) {
      if (ready()) return outcome_;
      detail::CpuRelax();
    }
    for (int i = 0; i < kYields; ++i) {
      if (ready()) return outcome_;
      std::this_thread::yield();
    }
    for (;;) {
      std::uint32_t s = state_.load(std::memory_order_acquire);  // acquire: see ready()
      if (s == kDone) return outcome_;
      // Announce the sleep. Acquire on success/failure: a failure may mean kDone, whose
      // outcome we then read. The completer's exchange is a read-modify-write on the same
      // word, so it either sees kSleeping (and wakes us) or precedes our CAS (which fails).
      if (s == kPending &&
          !state_.compare_exchange_strong(s, kSleeping, std::memory_order_acquire, std::memory_order_acquire)) {
        continue;
      }
      FutexWait(state_, kSleeping, -1);  // returns at once unless the word still says sleeping
    }
  }

  // REQUIRES: ready().
  const CommandOutcome& outcome() const noexcept { return outcome_; }

  // Makes the object submittable again. REQUIRES: ready(), or never submitted.
  // Relaxed: the next submission's publish (a release store in the ring) orders it before the
  // writer's exchange.
  void Reset() noexcept { state_.store(kPending, std::memory_order_relaxed); }

  // The target the engine stores in the ring slot.
  CompletionTarget target() noexcept { return {&Completion::Complete, this}; }

 private:
  static constexpr std::uint32_t kPending = 0, kSleeping = 1, kDone = 2;
  static constexpr int kSpins = 256;  // ~5 us of pause
  static constexpr int kYields = 16;

  static void Complete(void* self, const CommandOutcome& outcome) noexcept {
    auto* c = static_cast<Completion*>(self);
    c->outcome_ = outcome;
    // Release: the outcome is written before a waiter that sees kDone reads it. After this
    // exchange the waiter may return and destroy *c, so only the word's address is used
    // below: FUTEX_WAKE on memory that was reused at worst wakes someone spuriously (every
    // futex user re-checks its condition), and on unmapped memory it fails with EFAULT.
    const std::uint32_t prev = c->state_.exchange(kDone, std::memory_order_release);
    if (prev == kSleeping) FutexWakeAll(c->state_);
  }

  std::atomic<std::uint32_t> state_{kPending};
  CommandOutcome outcome_;
};

}  // namespace rill::engine
