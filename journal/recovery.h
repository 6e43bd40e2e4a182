// rill/journal/recovery.h: what Open does to a journal directory before the first append.
//
//   struct Log : rill::journal::Reporter {
//     void TailTruncated(const TailCut& c) override { LOG("cut %llu bytes at %s", ...); }
//     void Salvaged(const SalvageReport& r) override { ... }
//   } log;
//   auto w = JournalWriter::Open(options, &log);
//
// A torn or partial batch at the end of the last segment is cut (zeroed) and reported,
// never thrown. Damage anywhere before the tail stops the open with a Corruption naming the
// segment and offset, unless options.salvage: then the valid prefix is kept and the rest is
// moved to "<dir>/aside-<time>/" (never deleted) and reported.
// Thread safety: runs once, in Open, under the directory lock.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rill/base/result.h"
#include "rill/journal/options.h"
#include "rill/journal/segment_file.h"

namespace rill::journal {

struct TailCut {
  std::string segment;                   // file name
  std::uint64_t offset = 0;              // where the journal now ends in that file
  std::uint64_t bytes_cut = 0;           // non-zero bytes that were zeroed (or the file moved aside)
  std::uint64_t first_position_cut = 0;  // the first position that is no longer in the journal
  std::uint64_t last_position_cut = 0;   // best effort: 0 when the torn batch's header is unreadable
  std::string reason;
};

struct SalvageReport {
  std::string segment;  // where the damage was
  std::uint64_t offset = 0;
  std::uint64_t first_position_dropped = 0;
  std::string aside_directory;  // holds a copy of the damaged segment and every later one
  std::string reason;
};

class Reporter {
 public:
  virtual ~Reporter() = default;
  virtual void TailTruncated(const TailCut& cut) = 0;
  virtual void Salvaged(const SalvageReport& report) = 0;
};

struct RecoveredJournal {
  std::vector<std::uint64_t> segments;  // indexes, ascending; empty for a new journal
  std::unique_ptr<SegmentFile> last;    // the last segment, mapped read-write
  std::size_t tail_offset = 0;          // first free byte in `last`
  bool last_sealed = false;             // `last` ends with a pad: the writer must roll
  std::uint64_t next_position = 0;      // position of the next record appended
  std::int64_t last_timestamp_ns = 0;
};

Result<RecoveredJournal> RecoverJournal(const WriterOptions& options, Reporter* reporter);

}  // namespace rill::journal
