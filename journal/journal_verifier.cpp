#include "rill/journal/journal_verifier.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "rill/journal/batch_parser.h"
#include "rill/journal/damage_scan.h"
#include "rill/journal/segment_dir.h"
#include "rill/journal/segment_file.h"

namespace rill::journal {

namespace {

// Calls the visitor for every record of a batch that ParseBatch accepted (so the walk needs
// no checks of its own).
void VisitRecords(const std::byte* base, std::size_t offset, const BatchPayload& b, std::uint64_t segment_index,
                  CheckVisitor* visitor, JournalCheck* c) {
  c->records += b.record_count;
  c->batches += 1;
  // Recovery passes no visitor: ParseBatch has checked every record already, and a walk per
  // record here cost the writer's open 25 ms on a 10M-event journal (restart/bank).
  if (visitor == nullptr) return;
  std::size_t at = offset + kBatchFrameSize;
  for (std::uint32_t i = 0; i < b.record_count; ++i) {
    FrameHeader h;
    std::memcpy(&h, base + at, sizeof h);
    Record r;
    r.position = b.first_position + i;
    r.type = h.user_type;
    r.timestamp_ns = b.timestamp_ns;
    r.payload = {base + at + kFrameHeaderSize, h.length - kFrameHeaderSize};
    r.end_of_batch = i + 1 == b.record_count;
    r.segment_index = segment_index;
    r.offset = at;
    c->record_bytes += r.payload.size();
    if (visitor) visitor->OnRecord(r);
    at += AlignUp(h.length, kFrameAlignment);
  }
}

// ValidateSegmentHeader names the segment and offset itself; the problem holds them apart.
std::string Reason(std::string_view message, const std::string& name, const std::string& path) {
  for (const std::string& prefix :
       {"segment " + name + " offset 0: ", "segment " + name + ": ", "segment " + path + " "})
    if (message.substr(0, prefix.size()) == prefix) return std::string(message.substr(prefix.size()));
  return std::string(message);
}

bool Exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// The walk, one segment after another; stops at the first damage.
class Checker {
 public:
  Checker(const std::string& dir, const CheckOptions& o, CheckVisitor* v) : dir_(dir), opt_(o), visitor_(v) {}

  Result<JournalCheck> Run() {
    Result<RecordedState> recorded = ReadRecordedState(dir_);
    if (!recorded.ok()) return recorded.status();
    c_.recorded = *recorded;
    if (!opt_.trust_control_file) c_.recorded.durable = c_.recorded.retained_from = 0;
    durable_ = c_.recorded.present ? c_.recorded.durable : 0;
    Result<std::vector<std::uint64_t>> list = ListSegmentIndexes(dir_);
    if (!list.ok()) return list.status();
    c_.segment_indexes = std::move(list).value();
    if (c_.segment_indexes.empty()) return NoSegments();
    if (!c_.recorded.present)
      c_.notes.push_back(
          "no initialised control file: the durable position and retention point are unknown, so "
          "missing segments at either end cannot be told apart from a shorter journal");
    else if (c_.recorded.retained_from == 0 && opt_.trust_control_file)
      c_.notes.push_back("the control file (version " + std::to_string(c_.recorded.version) +
                         ") has no retention record: a missing first segment cannot be detected");
    for (std::size_t i = 0; i < c_.segment_indexes.size(); ++i) {
      if (!CheckSegment(i)) {
        if (!error_.ok()) return error_;
        return std::move(c_);
      }
    }
    return Finish();
  }

 private:
  std::size_t count() const { return c_.segment_indexes.size(); }
  std::string Name(std::size_t i) const { return SegmentFileName(c_.segment_indexes[i]); }
  bool Last(std::size_t i) const { return i + 1 == count(); }

  Result<JournalCheck> NoSegments() {
    // A killed writer may leave LOCK, control and "<n>.seg.tmp" before its first segment is
    // published: nothing was ever committed there, so it is an empty journal.
    if (!c_.recorded.present && !Exists(dir_ + "/LOCK") && !Exists(dir_ + "/control"))
      return Status::NotFound("journal " + dir_ +
                              " is not a journal: it holds no segment files (<16 hex digits>.seg), no control and no "
                              "LOCK file");
    const std::uint64_t recorded_end = std::max(c_.recorded.durable, c_.recorded.committed);
    if (recorded_end > 0) {
      c_.verdict = Verdict::kDamaged;
      c_.damage = CheckProblem{"", 0, 1,
                               "every segment file is missing, but the control file records position " +
                                   std::to_string(recorded_end) + " as committed (" +
                                   std::to_string(c_.recorded.durable) + " durable)"};
      c_.salvage.kind = SalvagePlan::Kind::kImpossible;
      c_.salvage.acknowledged_lost = c_.recorded.durable;
      return std::move(c_);
    }
    c_.verdict = Verdict::kEmpty;
    return std::move(c_);
  }

  // Damage found in segment i: the writer refuses; salvage keeps segments [0, keep) (the last of
  // them cut at cut_offset when non-zero) and moves the rest aside.
  bool Damage(std::size_t i, std::uint64_t offset, std::uint64_t position, std::string reason, std::size_t keep,
              std::uint64_t cut_offset, std::uint64_t events_in_segment) {
    c_.verdict = Verdict::kDamaged;
    c_.damage = CheckProblem{Name(i), offset, position, std::move(reason)};
    SalvagePlan& s = c_.salvage;
    s.kind = keep == 0 ? SalvagePlan::Kind::kImpossible : SalvagePlan::Kind::kCut;
    s.keep_segments = keep;
    s.cut_offset = cut_offset;
    s.next_position = position;
    s.events_set_aside = events_in_segment;
    for (std::size_t j = keep; j < count(); ++j) {
      s.files_moved.push_back(Name(j));
      if (j != i) s.events_set_aside += CountRecords(j);
    }
    // What the control file says was acknowledged durable and salvage would not keep: the
    // events set aside up to the durable position, plus any that are missing altogether.
    if (durable_ >= position && position != 0) s.acknowledged_lost = durable_ - position + 1;
    return false;
  }

  // The position after segment j's last valid batch (0 when it cannot be read): the rare path
  // of a headerless last segment under kTail, which did not scan j.
  std::uint64_t EndOf(std::size_t j) const {
    Result<std::unique_ptr<SegmentFile>> seg = SegmentFile::Open(dir_ + "/" + Name(j), SegmentFile::Mode::kReadOnly);
    if (!seg.ok() || !ValidateSegmentHeader((*seg)->data(), (*seg)->size(), Name(j)).ok()) return 0;
    return ScanSegment((*seg)->data(), std::min<std::size_t>((*seg)->size(), (*seg)->header().segment_size),
                       Verify::kAll)
        .next_position;
  }

  // Records in a later segment, for the salvage report: its valid batches, best effort.
  std::uint64_t CountRecords(std::size_t j) const {
    Result<std::unique_ptr<SegmentFile>> seg = SegmentFile::Open(dir_ + "/" + Name(j), SegmentFile::Mode::kReadOnly);
    if (!seg.ok() || !ValidateSegmentHeader((*seg)->data(), (*seg)->size(), Name(j)).ok()) return 0;
    const SegmentHeader& h = (*seg)->header();
    const SegmentScan scan =
        ScanSegment((*seg)->data(), std::min<std::size_t>((*seg)->size(), h.segment_size), Verify::kBatchFrame);
    return scan.next_position - h.first_position;
  }

  bool CheckSegment(std::size_t i) {
    const std::string name = Name(i);
    const std::string path = dir_ + "/" + name;
    if (i > 0 && c_.segment_indexes[i] != c_.segment_indexes[i - 1] + 1)
      return Damage(i, 0, expected_,
                    "segment files " + Name(i - 1) + " and " + name + " are not consecutive: segment " +
                        SegmentFileName(c_.segment_indexes[i - 1] + 1) + " is missing",
                    i, 0, 0);
    Result<std::unique_ptr<SegmentFile>> opened = SegmentFile::Open(path, SegmentFile::Mode::kReadOnly);
    if (!opened.ok()) {
      if (!opened.status().IsCorruption()) {  // permission, I/O, raced retention: cannot be read now
        error_ = opened.status();
        return false;
      }
      return Damage(i, 0, expected_, Reason(opened.status().message(), name, path), i, 0, 0);
    }
    SegmentFile& seg = **opened;
    const std::byte* base = seg.data();
    const std::size_t size = seg.size();
    if (Status s = ValidateSegmentHeader(base, size, name); !s.ok()) {
      if (Last(i) && i > 0) return HeaderlessLast(i, seg, Reason(s.message(), name, path));
      return Damage(i, 0, expected_, Reason(s.message(), name, path), i, 0, 0);
    }
    const SegmentHeader& h = seg.header();
    if (h.segment_index != c_.segment_indexes[i])
      return Damage(i, 16, expected_,
                    "the header names segment index " + std::to_string(h.segment_index) + ", not its file name's", i, 0,
                    0);
    if (size != h.segment_size) {
      const std::string what =
          "the file holds " + std::to_string(size) + " bytes but its header says " + std::to_string(h.segment_size);
      if (!Last(i) || size > h.segment_size)
        return Damage(i, std::min<std::uint64_t>(size, h.segment_size), expected_,
                      what + (Last(i) ? " (extended past its end)" : " (a sealed segment must be whole)"), i, 0, 0);
      c_.short_last_segment = CheckProblem{name, size, 0, what};
    }
    if (expected_ != 0 && h.first_position != expected_)
      return Damage(i, 24, expected_,
                    "the segment starts at position " + std::to_string(h.first_position) +
                        " but the previous one ends before position " + std::to_string(expected_) + " (gap or overlap)",
                    i, 0, 0);
    if (i == 0) {
      c_.first_position = c_.next_position = h.first_position;
      const std::uint64_t r = c_.recorded.present ? c_.recorded.retained_from : 0;
      if (r != 0 && h.first_position > r) {
        Damage(i, 24, r,
               "the journal starts at position " + std::to_string(h.first_position) +
                   " but the control file's retention record says it keeps everything from position " +
                   std::to_string(r) + ": the first segment(s) were removed without retention",
               count(), 0, 0);
        c_.salvage = SalvagePlan{};
        c_.salvage.kind = SalvagePlan::Kind::kAcceptMissingHead;
        c_.salvage.keep_segments = count();
        c_.salvage.acknowledged_lost = h.first_position - r;  // committed once, retention never removed them
        return false;
      }
    }
    ++c_.segments;
    if (visitor_) visitor_->OnSegment(name, h, {base + kSegmentHeaderSize, h.schema_blob_size});
    const std::size_t limit = std::min<std::size_t>(size, h.segment_size);
    // kTail trusts the next header's first position for every segment but the last.
    if (!Last(i) && opt_.scope == CheckScope::kTail) {
      expected_ = 0;
      c_.next_position = 0;
      return true;
    }
    return Last(i) ? CheckLastBatches(i, seg, limit) : CheckSealedBatches(i, seg, limit);
  }

  SegmentScan Scan(std::size_t i, const SegmentFile& seg, std::size_t limit) {
    return ScanSegment(seg.data(), limit, Verify::kAll, [&](std::size_t offset, const BatchPayload& b) {
      VisitRecords(seg.data(), offset, b, c_.segment_indexes[i], visitor_, &c_);
    });
  }

  bool CheckSealedBatches(std::size_t i, const SegmentFile& seg, std::size_t limit) {
    const SegmentScan scan = Scan(i, seg, limit);
    c_.next_position = expected_ = scan.next_position;
    if (scan.stop == BatchOutcome::kSegmentEnd) return true;
    // A sealed segment whose pad is missing (a power loss, or a writer killed between
    // publishing the next segment and writing the pad) is whole when what follows its last
    // batch was never committed: the next segment's first position, checked next, proves that
    // nothing is missing.
    const AfterEnd after = InspectAfterEnd(seg.data(), limit, scan.end_offset, scan.next_position);
    if (scan.stop == BatchOutcome::kEnd && !after.valid_batch_after) {
      if (!after.clean)
        c_.leftovers.push_back(TailRegion{Name(i), c_.segment_indexes[i], scan.end_offset,
                                          after.nonzero_end - scan.end_offset, after.committed_events,
                                          scan.next_position, after.last_position, false,
                                          "uncommitted bytes after the last batch of a sealed segment"});
      return true;
    }
    return Damage(i, scan.stop == BatchOutcome::kBad ? scan.bad_offset : after.valid_batch_offset, scan.next_position,
                  DamageReason(scan, after), i + 1, scan.end_offset, after.committed_events);
  }

  static std::string DamageReason(const SegmentScan& scan, const AfterEnd& after) {
    std::string r = scan.stop == BatchOutcome::kBad
                        ? std::string(scan.reason) + " (in the batch at offset " + std::to_string(scan.end_offset) + ")"
                        : "the batch at offset " + std::to_string(scan.end_offset) + " is missing (its frame is zero)";
    if (after.valid_batch_after)
      r += ", followed by committed batches (the first at offset " + std::to_string(after.valid_batch_offset) + ", " +
           std::to_string(after.committed_events) + " events after the damage)";
    return r;
  }

  bool CheckLastBatches(std::size_t i, const SegmentFile& seg, std::size_t limit) {
    SegmentScan scan;
    AfterEnd after;
    const std::uint64_t records = c_.records, batches = c_.batches, bytes = c_.record_bytes;
    for (int attempt = 0;; ++attempt) {
      c_.records = records, c_.batches = batches, c_.record_bytes = bytes;
      scan = Scan(i, seg, limit);
      // A short last segment (copied or cut by a tool) reads as zeros past its end: a frame cut
      // off by the file's end is a torn batch, not the segment's end.
      if (scan.stop == BatchOutcome::kSegmentEnd && limit < seg.header().segment_size &&
          scan.end_offset + kFrameHeaderSize > limit && scan.end_offset + kFrameHeaderSize <= seg.header().segment_size)
        scan.stop = BatchOutcome::kEnd;
      if (scan.stop == BatchOutcome::kSegmentEnd) break;
      after = InspectAfterEnd(seg.data(), limit, scan.end_offset, scan.next_position);
      // Beside a live writer the "damage" may be a batch committed after the scan passed it
      // (the next batch is then valid too): look again before calling it damage.
      if (attempt < 3 && after.valid_batch_after &&
          ParseBatch(seg.data(), limit, scan.end_offset, scan.next_position, Verify::kAll).outcome ==
              BatchOutcome::kBatch)
        continue;
      break;
    }
    c_.next_position = expected_ = scan.next_position;
    end_offset_ = scan.end_offset;
    if (scan.stop == BatchOutcome::kSegmentEnd || after.clean) return true;
    TailRegion t{Name(i),
                 c_.segment_indexes[i],
                 scan.end_offset,
                 after.nonzero_end - scan.end_offset,
                 after.committed_events,
                 scan.next_position,
                 after.last_position,
                 false,
                 ""};
    const std::uint64_t p = scan.next_position;
    if (durable_ >= p) {
      return Damage(i, scan.stop == BatchOutcome::kBad ? scan.bad_offset : scan.end_offset, p,
                    DamageReason(scan, after) + "; position " + std::to_string(p) +
                        " is at or below the durable position " + std::to_string(durable_) +
                        " in the control file: cutting here would lose acknowledged events",
                    i + 1, scan.end_offset, after.committed_events);
    }
    if (after.valid_batch_after) {
      if (!c_.recorded.present)
        return Damage(i, scan.stop == BatchOutcome::kBad ? scan.bad_offset : scan.end_offset, p,
                      DamageReason(scan, after) +
                          "; without a control file nothing proves these events were never acknowledged durable",
                      i + 1, scan.end_offset, after.committed_events);
      t.reason = DamageReason(scan, after) + ", all past the durable position " + std::to_string(durable_) +
                 " (a power loss's out-of-order writeback, or damage)";
      c_.verdict = Verdict::kDamagedTail;
      c_.damage =
          CheckProblem{Name(i), scan.stop == BatchOutcome::kBad ? scan.bad_offset : scan.end_offset, p, t.reason};
      c_.tail = std::move(t);
      return true;
    }
    t.reason = scan.stop == BatchOutcome::kBad
                   ? std::string(scan.reason) + " at offset " + std::to_string(scan.bad_offset) +
                         " (a batch torn by a crash or power loss)"
                   : "non-zero bytes after the last committed batch (a batch that never committed)";
    c_.verdict = Verdict::kTornTail;
    c_.tail = std::move(t);
    return true;
  }

  // The last segment's header is invalid. A power loss right after a roll can leave a new
  // segment whose header never reached the disk; it then holds nothing acknowledged (the
  // syncer syncs a segment's header before any position in it is called durable).
  bool HeaderlessLast(std::size_t i, const SegmentFile& seg, std::string reason) {
    if (expected_ == 0) expected_ = EndOf(i - 1);  // kTail skipped it: where does it end?
    const AfterEnd after = InspectAfterEnd(seg.data(), seg.size() & ~std::size_t{7}, kSegmentHeaderSize, expected_);
    const std::string held =
        after.committed_events > 0 ? "; it holds " + std::to_string(after.committed_events) + " committed events" : "";
    if (durable_ >= expected_)
      return Damage(i, 0, expected_,
                    reason + held + "; positions from " + std::to_string(expected_) +
                        " were reported durable (control file: " + std::to_string(durable_) + ")",
                    i, 0, after.committed_events);
    if (after.valid_batch_after && !c_.recorded.present)
      return Damage(i, 0, expected_,
                    reason + held + "; without a control file nothing proves they were never acknowledged durable", i,
                    0, after.committed_events);
    TailRegion t{Name(i),   c_.segment_indexes[i], 0,    seg.size(),   after.committed_events,
                 expected_, after.last_position,   true, reason + held};
    // Batches that reached the disk without their segment's header: a power loss's out-of-order
    // writeback past the durable position. Set aside, and reported as damage, not as a torn tail.
    c_.verdict = after.valid_batch_after ? Verdict::kDamagedTail : Verdict::kTornTail;
    t.reason += after.valid_batch_after ? " (past the durable position " + std::to_string(durable_) + ")"
                                        : " (a segment whose header never reached the disk)";
    if (after.valid_batch_after) c_.damage = CheckProblem{t.segment, 0, expected_, t.reason};
    c_.tail = std::move(t);
    return true;
  }

  Result<JournalCheck> Finish() {
    if (!error_.ok()) return error_;
    if (c_.verdict == Verdict::kEmpty) c_.verdict = c_.tail ? Verdict::kTornTail : Verdict::kIntact;
    if (c_.verdict == Verdict::kDamaged) return std::move(c_);
    // The end of the kept journal against the control file's durable position: a missing or
    // truncated newest segment, or a sealed segment with no successor.
    const std::uint64_t kept_end = (c_.tail ? c_.tail->first_position : c_.next_position) - 1;
    if (c_.next_position != 0 && durable_ > kept_end) {
      const std::size_t i = count() - 1;
      c_.tail.reset();
      c_.verdict = Verdict::kDamaged;
      c_.damage = CheckProblem{Name(i), end_offset_, kept_end + 1,
                               "the journal ends at position " + std::to_string(kept_end) +
                                   " but the control file records position " + std::to_string(durable_) +
                                   " as durable: the newest segment(s) are missing or were truncated"};
      c_.salvage = SalvagePlan{};
      c_.salvage.kind = SalvagePlan::Kind::kAcceptMissingEnd;
      c_.salvage.keep_segments = count();
      c_.salvage.next_position = kept_end + 1;
      c_.salvage.acknowledged_lost = durable_ - kept_end;
      return std::move(c_);
    }
    if (c_.recorded.present && c_.recorded.committed > kept_end && c_.next_position != 0)
      c_.notes.push_back("the control file records position " + std::to_string(c_.recorded.committed) +
                         " as committed; the journal ends at " + std::to_string(kept_end) +
                         ": those events were never durable (expected after a power loss)");
    return std::move(c_);
  }

  const std::string& dir_;
  const CheckOptions& opt_;
  CheckVisitor* visitor_;
  JournalCheck c_;
  std::uint64_t durable_ = 0;     // 0: unknown or nothing durable
  std::uint64_t expected_ = 0;    // the next segment's first position; 0 until known
  std::uint64_t end_offset_ = 0;  // where the last segment's valid batches end
  Status error_;
};

}  // namespace

Result<JournalCheck> CheckJournal(const std::string& dir, const CheckOptions& options, CheckVisitor* visitor) {
  return Checker(dir, options, visitor).Run();
}

}  // namespace rill::journal
