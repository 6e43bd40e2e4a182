// rill/journal/segment_dir.h: the journal directory as a list of segments, and the
// whole-segment operations on it: scan, list, retention, move aside.
// Thread safety: functions over the file system; callers serialise writes (the writer).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "rill/base/result.h"
#include "rill/journal/batch_parser.h"

namespace rill::journal {

// What a scan of one mapped segment found, from data_offset to the first non-batch.
struct SegmentScan {
  BatchOutcome stop = BatchOutcome::kEnd;  // kEnd, kSegmentEnd (sealed) or kBad
  std::size_t end_offset = 0;              // the first byte after the last valid batch
  std::uint64_t next_position = 0;         // position after the last valid record
  std::uint64_t batches = 0;
  std::int64_t first_timestamp_ns = 0, last_timestamp_ns = 0;  // 0 when no batch
  std::size_t bad_offset = 0;                                  // kBad: the damaged frame
  const char* reason = "";
};
using BatchVisitor = std::function<void(std::size_t offset, const BatchPayload& batch)>;
SegmentScan ScanSegment(const std::byte* base, std::size_t limit, Verify verify, const BatchVisitor& visit = {});

// Segment indexes present in dir ("<16 hex>.seg"), ascending. Leftover ".tmp" files are ignored.
Result<std::vector<std::uint64_t>> ListSegmentIndexes(const std::string& dir);

// True when every byte in [from, to) is zero; else *last_nonzero_end is one past the last one.
bool AllZero(const std::byte* base, std::size_t from, std::size_t to, std::size_t* last_nonzero_end);

// Setting files aside: one new directory per salvage event, "<dir>/aside-<unix seconds>"
// ("-2", "-3"... appended when that name is taken), so what an earlier event set aside (in
// this process or another, in the same second or not) is never overwritten. Returns its path.
Result<std::string> CreateAsideDirectory(const std::string& dir);
// Moves files of dir into aside (from CreateAsideDirectory), never deleting them; a name
// already in aside is refused (IOError), never replaced. Returns aside.
Result<std::string> MoveAside(const std::string& dir, const std::string& aside, const std::vector<std::string>& names);
// Copies one file of dir into aside (synced, created exclusively). Returns the copy's path.
Result<std::string> CopyAside(const std::string& dir, const std::string& aside, const std::string& name);
// Writes `bytes` to a new file "<aside dir>/<name>" (".1", ".2"... appended when taken),
// synced with its directory, before recovery zeroes them in a segment. Returns its path.
Result<std::string> SaveAside(const std::string& dir, const std::string& name, std::span<const std::byte> bytes);

Status SyncDirectory(const std::string& dir);

}  // namespace rill::journal
