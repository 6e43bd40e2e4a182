#include "rill/codecs/decoder.h"

#include <cinttypes>
#include <cstdio>
#include <string>

namespace rill::codecs {

const char* DecodeErrcName(DecodeErrc code) noexcept {
  switch (code) {
    case DecodeErrc::kOk:
      return "ok";
    case DecodeErrc::kTruncated:
      return "truncated";
    case DecodeErrc::kMisaligned:
      return "misaligned";
    case DecodeErrc::kUnsupportedEnvelope:
      return "unsupported envelope";
    case DecodeErrc::kUnknownEventType:
      return "unknown event type";
    case DecodeErrc::kUnknownSchemaVersion:
      return "unknown schema version";
    case DecodeErrc::kVerificationFailed:
      return "verification failed";
    case DecodeErrc::kUpcastFailed:
      return "upcast failed";
  }
  return "?";
}

Status DecodeError::ToStatus(const SchemaRegistry* registry) const {
  if (code == DecodeErrc::kOk) return Status::OK();
  char where[160];
  std::snprintf(where, sizeof where, "event at position %" PRIu64 " (%zu bytes, type 0x%08" PRIx32 " v%u", position,
                size, event_type, static_cast<unsigned>(schema_version));
  std::string msg = where;
  if (registry != nullptr && event_type != 0) {
    if (const EventTypeInfo* t = registry->FindAnyVersion(event_type)) msg += " '" + t->name + "'";
  }
  msg += "): ";
  msg += DecodeErrcName(code);
  switch (code) {
    case DecodeErrc::kOk:
      break;
    case DecodeErrc::kTruncated:
      msg += ": shorter than the 40-byte envelope plus an 8-byte body; the record is damaged";
      return Status::Corruption(msg);
    case DecodeErrc::kMisaligned:
      msg += ": records must start on an 8-byte boundary; this is a bug in the code that framed it";
      return Status::InvalidArgument(msg);
    case DecodeErrc::kUnsupportedEnvelope:
      msg += ": envelope flags are set that this rill does not know; read it with a newer rill";
      return Status::Corruption(msg);
    case DecodeErrc::kUnknownEventType:
      msg += ": register the event type, or read the journal with the schema blob it was written with";
      return Status::NotFound(msg);
    case DecodeErrc::kUnknownSchemaVersion:
      msg += ": register this schema version and an upcaster from it to the next";
      return Status::NotFound(msg);
    case DecodeErrc::kVerificationFailed:
      msg += ": the body fails FlatBuffers verification (garbled or truncated); the record is corrupt";
      return Status::Corruption(msg);
    case DecodeErrc::kUpcastFailed:
      msg += ": the upcaster to the next version refused the body; fix the upcaster";
      return Status::Corruption(msg);
  }
  return Status::Corruption(msg);
}

Decoder::Decoder(const SchemaRegistry& registry) : registry_(registry) {}

bool Decoder::Upcast(DecodedEvent& event) {
  const EventTypeInfo* type = event.type_;
  std::span<const std::uint8_t> body = event.body_;
  int out = 0;
  while (type->upcast) {
    flatbuffers::FlatBufferBuilder& fbb = scratch_[out];
    fbb.Clear();
    const flatbuffers::uoffset_t root = type->upcast(body.data(), fbb);
    if (root == 0) return false;
    fbb.Finish(flatbuffers::Offset<void>(root));
    // Not verified again: the input was verified and the output was built by a FlatBuffers
    // builder in this process from the application's own upcaster code.
    body = std::span<const std::uint8_t>(fbb.GetBufferPointer(), fbb.GetSize());
    type = type->next;
    out ^= 1;
  }
  event.type_ = type;
  event.body_ = body;
  return true;
}

}  // namespace rill::codecs
