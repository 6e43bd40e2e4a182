// rill/base/durable_file.h: write a small file so that after a crash it is either absent or
// whole, and durable once the call returns: a temporary name in the same directory, write,
// fsync, rename, fsync of the directory. Snapshots (engine/) and projector checkpoints
// (projections/) both use it.
//
//   std::span<const std::byte> parts[] = {std::as_bytes(std::span(&header, 1)), payload};
//   rill::Status s = rill::WriteFileDurably(dir + "/snapshot-42.snap", parts, "snapshot");
//
// Errors name the kind of file (`what`), the path and the failing call; the temporary file is
// removed on failure. Not for hot paths: it makes three system calls that wait for the disk.
// Thread safety: reentrant; two writers of the same path race like rename(2) does.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "rill/base/status.h"

namespace rill {

// Writes the concatenation of `parts` to `path` atomically and durably (see above).
Status WriteFileDurably(const std::string& path, std::span<const std::span<const std::byte>> parts, const char* what);

// fsync of a directory, so that a rename or unlink in it survives a crash.
Status SyncDirectory(const std::string& dir, const char* what);

}  // namespace rill
