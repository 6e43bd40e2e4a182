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
  // Version 2. The first position the journal keeps: set when the journal is created and
  // raised by retention (synced before any segment is deleted), so recovery and verify can
  // tell a prefix removed on purpose from a lost first segment. 0: unknown (a version 1 file).
  alignas(kFalseSharingRange) std::atomic<std::uint64_t> retained_from;
};
static_assert(offsetof(ControlBlock, committed_position) == 128 && offsetof(ControlBlock, durable_position) == 256);
static_assert(offsetof(ControlBlock, appends) == 384 && offsetof(ControlBlock, retained_from) == 512);
static_assert(sizeof(ControlBlock) <= 4096);
inline constexpr std::uint64_t kControlMagic = 0x314c5443'4c4c4952ull;  // "RILLCTL1"
inline constexpr std::uint32_t kControlVersion = 2;

// What the control file says the last writer did, read without mapping it (recovery, verify).
// Recovery trusts two of these fields as lower bounds (FORMAT.md, "Recovery"): nothing at or
// below `durable` may be cut, and the first segment must start at or before `retained_from`.
// Both only ever understate the truth after a crash or power loss: the syncer publishes a
// durable position after the sync, and retention syncs its record before deleting anything.
struct RecordedState {
  bool present = false;  // false: no control file, or never initialised (every field 0)
  std::uint32_t version = 0;
  std::uint32_t writer_pid = 0;  // 0 after a clean close
  std::uint64_t committed = 0, durable = 0;
  std::uint64_t retained_from = 0;  // 0: unknown
};
// Corruption when "<dir>/control" exists but is not a regular file.
Result<RecordedState> ReadRecordedState(const std::string& dir);

class ControlFile {
 public:
  // Writer: creates or reuses the file and resets it to the recovered state (positions up
  // to `committed` kept and synced, the journal starting at `retained_from`), then syncs the
  // page, so the durable floor recovery trusts next time is on disk before any append.
  static Result<std::unique_ptr<ControlFile>> OpenForWriter(const std::string& dir, std::uint64_t committed,
                                                            std::uint64_t segment_size, std::uint64_t retained_from);
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
  // Retention: records (and syncs) that the journal now starts at `first_kept`. Call before
  // deleting the segments below it.
  Status RecordRetention(std::uint64_t first_kept);
  bool WaitDurable(std::uint64_t target, std::int64_t timeout_ns) const noexcept;

 private:
  ControlFile(ControlBlock* block, bool can_register, std::string path)
      : block_(block), can_register_(can_register), path_(std::move(path)) {}
  Status SyncPage() const;
  ControlBlock* block_;
  bool can_register_;  // false: mapped read-only, waits poll in 1 ms slices
  std::string path_;
};

}  // namespace rill::journal
