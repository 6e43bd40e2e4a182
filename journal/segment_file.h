// rill/journal/segment_file.h: one segment file, preallocated and mapped MAP_SHARED.
//
// Lifecycle (FORMAT.md, "Segment lifecycle"): CreateTemp() makes "<index>.seg.tmp", sizes it
// with posix_fallocate, maps it, writes the header skeleton and schema blob; Prefault() takes
// the page faults ahead of the writer; Publish() fills first position and time, seals the
// header CRC and renames the file to "<index>.seg". Readers only ever see published files.
// Thread safety: none; one owner at a time (the preparer, then the writer, then the syncer).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "rill/base/result.h"
#include "rill/journal/format.h"
#include "rill/journal/options.h"

namespace rill::journal {

std::string SegmentFileName(std::uint64_t index);  // "0000000000000003.seg"
bool ParseSegmentFileName(const std::string& name, std::uint64_t* index);

// Checks magic, version, CRCs and sizes. `file_size` is what the file holds on disk.
Status ValidateSegmentHeader(const std::byte* base, std::size_t file_size, const std::string& name);

class SegmentFile {
 public:
  enum class Mode : std::uint8_t { kReadOnly, kReadWrite };

  static Result<std::unique_ptr<SegmentFile>> CreateTemp(const std::string& dir, std::uint64_t index, std::size_t size,
                                                         std::uint64_t fingerprint, std::span<const std::byte> blob);
  // Maps an existing file whole (its current size); kReadOnly also takes a shared flock so
  // retention never deletes a segment a reader maps.
  static Result<std::unique_ptr<SegmentFile>> Open(const std::string& path, Mode mode);
  ~SegmentFile();
  SegmentFile(const SegmentFile&) = delete;
  SegmentFile& operator=(const SegmentFile&) = delete;

  Status Publish(std::uint64_t first_position, std::int64_t creation_time_ns);
  void Prefault(std::size_t from, std::size_t to) noexcept;  // best effort
  Status Sync(SyncMethod method, std::size_t from, std::size_t to);

  std::byte* data() const noexcept { return base_; }
  std::size_t size() const noexcept { return size_; }
  const SegmentHeader& header() const noexcept { return *reinterpret_cast<const SegmentHeader*>(base_); }
  const std::string& path() const noexcept { return path_; }
  std::string name() const;
  int fd() const noexcept { return fd_; }

 private:
  SegmentFile(std::string path, int fd, std::byte* base, std::size_t size)
      : path_(std::move(path)), fd_(fd), base_(base), size_(size) {}
  std::string path_;
  int fd_;
  std::byte* base_;
  std::size_t size_;
};

}  // namespace rill::journal
