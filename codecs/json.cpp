#include "rill/codecs/json.h"

#include <cinttypes>
#include <cstdio>

#include "flatbuffers/idl.h"

namespace rill::codecs {

JsonPrinter::JsonPrinter(const SchemaRegistry& registry) : registry_(registry), parsers_(registry.schema_count()) {}

JsonPrinter::~JsonPrinter() = default;

flatbuffers::Parser* JsonPrinter::ParserFor(std::uint32_t schema) {
  if (parsers_[schema] == nullptr) {
    flatbuffers::IDLOptions opts;
    opts.strict_json = true;                     // quoted keys: JSON, not JavaScript
    opts.indent_step = -1;                       // one line per event
    opts.output_default_scalars_in_json = true;  // show every field, stored or default
    auto parser = std::make_unique<flatbuffers::Parser>(opts);
    const std::span<const std::uint8_t> bfbs = registry_.schema_bfbs(schema);
    if (!parser->Deserialize(bfbs.data(), bfbs.size())) return nullptr;
    parsers_[schema] = std::move(parser);
  }
  return parsers_[schema].get();
}

Status JsonPrinter::PrintBody(const DecodedEvent& event, std::string* out) {
  out->clear();
  const EventTypeInfo& type = event.type();
  flatbuffers::Parser* parser = ParserFor(type.schema);
  const auto where = [&] {
    return "event at position " + std::to_string(event.position()) + " ('" + type.root_table + "' v" +
           std::to_string(type.version) + ")";
  };
  if (parser == nullptr) {
    return Status::Corruption(where() + ": binary schema '" + std::string(registry_.schema_name(type.schema)) +
                              "' cannot be loaded into a FlatBuffers parser");
  }
  if (!parser->SetRootType(type.root_table.c_str())) {
    return Status::Corruption(where() + ": the binary schema does not define the table");
  }
  if (!flatbuffers::GenerateText(*parser, event.body().data(), out)) {
    out->clear();
    return Status::Corruption(where() + ": FlatBuffers cannot print the body as JSON (a string that is not UTF-8)");
  }
  return Status::OK();
}

Status JsonPrinter::Print(const DecodedEvent& event, std::string* out) {
  std::string body;
  RILL_RETURN_IF_ERROR(PrintBody(event, &body));
  const EventTypeInfo& type = event.type();
  char head[256];
  std::snprintf(head, sizeof head,
                "{\"position\":%" PRIu64 ",\"stream_id\":%" PRIu64 ",\"stream_version\":%" PRIu64
                ",\"timestamp_ns\":%" PRId64 ",\"command_id\":%" PRIu64,
                event.position(), event.stream_id(), event.stream_version(), event.timestamp_ns(), event.command_id());
  out->assign(head);
  if (event.command_fingerprint() != 0) {  // a hex string: many JSON readers lose 64-bit numbers
    std::snprintf(head, sizeof head, ",\"command_fingerprint\":\"%016" PRIx64 "\"", event.command_fingerprint());
    out->append(head);
  }
  if (!type.aggregate.empty()) {  // the stream's kind, from the schema (rill_aggregate)
    out->append(",\"aggregate\":");
    (void)flatbuffers::EscapeString(type.aggregate.c_str(), type.aggregate.size(), out, false, false);
  }
  out->append(",\"event_type\":" + std::to_string(event.event_type()) + ",\"type\":");
  // Names come from a schema blob (possibly a hostile one): escape them the way FlatBuffers does.
  (void)flatbuffers::EscapeString(type.name.c_str(), type.name.size(), out, /*allow_non_utf8=*/false, false);
  out->append(",\"schema_version\":" + std::to_string(type.version));
  if (event.upcast()) out->append(",\"recorded_version\":" + std::to_string(event.recorded_version()));
  out->append(",\"table\":");
  (void)flatbuffers::EscapeString(type.root_table.c_str(), type.root_table.size(), out, false, false);
  out->append(",\"body\":");
  out->append(body);
  out->push_back('}');
  return Status::OK();
}

}  // namespace rill::codecs
