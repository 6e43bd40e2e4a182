// rill/codecs/domaingen/schema_model.h: a domain's binary schema (.bfbs) read into plain
// values: its event tables (rill_event), their versions, aggregate kinds and fields, with the
// C++ spelling each generated file needs. Everything after this step works on the model, never
// on reflection, so the checks and the emitters stay small and testable.
//
//   DomainModel model;
//   std::vector<std::string> errors;
//   if (!ReadDomainModel(bfbs_bytes, {.domain_id = 1, .schema_name = "bank", .label = "bank.fbs"}, &model, &errors))
//     for (const std::string& e : errors) std::cerr << e << '\n';
//
// Thread safety: plain values and pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace rill::codecs::domaingen {

// How a field maps to a member of the generated event struct.
enum class FieldKind : std::uint8_t {
  kScalar,       // bool, integers, float, double: the C++ arithmetic type
  kEnum,         // the flatc enum class
  kStruct,       // the flatc struct, by value
  kString,       // string -> rill::engine::BytesRef
  kBytes,        // [ubyte] -> rill::engine::BytesRef
  kUnsupported,  // tables, unions, other vectors: fine in an old version, an error in the newest
};

struct FieldModel {
  std::uint16_t id = 0;
  std::string name;      // as in the schema (and flatc's accessor, keywords escaped in cpp_name)
  std::string cpp_name;  // member / accessor name in C++
  FieldKind kind = FieldKind::kScalar;
  std::string lock_type;           // canonical type as the lock records it: "long", "string", "enum:a.Color:ubyte"
  std::string cpp_type;            // member type in the event struct (empty for kUnsupported)
  std::string cpp_default;         // member initializer: "0", "::a::Color::Red", "{}"
  std::size_t add_order_size = 0;  // flatc's CreateX adds fields by this size, largest first
  bool required = false;
  bool deprecated = false;
};

struct EventModel {
  std::string table;          // fully qualified schema name: "inventory.fb.PriceChangedV1"
  std::string cpp_table;      // "::inventory::fb::PriceChangedV1"
  std::string short_name;     // of the newest version's table: "PriceChanged" (the struct's name)
  std::string logical_name;   // "<schema name>.<short_name>", the same for all versions
  std::uint16_t number = 0;   // rill_event
  std::uint16_t version = 1;  // rill_version
  std::uint32_t type_id = 0;
  bool newest = false;                     // the highest version of this number: gets the struct
  std::string aggregate;                   // rill_aggregate, empty when not given
  bool ends = false;                       // rill_ends
  std::vector<std::string> documentation;  // the table's /// comments
  std::vector<FieldModel> fields;          // by id
};

struct DomainModel {
  std::vector<EventModel> events;  // by (type_id, version)
  std::vector<std::string> kinds;  // aggregate kinds, in order of first appearance by type id
};

struct ReadOptions {
  std::uint16_t domain_id = 0;
  std::string schema_name;  // the target: logical names are "<schema_name>.<Table>"
  std::string label;        // how messages name the schema: "bank.fbs"
};

// Verifies the .bfbs and reads every table with a rill_event attribute. Returns false and
// appends one message per problem (each naming the schema, event and field) when the schema
// cannot be a domain: bad attribute values, duplicate (number, version), version gaps, field
// types an event struct cannot hold, mixed aggregate kinds.
bool ReadDomainModel(std::span<const std::uint8_t> bfbs, const ReadOptions& options, DomainModel* out,
                     std::vector<std::string>* errors);

// "event bank.Deposited (type 0x00010002)" and ", version 2" when the version is not 1: the
// prefix of every message about one event.
std::string DescribeEvent(const std::string& logical_name, std::uint32_t type_id, std::uint16_t version);

}  // namespace rill::codecs::domaingen
