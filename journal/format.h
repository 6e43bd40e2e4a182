// rill/journal/format.h: the on-disk format of a journal segment, in one place.
// journal/FORMAT.md is the prose spec (grammar, worked example); this header mirrors it and
// static_asserts every offset so the diagrams below and the structs cannot drift.
// All integers are little-endian (checked below); every frame starts 8-byte aligned.
// Thread safety: constants and plain structs only.
//
// Segment header (kSegmentHeaderSize = 128 bytes), then the schema blob, then frames from
// data_offset = Align64(128 + schema_blob_size):
//
//   0         8    12   16        24        32        40        48        56   60   64   68   72       128
//   +---------+----+----+---------+---------+---------+---------+---------+----+----+----+----+--------+
//   | magic   |ver |hsz | index   |first pos|ctime ns |schema fp|seg size |blob|blob|data|hdr |reserved|
//   |RILLSEG1 |    |    |         |         |         |         |         |size|crc |off |crc |(zero)  |
//   +---------+----+----+---------+---------+---------+---------+---------+----+----+----+----+--------+
//
// Frame (kFrameHeaderSize = 16 bytes, then the payload, then zero padding to 8 bytes):
//
//   0          4          8    9     10         12         16
//   +----------+----------+----+-----+----------+----------+----------------+-----+
//   |  length  | crc      |kind|flags| user_type| reserved | payload        | pad |
//   |  (u32)   | (masked) |(u8)|(u8) |  (u16)   | (u32, 0) | length-16 bytes| 0s  |
//   +----------+----------+----+-----+----------+----------+----------------+-----+
//   crc = Mask(CRC32C(bytes [8, Align8(length)))): kind, flags, user type, payload, padding.
//
// A batch is one kBatch frame (payload = BatchPayload) followed by record_count kData frames.
// The batch frame's length is stored last, with release order: it is the commit.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

namespace rill::journal {

static_assert(std::endian::native == std::endian::little, "the journal format is little-endian; add byte swaps");

inline constexpr std::uint64_t kSegmentMagic = 0x31474553'4c4c4952ull;  // "RILLSEG1" as bytes
// Version 2: a data frame's `reserved` word holds a copy of its length (the CRC covers it, not
// the length word itself). Version 1 segments (reserved zero) are still read.
inline constexpr std::uint32_t kFormatVersion = 2;
inline constexpr std::uint32_t kOldestReadableFormatVersion = 1;
inline constexpr std::size_t kSegmentHeaderSize = 128;
inline constexpr std::size_t kFrameAlignment = 8;
inline constexpr std::size_t kDataAlignment = 64;  // data_offset is a multiple of this
inline constexpr std::size_t kFrameHeaderSize = 16;
inline constexpr std::size_t kMaxSchemaBlobSize = 1u << 20;

enum class FrameKind : std::uint8_t { kInvalid = 0, kPad = 1, kBatch = 2, kData = 3 };

struct SegmentHeader {
  std::uint64_t magic;               // kSegmentMagic
  std::uint32_t format_version;      // kFormatVersion
  std::uint32_t header_size;         // kSegmentHeaderSize (room to grow without a new version)
  std::uint64_t segment_index;       // 0, 1, 2, ...: also the file name
  std::uint64_t first_position;      // position of the first record this segment holds (>= 1)
  std::int64_t creation_time_ns;     // CLOCK_REALTIME when the segment became the active one
  std::uint64_t schema_fingerprint;  // opaque, from the codecs layer
  std::uint64_t segment_size;        // file size in bytes, fixed at creation
  std::uint32_t schema_blob_size;    // bytes of schema blob at offset kSegmentHeaderSize
  std::uint32_t schema_blob_crc;     // masked CRC32C of the blob
  std::uint32_t data_offset;         // first frame
  std::uint32_t header_crc;          // masked CRC32C of bytes [0, 68)
  std::uint8_t reserved[56];         // zero
};
static_assert(sizeof(SegmentHeader) == kSegmentHeaderSize);
static_assert(offsetof(SegmentHeader, format_version) == 8 && offsetof(SegmentHeader, header_size) == 12);
static_assert(offsetof(SegmentHeader, segment_index) == 16 && offsetof(SegmentHeader, first_position) == 24);
static_assert(offsetof(SegmentHeader, creation_time_ns) == 32 && offsetof(SegmentHeader, schema_fingerprint) == 40);
static_assert(offsetof(SegmentHeader, segment_size) == 48 && offsetof(SegmentHeader, schema_blob_size) == 56);
static_assert(offsetof(SegmentHeader, schema_blob_crc) == 60 && offsetof(SegmentHeader, data_offset) == 64);
static_assert(offsetof(SegmentHeader, header_crc) == 68 && offsetof(SegmentHeader, reserved) == 72);
inline constexpr std::size_t kSegmentHeaderCrcSpan = offsetof(SegmentHeader, header_crc);

struct FrameHeader {
  std::uint32_t length;  // header + payload, unpadded; 0 = nothing here (yet). Stored last.
  std::uint32_t crc;     // see the diagram
  FrameKind kind;
  std::uint8_t flags;       // zero in version 1
  std::uint16_t user_type;  // kData: the caller's record type; else zero
  std::uint32_t reserved;   // version 2, kData: == length (a CRC-covered copy); else zero
};
static_assert(sizeof(FrameHeader) == kFrameHeaderSize);
static_assert(offsetof(FrameHeader, crc) == 4 && offsetof(FrameHeader, kind) == 8);
static_assert(offsetof(FrameHeader, flags) == 9 && offsetof(FrameHeader, user_type) == 10);
static_assert(offsetof(FrameHeader, reserved) == 12);
inline constexpr std::size_t kFrameCrcStart = offsetof(FrameHeader, kind);

// Payload of a kBatch frame: one per batch, at its start.
struct BatchPayload {
  std::uint64_t first_position;  // position of the batch's first record
  std::uint32_t record_count;    // kData frames that follow (>= 1)
  std::uint32_t batch_bytes;     // this frame + the records, each padded: the next batch starts here
  std::int64_t timestamp_ns;     // caller's time for the batch; non-decreasing along the journal
  std::uint64_t reserved;        // zero
};
static_assert(sizeof(BatchPayload) == 32);
static_assert(offsetof(BatchPayload, record_count) == 8 && offsetof(BatchPayload, batch_bytes) == 12);
static_assert(offsetof(BatchPayload, timestamp_ns) == 16 && offsetof(BatchPayload, reserved) == 24);
inline constexpr std::size_t kBatchFrameSize = kFrameHeaderSize + sizeof(BatchPayload);  // 48

constexpr std::size_t AlignUp(std::size_t n, std::size_t a) noexcept { return (n + a - 1) & ~(a - 1); }
constexpr std::size_t FrameSpan(std::size_t payload) noexcept { return AlignUp(kFrameHeaderSize + payload, 8); }
constexpr std::size_t DataOffsetFor(std::size_t blob) noexcept { return AlignUp(kSegmentHeaderSize + blob, 64); }

}  // namespace rill::journal
