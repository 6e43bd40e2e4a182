// rill/base/regular_file.h: open a file that must be a regular file (a segment, the control
// file, a checkpoint, a snapshot), so that whatever else an operator or a stray tool left
// under that name gets a clear error instead of a hang or a crash.
//
//   rill::Result<int> fd = rill::OpenRegularFile(path, O_RDONLY, "segment");
//   if (!fd.ok()) return fd.status();   // "segment /x/0000000000000008.seg is a FIFO, not a regular file: ..."
//
// Why each flag: O_NONBLOCK, because open(2) of a FIFO blocks until a writer appears (a tool
// would hang forever); O_NOFOLLOW, because a symlink may point anywhere, out of the directory or
// into a loop; then fstat and S_ISREG on the opened descriptor, so there is no window between
// the check and the use. O_NONBLOCK has no effect on reads and writes of a regular file.
// Thread safety: reentrant.
#pragma once

#include <string>

#include "rill/base/result.h"

namespace rill {

// Opens `path` with `flags` (O_RDONLY, O_RDWR, may include O_CREAT) plus O_CLOEXEC, O_NONBLOCK
// and O_NOFOLLOW, and checks it is a regular file. Errors: NotFound when the path does not exist,
// Corruption when it exists but is not a regular file (a directory, FIFO, socket, device or
// symlink), IOError for other failures (EACCES: "permission denied"). `what` names the file's
// role in the message ("segment", "control file").
Result<int> OpenRegularFile(const std::string& path, int flags, const char* what, int mode = 0644);

// "a directory", "a FIFO", "a symbolic link", ... for the st_mode of a file that is not regular.
const char* FileTypeName(unsigned mode);

}  // namespace rill
