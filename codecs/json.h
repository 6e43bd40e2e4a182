// rill/codecs/json.h: a decoded event -> one line of JSON, through FlatBuffers' own text
// generator (flatbuffers::Parser from the binary schema + GenerateText). No application code
// is needed: a registry rebuilt from a journal's schema blob is enough.
//
//   auto reg = rill::codecs::SchemaRegistry::FromBlob(blob, fingerprint);   // from the journal
//   rill::codecs::Decoder decoder(*reg);
//   rill::codecs::JsonPrinter printer(*reg);
//   rill::codecs::DecodeResult r = decoder.Decode(record, position);
//   std::string line;
//   if (r.ok() && printer.Print(r.event(), &line).ok()) std::puts(line.c_str());
//
//   {"position":7,"stream_id":42,"stream_version":3,"timestamp_ns":1700000000000000000,
//    "command_id":9,"event_type":65538,"type":"bank.Deposited","schema_version":1,
//    "table":"rill.bank.Deposited","body":{"amount": 500}}
//
// (one line; the body's spacing and escapes, e.g. "caf\u00E9", are FlatBuffers' own.)
//
// The envelope's fields are integers that rill formats itself; the body, the part whose shape
// the application defines, is FlatBuffers' JSON. Default-valued fields are printed too, so the
// output shows the full shape. REQUIRES: the event came from Decoder::Decode (verified):
// GenerateText trusts its input.
//
// Cold path: builds one flatbuffers::Parser per binary schema on first use and allocates.
// Thread safety: one thread at a time per JsonPrinter (Parser keeps the current root type).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "rill/base/status.h"
#include "rill/codecs/decoder.h"
#include "rill/codecs/schema_registry.h"

namespace flatbuffers {
class Parser;
}

namespace rill::codecs {

class JsonPrinter {
 public:
  // REQUIRES: registry outlives the printer.
  explicit JsonPrinter(const SchemaRegistry& registry);
  ~JsonPrinter();
  JsonPrinter(const JsonPrinter&) = delete;
  JsonPrinter& operator=(const JsonPrinter&) = delete;

  // Replaces *out with the event (envelope fields and body) as one JSON object on one line.
  Status Print(const DecodedEvent& event, std::string* out);
  // Replaces *out with the body alone: FlatBuffers' JSON of the event table.
  Status PrintBody(const DecodedEvent& event, std::string* out);

 private:
  flatbuffers::Parser* ParserFor(std::uint32_t schema);

  const SchemaRegistry& registry_;
  std::vector<std::unique_ptr<flatbuffers::Parser>> parsers_;  // by schema index, built lazily
};

}  // namespace rill::codecs
