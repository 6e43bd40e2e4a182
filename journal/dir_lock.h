// rill/journal/dir_lock.h: one writer per journal directory, enforced by flock on "<dir>/LOCK".
//
// The holder writes its pid into the file, so a refused writer can say who holds the lock.
// flock locks belong to the open file description: they are released when the process dies
// (no stale locks after a crash) and conflict within one process too.
// Thread safety: none needed; owned by the writer.
#pragma once

#include <memory>
#include <string>

#include "rill/base/result.h"

namespace rill::journal {

class DirLock {
 public:
  // Busy, naming the holder's pid, when another writer holds the journal.
  static Result<std::unique_ptr<DirLock>> Acquire(const std::string& dir);
  ~DirLock();
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace rill::journal
