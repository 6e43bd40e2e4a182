#include "rill/journal/segment_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "rill/base/crc32c.h"
#include "rill/base/regular_file.h"
#include "rill/journal/io.h"

namespace rill::journal {
namespace {

constexpr std::size_t kPageSize = 4096;

std::uint32_t HeaderCrc(const std::byte* base) { return crc32c::Mask(crc32c::Value(base, kSegmentHeaderCrcSpan)); }

Status MapFile(const std::string& path, int fd, std::size_t size, bool writable, std::byte** out) {
  void* p = mmap(nullptr, size, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return Status::FromErrno("mmap " + path, errno);
  *out = static_cast<std::byte*>(p);
  return Status::OK();
}

}  // namespace

std::string SegmentFileName(std::uint64_t index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016" PRIx64 ".seg", index);
  return buf;
}

bool ParseSegmentFileName(const std::string& name, std::uint64_t* index) {
  if (name.size() != 20 || name.compare(16, 4, ".seg") != 0) return false;
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 16; ++i) {
    const char c = name[i];
    const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return false;
    v = (v << 4) | static_cast<std::uint64_t>(d);
  }
  *index = v;
  return true;
}

Status ValidateSegmentHeader(const std::byte* base, std::size_t file_size, const std::string& name) {
  auto bad = [&](const char* what) {
    return Status::Corruption("segment " + name + " offset 0: " + what + "; the segment header is damaged");
  };
  if (file_size < kSegmentHeaderSize) return bad("file shorter than the 128-byte header");
  const auto& h = *reinterpret_cast<const SegmentHeader*>(base);
  if (h.magic != kSegmentMagic) return bad("bad magic (not a rill journal segment)");
  if (h.format_version < kOldestReadableFormatVersion || h.format_version > kFormatVersion) {
    return Status::Corruption("segment " + name + ": format version " + std::to_string(h.format_version) +
                              " is not supported by this build (expects " + std::to_string(kFormatVersion) +
                              "): use a matching rill version");
  }
  if (crc32c::Unmask(h.header_crc) != crc32c::Value(base, kSegmentHeaderCrcSpan)) return bad("header CRC mismatch");
  if (h.header_size != kSegmentHeaderSize || h.data_offset != DataOffsetFor(h.schema_blob_size) ||
      h.data_offset > h.segment_size || h.first_position == 0)
    return bad("inconsistent header fields");
  if (file_size < h.data_offset) return bad("file shorter than its schema blob");
  if (crc32c::Unmask(h.schema_blob_crc) != crc32c::Value(base + kSegmentHeaderSize, h.schema_blob_size))
    return bad("schema blob CRC mismatch");
  return Status::OK();
}

Result<std::unique_ptr<SegmentFile>> SegmentFile::CreateTemp(const std::string& dir, std::uint64_t index,
                                                             std::size_t size, std::uint64_t fingerprint,
                                                             std::span<const std::byte> blob) {
  const std::string path = dir + "/" + SegmentFileName(index) + ".tmp";
  int fd = -1;
  if (const int err = io::OpenCreate(path, O_RDWR | O_TRUNC, 0644, &fd); err != 0)
    return Status::FromErrno("create segment " + path, err);
  // posix_fallocate returns the error instead of setting errno. ENOSPC, or EFBIG under
  // RLIMIT_FSIZE, becomes Status::NoSpace.
  if (const int err = io::Fallocate(fd, static_cast<off_t>(size), path); err != 0) {
    ::close(fd);
    ::unlink(path.c_str());
    return Status::FromErrno("preallocate " + std::to_string(size) + " bytes for segment " + path +
                                 " (free disk space, then reopen the journal)",
                             err);
  }
  std::byte* base = nullptr;
  if (Status s = MapFile(path, fd, size, true, &base); !s.ok()) {
    ::close(fd);
    ::unlink(path.c_str());
    return s;
  }
  std::unique_ptr<SegmentFile> seg(new SegmentFile(path, fd, base, size));
  auto& h = *reinterpret_cast<SegmentHeader*>(base);
  h.magic = kSegmentMagic;
  h.format_version = kFormatVersion;
  h.header_size = kSegmentHeaderSize;
  h.segment_index = index;
  h.schema_fingerprint = fingerprint;
  h.segment_size = size;
  h.schema_blob_size = static_cast<std::uint32_t>(blob.size());
  if (!blob.empty()) std::memcpy(base + kSegmentHeaderSize, blob.data(), blob.size());
  h.schema_blob_crc = crc32c::Mask(crc32c::Value(blob.data(), blob.size()));
  h.data_offset = static_cast<std::uint32_t>(DataOffsetFor(blob.size()));
  return seg;
}

Result<std::unique_ptr<SegmentFile>> SegmentFile::Open(const std::string& path, Mode mode) {
  const bool rw = mode == Mode::kReadWrite;
  // Only a regular file is a segment: a FIFO would block open(2), a directory or a symlink
  // loop would fail later with an error the callers could mistake for damage.
  Result<int> opened = OpenRegularFile(path, rw ? O_RDWR : O_RDONLY, "segment");
  if (!opened.ok()) return opened.status();
  const int fd = *opened;
  // A reader holds a shared lock for as long as it maps the file: retention skips locked files.
  if (!rw && ::flock(fd, LOCK_SH | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) return Status::NotFound("segment " + path + " is being deleted by retention");
    return Status::FromErrno("lock segment " + path, err);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Status::FromErrno("stat segment " + path, err);
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  std::byte* base = nullptr;
  if (size == 0) {
    ::close(fd);
    return Status::Corruption("segment " + path + " is empty (0 bytes): it was never initialised");
  }
  if (Status s = MapFile(path, fd, size, rw, &base); !s.ok()) {
    ::close(fd);
    return s;
  }
  return std::unique_ptr<SegmentFile>(new SegmentFile(path, fd, base, size));
}

SegmentFile::~SegmentFile() {
  if (base_ != nullptr) ::munmap(base_, size_);
  if (fd_ >= 0) ::close(fd_);
}

std::string SegmentFile::name() const {
  const auto slash = path_.rfind('/');
  return slash == std::string::npos ? path_ : path_.substr(slash + 1);
}

Status SegmentFile::Publish(std::uint64_t first_position, std::int64_t creation_time_ns) {
  auto& h = *reinterpret_cast<SegmentHeader*>(base_);
  h.first_position = first_position;
  h.creation_time_ns = creation_time_ns;
  h.header_crc = HeaderCrc(base_);
  // The header is in the page cache before the name appears, so no reader (in any process)
  // can open a published segment whose header is unfinished.
  std::string final_path = path_.substr(0, path_.size() - 4);  // strip ".tmp"
  if (const int err = io::Rename(path_, final_path); err != 0)
    return Status::FromErrno("rename " + path_ + " to " + final_path + " (publishing the segment)", err);
  path_ = std::move(final_path);
  return Status::OK();
}

void SegmentFile::Prefault(std::size_t from, std::size_t to) noexcept {
  from &= ~(kPageSize - 1);
  if (to > size_) to = size_;
  if (from >= to) return;
  // MADV_POPULATE_WRITE (Linux 5.14) takes the write faults without changing any byte, so it
  // is safe even on pages the writer is using. Older kernels: the writer takes the faults.
  (void)::madvise(base_ + from, to - from, MADV_POPULATE_WRITE);
}

Status SegmentFile::Sync(SyncMethod method, std::size_t from, std::size_t to) {
  if (method == SyncMethod::kMsync) {
    from &= ~(kPageSize - 1);
    if (to > size_) to = size_;
    if (from < to) {
      if (const int err = io::Msync(base_ + from, to - from, path_); err != 0)
        return Status::FromErrno("msync segment " + path_, err);
    }
    return Status::OK();
  }
  if (const int err = io::Fdatasync(fd_, path_); err != 0) return Status::FromErrno("fdatasync segment " + path_, err);
  return Status::OK();
}

}  // namespace rill::journal
