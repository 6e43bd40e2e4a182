#include "rill/journal/segment_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <vector>

#include "rill/journal/io.h"
#include "rill/journal/segment_file.h"

namespace rill::journal {

SegmentScan ScanSegment(const std::byte* base, std::size_t limit, Verify verify, const BatchVisitor& visit) {
  const auto& h = *reinterpret_cast<const SegmentHeader*>(base);
  SegmentScan scan;
  scan.end_offset = h.data_offset;
  scan.next_position = h.first_position;
  for (;;) {
    const BatchParse p = ParseBatch(base, limit, scan.end_offset, scan.next_position, verify);
    if (p.outcome != BatchOutcome::kBatch) {
      scan.stop = p.outcome;
      scan.bad_offset = p.bad_offset;
      scan.reason = p.reason;
      return scan;
    }
    if (visit) visit(scan.end_offset, p.batch);
    if (scan.batches++ == 0) scan.first_timestamp_ns = p.batch.timestamp_ns;
    scan.last_timestamp_ns = p.batch.timestamp_ns;
    scan.next_position += p.batch.record_count;
    scan.end_offset += p.batch.batch_bytes;
  }
}

Result<std::vector<std::uint64_t>> ListSegmentIndexes(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return Status::FromErrno("list journal directory " + dir, errno);
  std::vector<std::uint64_t> out;
  while (const dirent* e = ::readdir(d)) {
    std::uint64_t index = 0;
    if (ParseSegmentFileName(e->d_name, &index)) out.push_back(index);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

bool AllZero(const std::byte* base, std::size_t from, std::size_t to, std::size_t* last_nonzero_end) {
  // Backwards, a word at a time: a preallocated segment is mostly zeros at its end, so this
  // stops soon after the last written byte (or reads unwritten pages, which is cheap).
  std::size_t end = to;
  auto nonzero_at = [&](std::size_t i) { return base[i] != std::byte{0}; };
  while (end > from && (end % 8 != 0 || end - from < 8)) {
    if (nonzero_at(end - 1)) {
      *last_nonzero_end = end;
      return false;
    }
    --end;
  }
  for (; end >= from + 8; end -= 8) {
    std::uint64_t w;
    std::memcpy(&w, base + end - 8, sizeof w);
    if (w == 0) continue;
    while (!nonzero_at(end - 1)) --end;
    *last_nonzero_end = end;
    return false;
  }
  while (end > from) {
    if (nonzero_at(end - 1)) {
      *last_nonzero_end = end;
      return false;
    }
    --end;
  }
  *last_nonzero_end = from;
  return true;
}

namespace {

std::string AsideStamp() { return std::to_string(static_cast<long long>(::time(nullptr))); }

}  // namespace

Result<std::string> CreateAsideDirectory(const std::string& dir) {
  const std::string base = dir + "/aside-" + AsideStamp();
  for (int n = 1;; ++n) {
    std::string aside = base;
    if (n > 1) aside.append("-").append(std::to_string(n));
    if (::mkdir(aside.c_str(), 0755) == 0) {
      RILL_RETURN_IF_ERROR(SyncDirectory(dir));
      return aside;
    }
    if (errno != EEXIST) return Status::FromErrno("create " + aside, errno);
  }
}

Result<std::string> MoveAside(const std::string& dir, const std::string& aside, const std::vector<std::string>& names) {
  for (const std::string& n : names) {
    const std::string to = aside + "/" + n;
    // One writer owns dir (its lock), and aside is this event's own directory: checking
    // before the rename is enough to never replace a file set aside earlier.
    if (::access(to.c_str(), F_OK) == 0)
      return Status::IOError("move " + n + " aside: " + to + " exists already (never replaced)");
    if (const int err = io::Rename(dir + "/" + n, to); err != 0)
      return Status::FromErrno("move " + n + " aside to " + aside, err);
  }
  RILL_RETURN_IF_ERROR(SyncDirectory(aside));
  RILL_RETURN_IF_ERROR(SyncDirectory(dir));
  return aside;
}

Result<std::string> CopyAside(const std::string& dir, const std::string& aside, const std::string& name) {
  const std::string from = dir + "/" + name, to = aside + "/" + name;
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return Status::FromErrno("open " + from, errno);
  const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);  // never replace
  if (out < 0) {
    const int err = errno;
    ::close(in);
    return Status::FromErrno("create " + to, err);
  }
  std::vector<char> buf(1 << 20);
  Status s;
  for (;;) {
    const ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0) s = Status::FromErrno("read " + from, errno);
    if (n <= 0) break;
    if (::write(out, buf.data(), static_cast<std::size_t>(n)) != n) {
      s = Status::FromErrno("write " + to, errno);
      break;
    }
  }
  if (s.ok()) {
    if (const int err = io::Fsync(out, to); err != 0) s = Status::FromErrno("fsync " + to, err);
  }
  ::close(in);
  ::close(out);
  if (!s.ok()) return s;
  RILL_RETURN_IF_ERROR(SyncDirectory(aside));
  return to;
}

Result<std::string> SaveAside(const std::string& dir, const std::string& name, std::span<const std::byte> bytes) {
  const std::string aside = dir + "/aside-" + AsideStamp();
  if (::mkdir(aside.c_str(), 0755) != 0 && errno != EEXIST) return Status::FromErrno("create " + aside, errno);
  std::string path = aside + "/" + name;
  int fd = -1;
  for (int n = 1; fd < 0; ++n) {
    // O_EXCL: never overwrite what an earlier recovery set aside in the same second.
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST) return Status::FromErrno("create " + path, errno);
    if (fd < 0) path = aside + "/" + name + "." + std::to_string(n);
  }
  Status s;
  for (std::size_t done = 0; done < bytes.size() && s.ok();) {
    const ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0)
      s = Status::FromErrno("write " + path, w < 0 ? errno : EIO);
    else
      done += static_cast<std::size_t>(w);
  }
  if (s.ok()) {
    if (const int err = io::Fsync(fd, path); err != 0) s = Status::FromErrno("fsync " + path, err);
  }
  ::close(fd);
  if (!s.ok()) return s;
  RILL_RETURN_IF_ERROR(SyncDirectory(aside));
  RILL_RETURN_IF_ERROR(SyncDirectory(dir));
  return path;
}

Status SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("open directory " + dir, errno);
  const int err = io::FsyncDir(fd, dir);
  ::close(fd);
  if (err != 0) return Status::FromErrno("fsync directory " + dir, err);
  return Status::OK();
}

}  // namespace rill::journal
