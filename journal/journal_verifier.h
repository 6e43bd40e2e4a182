// rill/journal/journal_verifier.h: the one verdict on a journal directory. Every tool
// (`rill inspect`, `rill replay`, `rill recover`) and the writer's recovery call CheckJournal,
// so they reach the same verdict on the same journal: empty, intact, torn tail, damaged tail
// (beyond the durable position) or damaged, with segment, offset and position.
//
//   struct Count : rill::journal::CheckVisitor {
//     void OnRecord(const rill::journal::Record& r) override { ++records; }
//     std::uint64_t records = 0;
//   } count;
//   rill::Result<rill::journal::JournalCheck> c = rill::journal::CheckJournal(dir, {}, &count);
//   if (c.ok() && c->damage) std::puts(c->damage->reason.c_str());  // segment, offset, position
//
// It takes no lock, maps segments read-only and never changes anything: recovery acts on its
// verdict (recovery.h). The rule it applies is written out in FORMAT.md, "Recovery": the
// journal's own definition of a valid batch (batch_parser.h, every CRC), segment headers and
// sizes, the position chain, and two lower bounds from the control file: nothing at or below
// the highest position ever reported durable may be missing, and the first segment must start
// at or before the recorded retention point.
// Thread safety: a function over files; runs beside a live writer in any process.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "rill/base/result.h"
#include "rill/journal/control_file.h"
#include "rill/journal/format.h"
#include "rill/journal/journal_reader.h"

namespace rill::journal {

enum class Verdict : std::uint8_t {
  kEmpty,        // a journal directory with no segment yet (a writer was killed creating it): nothing lost
  kIntact,       // every check passed
  kTornTail,     // intact, then an uncommitted or torn batch past the durable position: recovery sets it aside
  kDamagedTail,  // damage past the durable position, followed by committed batches: recovery sets them
                 // aside and reports damage; tools exit 1
  kDamaged,      // damage the writer refuses to open on (unless salvage): data at or below the durable
                 // position, a missing or foreign segment, a broken position chain, a bad file
};
const char* VerdictName(Verdict v);  // "empty", "intact", "torn tail", "damaged tail", "damaged"

struct CheckProblem {
  std::string segment;         // file name, e.g. "0000000000000002.seg"
  std::uint64_t offset = 0;    // byte offset of the damaged frame (0: the header, or the file)
  std::uint64_t position = 0;  // the first position the damage affects (0 when unknown)
  std::string reason;
};

// Bytes recovery cuts from the end of a segment (after copying them aside).
struct TailRegion {
  std::string segment;
  std::uint64_t segment_index = 0;
  std::uint64_t offset = 0;            // where the kept journal ends in that file
  std::uint64_t bytes = 0;             // non-zero bytes after it (the whole file when whole_segment)
  std::uint64_t committed_events = 0;  // events of batches committed there (their batch frame is intact)
  std::uint64_t first_position = 0;    // the first position no longer kept
  std::uint64_t last_position = 0;     // the last committed position among them (0: none)
  bool whole_segment = false;          // the last segment's header never reached the disk: move the file
  std::string reason;
};

// What salvage would do with a kDamaged journal.
struct SalvagePlan {
  enum class Kind : std::uint8_t {
    kCut,                // keep the valid prefix, move the damaged part and every later segment aside
    kAcceptMissingEnd,   // the segments end before the durable position: accept the loss
    kAcceptMissingHead,  // the first segments are gone without a retention record: accept the loss
    kImpossible,         // nothing valid would remain (the first segment is unreadable)
  };
  Kind kind = Kind::kImpossible;
  std::size_t keep_segments = 0;         // kCut: how many of the listed segments stay (the last maybe cut)
  std::uint64_t cut_offset = 0;          // kCut: where the last kept segment is cut (0: kept whole)
  std::uint64_t next_position = 0;       // the journal continues here after salvage
  std::uint64_t events_set_aside = 0;    // committed events moved aside (best effort: readable batch frames)
  std::uint64_t acknowledged_lost = 0;   // of them, or missing, at or below the durable position
  std::vector<std::string> files_moved;  // kCut: segment files moved aside whole
};

struct JournalCheck {
  Verdict verdict = Verdict::kEmpty;
  std::uint64_t segments = 0, batches = 0, records = 0;  // checked and valid
  std::uint64_t record_bytes = 0;                        // payload bytes; counted only with a visitor
  std::uint64_t first_position = 0, next_position = 0;   // valid records: [first, next)
  std::vector<std::uint64_t> segment_indexes;            // as listed, ascending
  std::optional<CheckProblem> damage;  // kDamaged, kDamagedTail: the first problem; the check stops there
  std::optional<TailRegion> tail;      // kTornTail, kDamagedTail: what recovery cuts
  // Uncommitted bytes after the last batch of a sealed segment whose successor continues it
  // (a writer killed during a roll, before it wrote the pad): never committed, not damage;
  // recovery zeroes them.
  std::vector<TailRegion> leftovers;
  // The last segment's file is shorter than its header says (copied or cut by a tool);
  // readers and recovery treat the missing bytes as zeros, so it is noted, not damage.
  std::optional<CheckProblem> short_last_segment;
  RecordedState recorded;          // the control file, as the last writer left it
  SalvagePlan salvage;             // kDamaged only
  std::vector<std::string> notes;  // what could not be checked and why ("no control file: ...")
};

enum class CheckScope : std::uint8_t {
  kFull,  // every batch of every segment, CRCs included
  kTail,  // headers, sizes and the position chain of every segment; batches of the last only
};

struct CheckOptions {
  CheckScope scope = CheckScope::kFull;
  // False after a salvage accepted a loss: the control file's durable position and retention
  // record describe the journal before it and no longer bind (the writer rewrites them).
  bool trust_control_file = true;
};

class CheckVisitor {
 public:
  virtual ~CheckVisitor() = default;
  // Each segment whose header is valid, before its records.
  virtual void OnSegment(const std::string& /*name*/, const SegmentHeader& /*header*/,
                         std::span<const std::byte> /*schema_blob*/) {}
  // Each record of each valid batch (kFull; kTail: the last segment's), in position order;
  // payload valid during the call only.
  virtual void OnRecord(const Record& /*record*/) {}
};

// NotFound when `dir` is missing or is not a journal (no segment, control or LOCK file),
// IOError when it cannot be listed; everything found inside is in the JournalCheck.
Result<JournalCheck> CheckJournal(const std::string& dir, const CheckOptions& options = {},
                                  CheckVisitor* visitor = nullptr);

// One line for a person: "damaged: segment ... offset ... position ...: reason" etc.
std::string DescribeVerdict(const JournalCheck& c);
// What salvage would keep, move aside and lose, for a kDamaged journal (one sentence).
std::string DescribeSalvage(const JournalCheck& c);

}  // namespace rill::journal
