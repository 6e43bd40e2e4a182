// rill/engine/event_record.h: the journal user type of a record that holds one codecs
// envelope + event body, the only kind the engine writes today.
//
//   auto span = journal.Reserve(record.size(), rill::engine::kEventRecordType);
//   if (rec.type == rill::engine::kEventRecordType) decoder.Decode(rec.payload, rec.position);
//
// Readers (replay, projectors, tools) check it before decoding, so other record kinds
// (snapshot markers, say) can be added later without being mistaken for events.
// Thread safety: a constant.
#pragma once

#include <cstdint>

namespace rill::engine {

inline constexpr std::uint16_t kEventRecordType = 1;

}  // namespace rill::engine
