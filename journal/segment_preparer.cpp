#include "rill/journal/segment_preparer.h"

#include <unistd.h>

#include "rill/journal/segment_dir.h"

namespace rill::journal {

SegmentPreparer::SegmentPreparer(std::string dir, std::size_t size, std::uint64_t fingerprint,
                                 std::vector<std::byte> blob, bool sync_prepared)
    : dir_(std::move(dir)),
      size_(size),
      fingerprint_(fingerprint),
      blob_(std::move(blob)),
      sync_prepared_(sync_prepared) {
  thread_ = std::thread([this] { Run(); });
}

SegmentPreparer::~SegmentPreparer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  if (ready_) ::unlink(ready_->path().c_str());  // never published: holds nothing
}

void SegmentPreparer::Request(std::uint64_t index) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    requested_ = index;
  }
  cv_.notify_all();
}

void SegmentPreparer::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || requested_ != UINT64_MAX; });
    if (stop_) return;
    const std::uint64_t index = requested_;
    requested_ = UINT64_MAX;
    busy_ = true;
    lock.unlock();
    // Also persists the rename of the segment the writer just rolled into (off its path).
    (void)SyncDirectory(dir_);
    Result<std::unique_ptr<SegmentFile>> seg = Make(index);
    lock.lock();
    busy_ = false;
    ready_index_ = index;
    if (seg.ok()) {
      ready_ = std::move(seg).value();
      ready_error_ = Status::OK();
    } else {
      ready_error_ = seg.status();
    }
    cv_.notify_all();
  }
}

Result<std::unique_ptr<SegmentFile>> SegmentPreparer::Take(std::uint64_t index) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return !busy_ && requested_ != index; });
  if (ready_index_ == index) {
    ready_index_ = UINT64_MAX;
    if (ready_) return std::move(ready_);
    Status s = ready_error_;
    return s;
  }
  lock.unlock();  // never requested: make it here, on the writer's path
  return Make(index);
}

Result<std::unique_ptr<SegmentFile>> SegmentPreparer::Make(std::uint64_t index) {
  Result<std::unique_ptr<SegmentFile>> seg = SegmentFile::CreateTemp(dir_, index, size_, fingerprint_, blob_);
  if (!seg.ok()) return seg;
  (*seg)->Prefault(0, size_);
  if (sync_prepared_) RILL_RETURN_IF_ERROR((*seg)->Sync(SyncMethod::kFdatasync, 0, size_));
  return seg;
}

}  // namespace rill::journal
