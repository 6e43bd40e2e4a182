#include "rill/journal/tail_aside.h"

#include <algorithm>
#include <cstring>

#include "rill/journal/control_file.h"
#include "rill/journal/dir_lock.h"
#include "rill/journal/journal_verifier.h"
#include "rill/journal/segment_dir.h"
#include "rill/journal/segment_file.h"

namespace rill::journal {
namespace {

struct Cut {
  std::size_t segment = 0;             // index into the segment list: the last one kept
  std::size_t offset = 0;              // the kept part of that segment ends here
  std::uint64_t positions_in_cut = 0;  // records of that segment past keep_through
  std::uint64_t batches = 0;           // batches past keep_through, in all segments
  std::size_t segment_size = 0;
};

std::string Range(std::uint64_t first, std::uint64_t count) {
  std::string s = std::to_string(first);
  s.append("..");
  s.append(std::to_string(first + count - 1));
  return s;
}

// Where the journal must end to keep exactly [.., keep_through]: the batch ending there.
Result<Cut> PlanCut(const std::string& dir, const std::vector<std::uint64_t>& segments, std::uint64_t keep_through) {
  Cut cut;
  std::vector<std::uint64_t> firsts;
  for (const std::uint64_t index : segments) {
    Result<std::unique_ptr<SegmentFile>> seg =
        SegmentFile::Open(dir + "/" + SegmentFileName(index), SegmentFile::Mode::kReadOnly);
    if (!seg.ok()) return seg.status();
    firsts.push_back((*seg)->header().first_position);
  }
  // The last segment starting at or before keep_through; the first when nothing is kept.
  const auto after = std::upper_bound(firsts.begin(), firsts.end(), keep_through);
  cut.segment = after == firsts.begin() ? 0 : static_cast<std::size_t>(after - firsts.begin()) - 1;
  const std::string name = SegmentFileName(segments[cut.segment]);
  Result<std::unique_ptr<SegmentFile>> seg = SegmentFile::Open(dir + "/" + name, SegmentFile::Mode::kReadOnly);
  if (!seg.ok()) return seg.status();
  const SegmentHeader& h = (*seg)->header();
  cut.segment_size = h.segment_size;
  bool found = keep_through + 1 == h.first_position;
  if (found) cut.offset = h.data_offset;
  std::string around;  // the batch holding keep_through, for the error
  const SegmentScan scan = ScanSegment((*seg)->data(), std::min<std::size_t>((*seg)->size(), h.segment_size),
                                       Verify::kBatchFrame, [&](std::size_t offset, const BatchPayload& b) {
                                         const std::uint64_t last = b.first_position + b.record_count - 1;
                                         if (last == keep_through) {
                                           found = true;
                                           cut.offset = offset + b.batch_bytes;
                                         } else if (b.first_position <= keep_through && keep_through < last) {
                                           around = Range(b.first_position, b.record_count);
                                         }
                                         if (b.first_position > keep_through) ++cut.batches;
                                       });
  if (scan.stop == BatchOutcome::kBad)
    return Status::Corruption(Where(name, scan.bad_offset) + ": " + scan.reason + " (after recovery accepted it)");
  if (!found) {
    std::string msg = "journal " + dir + ": cannot keep through position " + std::to_string(keep_through) + ": ";
    msg.append(around.empty() ? std::string("no batch ends there") : "it lies inside the batch of positions " + around);
    msg.append("; keep through the last position of a batch");
    if (!around.empty()) {
      msg.append(" (");
      msg.append(around.substr(0, around.find('.')));
      msg.append(" - 1, or ");
      msg.append(around.substr(around.rfind('.') + 1));
      msg.append(")");
    }
    return Status::InvalidArgument(msg);
  }
  cut.positions_in_cut = scan.next_position - 1 - keep_through;
  // Later segments: count their batches for the report (frames only; recovery checked them).
  for (std::size_t i = cut.segment + 1; i < segments.size(); ++i) {
    Result<std::unique_ptr<SegmentFile>> later =
        SegmentFile::Open(dir + "/" + SegmentFileName(segments[i]), SegmentFile::Mode::kReadOnly);
    if (!later.ok()) return later.status();
    cut.batches +=
        ScanSegment((*later)->data(), std::min<std::size_t>((*later)->size(), (*later)->header().segment_size),
                    Verify::kBatchFrame)
            .batches;
  }
  return cut;
}

}  // namespace

Result<TailAsideReport> MoveTailAside(const std::string& directory, std::uint64_t keep_through, Reporter* reporter) {
  Result<std::unique_ptr<DirLock>> lock = DirLock::Acquire(directory);
  if (!lock.ok()) return lock.status();
  WriterOptions options;
  options.directory = directory;
  options.verify = VerifyMode::kTail;  // the tail is what matters here; a full check is `rill inspect verify`'s
  Result<RecoveredJournal> recovered = RecoverJournal(options, reporter);
  if (!recovered.ok()) return recovered.status().WithContext("move tail aside");
  RecoveredJournal& r = *recovered;
  r.last.reset();
  const std::uint64_t end = r.next_position - 1;
  TailAsideReport report;
  report.kept_through = keep_through;
  if (keep_through == end) return report;  // nothing past it: a no-op
  if (keep_through > end)
    return Status::InvalidArgument("journal " + directory + ": cannot keep through position " +
                                   std::to_string(keep_through) + ", beyond its committed end " + std::to_string(end));
  if (keep_through + 1 < r.retained_from)
    return Status::InvalidArgument("journal " + directory + ": cannot keep through position " +
                                   std::to_string(keep_through) + ": the journal starts at position " +
                                   std::to_string(r.retained_from));
  if (r.segments.empty())  // recovery moved the only (headerless) segment aside: nothing to cut
    return Status::InvalidArgument("journal " + directory + " holds no segment; nothing to keep through position " +
                                   std::to_string(keep_through));
  Result<Cut> planned = PlanCut(directory, r.segments, keep_through);
  if (!planned.ok()) return planned.status();
  const Cut& cut = *planned;

  // 1. Lower the floors first (synced): a journal still holding the tail stays valid under
  //    them, whereas a cut journal under the old durable floor would be refused as damaged.
  {
    Result<std::unique_ptr<ControlFile>> control =
        ControlFile::OpenForWriter(directory, keep_through, cut.segment_size, r.retained_from);
    if (!control.ok()) return control.status().WithContext("move tail aside");
    (*control)->block().writer_pid.store(0, std::memory_order_relaxed);  // no writer stays behind
  }
  // 2. A copy of the segment cut in place, as it is now, in this move's own aside directory.
  const std::string cut_name = SegmentFileName(r.segments[cut.segment]);
  std::vector<std::string> later;
  for (std::size_t i = r.segments.size(); i-- > cut.segment + 1;) later.push_back(SegmentFileName(r.segments[i]));
  std::string aside_dir;
  if (cut.positions_in_cut > 0 || !later.empty()) {
    Result<std::string> created = CreateAsideDirectory(directory);
    if (!created.ok()) return created.status().WithContext("move tail aside");
    aside_dir = *created;
  }
  if (cut.positions_in_cut > 0) {
    Result<std::string> copy = CopyAside(directory, aside_dir, cut_name);
    if (!copy.ok()) return copy.status();
    report.aside_directory = copy->substr(0, copy->rfind('/'));
    report.files.push_back(cut_name);
  }
  // 3. Later segments, last first: interrupted, the directory still holds a gap-free prefix.
  if (!later.empty()) {
    Result<std::string> aside = MoveAside(directory, aside_dir, later);
    if (!aside.ok()) return aside.status();
    report.aside_directory = *aside;
    report.files.insert(report.files.end(), later.rbegin(), later.rend());
  }
  // 4. Zeros after the kept batch (also a pad: the next writer appends in this segment).
  {
    Result<std::unique_ptr<SegmentFile>> seg =
        SegmentFile::Open(directory + "/" + cut_name, SegmentFile::Mode::kReadWrite);
    if (!seg.ok()) return seg.status();
    const std::size_t limit = std::min<std::size_t>((*seg)->size(), (*seg)->header().segment_size);
    std::size_t nonzero_end = 0;
    if (!AllZero((*seg)->data(), cut.offset, limit, &nonzero_end)) {
      std::memset((*seg)->data() + cut.offset, 0, nonzero_end - cut.offset);
      RILL_RETURN_IF_ERROR((*seg)->Sync(SyncMethod::kMsync, cut.offset, nonzero_end));
    }
  }
  report.first_position_moved = keep_through + 1;
  report.last_position_moved = end;
  report.batches_moved = cut.batches;
  // The journal must now be exactly what the next writer expects; anything else is a bug here.
  Result<JournalCheck> check = CheckJournal(directory, {.scope = CheckScope::kTail});
  if (!check.ok()) return check.status().WithContext("move tail aside: checking the result");
  if (check->verdict != Verdict::kIntact || check->next_position != keep_through + 1)
    return Status::Corruption("journal " + directory + " after moving positions " + std::to_string(keep_through + 1) +
                              ".. aside: " + DescribeVerdict(*check) + " (expected intact through " +
                              std::to_string(keep_through) + ")");
  return report;
}

}  // namespace rill::journal
