// rill/engine/event_record.h: the journal user types of the records the engine writes: an
// event (one codecs envelope + event body) and a state digest (the determinism check).
//
//   auto span = journal.Reserve(record.size(), rill::engine::kEventRecordType);
//   if (rec.type == rill::engine::kEventRecordType) decoder.Decode(rec.payload, rec.position);
//   else if (rec.type == rill::engine::kDigestRecordType) check(DigestRecord from rec.payload);
//
// Readers (replay, projectors, tools) check the type before decoding: only kEventRecordType
// records are events. A digest record takes a journal position like any record, so the
// positions of events are not contiguous once digests are on (EngineOptions::
// digest_interval_commands); a reader that waits for "applied == committed" must count every
// record it skips as applied.
// Thread safety: constants and a plain struct.
#pragma once

#include <cstdint>

namespace rill::engine {

inline constexpr std::uint16_t kEventRecordType = 1;
inline constexpr std::uint16_t kDigestRecordType = 2;

// The payload of a kDigestRecordType record, 16 bytes, little-endian: the writer's state digest
// (engine/state_digest.h) after every event before it in the journal.
struct DigestRecord {
  std::uint64_t digest = 0;
  std::uint64_t covers_position = 0;  // the last event position it covers
};
static_assert(sizeof(DigestRecord) == 16);

}  // namespace rill::engine
