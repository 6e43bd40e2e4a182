// Tests of journal/format.h and journal/batch_parser.cpp: names, layout, CRC coverage.
#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

#include "rill/base/crc32c.h"
#include "rill/journal/batch_parser.h"
#include "rill/journal/format.h"
#include "rill/journal/segment_file.h"

using namespace rill::journal;

TEST_CASE("segment file names sort by index and parse back", "[journal][format]") {
  CHECK(SegmentFileName(0) == "0000000000000000.seg");
  CHECK(SegmentFileName(0x1a) == "000000000000001a.seg");
  std::uint64_t index = 0;
  CHECK(ParseSegmentFileName("000000000000001a.seg", &index));
  CHECK(index == 0x1a);
  CHECK_FALSE(ParseSegmentFileName("000000000000001a.seg.tmp", &index));
  CHECK_FALSE(ParseSegmentFileName("00000000000001a.seg", &index));
  CHECK_FALSE(ParseSegmentFileName("000000000000001A.seg", &index));
}

TEST_CASE("frame spans are 8-byte aligned and data starts 64-byte aligned", "[journal][format]") {
  CHECK(FrameSpan(0) == 16);
  CHECK(FrameSpan(1) == 24);
  CHECK(FrameSpan(8) == 24);
  CHECK(FrameSpan(64) == 80);
  CHECK(DataOffsetFor(0) == 128);
  CHECK(DataOffsetFor(1) == 192);
  CHECK(kBatchFrameSize == 48);
}

namespace {

// One batch of one 5-byte record at offset 128 of a 4 KiB zeroed buffer.
std::vector<std::byte> OneBatch() {
  std::vector<std::byte> seg(4096);
  std::byte* rec = seg.data() + 128 + kBatchFrameSize;
  FrameHeader h{16 + 5, 0, FrameKind::kData, 0, 9, 0};
  std::memcpy(rec, &h, sizeof h);
  std::memcpy(rec + 16, "hello", 5);
  reinterpret_cast<FrameHeader*>(rec)->crc = FrameCrc(rec, h.length);
  std::byte* b = seg.data() + 128;
  FrameHeader bh{0, 0, FrameKind::kBatch, 0, 0, 0};
  BatchPayload p{7, 1, static_cast<std::uint32_t>(kBatchFrameSize + FrameSpan(5)), 42, 0};
  std::memcpy(b, &bh, sizeof bh);
  std::memcpy(b + 16, &p, sizeof p);
  reinterpret_cast<FrameHeader*>(b)->crc = FrameCrc(b, kBatchFrameSize);
  StoreLengthRelease(b, kBatchFrameSize);
  return seg;
}

}  // namespace

TEST_CASE("a well-formed batch parses with its position, count and timestamp", "[journal][format]") {
  auto seg = OneBatch();
  const BatchParse p = ParseBatch(seg.data(), seg.size(), 128, 7, Verify::kAll);
  REQUIRE(p.outcome == BatchOutcome::kBatch);
  CHECK(p.batch.first_position == 7);
  CHECK(p.batch.record_count == 1);
  CHECK(p.batch.timestamp_ns == 42);
  CHECK(ParseBatch(seg.data(), seg.size(), 128, 8, Verify::kAll).outcome == BatchOutcome::kBad);  // wrong position
  CHECK(ParseBatch(seg.data(), seg.size(), 128 + p.batch.batch_bytes, 8, Verify::kAll).outcome == BatchOutcome::kEnd);
}

TEST_CASE("the record CRC covers the padding after the payload", "[journal][format]") {
  auto seg = OneBatch();
  seg[128 + kBatchFrameSize + 16 + 6] = std::byte{1};  // a padding byte of the record
  const BatchParse p = ParseBatch(seg.data(), seg.size(), 128, 7, Verify::kAll);
  CHECK(p.outcome == BatchOutcome::kBad);
  CHECK(p.bad_offset == 128 + kBatchFrameSize);
  CHECK(ParseBatch(seg.data(), seg.size(), 128, 7, Verify::kBatchFrame).outcome == BatchOutcome::kBatch);
}

TEST_CASE("the frame CRC is the masked CRC-32C of kind, flags, user type, payload and padding", "[journal][format]") {
  alignas(8) std::byte frame[16 + 40] = {};
  for (std::size_t i = 8; i < sizeof frame; ++i) frame[i] = static_cast<std::byte>(i * 29);
  for (std::uint32_t len : {16u, 17u, 23u, 24u, 56u}) {
    const std::size_t span = AlignUp(len, 8);
    CHECK(FrameCrc(frame, len) == rill::crc32c::Mask(rill::crc32c::Value(frame + 8, span - 8)));
  }
}
