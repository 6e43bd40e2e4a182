#include "rill/journal/recovery.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "rill/journal/io.h"
#include "rill/journal/journal_verifier.h"
#include "rill/journal/segment_dir.h"

namespace rill::journal {
namespace {

void RemoveLeftoverTempFiles(const std::string& dir) {
  // A ".seg.tmp" was never published: no reader saw it and it holds no committed record.
  // (unlink never follows a symlink and fails harmlessly on a directory.)
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  while (const dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n.size() > 8 && n.compare(n.size() - 8, 8, ".seg.tmp") == 0) ::unlink((dir + "/" + n).c_str());
  }
  ::closedir(d);
}

std::string Advice(const std::string& dir) {
  return "Restore the damaged files from a backup; or see what salvage would keep with `rill recover " + dir +
         "`, then run `rill recover " + dir +
         " --salvage` (or open the writer with salvage) to keep the valid prefix and move the rest aside; nothing "
         "is deleted";
}

class Recovery {
 public:
  Recovery(const WriterOptions& o, Reporter* r) : opt_(o), reporter_(r) {}

  Result<RecoveredJournal> Run() {
    RemoveLeftoverTempFiles(opt_.directory);
    CheckOptions co;
    co.scope = opt_.verify == VerifyMode::kTail ? CheckScope::kTail : CheckScope::kFull;
    // Each pass acts on one verdict; a salvage changes the journal, so it is checked again.
    for (int pass = 0; pass < 4; ++pass) {
      Result<JournalCheck> check = CheckJournal(opt_.directory, co);
      if (!check.ok()) return check.status().WithContext("journal recovery");
      JournalCheck& c = *check;
      switch (c.verdict) {
        case Verdict::kEmpty: {
          RecoveredJournal out;
          out.next_position = out.retained_from = opt_.first_position;
          return out;
        }
        case Verdict::kDamaged:
          if (salvaged_)  // a salvaged journal is valid by construction; anything else is a bug
            return Status::Corruption("journal " + opt_.directory + " after salvage: " + DescribeVerdict(c));
          if (!opt_.salvage)
            return Status::Corruption("journal " + opt_.directory + ": " + DescribeVerdict(c) + ". " +
                                      DescribeSalvage(c) + ". " + Advice(opt_.directory));
          RILL_RETURN_IF_ERROR(Salvage(c));
          salvaged_ = true;
          co.trust_control_file = false;  // the operator accepted the loss; the writer rewrites the floors
          continue;
        case Verdict::kTornTail:
        case Verdict::kDamagedTail:
        case Verdict::kIntact:
          for (const TailRegion& l : c.leftovers) RILL_RETURN_IF_ERROR(SetAside(l, false));
          if (c.tail) RILL_RETURN_IF_ERROR(SetAside(*c.tail, c.verdict == Verdict::kDamagedTail));
          return OpenLast(c);
      }
    }
    return Status::Corruption("journal " + opt_.directory + ": recovery did not converge after salvage");
  }

 private:
  std::string Name(std::uint64_t index) const { return SegmentFileName(index); }
  std::string Path(std::uint64_t index) const { return opt_.directory + "/" + Name(index); }

  Status Salvage(const JournalCheck& c) {
    const SalvagePlan& plan = c.salvage;
    SalvageReport report;
    report.segment = c.damage ? c.damage->segment : "";
    report.offset = c.damage ? c.damage->offset : 0;
    report.first_position_dropped = plan.next_position;
    report.events_set_aside = plan.events_set_aside;
    report.acknowledged_lost = plan.acknowledged_lost;
    report.reason = c.damage ? c.damage->reason : "";
    switch (plan.kind) {
      case SalvagePlan::Kind::kImpossible:
        return Status::Corruption(
            "journal " + opt_.directory + ": " + DescribeVerdict(c) +
            ". Salvage cannot help: nothing valid would remain; restore the journal from a backup");
      case SalvagePlan::Kind::kAcceptMissingEnd:
      case SalvagePlan::Kind::kAcceptMissingHead:
        // Nothing to move: the writer records the journal as it now is in the control file.
        break;
      case SalvagePlan::Kind::kCut: {
        std::string aside_dir;  // this salvage's own directory: nothing earlier is replaced
        if (plan.cut_offset != 0 || !plan.files_moved.empty()) {
          Result<std::string> created = CreateAsideDirectory(opt_.directory);
          if (!created.ok()) return created.status();
          aside_dir = *created;
        }
        if (plan.cut_offset != 0) {
          // Keep a copy of the damaged segment as found, then cut it.
          const std::uint64_t index = c.segment_indexes[plan.keep_segments - 1];
          Result<std::string> copy = CopyAside(opt_.directory, aside_dir, Name(index));
          if (!copy.ok()) return copy.status();
          Result<std::unique_ptr<SegmentFile>> seg = SegmentFile::Open(Path(index), SegmentFile::Mode::kReadWrite);
          if (!seg.ok()) return seg.status();
          const std::size_t limit = std::min<std::size_t>((*seg)->size(), (*seg)->header().segment_size);
          std::memset((*seg)->data() + plan.cut_offset, 0, limit - plan.cut_offset);
          RILL_RETURN_IF_ERROR((*seg)->Sync(SyncMethod::kMsync, plan.cut_offset, limit));
          report.aside_directory = copy->substr(0, copy->rfind('/'));
          report.offset = plan.cut_offset;  // where the kept journal now ends
        }
        if (!plan.files_moved.empty()) {
          Result<std::string> aside = MoveAside(opt_.directory, aside_dir, plan.files_moved);
          if (!aside.ok()) return aside.status();
          report.aside_directory = *aside;
        }
        break;
      }
    }
    if (reporter_) reporter_->Salvaged(report);
    return Status::OK();
  }

  // Saves the cut bytes aside, then zeroes them in place: the file keeps its preallocated
  // size and the writer appends right there.
  Status SetAside(const TailRegion& t, bool damage) {
    TailCut cut;
    cut.segment = t.segment;
    cut.offset = t.offset;
    cut.bytes_cut = t.bytes;
    cut.first_position_cut = t.first_position;
    cut.last_position_cut = t.last_position;
    cut.committed_events = t.committed_events;
    cut.damage = damage;
    cut.reason = t.reason;
    if (t.whole_segment) {
      Result<std::string> created = CreateAsideDirectory(opt_.directory);
      if (!created.ok()) return created.status();
      Result<std::string> aside = MoveAside(opt_.directory, *created, {t.segment});
      if (!aside.ok()) return aside.status();
      cut.aside = *aside + "/" + t.segment;
    } else {
      Result<std::unique_ptr<SegmentFile>> seg =
          SegmentFile::Open(Path(t.segment_index), SegmentFile::Mode::kReadWrite);
      if (!seg.ok()) return seg.status();
      std::byte* from = (*seg)->data() + t.offset;
      Result<std::string> saved =
          SaveAside(opt_.directory, t.segment + ".at-" + std::to_string(t.offset), {from, t.bytes});
      if (!saved.ok()) return saved.status();
      cut.aside = *saved;
      std::memset(from, 0, t.bytes);
      RILL_RETURN_IF_ERROR((*seg)->Sync(SyncMethod::kMsync, t.offset, t.offset + t.bytes));
    }
    if (reporter_) reporter_->TailTruncated(cut);
    return Status::OK();
  }

  Result<RecoveredJournal> OpenLast(const JournalCheck& c) {
    RecoveredJournal out;
    Result<std::vector<std::uint64_t>> list = ListSegmentIndexes(opt_.directory);
    if (!list.ok()) return list.status();
    out.segments = std::move(list).value();
    if (out.segments.empty()) {  // the only segment was headerless and is now aside
      out.next_position = out.retained_from = c.tail ? c.tail->first_position : opt_.first_position;
      return out;
    }
    const std::string path = Path(out.segments.back());
    Result<std::unique_ptr<SegmentFile>> seg = SegmentFile::Open(path, SegmentFile::Mode::kReadWrite);
    if (!seg.ok()) return seg.status();
    if ((*seg)->size() < (*seg)->header().segment_size) {
      // A short last segment (copied or cut by a tool): its missing tail is treated as zeros.
      if (const int err = io::Fallocate((*seg)->fd(), static_cast<off_t>((*seg)->header().segment_size), path))
        return Status::FromErrno("extend short segment " + path, err);
      seg = SegmentFile::Open(path, SegmentFile::Mode::kReadWrite);
      if (!seg.ok()) return seg.status();
    }
    SegmentFile& last = **seg;
    const SegmentScan scan = ScanSegment(last.data(), last.header().segment_size, Verify::kBatchFrame);
    if (scan.stop == BatchOutcome::kBad)  // CheckJournal just accepted it: only a concurrent change does this
      return Status::Corruption(Where(last.name(), scan.bad_offset) + ": changed during recovery: " + scan.reason);
    out.tail_offset = scan.end_offset;
    out.last_sealed = scan.stop == BatchOutcome::kSegmentEnd;
    out.next_position = scan.next_position;
    out.last_timestamp_ns = scan.last_timestamp_ns;
    if (out.segments.size() == 1) {
      out.retained_from = last.header().first_position;
    } else {
      Result<std::unique_ptr<SegmentFile>> first =
          SegmentFile::Open(Path(out.segments.front()), SegmentFile::Mode::kReadOnly);
      if (!first.ok()) return first.status();
      out.retained_from = (*first)->header().first_position;
    }
    out.last = std::move(seg).value();
    return out;
  }

  const WriterOptions& opt_;
  Reporter* reporter_;
  bool salvaged_ = false;
};

}  // namespace

Result<RecoveredJournal> RecoverJournal(const WriterOptions& options, Reporter* reporter) {
  return Recovery(options, reporter).Run();
}

}  // namespace rill::journal
