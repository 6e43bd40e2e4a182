// rill/journal/batch_parser.h: the one definition of "a valid batch", shared by readers and
// recovery so that they agree by construction on where the committed journal ends.
//
//   BatchParse p = ParseBatch(seg.data(), seg.size(), offset, expected_position, Verify::kAll);
//   switch (p.outcome) { case BatchOutcome::kBatch: ...; offset += p.batch.batch_bytes; ... }
//
// Thread safety: pure functions over memory; the frame length is loaded with acquire order,
// so a reader racing the writer sees either nothing or the whole batch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "rill/journal/format.h"

namespace rill::journal {

enum class BatchOutcome : std::uint8_t {
  kBatch,       // a whole, valid batch at `offset`
  kEnd,         // length 0: nothing committed here (yet)
  kSegmentEnd,  // a pad frame, or too little room for a frame: continue in the next segment
  kBad,         // damaged or torn: `bad_offset` and `reason` say where and why
};

enum class Verify : std::uint8_t { kBatchFrame, kAll };  // kAll also checks every record's CRC

struct BatchParse {
  BatchOutcome outcome = BatchOutcome::kEnd;
  BatchPayload batch{};        // kBatch only
  std::size_t bad_offset = 0;  // kBad only: the damaged frame
  const char* reason = "";     // kBad only
};

// REQUIRES: offset is 8-aligned and >= the segment's data_offset; `limit` bytes are mapped.
// expected_position 0 skips the position check.
BatchParse ParseBatch(const std::byte* base, std::size_t limit, std::size_t offset, std::uint64_t expected_position,
                      Verify verify) noexcept;

// Masked CRC of a frame at `frame` whose header (except crc) and payload are written.
std::uint32_t FrameCrc(const std::byte* frame, std::uint32_t length) noexcept;

// Sets the CRC of every frame in [from, to) (the writer, at commit).
void SealRecordCrcs(std::byte* base, std::size_t from, std::size_t to) noexcept;

// Acquire load of a frame's length word; the writer's matching store is a release.
std::uint32_t LoadLengthAcquire(const std::byte* frame) noexcept;
void StoreLengthRelease(std::byte* frame, std::uint32_t length) noexcept;

// "segment 0000000000000002.seg offset 4096"
std::string Where(const std::string& segment_name, std::size_t offset);

}  // namespace rill::journal
