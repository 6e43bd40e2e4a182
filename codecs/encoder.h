// rill/codecs/encoder.h: an event and its envelope -> the bytes of one journal record.
//
//   rill::codecs::Encoder encoder;                       // the writer thread owns one
//   rill::codecs::EnvelopeFields env{.stream_id = account, .stream_version = v + 1,
//                                    .timestamp_ns = now_ns, .command_id = cmd.id};
//   rill::bank::DepositedT deposit;                      // object API value (flatc --gen-object-api)
//   deposit.amount = 500;
//   std::span<const std::uint8_t> rec = encoder.Encode(env, deposit);
//   std::span<std::uint8_t> dst = journal.Reserve(rec.size());
//   std::memcpy(dst.data(), rec.data(), rec.size());     // the one copy
//
//   // Strings without a std::string in between (blog events): build the table yourself.
//   rec = encoder.Encode<rill::blog::PostCreated>(env, [&](flatbuffers::FlatBufferBuilder& fbb) {
//     return rill::blog::CreatePostCreatedDirect(fbb, author, title.c_str(), body.c_str());
//   });
//
// The record is the 40-byte envelope (envelope.h), the command fingerprint when
// fields.command_fingerprint != 0 (8 bytes, flag bit 0), then the body FlatBuffer, one
// contiguous span: the builder grows downward, so the envelope is pushed after Finish() and
// lands in front of the body. The body's size is a multiple of 8, so a record copied to any
// 8-byte aligned address keeps every field aligned.
//
// Steady state allocates nothing: the builder is cleared, never freed, and keeps the capacity
// of the largest event it has built. Lifetime: the span is valid until the next Encode call.
// Thread safety: one thread at a time per Encoder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "flatbuffers/flatbuffers.h"
#include "rill/codecs/envelope.h"

namespace rill::codecs {

class Encoder {
 public:
  explicit Encoder(std::size_t initial_capacity = 1024) : fbb_(initial_capacity) {}
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;

  // build: (flatbuffers::FlatBufferBuilder&) -> flatbuffers::Offset<Table>.
  template <EventTable Table, typename BuildFn>
  std::span<const std::uint8_t> Encode(const EnvelopeFields& fields, BuildFn&& build) {
    static_assert(
        std::is_same_v<std::invoke_result_t<BuildFn, flatbuffers::FlatBufferBuilder&>, flatbuffers::Offset<Table>>,
        "build must return flatbuffers::Offset<Table> of the table being encoded");
    fbb_.Clear();
    // Pads the finished body to a multiple of 8 bytes, so the envelope in front stays aligned.
    fbb_.TrackMinAlign(kRecordAlignment);
    fbb_.Finish(build(fbb_));
    std::uint16_t flags = 0;
    if (fields.command_fingerprint != 0) {
      const std::uint64_t fingerprint = flatbuffers::EndianScalar(fields.command_fingerprint);  // little-endian
      fbb_.PushBytes(reinterpret_cast<const std::uint8_t*>(&fingerprint), sizeof fingerprint);
      flags |= kEnvelopeHasCommandFingerprint;
    }
    const fb::Envelope envelope(fields.stream_id, fields.stream_version, fields.timestamp_ns, fields.command_id,
                                EventTraits<Table>::kTypeId, EventTraits<Table>::kVersion, flags);
    fbb_.PushBytes(reinterpret_cast<const std::uint8_t*>(&envelope), sizeof envelope);
    return {fbb_.GetBufferPointer(), fbb_.GetSize()};
  }

  // An object-API value (flatc --gen-object-api), e.g. a rill::bank::DepositedT.
  // Allocation-free for events without strings or vectors; those allocate in the value itself.
  template <typename NativeTable>
  requires EventTable<typename NativeTable::TableType> std::span<const std::uint8_t> Encode(
      const EnvelopeFields& fields, const NativeTable& event) {
    using Table = typename NativeTable::TableType;
    return Encode<Table>(fields, [&](flatbuffers::FlatBufferBuilder& fbb) { return Table::Pack(fbb, &event); });
  }

 private:
  flatbuffers::FlatBufferBuilder fbb_;
};

}  // namespace rill::codecs
