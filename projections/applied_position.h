// rill/projections/applied_position.h: the position a read model has applied, published once
// per batch, and a futex-based wait for it (read-your-writes).
//
//   // projector thread, at the end of each batch:
//   applied.Publish(last_position_of_batch);
//   // any thread (a query after a write, or the engine's applied(view) acknowledgement):
//   rill::Status s = applied.WaitFor(command_last_position, deadline);   // OK | TimedOut | Unavailable
//
// Waiters sleep on a futex word and the publisher wakes them only when someone waits: a
// Publish with no waiter costs one store and one load. No busy-spin: correct and cheap when
// threads outnumber cores.
//
// Thread safety: Publish/Halt from the one projector thread that owns the read model; the
// rest from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "rill/base/cache_line.h"
#include "rill/base/status.h"

namespace rill::projections {

class AppliedPosition {
 public:
  using Clock = std::chrono::steady_clock;

  explicit AppliedPosition(std::string view_name = {}) : name_(std::move(view_name)) {}
  AppliedPosition(const AppliedPosition&) = delete;
  AppliedPosition& operator=(const AppliedPosition&) = delete;

  // The highest position whose effects (and those of every earlier position) are visible in
  // the read model. 0 before anything was applied. Acquire: pairs with Publish, so a query
  // issued after seeing position p sees the model as of p (or later).
  std::uint64_t position() const noexcept { return position_.load(std::memory_order_acquire); }
  bool halted() const noexcept { return halted_.load(std::memory_order_acquire); }

  // Projector thread: everything up to `position` is applied. Wakes waiters, if any.
  void Publish(std::uint64_t position) noexcept;
  // Projector thread: the projector stopped for good at `position` (the failed event's
  // position) with `reason`; waiters return Unavailable. REQUIRES: called once.
  void Halt(std::uint64_t position, std::string reason);
  // Projector thread (start-up, rebuild swap): sets the position without the monotonic check.
  void Reset(std::uint64_t position) noexcept;

  // Any thread: returns OK once position() >= target; TimedOut when `deadline` passes first;
  // Unavailable when the projector halted below target (it will never get there).
  Status WaitFor(std::uint64_t target, Clock::time_point deadline) const;
  Status WaitFor(std::uint64_t target, std::chrono::nanoseconds timeout) const {
    return WaitFor(target, Clock::now() + timeout);
  }
  // The allocation-free form for the engine's completion path: true once applied.
  bool WaitApplied(std::uint64_t target, Clock::time_point deadline) const noexcept;

  // Set once by Halt; read by any thread after halted() returned true (acquire pairs with the
  // release in Halt, which happens after the string is written).
  const std::string& halt_reason() const noexcept { return halt_reason_; }
  std::uint64_t halt_position() const noexcept { return halt_position_; }
  const std::string& name() const noexcept { return name_; }

 private:
  void WakeWaiters() noexcept;

  // Written once per batch by the projector, read by every query that checks freshness.
  alignas(kFalseSharingRange) std::atomic<std::uint64_t> position_{0};
  std::atomic<bool> halted_{false};
  // Written by waiters (register / deregister) and by the publisher (bumped to wake them).
  alignas(kFalseSharingRange) mutable std::atomic<std::uint32_t> waiters_{0};
  mutable std::atomic<std::uint32_t> wake_word_{0};  // the futex word: changes on every wake
  alignas(kFalseSharingRange) std::string name_;
  std::string halt_reason_;
  std::uint64_t halt_position_ = 0;
};

}  // namespace rill::projections
