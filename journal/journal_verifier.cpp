#include "rill/journal/journal_verifier.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <string_view>
#include <thread>
#include <vector>

#include "rill/journal/batch_parser.h"
#include "rill/journal/segment_dir.h"
#include "rill/journal/segment_file.h"

namespace rill::journal {
namespace {

// Calls the visitor for every record of a batch that ParseBatch accepted (so the walk needs
// no checks of its own).
void VisitRecords(const std::byte* base, std::size_t offset, const BatchPayload& b, std::uint64_t segment_index,
                  CheckVisitor* visitor, JournalCheck* c) {
  std::size_t at = offset + kBatchFrameSize;
  for (std::uint32_t i = 0; i < b.record_count; ++i) {
    FrameHeader h;
    std::memcpy(&h, base + at, sizeof h);
    Record r;
    r.position = b.first_position + i;
    r.type = h.user_type;
    r.timestamp_ns = b.timestamp_ns;
    r.payload = {base + at + kFrameHeaderSize, h.length - kFrameHeaderSize};
    r.end_of_batch = i + 1 == b.record_count;
    r.segment_index = segment_index;
    r.offset = at;
    c->record_bytes += r.payload.size();
    if (visitor) visitor->OnRecord(r);
    at += AlignUp(h.length, kFrameAlignment);
  }
  c->records += b.record_count;
  c->batches += 1;
}

// A live writer publishes the next segment before it writes the pad that seals this one
// (FORMAT.md, "Segment lifecycle"); in that short window the old segment shows the open
// batch's bytes after its last batch. Wait (bounded) for the pad before calling it damage.
bool PadArrives(const std::byte* base, std::size_t limit, std::size_t offset) {
  for (int i = 0; i < 100; ++i) {
    if (ParseBatch(base, limit, offset, 0, Verify::kAll).outcome == BatchOutcome::kSegmentEnd) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

// ValidateSegmentHeader names the segment and offset itself; the problem holds them apart.
std::string Reason(std::string_view message, const std::string& name) {
  for (const std::string& prefix : {"segment " + name + " offset 0: ", "segment " + name + ": "})
    if (message.substr(0, prefix.size()) == prefix) return std::string(message.substr(prefix.size()));
  return std::string(message);
}

}  // namespace

Result<JournalCheck> CheckJournal(const std::string& dir, CheckVisitor* visitor) {
  Result<std::vector<std::uint64_t>> list = ListSegmentIndexes(dir);
  if (!list.ok()) return list.status();
  if (list->empty()) return Status::NotFound("journal " + dir + " holds no segment files (<16 hex digits>.seg)");
  JournalCheck c;
  const std::vector<std::uint64_t>& indexes = *list;
  std::uint64_t expected = 0;  // 0 until the first header is read
  auto damage = [&](const std::string& name, std::uint64_t offset, std::uint64_t position, std::string reason) {
    c.damage = CheckProblem{name, offset, position, std::move(reason)};
    return std::move(c);
  };
  for (std::size_t i = 0; i < indexes.size(); ++i) {
    const std::string name = SegmentFileName(indexes[i]);
    const bool last = i + 1 == indexes.size();
    if (i > 0 && indexes[i] != indexes[i - 1] + 1)
      return damage(name, 0, expected,
                    "segment files " + SegmentFileName(indexes[i - 1]) + " and " + name +
                        " are not consecutive: a segment is missing");
    Result<std::unique_ptr<SegmentFile>> seg = SegmentFile::Open(dir + "/" + name, SegmentFile::Mode::kReadOnly);
    if (!seg.ok()) return damage(name, 0, expected, std::string(seg.status().message()));
    const std::byte* base = (*seg)->data();
    const std::size_t size = (*seg)->size();
    if (Status s = ValidateSegmentHeader(base, size, name); !s.ok())
      return damage(name, 0, expected, Reason(s.message(), name));
    const SegmentHeader& h = (*seg)->header();
    if (h.segment_index != indexes[i])
      return damage(name, 16, expected,
                    "the header names segment index " + std::to_string(h.segment_index) + ", not its file name's");
    if (size != h.segment_size) {
      CheckProblem p{
          name, size, 0,
          "the file holds " + std::to_string(size) + " bytes but its header says " + std::to_string(h.segment_size)};
      if (!last) return damage(name, p.offset, expected, p.reason);
      if (size < h.segment_size) c.short_last_segment = std::move(p);
    }
    if (expected != 0 && h.first_position != expected)
      return damage(name, 24, expected,
                    "the segment starts at position " + std::to_string(h.first_position) +
                        " but the previous one ends before position " + std::to_string(expected) + " (gap or overlap)");
    if (i == 0) c.first_position = c.next_position = h.first_position;
    ++c.segments;
    if (visitor) visitor->OnSegment(name, h, {base + kSegmentHeaderSize, h.schema_blob_size});

    const std::size_t limit = std::min<std::size_t>(size, h.segment_size);
    const SegmentScan scan = ScanSegment(base, limit, Verify::kAll, [&](std::size_t offset, const BatchPayload& b) {
      VisitRecords(base, offset, b, indexes[i], visitor, &c);
    });
    c.next_position = scan.next_position;
    expected = scan.next_position;
    if (scan.stop == BatchOutcome::kBad)
      return damage(name, scan.bad_offset, scan.next_position,
                    std::string(scan.reason) + " (in the batch at offset " + std::to_string(scan.end_offset) + ")");
    if (scan.stop == BatchOutcome::kSegmentEnd) continue;
    std::size_t nonzero_end = 0;
    if (AllZero(base, scan.end_offset, limit, &nonzero_end)) continue;  // a sealed segment may have lost its pad
    if (last) {
      c.uncommitted_tail = UncommittedTail{name, scan.end_offset, nonzero_end - scan.end_offset};
    } else if (!(i + 2 == indexes.size() && PadArrives(base, limit, scan.end_offset))) {
      return damage(
          name, scan.end_offset, scan.next_position,
          "non-zero bytes after the last batch of a sealed segment (up to offset " + std::to_string(nonzero_end) + ")");
    }
  }
  return c;
}

}  // namespace rill::journal
