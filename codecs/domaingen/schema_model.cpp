// Reads a .bfbs with FlatBuffers reflection into the plain DomainModel (schema_model.h).
// Why one file past 400 lines: every rule about what a schema may declare (attributes, versions,
// field types an event can hold, kinds) is checked here, in the one pass that reads it, so a
// schema error is found and named in one place.
#include "rill/codecs/domaingen/schema_model.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <set>
#include <utility>

#include "flatbuffers/reflection.h"

namespace rill::codecs::domaingen {
namespace {
// A string or [ubyte] field is a view into the command (encoding) or the record (decoding).
// FlatBuffers tells an absent field from an empty one, and so does the struct: only a required
// field is a plain view; any other is std::optional (empty = absent, e.g. "title unchanged").
std::string ViewType(bool required) {
  return required ? "::rill::engine::BytesRef" : "std::optional<::rill::engine::BytesRef>";
}

using reflection::BaseType;

// One row per FlatBuffers scalar: its name in a schema (and the lock) and its C++ member type.
struct ScalarType {
  BaseType base;
  const char* schema;
  const char* cpp;
};
constexpr ScalarType kScalars[] = {
    {BaseType::Bool, "bool", "bool"},
    {BaseType::Byte, "byte", "std::int8_t"},
    {BaseType::UByte, "ubyte", "std::uint8_t"},
    {BaseType::Short, "short", "std::int16_t"},
    {BaseType::UShort, "ushort", "std::uint16_t"},
    {BaseType::Int, "int", "std::int32_t"},
    {BaseType::UInt, "uint", "std::uint32_t"},
    {BaseType::Long, "long", "std::int64_t"},
    {BaseType::ULong, "ulong", "std::uint64_t"},
    {BaseType::Float, "float", "float"},
    {BaseType::Double, "double", "double"},
};
const ScalarType* FindScalar(BaseType t) {
  for (const ScalarType& s : kScalars)
    if (s.base == t) return &s;
  return nullptr;
}
const char* ScalarSchemaName(BaseType t) {
  const ScalarType* s = FindScalar(t);
  return s ? s->schema : nullptr;
}
const char* ScalarCppType(BaseType t) {
  const ScalarType* s = FindScalar(t);
  return s ? s->cpp : nullptr;
}

// The size flatc's CreateX sorts by: scalars their own, every offset (string, vector, table,
// union) and struct 4 (idl.h's SizeOf treats a struct field like an offset).
std::size_t AddOrderSize(BaseType t) {
  switch (t) {
    case BaseType::Bool:
    case BaseType::Byte:
    case BaseType::UByte:
    case BaseType::UType:
      return 1;
    case BaseType::Short:
    case BaseType::UShort:
      return 2;
    case BaseType::Long:
    case BaseType::ULong:
    case BaseType::Double:
      return 8;
    default:
      return 4;
  }
}

bool IsUnsigned(BaseType t) {
  return t == BaseType::UByte || t == BaseType::UShort || t == BaseType::UInt || t == BaseType::ULong;
}

// flatc appends '_' to field names that are C++ keywords; the generated code must call the same names.
std::string EscapeKeyword(const std::string& name) {
  static const std::set<std::string> kKeywords = {
      "alignas",   "alignof",  "and",      "and_eq",    "asm",          "auto",          "bitand",
      "bitor",     "bool",     "break",    "case",      "catch",        "char",          "char16_t",
      "char32_t",  "class",    "compl",    "const",     "constexpr",    "const_cast",    "continue",
      "decltype",  "default",  "delete",   "do",        "double",       "dynamic_cast",  "else",
      "enum",      "explicit", "export",   "extern",    "false",        "float",         "for",
      "friend",    "goto",     "if",       "inline",    "int",          "long",          "mutable",
      "namespace", "new",      "noexcept", "not",       "not_eq",       "nullptr",       "operator",
      "or",        "or_eq",    "private",  "protected", "public",       "register",      "reinterpret_cast",
      "return",    "short",    "signed",   "sizeof",    "static",       "static_assert", "static_cast",
      "struct",    "switch",   "template", "this",      "thread_local", "throw",         "true",
      "try",       "typedef",  "typeid",   "typename",  "union",        "unsigned",      "using",
      "virtual",   "void",     "volatile", "wchar_t",   "while",        "xor",           "xor_eq"};
  return kKeywords.count(name) != 0 ? name + "_" : name;
}

// "a.b.C" -> "::a::b::C"
std::string CppQualified(const std::string& schema_name) {
  std::string out = "::";
  for (char c : schema_name) {
    if (c == '.') {
      out += "::";
    } else {
      out += c;
    }
  }
  return out;
}

std::string ShortName(const std::string& qualified) {
  const std::size_t dot = qualified.rfind('.');
  return dot == std::string::npos ? qualified : qualified.substr(dot + 1);
}

bool IsIdentifier(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

const reflection::KeyValue* FindAttribute(const reflection::Object& object, const char* key) {
  if (object.attributes() == nullptr) return nullptr;
  for (const reflection::KeyValue* kv : *object.attributes()) {
    if (kv->key() != nullptr && kv->key()->str() == key) return kv;
  }
  return nullptr;
}

bool ParseU16(const reflection::KeyValue* kv, std::uint16_t* out) {
  if (kv == nullptr || kv->value() == nullptr) return false;
  const std::string v = kv->value()->str();
  unsigned long parsed = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), parsed);
  if (ec != std::errc() || end != v.data() + v.size() || parsed == 0 || parsed > 65535) return false;
  *out = static_cast<std::uint16_t>(parsed);
  return true;
}

std::string IntegerLiteral(BaseType t, std::int64_t v) {
  if (t == BaseType::Bool) return v != 0 ? "true" : "false";
  if (IsUnsigned(t)) return std::to_string(static_cast<std::uint64_t>(v)) + (t == BaseType::ULong ? "ull" : "u");
  if (v == INT64_MIN) return "(-9223372036854775807ll - 1)";
  return std::to_string(v) + (t == BaseType::Long ? "ll" : "");
}

std::string RealLiteral(BaseType t, double v) {
  const bool is_float = t == BaseType::Float;
  const char* limits = is_float ? "std::numeric_limits<float>::" : "std::numeric_limits<double>::";
  if (std::isnan(v)) return std::string(limits) + "quiet_NaN()";
  if (std::isinf(v)) return std::string(v < 0 ? "-" : "") + limits + "infinity()";
  char buf[64];
  std::snprintf(buf, sizeof buf, is_float ? "%.9g" : "%.17g", v);
  std::string s = buf;
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return is_float ? s + "f" : s;
}

class Reader {
 public:
  Reader(const reflection::Schema& schema, const ReadOptions& options, std::vector<std::string>* errors)
      : schema_(schema), options_(options), errors_(errors) {}

  bool Read(DomainModel* out);

 private:
  void Error(const std::string& message) { errors_->push_back(options_.label + ": " + message); }
  bool ReadEvent(const reflection::Object& object, EventModel* event);
  FieldModel ReadField(const reflection::Field& field);
  std::string EnumDefault(const reflection::Enum& e, std::int64_t value, const std::string& cpp_enum);

  const reflection::Schema& schema_;
  const ReadOptions& options_;
  std::vector<std::string>* errors_;
};

std::string Reader::EnumDefault(const reflection::Enum& e, std::int64_t value, const std::string& cpp_enum) {
  for (const reflection::EnumVal* v : *e.values()) {
    if (v->value() == value) return cpp_enum + "::" + v->name()->str();
  }
  return "static_cast<" + cpp_enum + ">(" + std::to_string(value) + ")";
}

FieldModel Reader::ReadField(const reflection::Field& field) {
  FieldModel f;
  f.id = field.id();
  f.name = field.name()->str();
  f.cpp_name = EscapeKeyword(f.name);
  f.required = field.required();
  f.deprecated = field.deprecated();
  const reflection::Type& type = *field.type();
  const BaseType base = type.base_type();
  f.add_order_size = AddOrderSize(base);
  f.kind = FieldKind::kUnsupported;
  if (const char* scalar = ScalarSchemaName(base)) {
    if (type.index() >= 0 && base != BaseType::Bool) {
      const reflection::Enum& e = *schema_.enums()->Get(static_cast<flatbuffers::uoffset_t>(type.index()));
      f.kind = FieldKind::kEnum;
      f.lock_type = "enum:" + e.name()->str() + ":" + scalar;
      f.cpp_type = CppQualified(e.name()->str());
      f.cpp_default = EnumDefault(e, field.default_integer(), f.cpp_type);
    } else {
      f.kind = FieldKind::kScalar;
      f.lock_type = scalar;
      f.cpp_type = ScalarCppType(base);
      f.cpp_default = (base == BaseType::Float || base == BaseType::Double)
                          ? RealLiteral(base, field.default_real())
                          : IntegerLiteral(base, field.default_integer());
    }
    // Optional scalars (`= null`) would need std::optional members; not supported (yet).
    if (field.optional()) {
      f.kind = FieldKind::kUnsupported;
      f.lock_type += "?";
    }
    return f;
  }
  switch (base) {
    case BaseType::String:
      f.kind = FieldKind::kString;
      f.lock_type = "string";
      f.cpp_type = ViewType(f.required);
      f.cpp_default = "{}";
      return f;
    case BaseType::Vector: {
      const BaseType element = type.element();
      if (element == BaseType::UByte && type.index() < 0) {
        f.kind = FieldKind::kBytes;
        f.lock_type = "[ubyte]";
        f.cpp_type = ViewType(f.required);
        f.cpp_default = "{}";
        return f;
      }
      if (element == BaseType::Obj) {
        f.lock_type =
            "[" + schema_.objects()->Get(static_cast<flatbuffers::uoffset_t>(type.index()))->name()->str() + "]";
      } else if (type.index() >= 0 && element != BaseType::String) {
        f.lock_type =
            "[" + schema_.enums()->Get(static_cast<flatbuffers::uoffset_t>(type.index()))->name()->str() + "]";
      } else {
        const char* e = ScalarSchemaName(element);
        f.lock_type = std::string("[") + (e != nullptr ? e : "string") + "]";
      }
      return f;
    }
    case BaseType::Obj: {
      const reflection::Object& o = *schema_.objects()->Get(static_cast<flatbuffers::uoffset_t>(type.index()));
      if (o.is_struct()) {
        f.kind = FieldKind::kStruct;
        // The byte size too: a field added to a struct changes every record that holds it.
        f.lock_type = "struct:" + o.name()->str() + ":" + std::to_string(o.bytesize());
        f.cpp_type = CppQualified(o.name()->str());
        f.cpp_default = "{}";
      } else {
        f.lock_type = "table:" + o.name()->str();
      }
      return f;
    }
    case BaseType::Union:
    case BaseType::UType:
      f.lock_type = std::string(base == BaseType::Union ? "union:" : "utype:") +
                    schema_.enums()->Get(static_cast<flatbuffers::uoffset_t>(type.index()))->name()->str();
      return f;
    default:
      f.lock_type = "unknown";
      return f;
  }
}

bool Reader::ReadEvent(const reflection::Object& object, EventModel* event) {
  event->table = object.name()->str();
  event->cpp_table = CppQualified(event->table);
  const std::size_t errors_before = errors_->size();
  if (object.is_struct()) {
    Error("struct " + event->table + " has rill_event: only tables can be events");
    return false;
  }
  if (!ParseU16(FindAttribute(object, "rill_event"), &event->number)) {
    Error("table " + event->table + ": rill_event must be a number from 1 to 65535 (the event's number in the domain)");
  }
  if (const reflection::KeyValue* v = FindAttribute(object, "rill_version");
      v != nullptr && !ParseU16(v, &event->version)) {
    Error("table " + event->table + ": rill_version must be a number from 1 to 65535");
  }
  if (const reflection::KeyValue* a = FindAttribute(object, "rill_aggregate")) {
    event->aggregate = a->value() != nullptr ? a->value()->str() : "";
    if (!IsIdentifier(event->aggregate)) {
      Error("table " + event->table + ": rill_aggregate \"" + event->aggregate +
            "\" is not a C++ identifier (it names the aggregate's state struct)");
    }
  }
  // A flag: `rill_ends` alone (flatc records "0" for an attribute without a value) or `rill_ends: true`.
  if (const reflection::KeyValue* e = FindAttribute(object, "rill_ends")) {
    event->ends = e->value() == nullptr || e->value()->str() != "false";
  }
  event->type_id = (static_cast<std::uint32_t>(options_.domain_id) << 16) | event->number;
  if (object.documentation() != nullptr) {
    for (const flatbuffers::String* line : *object.documentation()) event->documentation.push_back(line->str());
  }
  for (const reflection::Field* field : *object.fields()) event->fields.push_back(ReadField(*field));
  std::sort(event->fields.begin(), event->fields.end(),
            [](const FieldModel& a, const FieldModel& b) { return a.id < b.id; });
  return errors_->size() == errors_before;
}

bool Reader::Read(DomainModel* out) {
  const std::size_t errors_before = errors_->size();
  std::vector<EventModel> events;
  for (const reflection::Object* object : *schema_.objects()) {
    if (FindAttribute(*object, "rill_event") == nullptr) continue;
    EventModel event;
    if (ReadEvent(*object, &event)) events.push_back(std::move(event));
  }
  std::sort(events.begin(), events.end(), [](const EventModel& a, const EventModel& b) {
    return std::pair(a.type_id, a.version) < std::pair(b.type_id, b.version);
  });

  // Versions of one number: 1..n without gaps, each (number, version) once.
  std::map<std::uint16_t, std::vector<EventModel*>> by_number;
  for (EventModel& e : events) by_number[e.number].push_back(&e);
  for (auto& [number, versions] : by_number) {
    EventModel& newest = *versions.back();
    newest.newest = true;
    for (EventModel* v : versions) {
      v->short_name = ShortName(newest.table);
      v->logical_name = options_.schema_name + "." + v->short_name;
    }
    for (std::size_t i = 0; i < versions.size(); ++i) {
      if (i > 0 && versions[i]->version == versions[i - 1]->version) {
        Error("tables " + versions[i - 1]->table + " and " + versions[i]->table + " both have rill_event " +
              std::to_string(number) + ", rill_version " + std::to_string(versions[i]->version) +
              ": give each table its own number (a new event) or its own rill_version (a new version)");
      } else if (versions[i]->version != i + 1) {
        Error(DescribeEvent(newest.logical_name, newest.type_id, newest.version) + ": version " +
              std::to_string(i + 1) + " is missing (" + versions[i]->table + " has rill_version " +
              std::to_string(versions[i]->version) +
              "): keep every older version in the schema, numbered from 1, so old records can be upcast");
        break;
      }
    }
  }

  // Newest versions become C++ structs: their fields must fit one, and names must not collide.
  std::set<std::string> struct_names;
  std::size_t with_kind = 0;
  std::size_t newest_count = 0;
  for (const EventModel& e : events) {
    if (!e.newest) continue;
    ++newest_count;
    const std::string what = DescribeEvent(e.logical_name, e.type_id, e.version);
    if (!struct_names.insert(e.short_name).second) {
      Error(what + ": another event table is also named " + e.short_name +
            ": the generated structs are named after the tables, so rename one");
    }
    if (!e.aggregate.empty()) ++with_kind;
    for (const FieldModel& f : e.fields) {
      if (f.kind == FieldKind::kUnsupported && !f.deprecated) {
        Error(what + ": field " + f.name + " has type " + f.lock_type +
              ", which an event struct cannot hold: use scalars, enums, structs, string or [ubyte]"
              " (optional scalars `= null` are not supported either)");
      }
    }
  }
  if (with_kind != 0 && with_kind != newest_count) {
    for (const EventModel& e : events) {
      if (e.newest && e.aggregate.empty()) {
        Error(DescribeEvent(e.logical_name, e.type_id, e.version) +
              " has no rill_aggregate while other events have one: name the aggregate kind of every event, or of none");
      }
    }
  }
  std::vector<std::string> kinds;
  for (const EventModel& e : events) {
    if (!e.newest || e.aggregate.empty()) continue;
    if (std::find(kinds.begin(), kinds.end(), e.aggregate) == kinds.end()) kinds.push_back(e.aggregate);
    if (struct_names.count(e.aggregate) != 0) {
      Error(DescribeEvent(e.logical_name, e.type_id, e.version) + ": rill_aggregate " + e.aggregate +
            " is also the name of an event: the state struct and the event struct would collide");
    }
  }
  if (events.empty()) {
    Error(
        "no table has a rill_event attribute: declare `attribute \"rill_event\";` and give each event table"
        " (rill_event: <n>)");
  }
  out->events = std::move(events);
  out->kinds = std::move(kinds);
  return errors_->size() == errors_before;
}

}  // namespace

std::string DescribeEvent(const std::string& logical_name, std::uint32_t type_id, std::uint16_t version) {
  char id[16];
  std::snprintf(id, sizeof id, "0x%08X", static_cast<unsigned>(type_id));
  std::string s = "event " + logical_name + " (type " + id;
  if (version != 1) s += ", version " + std::to_string(version);
  return s + ")";
}

bool ReadDomainModel(std::span<const std::uint8_t> bfbs, const ReadOptions& options, DomainModel* out,
                     std::vector<std::string>* errors) {
  flatbuffers::Verifier verifier(bfbs.data(), bfbs.size());
  if (!reflection::VerifySchemaBuffer(verifier)) {
    errors->push_back(options.label +
                      ": the binary schema is not a valid .bfbs: produce it with flatc --binary --schema "
                      "--bfbs-builtins --bfbs-filenames");
    return false;
  }
  const reflection::Schema& schema = *reflection::GetSchema(bfbs.data());
  return Reader(schema, options, errors).Read(out);
}

}  // namespace rill::codecs::domaingen
