#include "rill/engine/applied_view.h"

#include <algorithm>
#include <array>
#include <functional>
#include <utility>

namespace rill::engine {
namespace {

// std::push_heap builds a max-heap; this order makes it a min-heap by position.
bool LaterFirst(const AppliedWaiter& a, const AppliedWaiter& b) noexcept { return a.position > b.position; }

}  // namespace

AppliedView::AppliedView(std::string name) : name_(std::move(name)) {}

AppliedView::~AppliedView() { Close("the view was destroyed"); }

std::size_t AppliedView::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return heap_.size();
}

void AppliedView::Advance(std::uint64_t position) noexcept {
  // A maximum, so that a second caller (the owner seeding the view with a projector's
  // position after Start) can never move it backwards. Seq_cst CAS, then seq_cst load of
  // next_due_: a Dekker pair with NotifyBatch, which stores next_due_ and then loads position_.
  // Either we see its waiter due, or it sees our position and drains itself, so no waiter is
  // left behind a position already reached.
  std::uint64_t seen = position_.load(std::memory_order_relaxed);
  do {
    if (position <= seen) return;
  } while (!position_.compare_exchange_weak(seen, position, std::memory_order_seq_cst, std::memory_order_relaxed));
  if (position >= next_due_.load(std::memory_order_seq_cst)) Drain();
}

void AppliedView::Halt(std::uint64_t position, const std::string& reason) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_.load(std::memory_order_relaxed)) return;  // relaxed: closed_ changes under mu_
    close_reason_ = reason;
    halt_position_ = position;
    // Release: close_reason_ is written before a reader that sees closed() reads it.
    closed_.store(true, std::memory_order_release);
  }
  FailAll();
}

void AppliedView::Close(const std::string& reason) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_.load(std::memory_order_relaxed)) return;  // relaxed: as in Halt
    close_reason_ = reason;
    closed_.store(true, std::memory_order_release);  // release: as in Halt
  }
  FailAll();
}

void AppliedView::NotifyWhenApplied(std::uint64_t position, const CommandOutcome& outcome, CompletionTarget target) {
  const AppliedWaiter w{position, target, outcome};
  NotifyBatch(std::span<const AppliedWaiter>(&w, 1));
}

void AppliedView::NotifyBatch(std::span<const AppliedWaiter> waiters) {
  if (waiters.empty()) return;
  // Fast path: everything already applied (a duplicate command, a slow submitter). Acquire:
  // pairs with Advance, so the caller's target sees the model as of that position.
  const std::uint64_t applied = position_.load(std::memory_order_acquire);
  const bool all_due =
      std::all_of(waiters.begin(), waiters.end(), [applied](const AppliedWaiter& w) { return w.position <= applied; });
  if (all_due) {  // applied stays applied, even if the view closed since
    for (const AppliedWaiter& w : waiters) w.target.Deliver(w.outcome);
    return;
  }
  bool was_closed = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    was_closed = closed_.load(std::memory_order_relaxed);  // relaxed: closed_ changes under mu_
    if (!was_closed) {
      for (const AppliedWaiter& w : waiters) {
        heap_.push_back(w);
        std::push_heap(heap_.begin(), heap_.end(), LaterFirst);
      }
      UpdateNextDueLocked();
    }
  }
  if (was_closed) {
    for (const AppliedWaiter& w : waiters) w.target.Deliver(OutcomeAfterClose(w));
    return;
  }
  // Seq_cst: the other half of Advance's Dekker pair (next_due_ was stored above).
  if (position_.load(std::memory_order_seq_cst) >= next_due_.load(std::memory_order_seq_cst)) Drain();
}

void AppliedView::UpdateNextDueLocked() noexcept {
  // Seq_cst: read by Advance's Dekker check without the mutex.
  next_due_.store(heap_.empty() ? kNoneDue : heap_.front().position, std::memory_order_seq_cst);
}

void AppliedView::Drain() noexcept {
  // Deliveries happen outside the mutex (a callback may notify again, or take its time), in
  // chunks so a large backlog needs no allocation.
  std::array<AppliedWaiter, kDeliverChunk> due;
  for (;;) {
    std::size_t n = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      const std::uint64_t applied = position_.load(std::memory_order_acquire);  // acquire: see Advance
      while (n < due.size() && !heap_.empty() && heap_.front().position <= applied) {
        std::pop_heap(heap_.begin(), heap_.end(), LaterFirst);
        due[n++] = heap_.back();
        heap_.pop_back();
      }
      UpdateNextDueLocked();
    }
    for (std::size_t i = 0; i < n; ++i) due[i].target.Deliver(due[i].outcome);
    if (n < due.size()) return;
  }
}

CommandOutcome AppliedView::Unavailable(const AppliedWaiter& w) const {
  // close_reason_ and halt_position_ are written once, before closed_ (release), and every
  // caller saw closed_ set (under mu_ or with acquire).
  const Rejection r =
      halt_position_ != 0
          ? Rejection::Format(RejectCode::kViewUnavailable, 0, "journaled at %llu, but view '%s' halted at %llu: %s",
                              static_cast<unsigned long long>(w.position), name_.c_str(),
                              static_cast<unsigned long long>(halt_position_), close_reason_.c_str())
          : Rejection::Format(RejectCode::kViewUnavailable, 0, "journaled at %llu, but view '%s' closed: %s",
                              static_cast<unsigned long long>(w.position), name_.c_str(), close_reason_.c_str());
  return CommandOutcome::ViewUnavailable(w.outcome, r);
}

CommandOutcome AppliedView::OutcomeAfterClose(const AppliedWaiter& w) const {
  // A position reached before the close (Advance raced with Close) is applied: say so.
  return w.position <= position_.load(std::memory_order_acquire) ? w.outcome : Unavailable(w);  // acquire: Advance
}

void AppliedView::FailAll() {
  std::array<AppliedWaiter, kDeliverChunk> failed;
  for (;;) {
    std::size_t n = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      while (n < failed.size() && !heap_.empty()) {
        failed[n++] = heap_.back();  // order does not matter: none of them will be applied
        heap_.pop_back();
      }
      if (heap_.empty()) std::vector<AppliedWaiter>().swap(heap_);
      UpdateNextDueLocked();
    }
    for (std::size_t i = 0; i < n; ++i) failed[i].target.Deliver(OutcomeAfterClose(failed[i]));
    if (n < failed.size()) return;
  }
}

}  // namespace rill::engine
