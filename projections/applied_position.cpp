#include "rill/projections/applied_position.h"

#include <cinttypes>
#include <cstdio>

#include "rill/base/futex.h"

namespace rill::projections {

void AppliedPosition::Publish(std::uint64_t position) noexcept {
  // seq_cst store, then seq_cst load of waiters_: with the waiter's seq_cst increment of
  // waiters_ and seq_cst load of position_ (WaitApplied), the single total order makes it
  // impossible that the publisher sees no waiter while the waiter sees the old position
  // (the Dekker pattern). Release alone would allow both to read stale values.
  position_.store(position, std::memory_order_seq_cst);
  if (waiters_.load(std::memory_order_seq_cst) != 0) WakeWaiters();
}

void AppliedPosition::Reset(std::uint64_t position) noexcept {
  position_.store(position, std::memory_order_seq_cst);  // as Publish
  if (waiters_.load(std::memory_order_seq_cst) != 0) WakeWaiters();
}

void AppliedPosition::Halt(std::uint64_t position, std::string reason) {
  halt_reason_ = std::move(reason);
  halt_position_ = position;
  // seq_cst: the reason and position are published by this store (release part), and waiters
  // registered before it are seen by the load below (same Dekker argument as Publish).
  halted_.store(true, std::memory_order_seq_cst);
  if (waiters_.load(std::memory_order_seq_cst) != 0) WakeWaiters();
}

void AppliedPosition::WakeWaiters() noexcept {
  // Release: a waiter that sees the new word also sees position_/halted_ (it re-checks anyway).
  wake_word_.fetch_add(1, std::memory_order_release);
  FutexWakeAll(wake_word_);
}

bool AppliedPosition::WaitApplied(std::uint64_t target, Clock::time_point deadline) const noexcept {
  if (position_.load(std::memory_order_acquire) >= target) return true;  // the common, fast case
  waiters_.fetch_add(1, std::memory_order_seq_cst);                      // see Publish
  bool applied = false;
  for (;;) {
    // Read the futex word before re-checking: a Publish after this load changes the word, so
    // FutexWait returns at once instead of sleeping through the wake-up.
    const std::uint32_t seen = wake_word_.load(std::memory_order_acquire);
    if (position_.load(std::memory_order_seq_cst) >= target) {
      applied = true;
      break;
    }
    if (halted_.load(std::memory_order_seq_cst)) break;
    const auto left = deadline - Clock::now();
    if (left <= Clock::duration::zero()) break;
    FutexWait(wake_word_, seen, std::chrono::duration_cast<std::chrono::nanoseconds>(left).count());
  }
  waiters_.fetch_sub(1, std::memory_order_relaxed);  // a stale count costs one needless wake at most
  return applied;
}

Status AppliedPosition::WaitFor(std::uint64_t target, Clock::time_point deadline) const {
  if (WaitApplied(target, deadline)) return Status::OK();
  char buf[160];
  if (halted()) {
    std::snprintf(buf, sizeof buf, "view '%s' halted at position %" PRIu64 " and will not reach %" PRIu64 ": ",
                  name_.c_str(), halt_position_, target);
    return Status::Unavailable(std::string(buf) + halt_reason_);
  }
  std::snprintf(buf, sizeof buf,
                "view '%s' had applied position %" PRIu64 " of %" PRIu64
                " at the deadline; wait longer or check its lag",
                name_.c_str(), position(), target);
  return Status::TimedOut(buf);
}

}  // namespace rill::projections
