// rill/replication/reconcile.h: what a node's local journal is worth against its stream, before
// the node writes again (SCALE-OUT.md 3c, "the old writer"). Part of standby.h's Node; usable
// alone by tools.
//
//   auto port = MakeNatsStreamPort(config);  RILL_RETURN_IF_ERROR(port->Connect());
//   auto common = CompareJournalWithStream(*port, dir);   // the last local position the stream has equal
//   if (common->local_end > common->common_end)
//     auto moved = rill::journal::MoveTailAside(dir, common->common_end);   // never re-shipped
//
// Thread safety: functions; the port is driven by the calling thread; no writer may be open on
// the directory while MoveTailAside runs (it takes the LOCK).
#pragma once

#include <cstdint>
#include <string>

#include "rill/base/result.h"
#include "rill/replication/stream_port.h"

namespace rill::replication {

struct JournalVsStream {
  bool local_exists = false;
  std::uint64_t local_first = 0;        // the local journal's first position
  std::uint64_t local_end = 0;          // its committed position (local_first - 1 when empty)
  std::uint64_t stream_end = 0;         // the stream's last position (0: empty stream)
  std::uint64_t stream_last_epoch = 0;  // Rill-Epoch of the stream's last message (0: empty)
  std::uint64_t stream_last_seq = 0;
  // The local journal ends at or after the stream, and the stream's last message's bytes are
  // the local journal's at those positions (or the stream is empty): the replicator can
  // re-ship the local tail and lose nothing.
  bool stream_is_prefix = false;
  // The last local position such that every local batch up to it equals the stream's (batch
  // granularity; positions retention removed from the stream count as equal).
  std::uint64_t common_end = 0;
};

// Compares dir's journal with the stream (binary search over stream sequences by
// Rill-First-Position, then batch by batch in the message where they part). A missing journal:
// local_exists = false. Errors: the port's (Unavailable, TimedOut), the journal's.
Result<JournalVsStream> CompareJournalWithStream(StreamPort& port, const std::string& dir);

}  // namespace rill::replication
