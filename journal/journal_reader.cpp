#include "rill/journal/journal_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <thread>

#include "rill/journal/batch_parser.h"
#include "rill/journal/control_file.h"
#include "rill/journal/segment_dir.h"
#include "rill/journal/segment_file.h"

namespace rill::journal {
namespace {

constexpr std::size_t kIndexStride = 64 * 1024;  // one sparse index entry per 64 KiB of segment

struct IndexEntry {
  std::uint64_t position;  // first position of the batch at `offset`
  std::int64_t timestamp_ns;
  std::size_t offset;
};

}  // namespace

// Invariant: records [rec_offset_, batch_offset_) of the current batch are not yet returned;
// rec_left_ of them remain, the first at position next_pos_.
class JournalReader::Impl {
 public:
  ReaderOptions opt_;
  std::unique_ptr<ControlFile> control_;
  std::unique_ptr<SegmentFile> cur_, prev_;  // prev_ keeps the last payload valid across a switch
  std::uint64_t index_ = 0;
  std::size_t limit_ = 0, batch_offset_ = 0, rec_offset_ = 0;
  std::uint32_t rec_left_ = 0;
  BatchPayload batch_{};
  std::uint64_t next_pos_ = 0;
  Status error_;
  std::map<std::uint64_t, std::vector<IndexEntry>> sealed_index_;

  std::string Path(std::uint64_t index) const { return opt_.directory + "/" + SegmentFileName(index); }

  Result<std::unique_ptr<SegmentFile>> OpenChecked(std::uint64_t index) const {
    Result<std::unique_ptr<SegmentFile>> seg = SegmentFile::Open(Path(index), SegmentFile::Mode::kReadOnly);
    if (!seg.ok()) return seg;
    RILL_RETURN_IF_ERROR(ValidateSegmentHeader((*seg)->data(), (*seg)->size(), SegmentFileName(index)));
    return seg;
  }

  void Enter(std::unique_ptr<SegmentFile> seg, std::uint64_t index) {
    prev_ = std::move(cur_);
    cur_ = std::move(seg);
    index_ = index;
    limit_ = std::min<std::size_t>(cur_->size(), cur_->header().segment_size);
    batch_offset_ = cur_->header().data_offset;
    rec_left_ = 0;
    next_pos_ = cur_->header().first_position;
  }

  // At a zero length: the writer may have rolled (or a power loss took the pad). The next
  // segment continues this one exactly when its first position is ours.
  // Returns kRecord to mean "read on", kEnd when there is no next segment yet, or kError
  // when a next segment exists but does not continue this one (never a silent stall).
  ReadStatus FollowIntoNextSegment() {
    Result<std::unique_ptr<SegmentFile>> next = OpenChecked(index_ + 1);
    if (!next.ok()) return next.status().IsNotFound() ? ReadStatus::kEnd : Fail(next.status());
    if ((*next)->header().first_position != next_pos_) {
      // Raced with the writer: it committed here after our load, then rolled. The rename we
      // just observed came after that commit, so the length is visible now: read on.
      if (LoadLengthAcquire(cur_->data() + batch_offset_) != 0) return ReadStatus::kRecord;
      return Fail(Status::Corruption(Where(cur_->name(), batch_offset_) + ": the journal ends here at position " +
                                     std::to_string(next_pos_) + " but the next segment " + (*next)->name() +
                                     " starts at position " + std::to_string((*next)->header().first_position) +
                                     "; open the writer to run recovery"));
    }
    if (Status s = CheckLeaving(); !s.ok()) return Fail(std::move(s));
    Enter(std::move(next).value(), index_ + 1);
    return ReadStatus::kRecord;
  }

  // A segment the journal continues after must be whole: a sealed segment never grows (the
  // size is the file's, from fstat at open: no read of bytes a live writer may be storing).
  // Lost batches inside it are caught by the next segment's first position, which must be ours.
  Status CheckLeaving() const {
    if (cur_->size() != cur_->header().segment_size)
      return Status::Corruption("segment " + cur_->name() + ": the file holds " + std::to_string(cur_->size()) +
                                " bytes but its header says " + std::to_string(cur_->header().segment_size) +
                                " (a sealed segment must be whole); run `rill inspect verify`");
    return Status::OK();
  }

  ReadStatus Fail(Status s) {
    error_ = std::move(s);
    return ReadStatus::kError;
  }

  ReadStatus Next(Record* out) {
    for (;;) {
      if (rec_left_ > 0) {
        FrameHeader h;
        std::memcpy(&h, cur_->data() + rec_offset_, sizeof h);
        out->position = next_pos_++;
        out->type = h.user_type;
        out->timestamp_ns = batch_.timestamp_ns;
        out->payload = {cur_->data() + rec_offset_ + kFrameHeaderSize, h.length - kFrameHeaderSize};
        out->segment_index = index_;
        out->offset = rec_offset_;
        rec_offset_ += AlignUp(h.length, kFrameAlignment);
        out->end_of_batch = --rec_left_ == 0;
        return ReadStatus::kRecord;
      }
      if (const ReadStatus s = LoadBatch(); s != ReadStatus::kRecord) return s;
    }
  }

  ReadStatus NextBatch(RawBatch* out) {
    if (rec_left_ > 0) {
      // A seek leaves the reader on a batch whose frame it parsed but whose records it did not
      // check (Verify::kBatchFrame): at the batch's start, step back and load it again in full.
      const std::size_t start = batch_offset_ - batch_.batch_bytes;
      if (rec_left_ != batch_.record_count || rec_offset_ != start + kBatchFrameSize)
        return Fail(Status::InvalidArgument(
            "journal " + opt_.directory + ": NextBatch at position " + std::to_string(next_pos_) +
            ", inside the batch of positions " + std::to_string(batch_.first_position) + ".." +
            std::to_string(batch_.first_position + batch_.record_count - 1) +
            "; it reads whole batches only (read on with Next to the end of the batch, or seek to a batch's start)"));
      batch_offset_ = start;
      rec_left_ = 0;
    }
    if (const ReadStatus s = LoadBatch(); s != ReadStatus::kRecord) return s;
    const std::size_t start = batch_offset_ - batch_.batch_bytes;
    out->first_position = batch_.first_position;
    out->record_count = batch_.record_count;
    out->timestamp_ns = batch_.timestamp_ns;
    out->schema_fingerprint = cur_->header().schema_fingerprint;
    out->bytes = {cur_->data() + start, batch_.batch_bytes};  // no copy: prev_ keeps it mapped past a roll
    rec_left_ = 0;                                            // the whole batch is consumed
    next_pos_ = batch_.first_position + batch_.record_count;
    return ReadStatus::kRecord;
  }

  // Loads the next committed batch into batch_ (its records not yet returned), crossing
  // segments; kRecord means loaded.
  ReadStatus LoadBatch() {
    for (;;) {
      const BatchParse p = ParseBatch(cur_->data(), limit_, batch_offset_, next_pos_,
                                      opt_.verify_checksums ? Verify::kAll : Verify::kBatchFrame);
      switch (p.outcome) {
        case BatchOutcome::kBatch:
          batch_ = p.batch;
          rec_offset_ = batch_offset_ + kBatchFrameSize;
          rec_left_ = p.batch.record_count;
          batch_offset_ += p.batch.batch_bytes;
          return ReadStatus::kRecord;
        case BatchOutcome::kEnd:
          if (const ReadStatus s = FollowIntoNextSegment(); s != ReadStatus::kRecord) return s;
          continue;
        case BatchOutcome::kSegmentEnd: {
          Result<std::unique_ptr<SegmentFile>> next = OpenChecked(index_ + 1);
          // Too little room for a frame (no pad): the writer rolls only at its next append.
          // A pad, though, is written after the next segment is published.
          const bool unpadded = limit_ - batch_offset_ < kFrameHeaderSize;
          if (!next.ok() && unpadded && next.status().IsNotFound()) return ReadStatus::kEnd;
          if (!next.ok())
            return Fail(next.status().WithContext("segment " + cur_->name() + " is sealed at position " +
                                                  std::to_string(next_pos_) + " but the next segment cannot be read"));
          if ((*next)->header().first_position != next_pos_)
            return Fail(Status::Corruption("segment " + (*next)->name() + " offset 0: starts at position " +
                                           std::to_string((*next)->header().first_position) + ", expected " +
                                           std::to_string(next_pos_)));
          if (Status s = CheckLeaving(); !s.ok()) return Fail(std::move(s));
          Enter(std::move(next).value(), index_ + 1);
          continue;
        }
        case BatchOutcome::kBad:
          return Fail(Status::Corruption(Where(cur_->name(), p.bad_offset) + ": " + p.reason + " (batch at offset " +
                                         std::to_string(batch_offset_) + ", position " + std::to_string(next_pos_) +
                                         "); `rill recover` says what recovery or salvage would do"));
      }
    }
  }

  const std::vector<IndexEntry>& SparseIndex(std::vector<IndexEntry>* scratch) {
    if (auto it = sealed_index_.find(index_); it != sealed_index_.end()) return it->second;
    scratch->clear();
    std::size_t mark = 0;
    const SegmentScan scan =
        ScanSegment(cur_->data(), limit_, Verify::kBatchFrame, [&](std::size_t offset, const BatchPayload& b) {
          if (offset < mark) return;
          scratch->push_back({b.first_position, b.timestamp_ns, offset});
          mark = offset + kIndexStride;
        });
    if (scan.stop != BatchOutcome::kSegmentEnd) return *scratch;  // still growing: do not cache
    return sealed_index_[index_] = *scratch;
  }

  // Positions on the batch at `offset`, skipping `skip` records of it.
  void PositionInBatch(std::size_t offset, const BatchPayload& b, std::uint64_t skip) {
    batch_ = b;
    batch_offset_ = offset + b.batch_bytes;
    rec_offset_ = offset + kBatchFrameSize;
    rec_left_ = b.record_count;
    next_pos_ = b.first_position;
    for (; skip > 0; --skip, --rec_left_, ++next_pos_) {
      FrameHeader h;
      std::memcpy(&h, cur_->data() + rec_offset_, sizeof h);
      rec_offset_ += AlignUp(h.length, kFrameAlignment);
    }
  }

  // Hops batch frames from `offset` until `stop(batch)`; leaves the reader on that batch, or
  // at the end of the committed data.
  template <typename Stop>
  Status Hop(std::size_t offset, std::uint64_t position, Stop stop) {
    rec_left_ = 0;
    for (;;) {
      const BatchParse p = ParseBatch(cur_->data(), limit_, offset, position, Verify::kBatchFrame);
      if (p.outcome == BatchOutcome::kBad)
        return Status::Corruption(Where(cur_->name(), p.bad_offset) + ": " + p.reason);
      if (p.outcome != BatchOutcome::kBatch) {
        batch_offset_ = offset;
        next_pos_ = position;
        return Status::OK();
      }
      if (std::uint64_t skip = 0; stop(p.batch, &skip)) {
        PositionInBatch(offset, p.batch, skip);
        return Status::OK();
      }
      offset += p.batch.batch_bytes;
      position += p.batch.record_count;
    }
  }

  // The last segment whose `key` is <= the target, by binary search over the directory.
  template <typename Pred>
  Result<std::uint64_t> FindSegment(Pred before_or_at) {
    Result<std::vector<std::uint64_t>> list = ListSegmentIndexes(opt_.directory);
    if (!list.ok()) return list.status();
    if (list->empty()) return Status::NotFound("journal " + opt_.directory + " has no segments");
    Status err;
    const auto it = std::partition_point(list->begin(), list->end(), [&](std::uint64_t index) {
      Result<std::unique_ptr<SegmentFile>> seg = OpenChecked(index);
      if (!seg.ok()) {
        if (err.ok()) err = seg.status();
        return false;
      }
      return before_or_at(**seg);
    });
    if (!err.ok()) return err;
    return it == list->begin() ? list->front() : *(it - 1);
  }

  Status SeekToPosition(std::uint64_t position) {
    Result<std::uint64_t> index =
        FindSegment([&](const SegmentFile& s) { return s.header().first_position <= position; });
    if (!index.ok()) return index.status();
    Result<std::unique_ptr<SegmentFile>> seg = OpenChecked(*index);
    if (!seg.ok()) return seg.status();
    if ((*seg)->header().first_position > position)
      return Status::NotFound("journal " + opt_.directory + ": position " + std::to_string(position) +
                              " was deleted by retention; the journal now starts at position " +
                              std::to_string((*seg)->header().first_position));
    Enter(std::move(seg).value(), *index);
    std::vector<IndexEntry> scratch;
    const std::vector<IndexEntry>& idx = SparseIndex(&scratch);
    auto e = std::partition_point(idx.begin(), idx.end(), [&](const IndexEntry& x) { return x.position <= position; });
    const std::size_t from = e == idx.begin() ? cur_->header().data_offset : (e - 1)->offset;
    const std::uint64_t from_pos = e == idx.begin() ? cur_->header().first_position : (e - 1)->position;
    RILL_RETURN_IF_ERROR(Hop(from, from_pos, [&](const BatchPayload& b, std::uint64_t* skip) {
      if (b.first_position + b.record_count <= position) return false;
      *skip = position - b.first_position;
      return true;
    }));
    if (next_pos_ != position && rec_left_ == 0)
      return Status::InvalidArgument("journal " + opt_.directory + ": position " + std::to_string(position) +
                                     " is beyond the committed end (next position " + std::to_string(next_pos_) + ")");
    return Status::OK();
  }

  Status SeekToTime(std::int64_t ts) {
    Result<std::uint64_t> index = FindSegment([&](const SegmentFile& s) {
      const BatchParse p = ParseBatch(s.data(), std::min<std::size_t>(s.size(), s.header().segment_size),
                                      s.header().data_offset, 0, Verify::kBatchFrame);
      return p.outcome == BatchOutcome::kBatch && p.batch.timestamp_ns < ts;
    });
    if (!index.ok()) return index.status();
    Result<std::unique_ptr<SegmentFile>> seg = OpenChecked(*index);
    if (!seg.ok()) return seg.status();
    Enter(std::move(seg).value(), *index);
    std::vector<IndexEntry> scratch;
    const std::vector<IndexEntry>& idx = SparseIndex(&scratch);
    auto e = std::partition_point(idx.begin(), idx.end(), [&](const IndexEntry& x) { return x.timestamp_ns < ts; });
    const std::size_t from = e == idx.begin() ? cur_->header().data_offset : (e - 1)->offset;
    const std::uint64_t from_pos = e == idx.begin() ? cur_->header().first_position : (e - 1)->position;
    return Hop(from, from_pos, [&](const BatchPayload& b, std::uint64_t*) { return b.timestamp_ns >= ts; });
  }

  ControlFile* Control() {
    if (!control_) {
      Result<std::unique_ptr<ControlFile>> c = ControlFile::OpenReadOnly(opt_.directory);
      if (c.ok()) control_ = std::move(c).value();
    }
    return control_.get();
  }
};

JournalReader::JournalReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JournalReader::~JournalReader() = default;

Result<std::unique_ptr<JournalReader>> JournalReader::Open(const ReaderOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->opt_ = options;
  // Retention may delete the oldest segment between listing and opening it: list again.
  Status last_error;
  for (int attempt = 0; attempt < 8; ++attempt) {
    Result<std::vector<std::uint64_t>> list = ListSegmentIndexes(options.directory);
    if (!list.ok()) return list.status();
    if (list->empty())
      return Status::NotFound("journal " + options.directory + " has no segments yet: open a writer on it first");
    Result<std::unique_ptr<SegmentFile>> seg = impl->OpenChecked(list->front());
    if (seg.ok()) {
      impl->Enter(std::move(seg).value(), list->front());
      break;
    }
    if (!seg.status().IsNotFound()) return seg.status();
    last_error = seg.status();
  }
  if (!impl->cur_) return last_error;
  impl->Control();
  return std::unique_ptr<JournalReader>(new JournalReader(std::move(impl)));
}

ReadStatus JournalReader::Next(Record* out) { return impl_->Next(out); }
ReadStatus JournalReader::NextBatch(RawBatch* out) { return impl_->NextBatch(out); }
const Status& JournalReader::error() const noexcept { return impl_->error_; }
std::uint64_t JournalReader::next_position() const noexcept { return impl_->next_pos_; }
Status JournalReader::SeekToPosition(std::uint64_t position) { return impl_->SeekToPosition(position); }
Status JournalReader::SeekToTime(std::int64_t timestamp_ns) { return impl_->SeekToTime(timestamp_ns); }

std::uint64_t JournalReader::committed_position() const noexcept {
  ControlFile* c = impl_->Control();
  return c ? c->block().committed_position.load(std::memory_order_acquire) : 0;
}

std::uint64_t JournalReader::durable_position() const noexcept {
  ControlFile* c = impl_->Control();
  return c ? c->block().durable_position.load(std::memory_order_acquire) : 0;
}

JournalStats JournalReader::stats() const noexcept {
  ControlFile* c = impl_->Control();
  if (c == nullptr) return {};
  const ControlBlock& b = c->block();
  return {b.appends.load(std::memory_order_relaxed), b.batches.load(std::memory_order_relaxed),
          b.bytes.load(std::memory_order_relaxed), b.syncs.load(std::memory_order_relaxed),
          b.sync_ns_total.load(std::memory_order_relaxed)};
}

bool JournalReader::WaitForCommit(std::int64_t timeout_ns) {
  if (ControlFile* c = impl_->Control()) return c->WaitCommitted(impl_->next_pos_, timeout_ns);
  // No control file yet (no writer so far): poll gently.
  std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return true;
}

Result<std::vector<SegmentInfo>> JournalReader::ListSegments() const {
  Result<std::vector<std::uint64_t>> list = ListSegmentIndexes(impl_->opt_.directory);
  if (!list.ok()) return list.status();
  std::vector<SegmentInfo> out;
  for (std::uint64_t index : *list) {
    Result<std::unique_ptr<SegmentFile>> seg = impl_->OpenChecked(index);
    if (!seg.ok()) return seg.status();
    const SegmentHeader& h = (*seg)->header();
    const SegmentScan scan =
        ScanSegment((*seg)->data(), std::min<std::size_t>((*seg)->size(), h.segment_size), Verify::kBatchFrame);
    SegmentInfo info;
    info.index = index;
    info.file = (*seg)->path();
    info.first_position = h.first_position;
    info.last_position = scan.next_position - 1;
    info.first_timestamp_ns = scan.first_timestamp_ns;
    info.last_timestamp_ns = scan.last_timestamp_ns;
    info.creation_time_ns = h.creation_time_ns;
    info.schema_fingerprint = h.schema_fingerprint;
    info.batches = scan.batches;
    info.sealed = scan.stop == BatchOutcome::kSegmentEnd;
    out.push_back(std::move(info));
  }
  return out;
}

std::uint64_t JournalReader::schema_fingerprint() const noexcept { return impl_->cur_->header().schema_fingerprint; }

std::span<const std::byte> JournalReader::schema_blob() const noexcept {
  return {impl_->cur_->data() + kSegmentHeaderSize, impl_->cur_->header().schema_blob_size};
}

}  // namespace rill::journal
