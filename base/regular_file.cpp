#include "rill/base/regular_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace rill {

const char* FileTypeName(unsigned mode) {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return "a regular file";
    case S_IFDIR:
      return "a directory";
    case S_IFIFO:
      return "a FIFO";
    case S_IFSOCK:
      return "a socket";
    case S_IFLNK:
      return "a symbolic link";
    case S_IFCHR:
      return "a character device";
    case S_IFBLK:
      return "a block device";
    default:
      return "not a regular file";
  }
}

namespace {

Status NotRegular(const std::string& path, const char* what, unsigned mode) {
  return Status::Corruption(std::string(what) + " " + path + " is " + FileTypeName(mode) +
                            ", not a regular file: move it out of the journal directory (rill never follows links or "
                            "opens special files there)");
}

}  // namespace

Result<int> OpenRegularFile(const std::string& path, int flags, const char* what, int mode) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW, mode);
  if (fd < 0) {
    const int err = errno;
    // ELOOP: the last component is a symlink (O_NOFOLLOW); EISDIR: a directory opened for writing.
    if (err == ELOOP || err == EISDIR || err == ENXIO) {
      struct stat st {};
      if (::lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
        return NotRegular(path, what, static_cast<unsigned>(st.st_mode));
    }
    if (err == ENOENT) return Status::NotFound(std::string(what) + " " + path + " does not exist");
    return Status::FromErrno("open " + std::string(what) + " " + path, err);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Status::FromErrno("stat " + std::string(what) + " " + path, err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return NotRegular(path, what, static_cast<unsigned>(st.st_mode));
  }
  return fd;
}

}  // namespace rill
