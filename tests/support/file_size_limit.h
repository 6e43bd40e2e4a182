// rill/tests/support/file_size_limit.h: a full disk, without a tiny filesystem to mount.
//
//   { rill::test::FileSizeLimit limit(64 * 1024);   // writes past 64 KiB fail with EFBIG
//     CHECK(journal.Reserve(...).status().IsNoSpace()); }
//
// Lowers RLIMIT_FSIZE for the process for one scope, with SIGXFSZ ignored so the kernel
// returns EFBIG instead of killing the process. Process-wide: use it in a test that runs no
// other file-writing thread of its own, or in a forked child.
#pragma once

#include <sys/resource.h>

#include <csignal>

namespace rill::test {

class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &old_);
    rlimit lim = old_;
    lim.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &lim);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &old_);
    std::signal(SIGXFSZ, old_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit old_{};
  void (*old_handler_)(int);
};

}  // namespace rill::test
