#include "rill/journal/batch_parser.h"

#include <cstring>

#include "rill/base/crc32c.h"

namespace rill::journal {

namespace {

#if defined(__x86_64__)
// Frames are 8-aligned and their CRC span is a multiple of 8 bytes, so the hardware loop
// needs no head or tail; inlined here it also skips base's run-time dispatch per call.
__attribute__((target("sse4.2"))) std::uint32_t CrcWords(const std::byte* p, std::size_t n) noexcept {
  std::uint64_t c = 0xffffffffu;
  for (std::size_t i = 0; i < n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, sizeof w);
    c = __builtin_ia32_crc32di(c, w);
  }
  return ~static_cast<std::uint32_t>(c);
}
const bool kHardwareCrc = crc32c::IsHardwareAccelerated();
#endif

std::uint32_t SpanCrc(const std::byte* p, std::size_t n) noexcept {
#if defined(__x86_64__)
  if (kHardwareCrc) return CrcWords(p, n);
#endif
  return crc32c::Value(p, n);
}

}  // namespace

std::uint32_t FrameCrc(const std::byte* frame, std::uint32_t length) noexcept {
  // The padding is covered too, so a flipped bit anywhere in a frame's span is detected.
  return crc32c::Mask(SpanCrc(frame + kFrameCrcStart, AlignUp(length, kFrameAlignment) - kFrameCrcStart));
}

void SealRecordCrcs(std::byte* base, std::size_t from, std::size_t to) noexcept {
  // One pass at commit: the records' CRC chains are independent, so the CPU overlaps them.
  for (std::size_t at = from; at < to;) {
    auto* h = reinterpret_cast<FrameHeader*>(base + at);
    h->crc = FrameCrc(base + at, h->length);
    at += AlignUp(h->length, kFrameAlignment);
  }
}

std::uint32_t LoadLengthAcquire(const std::byte* frame) noexcept {
  // acquire: pairs with StoreLengthRelease, so every byte of the batch written before the
  // commit is visible once its length is. The mapping may be read-only: a load never writes.
  return __atomic_load_n(reinterpret_cast<const std::uint32_t*>(frame), __ATOMIC_ACQUIRE);
}

void StoreLengthRelease(std::byte* frame, std::uint32_t length) noexcept {
  __atomic_store_n(reinterpret_cast<std::uint32_t*>(frame), length, __ATOMIC_RELEASE);
}

std::string Where(const std::string& segment_name, std::size_t offset) {
  return "segment " + segment_name + " offset " + std::to_string(offset);
}

BatchParse ParseBatch(const std::byte* base, std::size_t limit, std::size_t offset, std::uint64_t expected_position,
                      Verify verify) noexcept {
  BatchParse out;
  auto bad = [&](std::size_t at, const char* why) {
    out.outcome = BatchOutcome::kBad;
    out.bad_offset = at;
    out.reason = why;
    return out;
  };
  if (offset + kFrameHeaderSize > limit) {
    out.outcome = BatchOutcome::kSegmentEnd;
    return out;
  }
  const std::byte* frame = base + offset;
  const std::uint32_t length = LoadLengthAcquire(frame);
  if (length == 0) return out;  // kEnd
  FrameHeader h;
  std::memcpy(&h, frame, sizeof h);
  if (h.kind == FrameKind::kPad) {
    if (length != limit - offset || FrameCrc(frame, kFrameHeaderSize) != h.crc)
      return bad(offset, "pad frame does not reach the end of the segment or fails its CRC");
    out.outcome = BatchOutcome::kSegmentEnd;
    return out;
  }
  if (h.kind != FrameKind::kBatch || length != kBatchFrameSize) return bad(offset, "expected a batch frame");
  if (offset + kBatchFrameSize > limit || FrameCrc(frame, length) != h.crc)
    return bad(offset, "batch frame fails its CRC");
  std::memcpy(&out.batch, frame + kFrameHeaderSize, sizeof out.batch);
  const BatchPayload& b = out.batch;
  if (b.record_count == 0 || b.batch_bytes % kFrameAlignment != 0 ||
      b.batch_bytes < kBatchFrameSize + kFrameHeaderSize * std::size_t{b.record_count} ||
      b.batch_bytes > limit - offset)
    return bad(offset, "batch frame has an impossible record count or size");
  if (expected_position != 0 && b.first_position != expected_position)
    return bad(offset, "batch position does not follow the previous batch (gap or overlap)");
  // Records are plain stores published by the batch length: walking them needs no atomics.
  // Version 2 keeps a copy of each record's length in its CRC-covered reserved word: the CRC
  // spans [8, span), so without it a length changed within the same span would go unseen.
  const bool length_copy = reinterpret_cast<const SegmentHeader*>(base)->format_version >= 2;
  const std::size_t end = offset + b.batch_bytes;
  std::size_t at = offset + kBatchFrameSize;
  for (std::uint32_t i = 0; i < b.record_count; ++i) {
    if (at + kFrameHeaderSize > end) return bad(at, "batch ends inside a record");
    FrameHeader r;
    std::memcpy(&r, base + at, sizeof r);
    if (r.kind != FrameKind::kData || r.length < kFrameHeaderSize || at + AlignUp(r.length, 8) > end)
      return bad(at, "record frame is torn or does not fit its batch");
    if (length_copy && r.reserved != r.length) return bad(at, "record length does not match its CRC-covered copy");
    if (verify == Verify::kAll && FrameCrc(base + at, r.length) != r.crc) return bad(at, "record fails its CRC");
    at += AlignUp(r.length, kFrameAlignment);
  }
  if (at != end) return bad(at, "batch size does not match its records");
  out.outcome = BatchOutcome::kBatch;
  return out;
}

}  // namespace rill::journal
