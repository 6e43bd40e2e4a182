// rill/codecs/decoder.h: a record's bytes (envelope + body, read in place from a mapped journal,
// another process or a socket) -> a verified, typed view of the event, in its newest version.
//
//   rill::codecs::Decoder decoder(registry);           // one per thread: it owns upcast scratch
//   rill::codecs::DecodeResult r = decoder.Decode(record_bytes, frame_position);
//   if (!r.ok()) { reporter.Corruption(r.error().ToStatus(&registry)); return; }
//   if (const auto* d = r.event().As<rill::bank::Deposited>()) balance[r.event().stream_id()] += d->amount();
//
// Decode verifies the body with the FlatBuffers verifier before handing it out: use it for
// every byte that comes from disk, another process or the network. DecodeTrusted skips that
// verifier and is only for bytes this process's Encoder produced (codecs/README.md,
// "Where verification is skipped"). Both never allocate, except an upcast (old version) whose
// scratch builder grows until it fits the largest upcast event, then stays.
//
// Lifetimes: a DecodedEvent points into the record bytes (and, after an upcast, into the
// decoder's scratch); it is valid while those bytes are and until the next Decode call.
// Thread safety: a Decoder is used by one thread at a time; many decoders may share a registry.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "flatbuffers/flatbuffers.h"
#include "rill/base/status.h"
#include "rill/codecs/envelope.h"
#include "rill/codecs/schema_registry.h"

namespace rill::codecs {

enum class DecodeErrc : std::uint8_t {
  kOk = 0,
  kTruncated,             // shorter than an envelope plus the smallest body
  kMisaligned,            // the record does not start on an 8-byte boundary
  kUnsupportedEnvelope,   // envelope flags set that this rill does not know
  kUnknownEventType,      // no version of the type id is registered
  kUnknownSchemaVersion,  // the type is known, this schema version is not
  kVerificationFailed,    // the body fails the FlatBuffers verifier (garbled, truncated, hostile, >= 2 GiB)
  kUpcastFailed,          // an upcaster refused the body
};
const char* DecodeErrcName(DecodeErrc code) noexcept;

// A typed error that names where (position) and what (type, version, size). A plain value, so
// the hot path reports errors without allocating; ToStatus() makes the readable message.
struct DecodeError {
  DecodeErrc code = DecodeErrc::kOk;
  std::uint64_t position = 0;
  std::uint32_t event_type = 0;      // 0 when the envelope could not be read
  std::uint16_t schema_version = 0;  // as recorded
  std::size_t size = 0;              // record bytes handed to Decode

  // Corruption (or NotFound for an unregistered type / version) with what, where and what to
  // do. Pass the registry to have the type's name in the message.
  Status ToStatus(const SchemaRegistry* registry = nullptr) const;
};

class DecodedEvent {
 public:
  std::uint64_t position() const noexcept { return position_; }
  const fb::Envelope& envelope() const noexcept { return *envelope_; }
  std::uint64_t stream_id() const noexcept { return envelope_->stream_id(); }
  std::uint64_t stream_version() const noexcept { return envelope_->stream_version(); }
  std::int64_t timestamp_ns() const noexcept { return envelope_->timestamp_ns(); }
  std::uint64_t command_id() const noexcept { return envelope_->command_id(); }
  // The fingerprint of the command that produced the event, 0 when the record has none.
  std::uint64_t command_fingerprint() const noexcept { return command_fingerprint_; }
  std::uint32_t event_type() const noexcept { return envelope_->event_type(); }
  // The version of body(): the newest one the registry knows, after any upcast.
  std::uint16_t schema_version() const noexcept { return type_->version; }
  // The version the record was written in.
  std::uint16_t recorded_version() const noexcept { return envelope_->schema_version(); }
  bool upcast() const noexcept { return schema_version() != recorded_version(); }
  const EventTypeInfo& type() const noexcept { return *type_; }
  // The body FlatBuffer (root = the event table), verified unless DecodeTrusted made it.
  std::span<const std::uint8_t> body() const noexcept { return body_; }

  template <EventTable Table>
  bool Is() const noexcept {
    return type_->type_id == EventTraits<Table>::kTypeId && type_->version == EventTraits<Table>::kVersion;
  }
  // The typed body, or nullptr when the event is not a Table (other type or other version).
  // Also nullptr when the registry did not verify the body as Table: one rebuilt from a blob
  // verified it against the blob's schema, which an application's type must not trust.
  template <EventTable Table>
  const Table* As() const noexcept {
    return Is<Table>() && type_->verify == &VerifyBody<Table> ? flatbuffers::GetRoot<Table>(body_.data()) : nullptr;
  }

 private:
  friend class Decoder;
  std::uint64_t position_ = 0;
  const fb::Envelope* envelope_ = nullptr;
  std::uint64_t command_fingerprint_ = 0;
  const EventTypeInfo* type_ = nullptr;
  std::span<const std::uint8_t> body_;
};

// Either a DecodedEvent or a DecodeError.
class DecodeResult {
 public:
  bool ok() const noexcept { return error_.code == DecodeErrc::kOk; }
  // REQUIRES: ok().
  const DecodedEvent& event() const noexcept { return event_; }
  // REQUIRES: !ok().
  const DecodeError& error() const noexcept { return error_; }

 private:
  friend class Decoder;
  DecodedEvent event_;
  DecodeError error_;
};

class Decoder {
 public:
  // REQUIRES: registry outlives the decoder.
  explicit Decoder(const SchemaRegistry& registry);
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // The record as the journal frame holds it (envelope + body) and the frame's position.
  DecodeResult Decode(std::span<const std::uint8_t> record, std::uint64_t position) {
    return DecodeImpl<true>(record, position);
  }
  // Skips the FlatBuffers verifier (envelope checks and type lookup still run).
  // REQUIRES: the bytes came from rill's Encoder in this process and were not exposed to
  // writes from elsewhere since: the writer thread re-reading what it just encoded, or an
  // in-process projector reading records this process's writer appended in this run.
  // Safe because the encoder's output is valid by construction, the journal has one writer
  // (file lock) and never rewrites committed bytes. Records read back at start-up (recovery,
  // replay), written by another process, or received from a socket must use Decode.
  DecodeResult DecodeTrusted(std::span<const std::uint8_t> record, std::uint64_t position) {
    return DecodeImpl<false>(record, position);
  }

  const SchemaRegistry& registry() const noexcept { return registry_; }

 private:
  template <bool kVerify>
  DecodeResult DecodeImpl(std::span<const std::uint8_t> record, std::uint64_t position);
  // Runs the upcaster chain from event's type to the newest version, replacing its type and
  // body; false when one refuses.
  bool Upcast(DecodedEvent& event);

  const SchemaRegistry& registry_;
  flatbuffers::FlatBufferBuilder scratch_[2];  // ping-pong: step n reads one, writes the other
};

// The compiled verifier when the registry has one, else reflection over the binary schema.
inline bool VerifyEventBody(const EventTypeInfo& type, std::span<const std::uint8_t> body) {
  if (type.verify != nullptr) return type.verify(body.data(), body.size());
  return flatbuffers::Verify(*type.reflection_schema, *type.root_object, body.data(), body.size());
}

template <bool kVerify>
DecodeResult Decoder::DecodeImpl(std::span<const std::uint8_t> record, std::uint64_t position) {
  DecodeResult r;
  r.error_.position = position;
  r.error_.size = record.size();
  if (record.size() < kEnvelopeSize + kMinBodySize) {
    r.error_.code = DecodeErrc::kTruncated;
    return r;
  }
  if (record.size() - kEnvelopeSize >= FLATBUFFERS_MAX_BUFFER_SIZE) {  // the verifier's own limit (2 GiB)
    r.error_.code = DecodeErrc::kVerificationFailed;
    return r;
  }
  if (reinterpret_cast<std::uintptr_t>(record.data()) % kRecordAlignment != 0) {
    r.error_.code = DecodeErrc::kMisaligned;
    return r;
  }
  // Safe without the verifier: the size is checked above, the envelope is a fixed-size struct
  // of plain integers, and every bit pattern is a valid value.
  const auto* env = reinterpret_cast<const fb::Envelope*>(record.data());
  r.error_.event_type = env->event_type();
  r.error_.schema_version = env->schema_version();
  if ((env->flags() & ~kKnownEnvelopeFlags) != 0) {
    r.error_.code = DecodeErrc::kUnsupportedEnvelope;
    return r;
  }
  const std::size_t header = EnvelopeHeaderSize(env->flags());
  if (record.size() < header + kMinBodySize) {
    r.error_.code = DecodeErrc::kTruncated;
    return r;
  }
  std::uint64_t command_fingerprint = 0;
  if (header != kEnvelopeSize) {
    std::memcpy(&command_fingerprint, record.data() + kEnvelopeSize, sizeof command_fingerprint);
    command_fingerprint = flatbuffers::EndianScalar(command_fingerprint);
  }
  const EventTypeInfo* type = registry_.Find(env->event_type(), env->schema_version());
  if (type == nullptr) {
    r.error_.code = registry_.FindAnyVersion(env->event_type()) == nullptr ? DecodeErrc::kUnknownEventType
                                                                           : DecodeErrc::kUnknownSchemaVersion;
    return r;
  }
  std::span<const std::uint8_t> body = record.subspan(header);
  if constexpr (kVerify) {
    if (!VerifyEventBody(*type, body)) {
      r.error_.code = DecodeErrc::kVerificationFailed;
      return r;
    }
  }
  r.event_.position_ = position;
  r.event_.envelope_ = env;
  r.event_.command_fingerprint_ = command_fingerprint;
  r.event_.type_ = type;
  r.event_.body_ = body;
  // Out of line and through r: taking the address of locals here would make the common path
  // spill them and reload them with a wider load, which stalls store forwarding.
  if (type->upcast && !Upcast(r.event_)) [[unlikely]] {
    r.error_.code = DecodeErrc::kUpcastFailed;
  }
  return r;
}
}  // namespace rill::codecs
