// JournalWriter: one file, ~600 lines, on purpose: every function here works on Impl's one
// invariant (committed batches in [data_offset_, tail_), the open batch in [tail_, cursor_),
// zeros after), from the hot path (Reserve/Commit) and a follower's AppendBatch through rolls, sync, close, retention
// and open; splitting it would put Impl in a header for every part to see.
#include "rill/journal/journal_writer.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "rill/base/crc32c.h"
#include "rill/journal/batch_parser.h"
#include "rill/journal/control_file.h"
#include "rill/journal/dir_lock.h"
#include "rill/journal/durability.h"
#include "rill/journal/io.h"
#include "rill/journal/segment_dir.h"
#include "rill/journal/segment_preparer.h"

namespace rill::journal {
namespace {

std::int64_t RealtimeNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status CheckOptions(const WriterOptions& o) {
  if (o.directory.empty()) return Status::InvalidArgument("journal writer: options.directory is empty");
  if (o.segment_size % 4096 != 0 || o.segment_size > (1u << 30) ||
      o.segment_size < DataOffsetFor(o.schema_blob.size()) + 4096)
    return Status::InvalidArgument("journal writer: segment_size " + std::to_string(o.segment_size) +
                                   " must be a multiple of 4 KiB, at most 1 GiB, and leave at least 4 KiB after "
                                   "the header and schema blob");
  if (o.schema_blob.size() > kMaxSchemaBlobSize)
    return Status::InvalidArgument("journal writer: schema blob of " + std::to_string(o.schema_blob.size()) +
                                   " bytes exceeds the 1 MiB limit");
  if (o.first_position == 0) return Status::InvalidArgument("journal writer: first_position must be >= 1");
  return Status::OK();
}

}  // namespace

// Invariant (writer thread): [data_offset_, tail_) of seg_ holds committed batches only;
// an open batch occupies [tail_, cursor_) and its batch frame's length is still 0, so no
// reader can see any of it.
class JournalWriter::Impl {
 public:
  WriterOptions opt_;
  std::unique_ptr<DirLock> lock_;
  std::unique_ptr<ControlFile> control_;
  std::unique_ptr<SegmentPreparer> preparer_;
  std::unique_ptr<Syncer> syncer_;  // null under Durability::kNone
  std::shared_ptr<SegmentFile> seg_;
  std::byte* base_ = nullptr;
  std::size_t limit_ = 0, data_offset_ = 0;
  std::size_t tail_ = 0, cursor_ = 0;
  std::uint32_t records_ = 0;        // in the open batch; 0 = no open batch
  std::uint64_t next_position_ = 0;  // first position of the open batch
  std::int64_t last_ts_ = 0;
  bool failed_ = false;
  Status failure_;
  // The first failed sync (the syncer's, or Sync()/Close() under kNone). Final: this writer
  // never syncs again, so it never follows a failed sync with a successful one and a claim of
  // durability (PostgreSQL's fsyncgate: the failed sync may have dropped the dirty pages).
  Status sync_failure_;
  std::uint64_t synced_below_index_ = 0;  // kNone: SyncCommitted synced every segment below it
  Status SyncCommitted();
  void NoteSyncFailure(const Status& why) {
    if (sync_failure_.ok()) sync_failure_ = why;
    if (!failed_) (void)Fail(why);  // appends stop: nothing after this could become durable
  }
  std::uint64_t appends_ = 0, batches_ = 0, bytes_ = 0;
  // Close() unmaps the control file; the getters then answer from these (the last values).
  std::uint64_t closed_committed_ = 0, closed_durable_ = 0;
  JournalStats closed_stats_{};
#ifndef NDEBUG
  std::thread::id owner_;  // the thread of the first append
#endif

  Result<std::span<std::byte>> Reserve(std::size_t bytes, std::uint16_t type) {
    const std::size_t span = FrameSpan(bytes);
    // Fast path: a batch is open and the record fits in this segment.
    if (records_ != 0 && cursor_ + span <= limit_ && bytes <= UINT32_MAX - kFrameHeaderSize)
      return Place(bytes, type, span);
    return ReserveSlow(bytes, type, span);
  }

  std::span<std::byte> Place(std::size_t bytes, std::uint16_t type, std::size_t span) noexcept {
    auto* h = reinterpret_cast<FrameHeader*>(base_ + cursor_);
    // Plain stores: the whole batch is published later by one release store of its length.
    h->length = static_cast<std::uint32_t>(kFrameHeaderSize + bytes);
    h->kind = FrameKind::kData;
    h->flags = 0;
    h->user_type = type;
    h->reserved = h->length;  // format version 2: the CRC-covered copy of the length
    std::byte* payload = base_ + cursor_ + kFrameHeaderSize;
    cursor_ += span;
    ++records_;
    return {payload, bytes};
  }

  void AbortBatch() noexcept {
    // The segment was all zero past tail_; restore that, so CRCs over padding stay valid and
    // a later batch here is not mistaken for this one.
    // (cursor_ may point past the segment when the batch frame itself did not fit.)
    const std::size_t end = std::min(cursor_, limit_);
    if (end > tail_) std::memset(base_ + tail_, 0, end - tail_);
    cursor_ = tail_;
    records_ = 0;
  }

  Result<std::uint64_t> Commit(std::int64_t timestamp_ns) {
    if (failed_) return Refused();
    if (records_ == 0)
      return Status::InvalidArgument("journal " + opt_.directory + ": CommitBatch with no record reserved");
    Seal(timestamp_ns);
    return Publish();
  }

  // Every byte of the open batch but its batch frame's length word: records' CRCs, the batch frame.
  void Seal(std::int64_t timestamp_ns) noexcept {
    SealRecordCrcs(base_, tail_ + kBatchFrameSize, cursor_);
    last_ts_ = std::max(last_ts_, timestamp_ns);
    std::byte* frame = base_ + tail_;
    auto* h = reinterpret_cast<FrameHeader*>(frame);
    h->kind = FrameKind::kBatch;
    h->flags = 0;
    h->user_type = 0;
    h->reserved = 0;
    const BatchPayload batch{next_position_, records_, static_cast<std::uint32_t>(cursor_ - tail_), last_ts_, 0};
    std::memcpy(frame + kFrameHeaderSize, &batch, sizeof batch);
    // The CRC covers [8, 48): the length word, stored by Publish, is not part of it.
    h->crc = FrameCrc(frame, kBatchFrameSize);
  }

  std::uint64_t Publish() noexcept {
    std::byte* frame = base_ + tail_;
    StoreLengthRelease(frame, kBatchFrameSize);  // the commit: readers see all of the batch or none
    const std::uint64_t last = next_position_ + records_ - 1;
    appends_ += records_;
    ++batches_;
    bytes_ += cursor_ - tail_;
    tail_ = cursor_;
    next_position_ = last + 1;
    records_ = 0;
    ControlBlock& b = control_->block();
    b.appends.store(appends_, std::memory_order_relaxed);  // counters: informational, relaxed
    b.batches.store(batches_, std::memory_order_relaxed);
    b.bytes.store(bytes_, std::memory_order_relaxed);
    control_->PublishCommitted(last);
    if (syncer_) {
      syncer_->Post(seg_, tail_, last);
    } else {
      control_->StoreDurableNoWake(last);
    }
    return last;
  }

  Result<std::uint64_t> AppendBatch(std::span<const std::byte> batch);

  Status Fail(Status why) {
    failed_ = true;
    failure_ = why;
    return why;
  }

  Status Refused() const {
    return Status::Unavailable("journal " + opt_.directory + " refuses appends after an earlier failure (" +
                               failure_.ToString() + "); committed data is intact: fix the cause and reopen");
  }

  Result<std::span<std::byte>> ReserveSlow(std::size_t bytes, std::uint16_t type, std::size_t span);
  Status Roll();
  Status ActivateSegment(std::unique_ptr<SegmentFile> next, std::uint64_t first_position);
  void WritePad(SegmentFile& seg, std::size_t offset) noexcept;
};

void JournalWriter::Impl::WritePad(SegmentFile& seg, std::size_t offset) noexcept {
  if (seg.size() - offset < kFrameHeaderSize) return;  // no room for a frame: readers know
  std::byte* frame = seg.data() + offset;
  auto* h = reinterpret_cast<FrameHeader*>(frame);
  h->kind = FrameKind::kPad;
  h->flags = 0;
  h->user_type = 0;
  h->reserved = 0;
  h->crc = FrameCrc(frame, kFrameHeaderSize);
  StoreLengthRelease(frame, static_cast<std::uint32_t>(seg.size() - offset));
}

Status JournalWriter::Impl::ActivateSegment(std::unique_ptr<SegmentFile> next, std::uint64_t first_position) {
  RILL_RETURN_IF_ERROR(next->Publish(first_position, RealtimeNs()));
  const std::uint64_t index = next->header().segment_index;
  control_->block().active_segment.store(index, std::memory_order_relaxed);
  seg_ = std::move(next);
  base_ = seg_->data();
  limit_ = seg_->size();
  data_offset_ = seg_->header().data_offset;
  tail_ = cursor_ = data_offset_;
  preparer_->Request(index + 1);
  return Status::OK();
}

// Moves the open batch to a fresh segment and seals the old one with a pad frame. The new
// segment is published (renamed) before the pad, so a reader that sees the pad always
// finds the next segment.
Status JournalWriter::Impl::Roll() {
  const std::uint64_t index = seg_->header().segment_index + 1;
  Result<std::unique_ptr<SegmentFile>> next = preparer_->Take(index);
  if (!next.ok()) return next.status();
  std::shared_ptr<SegmentFile> old = seg_;
  // With no record yet, the batch frame itself may not have fit: there is nothing to copy.
  const std::size_t old_tail = tail_, open_bytes = records_ == 0 ? 0 : cursor_ - tail_;
  const std::uint32_t records = records_;
  RILL_RETURN_IF_ERROR(ActivateSegment(std::move(next).value(), next_position_));
  std::memcpy(base_ + tail_, old->data() + old_tail, open_bytes);  // its batch frame is still all zero
  cursor_ = tail_ + (records_ == 0 ? kBatchFrameSize : open_bytes);
  records_ = records;
  WritePad(*old, old_tail);
  if (syncer_) syncer_->Post(old, old->size(), next_position_ - 1);
  return Status::OK();
}

Result<std::span<std::byte>> JournalWriter::Impl::ReserveSlow(std::size_t bytes, std::uint16_t type, std::size_t span) {
#ifndef NDEBUG
  // Debug builds check the single-writer rule once per batch (every batch starts here).
  if (owner_ == std::thread::id()) owner_ = std::this_thread::get_id();
  assert(owner_ == std::this_thread::get_id() &&
         "JournalWriter appends from two threads: only the engine's writer thread may call Reserve/CommitBatch");
#endif
  if (failed_) return Refused();
  if (!control_) return Status::Unavailable("journal " + opt_.directory + " is closed: reopen it to append");
  if (syncer_ && syncer_->failed()) {
    AbortBatch();
    (void)Fail(syncer_->error());
    return Refused();
  }
  const std::size_t room = limit_ - data_offset_;
  const std::size_t batch_bytes = (records_ == 0 ? kBatchFrameSize : cursor_ - tail_) + span;
  if (bytes > UINT32_MAX - kFrameHeaderSize || batch_bytes > room) {
    AbortBatch();
    return Status::InvalidArgument("journal " + opt_.directory + ": a batch of " + std::to_string(batch_bytes) +
                                   " bytes cannot fit in a segment with " + std::to_string(room) +
                                   " bytes of room: raise segment_size or split the command (batch aborted)");
  }
  if (records_ == 0) cursor_ = tail_ + kBatchFrameSize;  // room for the batch frame, still zero
  if (cursor_ + span > limit_) {
    if (Status s = Roll(); !s.ok()) {
      AbortBatch();
      return Fail(s.WithContext("journal " + opt_.directory + ": cannot start segment " +
                                SegmentFileName(seg_->header().segment_index + 1) + " (batch aborted)"));
    }
  }
  return Place(bytes, type, span);
}

JournalWriter::JournalWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JournalWriter::~JournalWriter() { (void)Close(); }

Result<std::span<std::byte>> JournalWriter::Reserve(std::size_t bytes, std::uint16_t type) {
  return impl_->Reserve(bytes, type);
}
Result<std::uint64_t> JournalWriter::CommitBatch(std::int64_t timestamp_ns) { return impl_->Commit(timestamp_ns); }
void JournalWriter::AbortBatch() noexcept { impl_->AbortBatch(); }
Result<std::uint64_t> JournalWriter::AppendBatch(std::span<const std::byte> batch) { return impl_->AppendBatch(batch); }

// Validation happens on an aligned private copy behind a segment header of this writer's
// format version: ParseBatch reads the version there, and the received bytes may lie at any
// alignment. Then the batch is rebuilt through Reserve (so rolls and failures behave as for
// any append) and compared with the input before the commit: the segment must hold the very
// bytes the source journal holds, or replicas would differ in their CRC words.
Result<std::uint64_t> JournalWriter::Impl::AppendBatch(std::span<const std::byte> batch) {
  const auto where = [&] { return "journal " + opt_.directory + ": AppendBatch: "; };
  if (failed_) return Refused();
  if (records_ != 0) return Status::InvalidArgument(where() + "a batch is open (Reserve without CommitBatch)");
  if (batch.size() < kBatchFrameSize + kFrameHeaderSize || batch.size() % kFrameAlignment != 0 ||
      batch.size() > UINT32_MAX)
    return Status::Corruption(where() + "a batch of " + std::to_string(batch.size()) +
                              " bytes cannot be whole (too short, or not a multiple of 8)");
  std::vector<std::uint64_t> scratch((kSegmentHeaderSize + batch.size()) / 8, 0);
  auto* copy = reinterpret_cast<std::byte*>(scratch.data());
  SegmentHeader header{};
  header.format_version = kFormatVersion;
  std::memcpy(copy, &header, sizeof header);
  std::memcpy(copy + kSegmentHeaderSize, batch.data(), batch.size());
  const BatchParse p = ParseBatch(copy, kSegmentHeaderSize + batch.size(), kSegmentHeaderSize, 0, Verify::kAll);
  if (p.outcome != BatchOutcome::kBatch) {
    std::string why = p.outcome == BatchOutcome::kBad ? p.reason : "no batch frame";
    // A data frame without the length copy: likely read from a version 1 segment, which this
    // writer cannot reproduce byte for byte.
    if (p.outcome == BatchOutcome::kBad && std::strstr(p.reason, "CRC-covered copy") != nullptr)
      why.append(" (a batch of a format version 1 segment? it cannot be copied verbatim)");
    return Status::Corruption(
        where() + "the batch is damaged or malformed at byte " +
        std::to_string(p.bad_offset >= kSegmentHeaderSize ? p.bad_offset - kSegmentHeaderSize : 0) + ": " + why);
  }
  const BatchPayload& b = p.batch;
  if (b.batch_bytes != batch.size())
    return Status::Corruption(where() + "the batch frame says " + std::to_string(b.batch_bytes) + " bytes, " +
                              std::to_string(batch.size()) + " were given");
  if (b.first_position != next_position_)
    return Status::FailedPrecondition(where() + "batch starts at " + std::to_string(b.first_position) +
                                      ", the journal continues at " + std::to_string(next_position_));
  if (b.timestamp_ns < last_ts_)
    return Status::InvalidArgument(where() + "batch at position " + std::to_string(b.first_position) +
                                   " has timestamp " + std::to_string(b.timestamp_ns) + ", before the journal's " +
                                   std::to_string(last_ts_) + " (timestamps never decrease)");
  const std::byte* in = copy + kSegmentHeaderSize;
  for (std::size_t at = kBatchFrameSize; at < batch.size();) {
    FrameHeader h;
    std::memcpy(&h, in + at, sizeof h);
    Result<std::span<std::byte>> span = Reserve(h.length - kFrameHeaderSize, h.user_type);
    if (!span.ok()) {
      AbortBatch();
      return span.status();
    }
    std::memcpy(span->data(), in + at + kFrameHeaderSize, span->size());
    at += AlignUp(h.length, kFrameAlignment);
  }
  const std::int64_t last_ts = last_ts_;
  Seal(b.timestamp_ns);
  // The length word is the only byte still unwritten: compare it apart.
  std::uint32_t length = 0;
  std::memcpy(&length, in, sizeof length);
  if (cursor_ - tail_ != batch.size() || length != kBatchFrameSize ||
      std::memcmp(base_ + tail_ + sizeof length, in + sizeof length, batch.size() - sizeof length) != 0) {
    AbortBatch();
    last_ts_ = last_ts;
    return Status::Corruption(where() + "the batch at position " + std::to_string(b.first_position) +
                              " passed validation but rewriting it gave other bytes (non-zero padding or "
                              "flags?); nothing was appended");
  }
  return Publish();
}

std::uint64_t JournalWriter::committed_position() const noexcept {
  if (!impl_->control_) return impl_->closed_committed_;  // after Close()
  return impl_->control_->block().committed_position.load(std::memory_order_acquire);
}

std::uint64_t JournalWriter::durable_position() const noexcept {
  if (!impl_->control_) return impl_->closed_durable_;
  return impl_->control_->block().durable_position.load(std::memory_order_acquire);
}

Status JournalWriter::WaitDurable(std::uint64_t position, std::int64_t timeout_ns) const {
  if (!impl_->control_) {
    if (position <= impl_->closed_durable_) return Status::OK();
    if (!impl_->sync_failure_.ok()) return impl_->sync_failure_;  // why it never became durable
    return Status::Unavailable("journal " + impl_->opt_.directory + " is closed");
  }
  if (impl_->control_->WaitDurable(position, timeout_ns)) return Status::OK();
  if (impl_->syncer_ && impl_->syncer_->failed()) return impl_->syncer_->error();
  return Status::TimedOut("journal " + impl_->opt_.directory + ": position " + std::to_string(position) +
                          " is not durable yet (durable: " + std::to_string(durable_position()) + ")");
}

Status JournalWriter::Sync() {
  Impl& w = *impl_;
  if (!w.control_) return Status::Unavailable("journal " + w.opt_.directory + " is closed");
  // A failed sync is final: never retried, so never followed by a claim of durability. (An
  // append failure is no reason to refuse: what was committed can still be made durable.)
  if (!w.sync_failure_.ok()) return w.sync_failure_;
  Status s;
  if (w.syncer_) {
    w.syncer_->SyncNow();                       // interval policy: do not wait for the next tick
    s = WaitDurable(committed_position(), -1);  // the syncer's error if it failed: it never retries
  } else {
    s = w.SyncCommitted();
  }
  if (!s.ok()) w.NoteSyncFailure(s);
  return s;
}

namespace {

Status FdatasyncSegment(const std::string& path, const char* why) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("open segment " + path + " to sync it (" + why + ")", errno);
  const int err = io::Fdatasync(fd, path);
  ::close(fd);
  if (err != 0) return Status::FromErrno("fdatasync segment " + path + " (" + why + ")", err);
  return Status::OK();
}

}  // namespace

// Durability::kNone (Sync, Close): every committed byte to disk. Segments rolled since the
// last call first (under this policy nothing else syncs them), then the active one from its
// header on, then the directory (the segments' names).
Status JournalWriter::Impl::SyncCommitted() {
  const std::uint64_t active = seg_->header().segment_index;
  if (synced_below_index_ < active) {
    Result<std::vector<std::uint64_t>> list = ListSegmentIndexes(opt_.directory);
    if (!list.ok()) return list.status();
    for (const std::uint64_t index : *list) {
      if (index < synced_below_index_ || index >= active) continue;
      RILL_RETURN_IF_ERROR(FdatasyncSegment(opt_.directory + "/" + SegmentFileName(index), "explicit sync"));
    }
  }
  RILL_RETURN_IF_ERROR(seg_->Sync(opt_.sync_method, 0, tail_));
  RILL_RETURN_IF_ERROR(SyncDirectory(opt_.directory));
  synced_below_index_ = active;
  return Status::OK();
}

// The first sync failure, else the syncer's (it may fail at any moment, between appends), else
// an append failure. From the writer thread (the syncer's part from any thread).
Status JournalWriter::status() const {
  const Impl& w = *impl_;
  if (!w.sync_failure_.ok()) return w.sync_failure_;
  if (w.syncer_ && w.syncer_->failed()) return w.syncer_->error();
  return w.failed_ ? w.failure_ : Status::OK();
}

JournalStats JournalWriter::stats() const noexcept {
  if (!impl_->control_) return impl_->closed_stats_;
  const ControlBlock& b = impl_->control_->block();
  return {b.appends.load(std::memory_order_relaxed), b.batches.load(std::memory_order_relaxed),
          b.bytes.load(std::memory_order_relaxed), b.syncs.load(std::memory_order_relaxed),
          b.sync_ns_total.load(std::memory_order_relaxed)};
}

Status JournalWriter::Close() {
  if (!impl_ || !impl_->lock_) return Status::OK();
  Impl& w = *impl_;
  w.AbortBatch();
  // With a syncer, its last round syncs everything posted, which is everything committed;
  // under kNone, SyncCommitted does. Never after a failed sync (fsyncgate): a retry that
  // succeeds would report a clean close of data the failed sync may have lost. (Before, this
  // synced again whenever no append had failed, even right after the syncer failed.)
  Status s;
  if (w.syncer_) {
    s = w.syncer_->Stop();
  } else if (w.sync_failure_.ok()) {
    s = w.SyncCommitted();
  }
  if (!s.ok()) w.NoteSyncFailure(s);
  w.syncer_.reset();
  w.preparer_.reset();              // removes an unused prepared segment
  if (s.ok()) s = w.sync_failure_;  // an earlier sync failure: the caller must hear of it too
  w.control_->block().writer_pid.store(0, std::memory_order_relaxed);
  w.seg_.reset();
  w.closed_stats_ = stats();  // the getters answer from these once the control file is unmapped
  w.closed_committed_ = committed_position();
  w.closed_durable_ = durable_position();
  w.control_.reset();
  w.lock_.reset();
  return s;
}

Result<std::size_t> JournalWriter::DeleteSegmentsBefore(std::uint64_t position) {
  Impl& w = *impl_;
  Result<std::vector<std::uint64_t>> list = ListSegmentIndexes(w.opt_.directory);
  if (!list.ok()) return list.status();
  const std::uint64_t active = w.seg_->header().segment_index;
  std::size_t deleted = 0;
  const std::vector<std::uint64_t>& idx = *list;
  for (std::size_t i = 0; i + 1 < idx.size() && idx[i + 1] <= active; ++i) {
    // Segment i ends where segment i+1 begins; delete only when all of it is before `position`.
    const std::string next_path = w.opt_.directory + "/" + SegmentFileName(idx[i + 1]);
    SegmentHeader next{};
    const int nfd = ::open(next_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (nfd < 0) return Status::FromErrno("retention: open " + next_path, errno);
    const ssize_t n = ::pread(nfd, &next, sizeof next, 0);
    ::close(nfd);
    if (n != static_cast<ssize_t>(sizeof next) || next.magic != kSegmentMagic || next.first_position > position) break;
    // The retention record first (synced), then the unlink: a crash in between leaves a segment
    // that should be gone, never a missing one that recovery would take for lost data.
    RILL_RETURN_IF_ERROR(w.control_->RecordRetention(next.first_position));
    const std::string path = w.opt_.directory + "/" + SegmentFileName(idx[i]);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno("retention: open " + path, errno);
    // Readers hold a shared flock while they map a segment: skip (and keep every later one,
    // so the directory stays gap-free) while any reader is on it.
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      break;
    }
    const int rc = ::unlink(path.c_str());
    const int err = errno;
    ::close(fd);
    if (rc != 0) return Status::FromErrno("retention: delete " + path, err);
    ++deleted;
  }
  if (deleted > 0) RILL_RETURN_IF_ERROR(SyncDirectory(w.opt_.directory));
  return deleted;
}

namespace {

// fdatasync every segment recovery kept: cheap for files without dirty pages (a clean shutdown),
// and what makes "durable == committed" true after a crash.
Status SyncKeptSegments(const WriterOptions& options, RecoveredJournal& r) {
  for (const std::uint64_t index : r.segments) {
    if (r.last && r.last->header().segment_index == index) {
      RILL_RETURN_IF_ERROR(r.last->Sync(SyncMethod::kFdatasync, 0, r.last->size()));
      continue;
    }
    const std::string path = options.directory + "/" + SegmentFileName(index);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno("open segment " + path + " to sync it", errno);
    const int err = io::Fdatasync(fd, path);
    ::close(fd);
    if (err != 0) return Status::FromErrno("fdatasync segment " + path + " (making recovered data durable)", err);
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<JournalWriter>> JournalWriter::Open(const WriterOptions& options, Reporter* reporter) {
  RILL_RETURN_IF_ERROR(CheckOptions(options));
  if (::mkdir(options.directory.c_str(), 0755) != 0 && errno != EEXIST)
    return Status::FromErrno("create journal directory " + options.directory, errno);
  auto impl = std::make_unique<Impl>();
  Impl& w = *impl;
  w.opt_ = options;
  Result<std::unique_ptr<DirLock>> lock = DirLock::Acquire(options.directory);
  if (!lock.ok()) return lock.status();
  w.lock_ = std::move(lock).value();
  Result<RecoveredJournal> rec = RecoverJournal(options, reporter);
  if (!rec.ok()) return rec.status();
  RecoveredJournal& r = *rec;
  w.next_position_ = r.next_position;
  w.last_ts_ = r.last_timestamp_ns;
  // The control file is about to report everything kept as durable. After a kill -9, batches
  // that were committed but not yet synced are still only in the page cache (possibly in an
  // earlier segment the syncer never got back to after a roll), so sync them first.
  if (options.durability != Durability::kNone) RILL_RETURN_IF_ERROR(SyncKeptSegments(options, r));
  Result<std::unique_ptr<ControlFile>> control =
      ControlFile::OpenForWriter(options.directory, r.next_position - 1, options.segment_size, r.retained_from);
  if (!control.ok()) return control.status();
  w.control_ = std::move(control).value();
  std::vector<std::byte> blob(options.schema_blob.begin(), options.schema_blob.end());
  w.preparer_ = std::make_unique<SegmentPreparer>(options.directory, options.segment_size, options.schema_fingerprint,
                                                  std::move(blob), options.durability != Durability::kNone);
  // A segment of an older format version is never appended to: its frames follow that version.
  const bool reuse_last = r.last && !r.last_sealed && r.last->header().format_version == kFormatVersion &&
                          r.last->header().schema_fingerprint == options.schema_fingerprint &&
                          r.last->header().segment_size == options.segment_size &&
                          r.last->header().schema_blob_size == options.schema_blob.size();
  if (reuse_last) {
    w.seg_ = std::move(r.last);
    w.base_ = w.seg_->data();
    w.limit_ = w.seg_->size();
    w.data_offset_ = w.seg_->header().data_offset;
    w.tail_ = w.cursor_ = r.tail_offset;
    w.seg_->Prefault(w.tail_, w.limit_);
    w.control_->block().active_segment.store(w.seg_->header().segment_index, std::memory_order_relaxed);
    w.preparer_->Request(w.seg_->header().segment_index + 1);
  } else {
    // A new journal, a sealed last segment, or new options (schema, size): start a segment.
    const std::uint64_t index = r.last ? r.last->header().segment_index + 1 : 0;
    r.last.reset();
    Result<std::unique_ptr<SegmentFile>> seg = w.preparer_->Take(index);
    if (!seg.ok()) return seg.status().WithContext("journal " + options.directory);
    RILL_RETURN_IF_ERROR(w.ActivateSegment(std::move(seg).value(), r.next_position));
    RILL_RETURN_IF_ERROR(SyncDirectory(options.directory));
  }
  if (options.durability != Durability::kNone) {
    w.syncer_ = std::make_unique<Syncer>(options.durability, options.sync_method, options.sync_interval_ms,
                                         options.directory, w.control_.get(), options.on_durable);
  }
  return std::unique_ptr<JournalWriter>(new JournalWriter(std::move(impl)));
}

Status RecoverDirectory(const WriterOptions& options, Reporter* reporter) {
  if (options.directory.empty()) return Status::InvalidArgument("journal recovery: options.directory is empty");
  Result<std::unique_ptr<DirLock>> lock = DirLock::Acquire(options.directory);
  if (!lock.ok()) return lock.status();
  Result<RecoveredJournal> rec = RecoverJournal(options, reporter);
  if (!rec.ok()) return rec.status();
  RecoveredJournal& r = *rec;
  if (r.segments.empty()) return Status::OK();  // an empty journal: nothing to record
  RILL_RETURN_IF_ERROR(SyncKeptSegments(options, r));
  const std::size_t segment_size = r.last ? r.last->header().segment_size : options.segment_size;
  Result<std::unique_ptr<ControlFile>> control =
      ControlFile::OpenForWriter(options.directory, r.next_position - 1, segment_size, r.retained_from);
  if (!control.ok()) return control.status();
  (*control)->block().writer_pid.store(0, std::memory_order_relaxed);  // no writer stays behind
  return Status::OK();
}

}  // namespace rill::journal
