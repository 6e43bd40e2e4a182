// rill/codecs/envelope.h: the fixed envelope in front of every event body, and the traits that
// give each event table its registered type id and schema version.
//
//   A record, as the journal stores it in one frame (all little-endian):
//
//    0               8               16              24              32      36  38  40              48
//   +---------------+---------------+---------------+---------------+-------+---+---+---------------+-------
//   |  stream_id    | stream_version| timestamp_ns  |  command_id   | type  |ver|flg| [command      | body: a
//   |  u64          | u64           | i64           |  u64          | u32   |u16|u16|  fingerprint] | FlatBuffer
//   +---------------+---------------+---------------+---------------+-------+---+---+---------------+-------
//
// Flag bit 0 (kEnvelopeHasCommandFingerprint) says the 8 bytes after the fixed envelope hold
// the fingerprint of the command that produced the event (u64): the writer records it so the
// idempotency window rebuilt at recovery still tells a retry from another command reusing its
// id (engine/README.md, "Idempotency"). Without the bit the body starts at 40, as in records
// written before the field existed, which stay readable.
//
// The layout is fb::Envelope in codecs/schemas/envelope.fbs (a FlatBuffers struct, so tools in
// any language can generate a reader for it); the static_asserts below and codecs_test keep
// this drawing, the schema and the code in step. The global position is not stored: it is the
// journal frame's.
// Thread safety: plain values.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>

#include "rill/codecs/envelope_generated.h"

namespace rill::codecs {

// What the writer knows about an event besides its body. The type id and schema version come
// from EventTraits of the body's table, so a caller cannot pair a body with the wrong type.
struct EnvelopeFields {
  std::uint64_t stream_id = 0;
  std::uint64_t stream_version = 0;
  std::int64_t timestamp_ns = 0;
  std::uint64_t command_id = 0;
  // The command's fingerprint (engine/fingerprint.h, never 0); 0 records none (no flag, no 8
  // bytes): commands without an id need none.
  std::uint64_t command_fingerprint = 0;
};

// The fixed part, present in every record (and hashed into every schema fingerprint: never
// change it). The optional fingerprint follows it.
inline constexpr std::size_t kEnvelopeSize = 40;
inline constexpr std::uint16_t kEnvelopeHasCommandFingerprint = 1;  // flag bit 0
inline constexpr std::uint16_t kKnownEnvelopeFlags = kEnvelopeHasCommandFingerprint;
inline constexpr std::size_t kCommandFingerprintSize = 8;
// Where the body starts for a record with these envelope flags.
constexpr std::size_t EnvelopeHeaderSize(std::uint16_t flags) noexcept {
  return kEnvelopeSize + ((flags & kEnvelopeHasCommandFingerprint) != 0 ? kCommandFingerprintSize : 0);
}
// Records must start at an 8-byte aligned address: the envelope's u64 fields and the body's
// 8-byte scalars are read in place, and the FlatBuffers verifier checks alignment.
inline constexpr std::size_t kRecordAlignment = 8;
// The smallest body: a root offset (4 bytes) and a table's soffset to its vtable (4 bytes).
inline constexpr std::size_t kMinBodySize = 8;

static_assert(sizeof(fb::Envelope) == kEnvelopeSize, "envelope.fbs and the drawing above disagree");
static_assert(alignof(fb::Envelope) == kRecordAlignment);
// The field offsets are private to the generated struct; codecs_test checks them byte by byte.

// Type ids: a domain's 16-bit id in the high half, the event's number in the low half, so each
// domain can hand out its own numbers. 0 is never a valid type id.
constexpr std::uint32_t MakeEventTypeId(std::uint16_t domain, std::uint16_t event) {
  return (static_cast<std::uint32_t>(domain) << 16) | event;
}

// EventTraits<Table> ties a generated FlatBuffers table to its type id, schema version and
// logical name. Declare one per event table with RILL_EVENT_TYPE, in the domain's codec header.
template <typename Table>
struct EventTraits;  // undefined: a table without RILL_EVENT_TYPE is not an event

template <typename Table>
concept EventTable = requires {
  { EventTraits<Table>::kTypeId } -> std::convertible_to<std::uint32_t>;
  { EventTraits<Table>::kVersion } -> std::convertible_to<std::uint16_t>;
  { EventTraits<Table>::kName } -> std::convertible_to<const char*>;
};

}  // namespace rill::codecs

// RILL_EVENT_TYPE(rill::bank::Deposited, MakeEventTypeId(1, 2), 1, "bank.Deposited"), at global
// scope. The (type id, version) pair is written into every record for ever: never reuse one.
#define RILL_EVENT_TYPE(TABLE, TYPE_ID, VERSION, NAME)          \
  template <>                                                   \
  struct rill::codecs::EventTraits<TABLE> {                     \
    static constexpr std::uint32_t kTypeId = (TYPE_ID);         \
    static constexpr std::uint16_t kVersion = (VERSION);        \
    static constexpr const char* kName = (NAME);                \
    static_assert(kTypeId != 0, "event type id 0 is reserved"); \
    static_assert(kVersion != 0, "schema versions start at 1"); \
  }
