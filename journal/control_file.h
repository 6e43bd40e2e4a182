// rill/journal/control_file.h: the journal's shared scoreboard, "<dir>/control" (4 KiB).
//
// The writer publishes its committed and durable positions and counters here; every reader
// maps the file read-only, so a tailer in any process sleeps on a futex in the shared mapping
// instead of scanning, and tools read lag and rates from outside the writer's process.
// The control file is advisory: the segments alone define the journal (recovery never trusts
// this file; a reader without it still reads, and polls to wait).
// Thread safety: the writer thread stores commit fields, the sync thread durable fields;
// any thread or process may read and wait.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "rill/base/cache_line.h"
#include "rill/base/result.h"

namespace rill::journal {

struct ControlBlock {
  std::uint64_t magic;  // kControlMagic once the writer has initialised the file
  std::uint32_t version;
  std::atomic<std::uint32_t> writer_pid;  // relaxed, informational; 0 after a clean close
  std::uint64_t segment_size;
  std::atomic<std::uint64_t> active_segment;                                  // relaxed: informational
  alignas(kFalseSharingRange) std::atomic<std::uint64_t> committed_position;  // release/acquire
  std::atomic<std::uint32_t> commit_seq;                                      // futex word; bumped after each commit
  std::atomic<std::uint32_t> commit_waiters;  // > 0 while a tailer may sleep on commit_seq
  alignas(kFalseSharingRange) std::atomic<std::uint64_t> durable_position;  // release/acquire
  std::atomic<std::uint32_t> durable_seq;
  std::atomic<std::uint32_t> durable_waiters;
  std::atomic<std::uint32_t> sync_failed;  // 1 once the syncer gave up: durable waits end
  std::atomic<std::uint64_t> syncs;        // relaxed counters, sync thread
  std::atomic<std::uint64_t> sync_ns_total;
  alignas(kFalseSharingRange) std::atomic<std::uint64_t> appends;  // relaxed counters, writer
  std::atomic<std::uint64_t> batches;
  std::atomic<std::uint64_t> bytes;
};
static_assert(offsetof(ControlBlock, committed_position) == 128 && offsetof(ControlBlock, durable_position) == 256);
static_assert(offsetof(ControlBlock, appends) == 384 && sizeof(ControlBlock) <= 4096);
inline constexpr std::uint64_t kControlMagic = 0x314c5443'4c4c4952ull;  // "RILLCTL1"

class ControlFile {
 public:
  // Writer: creates or reuses the file and resets it to the recovered state.
  static Result<std::unique_ptr<ControlFile>> OpenForWriter(const std::string& dir, std::uint64_t committed,
                                                            std::uint64_t segment_size);
  // Readers: NotFound when no writer has initialised the journal yet.
  static Result<std::unique_ptr<ControlFile>> OpenReadOnly(const std::string& dir);
  ~ControlFile();
  ControlFile(const ControlFile&) = delete;
  ControlFile& operator=(const ControlFile&) = delete;

  ControlBlock& block() const noexcept { return *block_; }
  void PublishCommitted(std::uint64_t position) noexcept;
  void PublishDurable(std::uint64_t position) noexcept;
  void StoreDurableNoWake(std::uint64_t position) noexcept;  // Durability::kNone: durable == committed
  // Both return true when the position reached `target` before the timeout (< 0: none);
  // WaitDurable also returns false at once when the syncer has failed (sync_failed).
  bool WaitCommitted(std::uint64_t target, std::int64_t timeout_ns) const noexcept;
  bool WaitDurable(std::uint64_t target, std::int64_t timeout_ns) const noexcept;

 private:
  ControlFile(ControlBlock* block, bool can_register) : block_(block), can_register_(can_register) {}
  ControlBlock* block_;
  bool can_register_;  // false: mapped read-only, waits poll in 1 ms slices
};

}  // namespace rill::journal
