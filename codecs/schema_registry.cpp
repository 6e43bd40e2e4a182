#include "rill/codecs/schema_registry.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <utility>

#include "rill/codecs/schema_blob_generated.h"

namespace rill::codecs {
namespace {

constexpr std::uint32_t kBlobFormatVersion = 1;

std::string Hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
}

// FNV-1a, 64 bit: tiny, stable across platforms and versions, and enough to tell schema sets
// apart (a fingerprint names a schema; it does not defend against forgery).
class Fnv1a {
 public:
  void Bytes(const void* data, std::size_t n) {
    const auto* p = static_cast<const std::uint8_t*>(data);
    for (std::size_t i = 0; i < n; ++i) h_ = (h_ ^ p[i]) * 0x100000001b3ull;
  }
  void U64(std::uint64_t v) {
    std::uint8_t le[8];
    for (int i = 0; i < 8; ++i) le[i] = static_cast<std::uint8_t>(v >> (8 * i));
    Bytes(le, sizeof le);
  }
  void Str(std::string_view s) {
    U64(s.size());
    Bytes(s.data(), s.size());
  }
  std::uint64_t value() const { return h_; }

 private:
  std::uint64_t h_ = 0xcbf29ce484222325ull;
};

// Verifies a binary schema and returns its root, or nullptr. REQUIRES: bfbs is 8-byte aligned.
const reflection::Schema* VerifiedSchema(std::span<const std::uint8_t> bfbs) {
  if (bfbs.size() < 8 || !reflection::SchemaBufferHasIdentifier(bfbs.data())) return nullptr;
  flatbuffers::Verifier verifier(bfbs.data(), bfbs.size());
  if (!reflection::VerifySchemaBuffer(verifier)) return nullptr;
  return reflection::GetSchema(bfbs.data());
}

// The table named root_table in schema, or nullptr when it is absent or a struct.
const reflection::Object* FindTable(const reflection::Schema& schema, const std::string& root_table) {
  // A linear scan rather than objects()->LookupByKey: cold path, and GCC 12 at -O1 with ASan
  // reports a false stringop-overread inside the generated KeyCompareWithValue.
  for (const reflection::Object* obj : *schema.objects()) {
    if (obj->name()->string_view() == root_table) return obj->is_struct() ? nullptr : obj;
  }
  return nullptr;
}

}  // namespace

SchemaRegistry::~SchemaRegistry() = default;

namespace {
// The schema's word on the event's aggregate (codecs/domaingen/README.md): the kind's name and
// whether the event ends it. Read from the binary schema, so tools know it with no domain code.
void ReadAggregateAttributes(EventTypeInfo* t) {
  t->aggregate.clear();
  t->ends_aggregate = false;
  if (t->root_object == nullptr || t->root_object->attributes() == nullptr) return;
  // A linear scan, as FindTable: a blob read from disk is verified but its keys need not be
  // sorted (LookupByKey's binary search assumes it), and GCC 12 with ASan misreads LookupByKey.
  for (const reflection::KeyValue* kv : *t->root_object->attributes()) {
    if (kv == nullptr || kv->key() == nullptr) continue;
    const std::string_view key = kv->key()->string_view();
    if (key == "rill_aggregate" && kv->value() != nullptr) t->aggregate = kv->value()->str();
    if (key == "rill_ends") t->ends_aggregate = true;
  }
}
}  // namespace

Status SchemaRegistry::Index() {
  // Versions of one type are adjacent after sorting, so each entry's successor is the next one.
  std::sort(types_.begin(), types_.end(), [](const EventTypeInfo& a, const EventTypeInfo& b) {
    return SlotKey(a.type_id, a.version) < SlotKey(b.type_id, b.version);
  });
  for (std::size_t i = 0; i < types_.size(); ++i) {
    EventTypeInfo& t = types_[i];
    ReadAggregateAttributes(&t);
    if (i + 1 < types_.size() && types_[i + 1].type_id == t.type_id) {
      const EventTypeInfo& n = types_[i + 1];
      if (n.version == t.version) {
        return Status::InvalidArgument("event type " + Hex(t.type_id) + " version " + std::to_string(t.version) +
                                       " is registered twice ('" + t.root_table + "' and '" + n.root_table +
                                       "'): give each schema version its own number");
      }
      if (n.name != t.name) {
        return Status::InvalidArgument("event type " + Hex(t.type_id) + " is named both '" + t.name + "' and '" +
                                       n.name + "': a type id has one name across its versions");
      }
      t.next = t.upcast ? &types_[i + 1] : nullptr;
    }
    std::size_t last = i;
    while (last + 1 < types_.size() && types_[last + 1].type_id == t.type_id) ++last;
    t.latest_version = types_[last].version;
  }

  std::uint32_t capacity = 8;
  while (capacity < 2 * types_.size()) capacity *= 2;
  slots_.assign(capacity, Slot{});
  slot_mask_ = capacity - 1;
  for (const EventTypeInfo& t : types_) {
    const std::uint64_t key = SlotKey(t.type_id, t.version);
    std::uint32_t s = SlotHash(key) & slot_mask_;
    while (slots_[s].key != 0) s = (s + 1) & slot_mask_;
    slots_[s] = Slot{key, &t};
  }

  // The blob and the fingerprint describe the same content: every schema, then every type.
  Fnv1a h;
  h.Str("rill.schema_blob");
  h.U64(kBlobFormatVersion);
  h.U64(kEnvelopeSize);
  flatbuffers::FlatBufferBuilder fbb(4096);
  std::vector<flatbuffers::Offset<fb::SchemaFile>> files;
  for (const Schema& s : schemas_) {
    h.Str(s.name);
    h.U64(s.bfbs.size());
    h.Bytes(s.bfbs.data(), s.bfbs.size());
    const auto name = fbb.CreateString(s.name);
    // The schema is itself a FlatBuffer with 8-byte scalars: keep it 8-byte aligned in the blob.
    fbb.ForceVectorAlignment(s.bfbs.size(), 1, 8);
    const auto bytes = fbb.CreateVector(s.bfbs);
    files.push_back(fb::CreateSchemaFile(fbb, name, bytes));
  }
  std::vector<flatbuffers::Offset<fb::EventType>> entries;
  for (const EventTypeInfo& t : types_) {
    h.U64(t.type_id);
    h.U64(t.version);
    h.Str(t.name);
    h.Str(t.root_table);
    h.U64(t.schema);
    entries.push_back(
        fb::CreateEventTypeDirect(fbb, t.type_id, t.version, t.name.c_str(), t.root_table.c_str(), t.schema));
  }
  const auto files_vec = fbb.CreateVector(files);
  const auto entries_vec = fbb.CreateVector(entries);
  fb::FinishSchemaBlobBuffer(fbb, fb::CreateSchemaBlob(fbb, kBlobFormatVersion, kEnvelopeSize, files_vec, entries_vec));
  blob_.assign(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
  fingerprint_ = h.value();
  return Status::OK();
}

const EventTypeInfo* SchemaRegistry::FindAnyVersion(std::uint32_t type_id) const noexcept {
  const auto it = std::lower_bound(types_.begin(), types_.end(), type_id,
                                   [](const EventTypeInfo& t, std::uint32_t id) { return t.type_id < id; });
  return it != types_.end() && it->type_id == type_id ? &*it : nullptr;
}

Result<SchemaRegistry> SchemaRegistry::FromBlob(std::span<const std::uint8_t> blob) {
  // A copy: the caller's bytes (a mapped journal file) need not be aligned or outlive us.
  const std::vector<std::uint8_t> bytes(blob.begin(), blob.end());
  flatbuffers::Verifier verifier(bytes.data(), bytes.size());
  if (bytes.size() < 8 || !fb::SchemaBlobBufferHasIdentifier(bytes.data()) || !fb::VerifySchemaBlobBuffer(verifier)) {
    return Status::Corruption("schema blob (" + std::to_string(bytes.size()) +
                              " bytes) is not a rill schema blob or fails FlatBuffers verification: the journal's "
                              "schema file is damaged; restore it from a copy made by the writing application");
  }
  const fb::SchemaBlob* root = fb::GetSchemaBlob(bytes.data());
  if (root->format_version() != kBlobFormatVersion || root->envelope_size() != kEnvelopeSize) {
    return Status::Corruption("schema blob has format " + std::to_string(root->format_version()) +
                              " and envelope size " + std::to_string(root->envelope_size()) +
                              ", this rill reads format 1 with a 40-byte envelope: use a newer rill");
  }
  SchemaRegistry reg;
  for (const fb::SchemaFile* f : *root->schemas()) {
    Schema s{f->name()->str(), std::vector<std::uint8_t>(f->bfbs()->begin(), f->bfbs()->end())};
    if (VerifiedSchema(s.bfbs) == nullptr) {
      return Status::Corruption("schema blob: binary schema '" + s.name +
                                "' fails verification: the journal's schema file is damaged");
    }
    reg.schemas_.push_back(std::move(s));
  }
  for (const fb::EventType* e : *root->types()) {
    EventTypeInfo t;
    t.type_id = e->type_id();
    t.version = e->version();
    t.name = e->name()->str();
    t.root_table = e->root_table()->str();
    t.schema = e->schema();
    if (t.schema >= reg.schemas_.size()) {
      return Status::Corruption("schema blob: event type " + Hex(t.type_id) + " refers to schema " +
                                std::to_string(t.schema) + " of " + std::to_string(reg.schemas_.size()));
    }
    t.reflection_schema = reflection::GetSchema(reg.schemas_[t.schema].bfbs.data());
    t.root_object = FindTable(*t.reflection_schema, t.root_table);
    if (t.root_object == nullptr) {
      return Status::Corruption("schema blob: event type " + Hex(t.type_id) + " names table '" + t.root_table +
                                "', which schema '" + reg.schemas_[t.schema].name + "' does not define");
    }
    reg.types_.push_back(std::move(t));
  }
  RILL_RETURN_IF_ERROR(reg.Index().WithContext("schema blob"));
  return reg;
}

Result<SchemaRegistry> SchemaRegistry::FromBlob(std::span<const std::uint8_t> blob,
                                                std::uint64_t expected_fingerprint) {
  Result<SchemaRegistry> reg = FromBlob(blob);
  if (!reg.ok()) return reg;
  if (reg->fingerprint() != expected_fingerprint) {
    return Status::Corruption("schema blob has fingerprint " + Hex(reg->fingerprint()) + " but the journal names " +
                              Hex(expected_fingerprint) +
                              ": the schema file beside the segments belongs to another journal");
  }
  return reg;
}

Status SchemaRegistry::CheckJournalSchema(std::uint64_t fingerprint, std::span<const std::uint8_t> blob) const {
  if (fingerprint == fingerprint_) return Status::OK();
  if (blob.empty()) {
    return Status::NotFound("unknown schema fingerprint " + Hex(fingerprint) + " (this build has " + Hex(fingerprint_) +
                            ") and the journal carries no schema blob for it: open the journal with the build "
                            "that wrote it, or restore its schema file");
  }
  Result<SchemaRegistry> theirs = FromBlob(blob, fingerprint);
  if (!theirs.ok()) return theirs.status();
  for (const EventTypeInfo& t : theirs->types()) {
    if (Find(t.type_id, t.version) == nullptr) {
      return Status::NotFound("unknown schema fingerprint " + Hex(fingerprint) + ": the journal records event type " +
                              Hex(t.type_id) + " '" + t.name + "' version " + std::to_string(t.version) +
                              ", which this build does not register: register that version (and its upcaster) "
                              "or read the journal with a build that knows it");
    }
  }
  return Status::OK();
}

SchemaRegistryBuilder& SchemaRegistryBuilder::AddSchema(std::string_view name, std::span<const std::uint8_t> bfbs) {
  if (!first_error_.ok()) return *this;
  for (const auto& s : reg_.schemas_) {
    if (s.name == name) {
      first_error_ = Status::InvalidArgument("schema '" + std::string(name) + "' is added twice");
      return *this;
    }
  }
  SchemaRegistry::Schema s{std::string(name), std::vector<std::uint8_t>(bfbs.begin(), bfbs.end())};
  if (VerifiedSchema(s.bfbs) == nullptr) {
    first_error_ =
        Status::InvalidArgument("schema '" + s.name + "' is not a binary schema (flatc --binary --schema output)");
    return *this;
  }
  reg_.schemas_.push_back(std::move(s));
  return *this;
}

SchemaRegistryBuilder& SchemaRegistryBuilder::AddEventType(std::string_view schema, std::uint32_t type_id,
                                                           std::uint16_t version, std::string_view name,
                                                           std::string_view root_table, BodyVerifier verify) {
  if (!first_error_.ok()) return *this;
  EventTypeInfo t;
  t.type_id = type_id;
  t.version = version;
  t.name = std::string(name);
  t.root_table = std::string(root_table);
  t.verify = verify;
  if (type_id == 0 || version == 0) {
    first_error_ = Status::InvalidArgument("event '" + t.name + "': type id 0 and version 0 are reserved");
    return *this;
  }
  const auto it = std::find_if(reg_.schemas_.begin(), reg_.schemas_.end(),
                               [&](const SchemaRegistry::Schema& s) { return s.name == schema; });
  if (it == reg_.schemas_.end()) {
    first_error_ = Status::InvalidArgument("event '" + t.name + "' names schema '" + std::string(schema) +
                                           "', which was not added: call AddSchema first");
    return *this;
  }
  t.schema = static_cast<std::uint32_t>(it - reg_.schemas_.begin());
  t.reflection_schema = reflection::GetSchema(it->bfbs.data());
  t.root_object = FindTable(*t.reflection_schema, t.root_table);
  if (t.root_object == nullptr) {
    first_error_ = Status::InvalidArgument("event '" + t.name + "': schema '" + it->name + "' has no table '" +
                                           t.root_table + "': regenerate the .bfbs from the same .fbs");
    return *this;
  }
  reg_.types_.push_back(std::move(t));
  return *this;
}

SchemaRegistryBuilder& SchemaRegistryBuilder::AddUpcasterFn(std::uint32_t type_id, std::uint16_t from_version,
                                                            UpcastFn fn) {
  if (!first_error_.ok()) return *this;
  upcasters_.push_back({type_id, from_version, std::move(fn)});
  return *this;
}

Result<SchemaRegistry> SchemaRegistryBuilder::Build() && {
  if (!first_error_.ok()) return first_error_;
  SchemaRegistry& reg = reg_;
  // Canonical order, so the blob and fingerprint do not depend on registration order.
  std::vector<std::uint32_t> order(reg.schemas_.size());
  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::uint32_t a, std::uint32_t b) { return reg.schemas_[a].name < reg.schemas_[b].name; });
  std::vector<std::uint32_t> new_index(order.size());
  std::vector<SchemaRegistry::Schema> sorted;
  for (std::uint32_t i = 0; i < order.size(); ++i) {
    new_index[order[i]] = i;
    sorted.push_back(std::move(reg.schemas_[order[i]]));
  }
  reg.schemas_ = std::move(sorted);
  for (EventTypeInfo& t : reg.types_) t.schema = new_index[t.schema];

  for (PendingUpcaster& u : upcasters_) {
    auto from = std::find_if(reg.types_.begin(), reg.types_.end(), [&](const EventTypeInfo& t) {
      return t.type_id == u.type_id && t.version == u.from_version;
    });
    const bool has_to = std::any_of(reg.types_.begin(), reg.types_.end(), [&](const EventTypeInfo& t) {
      return t.type_id == u.type_id && t.version == u.from_version + 1;
    });
    if (from == reg.types_.end() || !has_to) {
      return Status::InvalidArgument("upcaster for event type " + Hex(u.type_id) + " from version " +
                                     std::to_string(u.from_version) + ": register both version " +
                                     std::to_string(u.from_version) + " and " + std::to_string(u.from_version + 1));
    }
    if (from->upcast) {
      return Status::InvalidArgument("event type " + Hex(u.type_id) + " has two upcasters from version " +
                                     std::to_string(u.from_version));
    }
    from->upcast = std::move(u.fn);
  }
  RILL_RETURN_IF_ERROR(reg.Index());
  for (const EventTypeInfo& t : reg.types_) {
    if (t.version != t.latest_version && !t.upcast) {
      return Status::InvalidArgument("event type " + Hex(t.type_id) + " '" + t.name + "' has version " +
                                     std::to_string(t.latest_version) + " but no upcaster from version " +
                                     std::to_string(t.version) +
                                     ": readers must see the newest version, so add AddUpcaster<v" +
                                     std::to_string(t.version) + ", v" + std::to_string(t.version + 1) + ">");
    }
  }
  return std::move(reg);
}

}  // namespace rill::codecs
