// rill/engine/applied_view.h: one read model's applied position as the engine sees it, for the
// fourth acknowledgement level, applied(view): a command completes once that read model has
// applied its events (read-your-writes without polling).
//
//   rill::engine::AppliedView balances_view("balances");
//   rill::projections::ProjectorOptions po;                      // wire the projector to the view
//   po.on_applied = [&](std::uint64_t p) { balances_view.Advance(p); };
//   po.on_halted = [&](std::uint64_t p, const std::string& why) { balances_view.Halt(p, why); };
//   auto* balances = projector_thread.Add<rill::projections::bank::Balances>(po);
//   ...
//   CommandOutcome o = engine.execute(Deposit{7, 500}, {.command_id = 42}, balances_view);
//   if (o.accepted()) assert(balances->model().Get(7)->balance >= 500);   // already visible
//
// The engine does not depend on projections/ (nor they on it): the view is fed through the
// projector's callbacks, so any read model (yours too) can be a view.
//
// Mechanics: waiters sit in a min-heap by position behind a mutex; an atomic `next_due_` (the
// smallest position waited for) lets Advance skip the mutex entirely when nothing is due, so
// a projector pays one store and one load per batch. The writer hands over a whole batch's
// applied(view) acknowledgements at once (NotifyBatch): one lock per batch, never per event.
// Callbacks run outside the mutex, on whichever thread completed the wait: the projector
// (usually), the writer (the view was already there) or the caller of NotifyWhenApplied.
//
// A view that halts (its projector stopped on a failing event) or closes answers every
// waiter, present and future, with RejectCode::kViewUnavailable: NOT a refusal; the command's
// events are journaled (position() is set), but the read model will not show them.
//
// Thread safety: every member from any thread; Advance and Halt normally come from the
// projector thread that feeds the view. The view must outlive every
// command submitted with it and every wait on it.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "rill/base/cache_line.h"
#include "rill/engine/command_outcome.h"
#include "rill/engine/completion.h"

namespace rill::engine {

// One acknowledgement waiting for a view: deliver `outcome` to `target` once the view's
// applied position reaches `position`.
struct AppliedWaiter {
  std::uint64_t position = 0;
  CompletionTarget target;
  CommandOutcome outcome;
};

class AppliedView {
 public:
  explicit AppliedView(std::string name);
  // Answers the waiters still queued with kViewUnavailable ("the view was destroyed").
  ~AppliedView();
  AppliedView(const AppliedView&) = delete;
  AppliedView& operator=(const AppliedView&) = delete;

  const std::string& name() const noexcept { return name_; }
  // The highest position reported by Advance. Acquire: pairs with Advance's store.
  std::uint64_t position() const noexcept { return position_.load(std::memory_order_acquire); }
  bool closed() const noexcept { return closed_.load(std::memory_order_acquire); }
  // How many waiters are queued (cold; takes the mutex).
  std::size_t waiting() const;

  // Projector thread, after each published batch: everything up to `position` is applied.
  // Completes the waiters that became due. Positions below the current one are ignored, so
  // the owner may also seed a view with its projector's applied_position() after Start (a view
  // learns positions from batches; a projector that loaded a checkpoint and is idle has none).
  void Advance(std::uint64_t position) noexcept;
  // Projector thread: the projector halted at `position` (the failing event) for `reason`.
  void Halt(std::uint64_t position, const std::string& reason);
  // Any thread: no more applied positions will come (shutting down). Idempotent.
  void Close(const std::string& reason);

  // Any thread. Delivers `outcome` to `target` once position() >= `position`: at once, on
  // this thread, when it already is. If the view halts or closes first: kViewUnavailable.
  void NotifyWhenApplied(std::uint64_t position, const CommandOutcome& outcome, CompletionTarget target);
  // The same for many waiters, under one lock (the writer's per-batch handover).
  void NotifyBatch(std::span<const AppliedWaiter> waiters);

 private:
  static constexpr std::uint64_t kNoneDue = std::numeric_limits<std::uint64_t>::max();
  static constexpr std::size_t kDeliverChunk = 64;  // waiters popped per lock in Drain

  // Pops due waiters in chunks and delivers them outside the mutex.
  void Drain() noexcept;
  // REQUIRES: mu_ held. Keeps next_due_ equal to the heap's smallest position.
  void UpdateNextDueLocked() noexcept;
  // Builds the kViewUnavailable outcome for a waiter (cold path).
  CommandOutcome Unavailable(const AppliedWaiter& w) const;
  // After a close: the waiter's own outcome if its position was reached, else Unavailable.
  CommandOutcome OutcomeAfterClose(const AppliedWaiter& w) const;
  // Answers every queued waiter (after closed_ is set).
  void FailAll();

  const std::string name_;
  // Written by the projector once per batch; read by the writer and every waiter.
  alignas(kFalseSharingRange) std::atomic<std::uint64_t> position_{0};
  // The smallest position a queued waiter needs (kNoneDue when none): Advance's fast path.
  alignas(kFalseSharingRange) std::atomic<std::uint64_t> next_due_{kNoneDue};
  std::atomic<bool> closed_{false};
  alignas(kFalseSharingRange) mutable std::mutex mu_;
  std::vector<AppliedWaiter> heap_;  // min-heap by position; keeps its capacity
  std::string close_reason_;         // under mu_, set once
  std::uint64_t halt_position_ = 0;  // under mu_; 0 when closed rather than halted
};

}  // namespace rill::engine
