// rill/journal/damage_scan.h: what lies after the last valid batch of a segment. Recovery and
// the verifier both call it, so they agree on the one distinction the recovery rule needs
// (FORMAT.md, "Recovery"): an uncommitted (torn) batch, which holds nothing that was ever
// acknowledged, versus damage followed by batches that were committed.
//
//   AfterEnd a = InspectAfterEnd(seg.data(), limit, scan.end_offset, scan.next_position);
//   if (a.clean) ...  else if (a.valid_batch_after) damage; else torn tail
//
// A variable-size frame format cannot resynchronise on its own (STYLE.md §4), so this only
// looks for batch frames whose own CRC holds and whose position lies after the end: a false
// match needs a 48-byte frame with the batch kind and a matching CRC32C, about 2^-32 per
// candidate. It never changes what counts as the journal; it only classifies what is cut.
// Thread safety: a pure function over mapped memory (may run beside a live writer).
#pragma once

#include <cstddef>
#include <cstdint>

namespace rill::journal {

struct AfterEnd {
  bool clean = true;                   // every byte after the end is zero
  std::size_t nonzero_end = 0;         // one past the last non-zero byte (== the end when clean)
  std::uint64_t committed_events = 0;  // records of the batches whose batch frame is intact
  std::uint64_t first_position = 0;    // the first position after the end (what a cut loses first)
  std::uint64_t last_position = 0;     // the highest committed position found after the end (0: none)
  bool valid_batch_after = false;      // a whole, valid batch lies after the damaged or torn one
  std::size_t valid_batch_offset = 0;  // the first such batch
};

// `end_offset`: the first byte after the last valid batch; `next_position`: the position the
// next batch there would have. REQUIRES: [0, limit) is mapped and end_offset is 8-aligned.
AfterEnd InspectAfterEnd(const std::byte* base, std::size_t limit, std::size_t end_offset,
                         std::uint64_t next_position) noexcept;

}  // namespace rill::journal
