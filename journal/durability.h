// rill/journal/durability.h: the syncer, the helper thread that makes batches durable.
//
// Syncer (policies batch and interval): the writer posts "segment S is committed up to byte
// B = position P" after each batch and never waits; the syncer takes everything posted so
// far, makes it durable with one msync/fdatasync per segment (group commit: the writer keeps
// appending while the previous group syncs), then publishes P as durable in the control file
// and calls on_durable(P). A sync error stops durability for good (the PostgreSQL "fsyncgate"
// lesson: after a failed msync/fdatasync the kernel may have marked the pages clean without
// writing them, so a retry that succeeds proves nothing): the syncer never syncs again, never
// publishes a durable position beyond the last successful sync, failed() turns true, every
// WaitDurable waiter (in any process) is woken with the failure, the writer refuses further
// appends, and on_durable is called once more with the last durable position, unchanged (it
// claims nothing new), so that a consumer woken only by on_durable (the engine's writer,
// holding durable acknowledgements) wakes up and finds the failure in failed()/error().
// Thread safety: Post from the writer thread only; the rest from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "rill/journal/control_file.h"
#include "rill/journal/segment_file.h"

namespace rill::journal {

class Syncer {
 public:
  Syncer(Durability policy, SyncMethod method, std::uint32_t interval_ms, std::string dir, ControlFile* control,
         std::function<void(std::uint64_t)> on_durable);
  ~Syncer();  // Stop()
  // Syncs what was posted (unless a sync already failed), stops the thread and returns the
  // sync error, if any. Idempotent.
  Status Stop();
  void Post(const std::shared_ptr<SegmentFile>& seg, std::size_t end, std::uint64_t position);
  // Interval policy: sync what was posted now instead of at the next tick (JournalWriter::Sync).
  void SyncNow();
  bool failed() const noexcept { return failed_.load(std::memory_order_acquire); }
  Status error() const;
  std::uint64_t durable_position() const noexcept { return durable_.load(std::memory_order_acquire); }

 private:
  struct Pending {
    std::shared_ptr<SegmentFile> seg;
    std::size_t end;
  };
  void Run();
  Status SyncAll(const std::vector<Pending>& work);

  const Durability policy_;
  const SyncMethod method_;
  const std::uint32_t interval_ms_;
  const std::string dir_;
  ControlFile* const control_;
  const std::function<void(std::uint64_t)> on_durable_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Pending> pending_;             // guarded by mu_
  std::uint64_t pending_position_ = 0;       // guarded by mu_
  bool stop_ = false;                        // guarded by mu_
  bool sync_requested_ = false;              // guarded by mu_
  Status error_;                             // guarded by mu_
  std::shared_ptr<SegmentFile> synced_seg_;  // syncer thread only
  std::size_t synced_to_ = 0;                // syncer thread only
  std::atomic<bool> failed_{false};          // release: error_ is set before
  std::atomic<std::uint64_t> durable_{0};    // release: the bytes are on disk before
  std::thread thread_;
};

}  // namespace rill::journal
