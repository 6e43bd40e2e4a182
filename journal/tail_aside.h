// rill/journal/tail_aside.h: cut a journal back to a batch boundary, keeping what is cut
// aside. For a writer that was fenced (replication): its journal holds positions the stream
// never stored, and the journal must continue from the stream's end instead.
//
//   // no writer open on `dir` (MoveTailAside takes the directory LOCK), no reader relying on
//   // the positions being cut
//   auto r = rill::journal::MoveTailAside(dir, stream_last_position);
//   if (!r.ok()) return r.status();  // InvalidArgument: not a batch boundary (names the batches around it)
//   LOG("moved positions %llu..%llu to %s", r->first_position_moved, r->last_position_moved,
//       r->aside_directory.c_str());
//   auto w = rill::journal::JournalWriter::Open(options);  // continues at keep_through + 1
//
// The cut follows the salvage convention of FORMAT.md and reuses its mechanism (segment_dir.h):
// segments holding positions past keep_through are copied (the one cut in place) or moved whole
// (the later ones) into "<dir>/aside-<unix seconds>/", never deleted; the kept part of the cut
// segment ends with zeros, so the next writer appends right there.
// Crash safety: the control file's committed and durable positions are lowered (and synced)
// first, later segments are moved last-first, and the cut segment is zeroed last; so a crash at
// any point leaves a journal that opens cleanly, either still whole or already cut. Run it again
// to finish an interrupted cut.
// Thread safety: a function over the directory, under its LOCK.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rill/base/result.h"
#include "rill/journal/recovery.h"

namespace rill::journal {

struct TailAsideReport {
  std::uint64_t kept_through = 0;          // the journal now ends at this position
  std::uint64_t first_position_moved = 0;  // positions [first, last] are no longer in the journal;
  std::uint64_t last_position_moved = 0;   // both 0 when nothing was cut (keep_through was the end)
  std::uint64_t batches_moved = 0;
  std::vector<std::string> files;  // segment files set aside: the cut one (copied), later ones (moved)
  std::string aside_directory;     // "" when nothing was set aside
};

// Keeps every record <= keep_through, which must be the last position of a batch, the
// committed end (a no-op), or the journal's first position - 1 (keep nothing). Recovery runs
// first (a torn tail is set aside as usual; `reporter` hears of it), so the boundaries are
// those of the committed journal. Errors: Busy (a writer holds the journal), InvalidArgument
// (not a batch boundary, beyond the end, before the first position), Corruption (damage
// recovery refuses; or the journal is not intact afterwards, which would be a bug).
Result<TailAsideReport> MoveTailAside(const std::string& directory, std::uint64_t keep_through,
                                      Reporter* reporter = nullptr);

}  // namespace rill::journal
