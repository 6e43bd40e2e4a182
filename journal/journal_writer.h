// rill/journal/journal_writer.h: the single writer of a journal directory.
//
//   auto w = rill::journal::JournalWriter::Open(options, &reporter);   // recovers first
//   for (const Event& e : batch) {
//     auto span = (*w)->Reserve(e.size(), e.type());   // space in the mapped segment
//     if (!span.ok()) return span.status();              // NoSpace / Unavailable / InvalidArgument
//     e.EncodeInto(*span);                               // encode in place, no copy
//   }
//   auto last = (*w)->CommitBatch(now_ns);  // all or nothing, visible to readers at once
//   // Durability::kBatch: acknowledge commands when durable_position() >= *last
//   // (WaitDurable, or options.on_durable from the syncer thread).
//
// Thread safety: one thread calls Reserve/CommitBatch/AbortBatch/DeleteSegmentsBefore/Close
// (the engine's writer thread); the position getters and WaitDurable from any thread.
// A span from Reserve is valid until the next Reserve, CommitBatch or AbortBatch.
// Once an append fails with NoSpace or IOError, every later one returns Unavailable with
// that reason; everything committed before stays intact and readable.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "rill/base/result.h"
#include "rill/journal/options.h"
#include "rill/journal/recovery.h"

namespace rill::journal {

class JournalWriter {
 public:
  static Result<std::unique_ptr<JournalWriter>> Open(const WriterOptions& options, Reporter* reporter = nullptr);
  ~JournalWriter();  // Close()
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  // Space for one record of `bytes` payload in the open batch (opened by the first Reserve);
  // the record gets the next position. InvalidArgument when a batch cannot fit in a segment.
  Result<std::span<std::byte>> Reserve(std::size_t bytes, std::uint16_t type = 0);
  // Publishes the open batch atomically; returns its last position. `timestamp_ns` is
  // clamped to be non-decreasing along the journal (seek by time relies on it).
  Result<std::uint64_t> CommitBatch(std::int64_t timestamp_ns);
  void AbortBatch() noexcept;  // drops the open batch; nothing of it was ever visible
  // A follower's append of a whole batch received from elsewhere (RawBatch::bytes of another
  // journal): validated completely first (CRCs, frame layout, exact length, and it must start
  // at committed_position()+1), then written so the segment holds the same bytes. Returns
  // its last position. Corruption (damaged/malformed), InvalidArgument (position gap or
  // overlap, a batch open); on any error nothing is appended.
  Result<std::uint64_t> AppendBatch(std::span<const std::byte> batch);

  std::uint64_t committed_position() const noexcept;  // last committed position; first-1 if none
  std::uint64_t durable_position() const noexcept;    // == committed under Durability::kNone
  // OK once durable_position() >= position; TimedOut; or the sync error.
  Status WaitDurable(std::uint64_t position, std::int64_t timeout_ns) const;
  Status Sync();          // makes everything committed durable now, whatever the policy
  Status status() const;  // OK, or why appends are refused
  JournalStats stats() const noexcept;

  // Retention: deletes whole segments whose records all lie before `position` (the minimum
  // of snapshot and checkpoint positions), oldest first, never the active segment nor one a
  // reader still maps. Returns how many were deleted.
  Result<std::size_t> DeleteSegmentsBefore(std::uint64_t position);
  Status Close();

  class Impl;

 private:
  explicit JournalWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rill::journal
