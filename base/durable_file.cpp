#include "rill/base/durable_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace rill {
namespace {

Status WriteAll(int fd, std::span<const std::byte> bytes, const std::string& what_path) {
  const std::byte* p = bytes.data();
  std::size_t n = bytes.size();
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("write " + what_path, errno);
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return Status::OK();
}

std::string DirectoryOf(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

Status WriteFileDurably(const std::string& path, std::span<const std::span<const std::byte>> parts, const char* what) {
  const std::string tmp_path = path + ".tmp";
  const std::string what_tmp = std::string(what) + " " + tmp_path;
  const int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("create " + what_tmp + " (does the directory exist?)", errno);
  Status s;
  for (const std::span<const std::byte> part : parts) {
    s = WriteAll(fd, part, what_tmp);
    if (!s.ok()) break;
  }
  if (s.ok() && ::fsync(fd) != 0) s = Status::FromErrno("fsync " + what_tmp, errno);
  ::close(fd);
  if (s.ok() && ::rename(tmp_path.c_str(), path.c_str()) != 0)
    s = Status::FromErrno("rename " + what_tmp + " to " + path, errno);
  if (!s.ok()) {
    ::unlink(tmp_path.c_str());
    return s;
  }
  // The rename is durable only once the directory is synced.
  return SyncDirectory(DirectoryOf(path), what);
}

Status SyncDirectory(const std::string& dir, const char* what) {
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return Status::FromErrno(std::string("open ") + what + " directory " + dir, errno);
  const int rc = ::fsync(dfd);
  const int err = errno;
  ::close(dfd);
  return rc == 0 ? Status::OK() : Status::FromErrno(std::string("fsync ") + what + " directory " + dir, err);
}

}  // namespace rill
