// rill/journal/segment_preparer.h: makes the next segment ready before the writer needs it.
//
// Creates "<index>.seg.tmp", preallocates it (posix_fallocate), maps it and pre-faults every
// page (MADV_POPULATE_WRITE) on a helper thread, and fsyncs the directory after each roll,
// so a roll on the writer's path costs a rename, not 64 MiB of page faults (first touch of
// a sparse file is ~15x slower than a copy into mapped, faulted pages).
// Thread safety: Request and Take from the writer thread only.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "rill/journal/segment_file.h"

namespace rill::journal {

class SegmentPreparer {
 public:
  // sync_prepared: write the pre-faulted (dirty, zero) pages back here, in the background, so
  // the first fdatasync of the segment on the syncer's path does not have to (SyncMethod::
  // kFdatasync writes every dirty page of the file: 64 MiB of zeros, ~90 ms, at each roll).
  SegmentPreparer(std::string dir, std::size_t size, std::uint64_t fingerprint, std::vector<std::byte> blob,
                  bool sync_prepared);
  ~SegmentPreparer();                                              // stops; removes a prepared segment nobody took
  void Request(std::uint64_t index);                               // start preparing `index` in the background
  Result<std::unique_ptr<SegmentFile>> Take(std::uint64_t index);  // waits for it (or makes it now)

 private:
  void Run();
  Result<std::unique_ptr<SegmentFile>> Make(std::uint64_t index);
  const std::string dir_;
  const std::size_t size_;
  const std::uint64_t fingerprint_;
  const std::vector<std::byte> blob_;
  const bool sync_prepared_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t requested_ = UINT64_MAX;  // guarded by mu_; UINT64_MAX: nothing to do
  bool busy_ = false, stop_ = false;      // guarded by mu_
  std::uint64_t ready_index_ = UINT64_MAX;
  std::unique_ptr<SegmentFile> ready_;  // guarded by mu_
  Status ready_error_;                  // guarded by mu_
  std::thread thread_;
};

}  // namespace rill::journal
