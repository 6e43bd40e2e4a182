// rill/journal/io.h: the journal's failure-prone system calls, behind a fault-injection seam.
//
//   // production code (journal/*.cpp): 0 or an errno, never -1
//   if (const int err = io::Fdatasync(fd_, path_); err != 0)
//     return Status::FromErrno("fdatasync segment " + path_, err);
//
//   // a test: the 3rd msync of a segment fails with EIO, then everything works again
//   io::FaultInjector faults;                                    // installs the hook
//   faults.Add({.call = io::Call::kMsync, .path_contains = ".seg", .nth = 3, .error = EIO});
//   ... drive the writer; faults.WaitInjected(1) blocks until the failure happened ...
//
// Why it exists: a real disk fails msync/fdatasync/fsync/fallocate/ftruncate/rename with
// EIO or ENOSPC, rarely enough that no ordinary test ever takes those paths, and they are
// exactly where durability is decided (PostgreSQL's "fsyncgate": after a failed fsync the
// kernel may have dropped the dirty pages, so retrying and then claiming durability lies).
// Like leveldb's FaultInjectionTestEnv and RocksDB's FaultInjectionTestFS, the journal makes
// these calls through one seam that a test can make fail at a chosen call. It is a TEST
// SEAM, not a configuration: nothing in production installs a hook, and the cost is one
// relaxed atomic load of a function pointer per call (these calls happen per batch or per
// segment at most, never per event).
//
// base/durable_file.cpp (snapshots, checkpoints) does not go through it: base/ cannot depend
// on journal/, and those files are not the journal's durability.
// Thread safety: the wrappers from any thread; FaultInjector from the test's thread (its
// counters and WaitInjected from any thread). One FaultInjector at a time.
#pragma once

#include <sys/types.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace rill::journal::io {

enum class Call : std::uint8_t {
  kMsync,       // msync(MS_SYNC) of a mapped range (segment data, the control page)
  kFdatasync,   // fdatasync of a file
  kFsync,       // fsync of a file (copies set aside)
  kFsyncDir,    // fsync of a directory (makes creates, renames, unlinks durable)
  kFallocate,   // posix_fallocate (segments, the control file)
  kFtruncate,   // ftruncate (the LOCK file)
  kRename,      // rename (publishing a segment, moving files aside); path is the source
  kOpenCreate,  // open(O_CREAT) of a new file
};
const char* CallName(Call call) noexcept;  // "msync", "fdatasync", ...

// The wrappers: each returns 0 on success or the errno of the failure (the injected one, or
// the real one). `path` names the file for the hook (and is what callers put in messages).
int Msync(void* addr, std::size_t length, const std::string& path);
int Fdatasync(int fd, const std::string& path);
int Fsync(int fd, const std::string& path);
int FsyncDir(int fd, const std::string& path);
int Fallocate(int fd, off_t length, const std::string& path);
int Ftruncate(int fd, off_t length, const std::string& path);
int Rename(const std::string& from, const std::string& to);
// open(path, flags | O_CREAT | O_CLOEXEC, mode): *fd on success.
int OpenCreate(const std::string& path, int flags, mode_t mode, int* fd);

// ---- Test API ------------------------------------------------------------------------------

// Decides one call: 0 lets it run, an errno fails it without running it.
using Hook = int (*)(Call call, const std::string& path);
// Installs `hook` (nullptr removes it). The hook must stay callable until every call that may
// have loaded it has returned: a static function, as FaultInjector uses.
void SetHook(Hook hook) noexcept;

// One failure plan: the nth matching call (counted from when the rule was added) and the
// `times - 1` matching calls after it fail with `error`; the rest run.
struct FaultRule {
  Call call = Call::kMsync;
  std::string path_contains;  // "" matches every path
  std::uint64_t nth = 1;      // 1: the next matching call
  int error = EIO;
  std::uint64_t times = 1;  // UINT64_MAX: every matching call from the nth on
};

// Installs the hook for its lifetime and applies its rules. Also counts every call by kind
// and logs each injected failure ("msync /tmp/x/0000000000000000.seg: EIO").
class FaultInjector {
 public:
  FaultInjector();
  ~FaultInjector();  // removes the hook
  FaultInjector(const FaultInjector&) = delete;
  FaultInjector& operator=(const FaultInjector&) = delete;

  void Add(FaultRule rule);
  void Clear();  // drops every rule (counters stay)
  // Calls seen of that kind whose path contains `path_contains` ("" = any), failed or not.
  std::uint64_t calls(Call call, const std::string& path_contains = "") const;
  std::uint64_t injected() const;        // failures injected so far
  std::vector<std::string> log() const;  // one line per injected failure
  // Blocks (no spinning) until `count` failures were injected; false after `timeout_ms`,
  // which only bounds a broken test: a correct one never waits that long.
  bool WaitInjected(std::uint64_t count, std::int64_t timeout_ms = 60'000) const;
};

}  // namespace rill::journal::io
