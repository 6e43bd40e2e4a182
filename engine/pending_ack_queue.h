// rill/engine/pending_ack_queue.h: the writer's queue of accepted commands whose outcome waits
// for a position to advance: the durable position (kDurable) or the replicated one
// (kReplicated). A circular buffer in commit order that doubles when full (rare: more such
// commands in flight than the ring holds), so the writer never waits to queue one.
//
//   queue.Push(pending);                                   // after the batch's commit
//   queue.PopUpTo(durable, [](T& p) { p.target.Deliver(p.outcome); });
//
// Thread safety: the writer thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace rill::engine {

// T has `outcome.position()`: the command's last position.
template <typename T>
class PendingAckQueue {
 public:
  explicit PendingAckQueue(std::size_t capacity = 64) : items_(capacity == 0 ? 1 : capacity) {}

  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }

  void Push(const T& item) {
    if (size_ == items_.size()) {
      std::vector<T> bigger(items_.size() * 2);
      for (std::size_t i = 0; i < size_; ++i) bigger[i] = std::move(items_[(head_ + i) % items_.size()]);
      items_ = std::move(bigger);
      head_ = 0;
    }
    items_[(head_ + size_) % items_.size()] = item;
    ++size_;
  }

  // Hands `fn` every item from the front whose position is <= `position`, in order; stops at
  // the first beyond it. Items are pushed in commit order, so positions rise along the queue.
  template <typename Fn>
  void PopUpTo(std::uint64_t position, Fn&& fn) {
    while (size_ != 0 && items_[head_].outcome.position() <= position) PopFront(fn);
  }

  // Hands `fn` every item, in order, and empties the queue.
  template <typename Fn>
  void PopAll(Fn&& fn) {
    while (size_ != 0) PopFront(fn);
  }

 private:
  template <typename Fn>
  void PopFront(Fn& fn) {
    T& item = items_[head_];
    head_ = (head_ + 1) % items_.size();
    --size_;
    fn(item);
  }

  std::vector<T> items_;
  std::size_t head_ = 0, size_ = 0;
};

}  // namespace rill::engine
