#include "rill/journal/damage_scan.h"

#include <cstring>

#include "rill/journal/batch_parser.h"
#include "rill/journal/format.h"
#include "rill/journal/segment_dir.h"

namespace rill::journal {
namespace {

// A batch frame at `at` whose own CRC holds and whose fields are sane: the writer committed
// it (its length word is the commit), whatever happened to its records since.
bool IntactBatchFrame(const std::byte* base, std::size_t limit, std::size_t at, BatchPayload* out) noexcept {
  if (at + kBatchFrameSize > limit) return false;
  FrameHeader h;
  std::memcpy(&h, base + at, sizeof h);
  if (h.length != kBatchFrameSize || h.kind != FrameKind::kBatch) return false;
  if (FrameCrc(base + at, kBatchFrameSize) != h.crc) return false;
  std::memcpy(out, base + at + kFrameHeaderSize, sizeof *out);
  return out->record_count > 0 && out->batch_bytes >= kBatchFrameSize && out->batch_bytes % kFrameAlignment == 0 &&
         out->batch_bytes <= limit - at;
}

}  // namespace

AfterEnd InspectAfterEnd(const std::byte* base, std::size_t limit, std::size_t end_offset,
                         std::uint64_t next_position) noexcept {
  AfterEnd a;
  a.first_position = next_position;
  a.clean = AllZero(base, end_offset, limit, &a.nonzero_end);
  if (a.clean) return a;
  std::uint64_t expected = next_position;
  for (std::size_t at = end_offset; at + kBatchFrameSize <= a.nonzero_end;) {
    BatchPayload b;
    // Only frames at or after the expected position: an old batch copied by a tool, or the
    // open batch a roll copied, never makes a torn tail look like damage.
    if (!IntactBatchFrame(base, limit, at, &b) || b.first_position < expected) {
      at += kFrameAlignment;
      continue;
    }
    a.committed_events += b.record_count;
    a.last_position = b.first_position + b.record_count - 1;
    if (!a.valid_batch_after && ParseBatch(base, limit, at, 0, Verify::kAll).outcome == BatchOutcome::kBatch) {
      a.valid_batch_after = true;
      a.valid_batch_offset = at;
    }
    expected = b.first_position + b.record_count;
    at += b.batch_bytes;
  }
  return a;
}

}  // namespace rill::journal
