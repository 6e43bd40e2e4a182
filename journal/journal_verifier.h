// rill/journal/journal_verifier.h: a read-only check of a whole journal directory, frame by
// frame, for tools (`rill inspect verify`) that must name the first problem without changing
// anything.
//
//   struct Count : rill::journal::CheckVisitor {
//     void OnRecord(const rill::journal::Record& r) override { ++records; }
//     std::uint64_t records = 0;
//   } count;
//   rill::Result<rill::journal::JournalCheck> c = rill::journal::CheckJournal(dir, &count);
//   if (c.ok() && c->damage) std::puts(c->damage->reason.c_str());  // segment, offset, position
//
// Unlike recovery it takes no lock, maps segments read-only and never cuts: it reports. It
// applies the journal's own definition of a valid batch (batch_parser.h, every CRC), the
// segment headers, the position chain across batches and segments, and the end of each
// segment, the way recovery judges them. Bytes after the last committed batch of the last
// segment are an uncommitted tail (a batch being written, or one a crash left unfinished):
// reported apart from damage, since recovery cuts them and nothing acknowledged is lost.
// Thread safety: a function over files; runs beside a live writer in any process.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "rill/base/result.h"
#include "rill/journal/format.h"
#include "rill/journal/journal_reader.h"

namespace rill::journal {

struct CheckProblem {
  std::string segment;         // file name, e.g. "0000000000000002.seg"
  std::uint64_t offset = 0;    // byte offset of the damaged frame (0: the header, or the file)
  std::uint64_t position = 0;  // the first position the damage affects (0 when unknown)
  std::string reason;
};

struct UncommittedTail {
  std::string segment;
  std::uint64_t offset = 0;  // where the committed journal ends
  std::uint64_t bytes = 0;   // non-zero bytes after it (up to the last non-zero one)
};

struct JournalCheck {
  std::uint64_t segments = 0, batches = 0, records = 0, record_bytes = 0;  // checked and valid
  std::uint64_t first_position = 0, next_position = 0;                     // valid records: [first, next)
  std::optional<CheckProblem> damage;                                      // the first one; the check stops there
  std::optional<UncommittedTail> uncommitted_tail;
  // The last segment's file is shorter than its header says (copied or cut by a tool);
  // readers and recovery treat the missing bytes as zeros, so it is noted, not damage.
  std::optional<CheckProblem> short_last_segment;
};

class CheckVisitor {
 public:
  virtual ~CheckVisitor() = default;
  // Each segment whose header is valid, before its records.
  virtual void OnSegment(const std::string& /*name*/, const SegmentHeader& /*header*/,
                         std::span<const std::byte> /*schema_blob*/) {}
  // Each record of each valid batch, in position order; payload valid during the call only.
  virtual void OnRecord(const Record& /*record*/) {}
};

// NotFound when `dir` is missing or holds no segment, IOError when it cannot be listed;
// everything found inside the segments is in the JournalCheck.
Result<JournalCheck> CheckJournal(const std::string& dir, CheckVisitor* visitor = nullptr);

}  // namespace rill::journal
