// rill/codecs/schema_registry.h: event type ids -> names, versions, root tables and binary
// schemas; the self-describing blob (and its fingerprint) that a journal stores; upcasters.
//
//   rill::codecs::SchemaRegistryBuilder b;
//   rill::examples::bank::BankDomain::RegisterEvents(b);                       // a domain registers its types
//   b.AddUpcaster<v1::PriceChanged, v2::PriceChanged>(UpcastPrice);
//   rill::Result<rill::codecs::SchemaRegistry> reg = std::move(b).Build();
//   journal_options.schema_fingerprint = reg->fingerprint();   // opaque uint64 for the journal
//   journal_options.schema_blob = reg->blob();                 // bytes for the journal
//
//   // A tool with no application code, from what the journal stored:
//   auto tool_reg = rill::codecs::SchemaRegistry::FromBlob(blob, fingerprint);
//
// Thread safety: a built SchemaRegistry is immutable; any number of threads may use it (through
// their own Decoder / JsonPrinter) while it lives. The builder is single-threaded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "flatbuffers/flatbuffers.h"
#include "flatbuffers/reflection.h"
#include "rill/base/result.h"
#include "rill/base/status.h"
#include "rill/codecs/envelope.h"

namespace rill::codecs {

// Checks a body (a FlatBuffer whose root is one event table) with the FlatBuffers verifier.
using BodyVerifier = bool (*)(const std::uint8_t* body, std::size_t size);

// Reads a verified body of version n and builds version n+1 in `out`; returns the new root
// (out is finished by the caller). Returning a null offset (o == 0) means the body cannot be
// upcast, which the decoder reports as kUpcastFailed.
using UpcastFn = std::function<flatbuffers::uoffset_t(const std::uint8_t* body, flatbuffers::FlatBufferBuilder& out)>;

template <typename Table>
bool VerifyBody(const std::uint8_t* body, std::size_t size) {
  flatbuffers::Verifier verifier(body, size);
  return verifier.VerifyBuffer<Table>(nullptr);
}

// One (type id, version) the registry knows. Owned by the registry; pointers stay valid while
// the registry lives (also across a move of the registry).
struct EventTypeInfo {
  std::uint32_t type_id = 0;
  std::uint16_t version = 0;
  std::uint16_t latest_version = 0;  // newest version of this type in the registry
  std::string name;                  // logical name, the same for all versions: "bank.Deposited"
  std::string root_table;            // fully qualified table: "rill.bank.Deposited"
  std::uint32_t schema = 0;          // index of the binary schema that defines root_table
  // The aggregate kind the event belongs to ("Order"; the schema's rill_aggregate attribute),
  // "" for a domain with one kind; and whether applying it ends the aggregate (rill_ends).
  std::string aggregate;
  bool ends_aggregate = false;
  // The compiled verifier when the application registered the C++ type; nullptr in a registry
  // rebuilt from a blob, which verifies through reflection (root_object) instead.
  BodyVerifier verify = nullptr;
  const reflection::Schema* reflection_schema = nullptr;
  const reflection::Object* root_object = nullptr;
  UpcastFn upcast;                      // to version + 1; empty for the newest version
  const EventTypeInfo* next = nullptr;  // the version + 1 entry, when upcast is set
};

class SchemaRegistry {
 public:
  SchemaRegistry(SchemaRegistry&&) noexcept = default;
  SchemaRegistry& operator=(SchemaRegistry&&) noexcept = default;
  SchemaRegistry(const SchemaRegistry&) = delete;
  SchemaRegistry& operator=(const SchemaRegistry&) = delete;
  ~SchemaRegistry();

  // Rebuilds a registry from a blob that blob() produced (read back from a journal). It can
  // verify, decode and print every event type in the blob, with no application code and no
  // upcasters: events come out in the version they were recorded in. Copies what it keeps.
  // Errors: Corruption when the blob fails verification or does not match
  // expected_fingerprint.
  static Result<SchemaRegistry> FromBlob(std::span<const std::uint8_t> blob);
  static Result<SchemaRegistry> FromBlob(std::span<const std::uint8_t> blob, std::uint64_t expected_fingerprint);

  // The blob a journal stores: a FlatBuffer (schemas/schema_blob.fbs) holding every binary
  // schema and the type table. Deterministic: the same schemas and types give the same bytes.
  std::span<const std::uint8_t> blob() const noexcept { return blob_; }
  // A 64-bit FNV-1a hash of the blob's content (not cryptographic: it names a schema set).
  std::uint64_t fingerprint() const noexcept { return fingerprint_; }

  // Hot path: no allocation, inline, usually one probe. nullptr when the pair is not registered.
  const EventTypeInfo* Find(std::uint32_t type_id, std::uint16_t version) const noexcept {
    const std::uint64_t key = SlotKey(type_id, version);
    // Invariant: the table is at most half full, so a probe always meets the key or an empty slot.
    for (std::uint32_t s = SlotHash(key) & slot_mask_;; s = (s + 1) & slot_mask_) {
      const Slot& slot = slots_[s];
      if (slot.key == key) return slot.type;
      if (slot.key == 0) return nullptr;
    }
  }
  // Any version of the type; nullptr when the type id is unknown.
  const EventTypeInfo* FindAnyVersion(std::uint32_t type_id) const noexcept;
  // Sorted by (type_id, version).
  const std::vector<EventTypeInfo>& types() const noexcept { return types_; }

  std::size_t schema_count() const noexcept { return schemas_.size(); }
  std::string_view schema_name(std::size_t i) const { return schemas_[i].name; }
  std::span<const std::uint8_t> schema_bfbs(std::size_t i) const { return schemas_[i].bfbs; }

  // Can events written under a journal's schema (its fingerprint and blob) be read with this
  // registry? OK when the fingerprint is this registry's own, or when every (type, version)
  // of the journal's blob is registered here (evolution: a newer build reads older journals).
  // NotFound names the unknown fingerprint or event type; Corruption a bad blob.
  Status CheckJournalSchema(std::uint64_t fingerprint, std::span<const std::uint8_t> blob) const;

 private:
  friend class SchemaRegistryBuilder;
  struct Schema {
    std::string name;
    std::vector<std::uint8_t> bfbs;  // heap storage is 16-byte aligned, as reflection needs
  };
  SchemaRegistry() = default;
  Status Index();  // builds the lookup table, links versions, makes blob_ and fingerprint_

  std::vector<Schema> schemas_;       // sorted by name
  std::vector<EventTypeInfo> types_;  // sorted by (type_id, version)
  // Open addressing over (type id, version); key 0 marks an empty slot (type id 0 is reserved).
  struct Slot {
    std::uint64_t key = 0;
    const EventTypeInfo* type = nullptr;
  };
  static std::uint64_t SlotKey(std::uint32_t type_id, std::uint16_t version) noexcept {
    return (static_cast<std::uint64_t>(type_id) << 16) | version;
  }
  static std::uint32_t SlotHash(std::uint64_t key) noexcept {
    return static_cast<std::uint32_t>((key * 0x9E3779B97F4A7C15ull) >> 32);
  }
  std::vector<Slot> slots_ = std::vector<Slot>(1);  // one empty slot until Index() runs
  std::uint32_t slot_mask_ = 0;
  std::vector<std::uint8_t> blob_;
  std::uint64_t fingerprint_ = 0;
};

// Collects schemas, event types and upcasters at start-up. Calls chain; the first mistake is
// kept and returned by Build(), so registration code reads as a list.
class SchemaRegistryBuilder {
 public:
  // A domain's binary schema (flatc --binary --schema), e.g. rill::examples::bank::BankDomain::BinarySchema(). The name
  // identifies the schema in the blob ("bank"); registering the same name twice is an error.
  SchemaRegistryBuilder& AddSchema(std::string_view name, std::span<const std::uint8_t> bfbs);

  // Registers Table (with RILL_EVENT_TYPE traits) as defined by the schema named `schema`.
  template <EventTable Table>
  SchemaRegistryBuilder& AddEvent(std::string_view schema) {
    using Traits = EventTraits<Table>;
    return AddEventType(schema, Traits::kTypeId, Traits::kVersion, Traits::kName, Table::GetFullyQualifiedName(),
                        &VerifyBody<Table>);
  }

  // Registers the upcaster From (version n) -> To (version n+1) of one event type.
  // fn: (const From&, flatbuffers::FlatBufferBuilder&) -> flatbuffers::Offset<To>.
  template <EventTable From, EventTable To, typename Fn>
  SchemaRegistryBuilder& AddUpcaster(Fn fn) {
    static_assert(EventTraits<From>::kTypeId == EventTraits<To>::kTypeId, "an upcaster keeps the event type");
    static_assert(EventTraits<From>::kVersion + 1 == EventTraits<To>::kVersion, "upcasters go from n to n+1");
    return AddUpcasterFn(EventTraits<From>::kTypeId, EventTraits<From>::kVersion,
                         [fn = std::move(fn)](const std::uint8_t* body, flatbuffers::FlatBufferBuilder& out) {
                           const flatbuffers::Offset<To> root = fn(*flatbuffers::GetRoot<From>(body), out);
                           return root.o;
                         });
  }

  // The untyped forms the templates use; tools and tests may call them directly.
  SchemaRegistryBuilder& AddEventType(std::string_view schema, std::uint32_t type_id, std::uint16_t version,
                                      std::string_view name, std::string_view root_table, BodyVerifier verify);
  SchemaRegistryBuilder& AddUpcasterFn(std::uint32_t type_id, std::uint16_t from_version, UpcastFn fn);

  // Checks and freezes: every root table exists in its schema, no (type, version) twice, one
  // name per type, and every version below a type's newest has an upcaster, so readers always
  // see the newest version. InvalidArgument says which registration is wrong.
  Result<SchemaRegistry> Build() &&;

 private:
  struct PendingUpcaster {
    std::uint32_t type_id;
    std::uint16_t from_version;
    UpcastFn fn;
  };
  Status first_error_;
  SchemaRegistry reg_;
  std::vector<PendingUpcaster> upcasters_;
};

}  // namespace rill::codecs
