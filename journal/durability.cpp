#include "rill/journal/durability.h"

#include <chrono>

#include "rill/journal/segment_dir.h"

namespace rill::journal {

Syncer::Syncer(Durability policy, SyncMethod method, std::uint32_t interval_ms, std::string dir, ControlFile* control,
               std::function<void(std::uint64_t)> on_durable)
    : policy_(policy),
      method_(method),
      interval_ms_(interval_ms == 0 ? 1 : interval_ms),
      dir_(std::move(dir)),
      control_(control),
      on_durable_(std::move(on_durable)) {
  durable_.store(control->block().durable_position.load(std::memory_order_acquire), std::memory_order_relaxed);
  thread_ = std::thread([this] { Run(); });
}

Syncer::~Syncer() { (void)Stop(); }

Status Syncer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();  // Run syncs what was posted before it returns
  return error();
}

Status Syncer::error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

void Syncer::Post(const std::shared_ptr<SegmentFile>& seg, std::size_t end, std::uint64_t position) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!error_.ok()) return;  // never synced again: keep no segment alive for it
  if (pending_.empty() || pending_.back().seg.get() != seg.get()) {
    pending_.push_back({seg, end});
  } else {
    pending_.back().end = end;
  }
  pending_position_ = position;
  // Batch policy: wake the syncer now (a no-op syscall-free notify when it is busy syncing:
  // then it finds this batch in the next group). Interval policy: the timer wakes it.
  if (policy_ == Durability::kBatch) cv_.notify_one();
}

void Syncer::SyncNow() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    sync_requested_ = true;
  }
  cv_.notify_one();
}

void Syncer::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (policy_ == Durability::kBatch) {
      cv_.wait(lock, [this] { return stop_ || !pending_.empty(); });
    } else {
      cv_.wait_for(lock, std::chrono::milliseconds(interval_ms_), [this] { return stop_ || sync_requested_; });
    }
    sync_requested_ = false;
    if (pending_.empty() || !error_.ok()) {
      if (stop_) return;
      continue;
    }
    std::vector<Pending> work;
    work.swap(pending_);
    const std::uint64_t position = pending_position_;
    lock.unlock();
    const auto start = std::chrono::steady_clock::now();
    Status s = SyncAll(work);
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start);
    if (s.ok()) {
      ControlBlock& b = control_->block();
      b.syncs.store(b.syncs.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      b.sync_ns_total.store(b.sync_ns_total.load(std::memory_order_relaxed) + static_cast<std::uint64_t>(ns.count()),
                            std::memory_order_relaxed);
      // The callback runs first, so durable_position() >= P implies on_durable(P) has returned.
      if (on_durable_) on_durable_(position);
      durable_.store(position, std::memory_order_release);
      control_->PublishDurable(position);
    }
    lock.lock();
    if (!s.ok()) {
      const std::uint64_t last = durable_.load(std::memory_order_relaxed);  // only this thread stores it
      // The cause first (call, file, errno text): the engine's rejections keep ~110 characters.
      const std::string why = std::string(s.message()) + "; journal " + dir_ + ": nothing after position " +
                              std::to_string(last) + " was made durable, and a failed sync is never retried; " +
                              "appends are stopped: fix the disk, then reopen the journal";
      error_ = s.IsNoSpace() ? Status::NoSpace(why) : Status::IOError(why);
      pending_.clear();
      failed_.store(true, std::memory_order_release);
      control_->block().sync_failed.store(1, std::memory_order_release);
      // Republishing the unchanged position wakes WaitDurable sleepers (any process), which then
      // see sync_failed. The callback outside the lock (it may take the consumer's locks): it
      // runs after failed_ is set, so whoever it wakes finds the failure.
      control_->PublishDurable(last);
      if (on_durable_) {
        lock.unlock();
        on_durable_(last);
        lock.lock();
      }
    }
  }
}

Status Syncer::SyncAll(const std::vector<Pending>& work) {
  for (const Pending& p : work) {
    const bool first_time = p.seg != synced_seg_;
    RILL_RETURN_IF_ERROR(p.seg->Sync(method_, first_time ? 0 : synced_to_, p.end));
    // A new segment's name must be durable before any position in it is called durable.
    if (first_time) RILL_RETURN_IF_ERROR(SyncDirectory(dir_));
    synced_seg_ = p.seg;
    synced_to_ = p.end;
  }
  return Status::OK();
}

}  // namespace rill::journal
