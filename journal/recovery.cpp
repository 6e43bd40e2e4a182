#include "rill/journal/recovery.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "rill/journal/segment_dir.h"

namespace rill::journal {
namespace {

void RemoveLeftoverTempFiles(const std::string& dir) {
  // A ".seg.tmp" was never published: no reader saw it and it holds no committed record.
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  while (const dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n.size() > 8 && n.compare(n.size() - 8, 8, ".seg.tmp") == 0) ::unlink((dir + "/" + n).c_str());
  }
  ::closedir(d);
}

class Recovery {
 public:
  Recovery(const WriterOptions& o, Reporter* r) : opt_(o), reporter_(r) {}
  Result<RecoveredJournal> Run();

 private:
  Status OpenAndCheckHeaders();
  Status ScanAll();
  // Damage before the tail: Corruption, or (salvage) keep [0, offset) of segment i, move the rest aside.
  Status Damage(std::size_t i, std::size_t offset, std::uint64_t position, const std::string& reason);
  Status CutTail(SegmentFile& seg, const SegmentScan& scan, std::size_t limit);
  std::string Name(std::size_t i) const { return SegmentFileName(indexes_[i]); }

  const WriterOptions& opt_;
  Reporter* reporter_;
  std::vector<std::uint64_t> indexes_;
  std::vector<std::unique_ptr<SegmentFile>> segs_;
  RecoveredJournal out_;
};

Result<RecoveredJournal> Recovery::Run() {
  RemoveLeftoverTempFiles(opt_.directory);
  Result<std::vector<std::uint64_t>> list = ListSegmentIndexes(opt_.directory);
  if (!list.ok()) return list.status();
  indexes_ = std::move(list).value();
  out_.next_position = opt_.first_position;
  if (indexes_.empty()) return std::move(out_);
  for (std::size_t i = 1; i < indexes_.size(); ++i) {
    if (indexes_[i] != indexes_[0] + i)
      return Status::Corruption("journal " + opt_.directory + ": segment files " + Name(i - 1) + " and " + Name(i) +
                                " are not consecutive: a segment is missing; restore it from a backup");
  }
  RILL_RETURN_IF_ERROR(OpenAndCheckHeaders());
  RILL_RETURN_IF_ERROR(ScanAll());
  out_.segments = indexes_;
  out_.last = std::move(segs_.back());
  return std::move(out_);
}

Status Recovery::OpenAndCheckHeaders() {
  for (std::size_t i = 0; i < indexes_.size(); ++i) {
    const std::string path = opt_.directory + "/" + Name(i);
    Result<std::unique_ptr<SegmentFile>> seg = SegmentFile::Open(path, SegmentFile::Mode::kReadWrite);
    Status s = seg.ok() ? ValidateSegmentHeader((*seg)->data(), (*seg)->size(), Name(i)) : seg.status();
    if (s.ok() && (*seg)->header().segment_index != indexes_[i])
      s = Status::Corruption("segment " + Name(i) + " offset 16: header names segment index " +
                             std::to_string((*seg)->header().segment_index) + ", not its file name's");
    const bool last = i + 1 == indexes_.size();
    if (s.ok() && !last && (*seg)->size() != (*seg)->header().segment_size)
      s = Status::Corruption("segment " + Name(i) + ": the file holds " + std::to_string((*seg)->size()) +
                             " bytes but its header says " + std::to_string((*seg)->header().segment_size));
    if (!s.ok() && (s.IsCorruption() || (*seg)->size() == 0)) {
      if (i == 0) return s.WithContext("journal " + opt_.directory + " (its first segment; nothing to keep)");
      if (last) {
        // A segment whose header never reached the disk (power loss right after a roll)
        // cannot hold an acknowledged record: the syncer syncs a segment before any position in it.
        Result<std::string> aside = MoveAside(opt_.directory, {Name(i)});
        if (!aside.ok()) return aside.status();
        if (reporter_)
          reporter_->TailTruncated({Name(i), 0, seg.ok() ? (*seg)->size() : 0, 0, 0,
                                    std::string(s.message()) + "; file moved to " + *aside});
        indexes_.pop_back();
        break;
      }
      return Damage(i - 1, 0, 0, std::string(s.message()));  // keeps all of segment i-1
    }
    if (!s.ok()) return s;
    if (last && (*seg)->size() < (*seg)->header().segment_size) {
      // A short last segment (copied or cut by a tool): its missing tail is treated as zeros.
      if (const int err = posix_fallocate((*seg)->fd(), 0, static_cast<off_t>((*seg)->header().segment_size)))
        return Status::FromErrno("extend short segment " + path, err);
      seg = SegmentFile::Open(path, SegmentFile::Mode::kReadWrite);
      if (!seg.ok()) return seg.status();
    }
    segs_.push_back(std::move(seg).value());
  }
  return Status::OK();
}

Status Recovery::ScanAll() {
  std::uint64_t expected = segs_[0]->header().first_position;
  for (std::size_t i = 0; i < segs_.size(); ++i) {
    SegmentFile& seg = *segs_[i];
    const SegmentHeader& h = seg.header();
    const bool last = i + 1 == segs_.size();
    if (h.first_position != expected) {
      RILL_RETURN_IF_ERROR(Damage(i - 1, 0, expected,
                                  "segment " + Name(i) + " starts at position " + std::to_string(h.first_position) +
                                      " but the previous segment ends before position " + std::to_string(expected)));
      return ScanAll();  // salvaged: rescan with segment i-1 as the last one
    }
    const std::size_t limit = static_cast<std::size_t>(h.segment_size);
    if (!last && opt_.verify == VerifyMode::kTail) {
      expected = segs_[i + 1]->header().first_position;  // trusted: kTail reads headers only
      continue;
    }
    const SegmentScan scan = ScanSegment(seg.data(), limit, Verify::kAll);
    std::size_t nonzero_end = 0;
    const bool clean_end =
        scan.stop == BatchOutcome::kSegmentEnd ||
        (scan.stop == BatchOutcome::kEnd && AllZero(seg.data(), scan.end_offset, limit, &nonzero_end));
    if (last) {
      if (!clean_end) RILL_RETURN_IF_ERROR(CutTail(seg, scan, limit));
      out_.tail_offset = scan.end_offset;
      out_.last_sealed = scan.stop == BatchOutcome::kSegmentEnd;
      out_.next_position = scan.next_position;
      out_.last_timestamp_ns = scan.last_timestamp_ns;
      return Status::OK();
    }
    // A sealed segment without its pad (lost in a power failure) is still whole: the next
    // segment's first position, checked above on the next turn, proves nothing is missing.
    if (!clean_end) {
      const std::size_t at = scan.stop == BatchOutcome::kBad ? scan.bad_offset : nonzero_end;
      RILL_RETURN_IF_ERROR(
          Damage(i, scan.end_offset, scan.next_position,
                 std::string(scan.stop == BatchOutcome::kBad ? scan.reason : "non-zero bytes after the last batch") +
                     " (damaged bytes at offset " + std::to_string(at) + ", in the batch at offset " +
                     std::to_string(scan.end_offset) + ")"));
      return ScanAll();  // salvaged: segment i now ends at the damage and is the last one
    }
    expected = scan.next_position;
  }
  return Status::OK();
}

Status Recovery::CutTail(SegmentFile& seg, const SegmentScan& scan, std::size_t limit) {
  TailCut cut;
  cut.segment = seg.name();
  cut.offset = scan.end_offset;
  cut.first_position_cut = scan.next_position;
  cut.reason = scan.stop == BatchOutcome::kBad
                   ? std::string(scan.reason) + " at offset " + std::to_string(scan.bad_offset)
                   : std::string("non-zero bytes after the last committed batch (a batch that never committed)");
  // Best effort: count the positions of whole batch headers still readable past the cut.
  std::uint64_t pos = scan.next_position;
  for (std::size_t at = scan.end_offset; at + kBatchFrameSize <= limit;) {
    FrameHeader fh;
    BatchPayload b;
    std::memcpy(&fh, seg.data() + at, sizeof fh);
    std::memcpy(&b, seg.data() + at + kFrameHeaderSize, sizeof b);
    if (fh.kind != FrameKind::kBatch || fh.length != kBatchFrameSize ||
        FrameCrc(seg.data() + at, fh.length) != fh.crc || b.first_position != pos || b.batch_bytes < kBatchFrameSize ||
        b.batch_bytes % 8 != 0)
      break;
    pos += b.record_count;
    cut.last_position_cut = pos - 1;
    at += b.batch_bytes;
  }
  std::size_t nonzero_end = scan.end_offset;
  AllZero(seg.data(), scan.end_offset, limit, &nonzero_end);
  cut.bytes_cut = nonzero_end - scan.end_offset;
  // Zero, not shorten: the file keeps its preallocated size and the writer appends right here.
  std::memset(seg.data() + scan.end_offset, 0, nonzero_end - scan.end_offset);
  RILL_RETURN_IF_ERROR(seg.Sync(SyncMethod::kMsync, scan.end_offset, nonzero_end));
  if (reporter_) reporter_->TailTruncated(cut);
  return Status::OK();
}

Status Recovery::Damage(std::size_t i, std::size_t offset, std::uint64_t position, const std::string& reason) {
  const std::size_t later = indexes_.size() - i - 1;
  const std::string where = offset == 0 ? "segment " + Name(i + 1) + " offset 0" : Where(Name(i), offset);
  if (!opt_.salvage) {
    return Status::Corruption(where + ": " + reason + ". The journal before this point is intact. " +
                              "Restore the damaged files from a backup, or reopen with salvage=true to keep the " +
                              "valid prefix and move the rest (" + std::to_string(later + (offset ? 1 : 0)) +
                              " file(s)) aside; nothing is deleted");
  }
  SalvageReport report;
  report.segment = offset == 0 ? Name(i + 1) : Name(i);
  report.offset = offset;
  report.first_position_dropped = position;
  report.reason = reason;
  if (offset != 0) {  // keep a copy of the damaged segment as found, then cut it at `offset`
    Result<std::string> copy = CopyAside(opt_.directory, Name(i));
    if (!copy.ok()) return copy.status();
    SegmentFile& seg = *segs_[i];
    const auto limit = static_cast<std::size_t>(seg.header().segment_size);
    std::memset(seg.data() + offset, 0, limit - offset);
    RILL_RETURN_IF_ERROR(seg.Sync(SyncMethod::kMsync, offset, limit));
  }
  std::vector<std::string> move;
  for (std::size_t j = i + 1; j < indexes_.size(); ++j) move.push_back(Name(j));
  Result<std::string> aside = MoveAside(opt_.directory, move);
  if (!aside.ok()) return aside.status();
  report.aside_directory = *aside;
  indexes_.resize(i + 1);
  if (segs_.size() > i + 1) segs_.resize(i + 1);
  if (reporter_) reporter_->Salvaged(report);
  return Status::OK();
}

}  // namespace

Result<RecoveredJournal> RecoverJournal(const WriterOptions& options, Reporter* reporter) {
  return Recovery(options, reporter).Run();
}

}  // namespace rill::journal
