// rill/journal/journal_reader.h: read a journal, in this process or another, while it is
// written; follow it (tail) and seek by position or time.
//
//   auto r = rill::journal::JournalReader::Open({.directory = dir});
//   rill::journal::Record rec;
//   for (;;) {
//     switch ((*r)->Next(&rec)) {
//       case ReadStatus::kRecord: Apply(rec.position, rec.type, rec.payload); break;
//       case ReadStatus::kEnd: (*r)->WaitForCommit(100'000'000); break;  // sleeps on a futex
//       case ReadStatus::kError: return (*r)->error();  // Corruption naming segment + offset
//     }
//   }
//
// Readers take no lock on the journal: they map segments read-only and see only committed
// batches, whole. Each mapped segment carries a shared flock so retention leaves it alone.
// Thread safety: one JournalReader per thread; any number of readers per journal.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "rill/base/result.h"
#include "rill/journal/options.h"

namespace rill::journal {

struct Record {
  std::uint64_t position = 0;
  std::uint16_t type = 0;              // the user_type given to Reserve
  std::int64_t timestamp_ns = 0;       // its batch's
  std::span<const std::byte> payload;  // valid until the next Next/Seek call
  bool end_of_batch = false;
  std::uint64_t segment_index = 0;  // where the frame lies (for tools: rill inspect, verify)
  std::uint64_t offset = 0;
};

enum class ReadStatus : std::uint8_t { kRecord, kEnd, kError };

// One whole committed batch, verbatim as it lies in the segment: the batch frame and its
// data frames, CRCs included (FORMAT.md "Batches"). What replication ships and what
// JournalWriter::AppendBatch takes back.
struct RawBatch {
  std::uint64_t first_position = 0;
  std::uint32_t record_count = 0;
  std::int64_t timestamp_ns = 0;
  std::uint64_t schema_fingerprint = 0;  // of the segment holding the batch
  std::span<const std::byte> bytes;      // batch_bytes long; valid until the next Next/NextBatch/Seek
  std::uint64_t last_position() const noexcept { return first_position + record_count - 1; }
};

struct SegmentInfo {
  std::uint64_t index = 0;
  std::string file;
  std::uint64_t first_position = 0, last_position = 0;  // last < first: no record yet
  std::int64_t first_timestamp_ns = 0, last_timestamp_ns = 0;
  std::int64_t creation_time_ns = 0;
  std::uint64_t schema_fingerprint = 0;
  std::uint64_t batches = 0;
  bool sealed = false;
};

class JournalReader {
 public:
  static Result<std::unique_ptr<JournalReader>> Open(const ReaderOptions& options);
  ~JournalReader();
  JournalReader(const JournalReader&) = delete;
  JournalReader& operator=(const JournalReader&) = delete;

  ReadStatus Next(Record* out);
  // The next whole committed batch, verbatim, without copying (a span into the mapping).
  // Only at a batch boundary: after Open, SeekToPosition to a batch's first position,
  // NextBatch, or a Next that returned end_of_batch; elsewhere kError (InvalidArgument).
  // Validates like Next (CRCs) and crosses segments like Next.
  ReadStatus NextBatch(RawBatch* out);
  const Status& error() const noexcept;  // after kError
  std::uint64_t next_position() const noexcept;

  Status SeekToPosition(std::uint64_t position);  // next record returned has this position
  Status SeekToTime(std::int64_t timestamp_ns);   // first record of the first batch at or after

  // From the control file; 0 when no writer has published one.
  std::uint64_t committed_position() const noexcept;
  std::uint64_t durable_position() const noexcept;
  JournalStats stats() const noexcept;  // the writer's counters (lag and rates for tools)
  // Sleeps until a record at next_position() is committed; false on timeout (< 0: none).
  bool WaitForCommit(std::int64_t timeout_ns);

  Result<std::vector<SegmentInfo>> ListSegments() const;
  std::uint64_t schema_fingerprint() const noexcept;  // of the segment being read
  std::span<const std::byte> schema_blob() const noexcept;

  class Impl;

 private:
  explicit JournalReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rill::journal
