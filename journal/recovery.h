// rill/journal/recovery.h: what Open does to a journal directory before the first append.
//
//   struct Log : rill::journal::Reporter {
//     void TailTruncated(const TailCut& c) override { LOG("set aside %llu bytes at %s", ...); }
//     void Salvaged(const SalvageReport& r) override { ... }
//   } log;
//   auto w = JournalWriter::Open(options, &log);
//
// Recovery acts on the verdict of CheckJournal (journal_verifier.h), the one place the
// recovery rule is applied (FORMAT.md, "Recovery"):
// - nothing at or below the highest position the control file ever recorded durable is cut:
//   damage there stops the open with a Corruption naming segment, offset and position, unless
//   options.salvage;
// - what is cut past it (a torn batch; a power loss's out-of-order writeback) is first copied
//   to "<dir>/aside-<time>/", never just zeroed, and reported with the committed events it held;
//   damage followed by valid batches is reported as damage (TailCut::damage), not as a torn tail;
// - salvage keeps the valid prefix and moves the rest aside (never deletes), reporting how many
//   acknowledged events it could not keep.
// Thread safety: runs once, in Open (or RecoverDirectory), under the directory lock.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rill/base/result.h"
#include "rill/journal/options.h"
#include "rill/journal/segment_file.h"

namespace rill::journal {

// Bytes recovery cut from the end of a segment, after saving them aside.
struct TailCut {
  std::string segment;                   // file name
  std::uint64_t offset = 0;              // where the journal now ends in that file
  std::uint64_t bytes_cut = 0;           // non-zero bytes set aside and zeroed (or the file moved aside)
  std::uint64_t first_position_cut = 0;  // the first position that is no longer in the journal
  std::uint64_t last_position_cut = 0;   // the last committed position set aside (0: none was committed)
  std::uint64_t committed_events = 0;    // events of committed batches set aside (all past the durable position)
  bool damage = false;                   // a damaged batch followed by committed ones: damage, not a routine torn tail
  std::string aside;                     // the file holding the bytes set aside
  std::string reason;
};

struct SalvageReport {
  std::string segment;  // where the damage was
  std::uint64_t offset = 0;
  std::uint64_t first_position_dropped = 0;
  std::uint64_t events_set_aside = 0;   // committed events moved aside (best effort)
  std::uint64_t acknowledged_lost = 0;  // positions the control file recorded durable that the journal no longer has
  std::string aside_directory;          // holds a copy of the damaged segment and every later one ("": none moved)
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
  std::uint64_t retained_from = 0;      // the first position the journal keeps (its first segment's)
  std::int64_t last_timestamp_ns = 0;
};

// REQUIRES: the caller holds the directory lock (DirLock).
Result<RecoveredJournal> RecoverJournal(const WriterOptions& options, Reporter* reporter);

// `rill recover --salvage` and the like: takes the lock, recovers (options.salvage applies),
// syncs what was kept and records the result in the control file, so the next writer opens
// without a complaint; appends nothing. Busy when a writer holds the journal.
Status RecoverDirectory(const WriterOptions& options, Reporter* reporter);

}  // namespace rill::journal
