// rill/codecs/domaingen/lock_file.h: the lock file beside a domain schema: one block per
// (event type id, version) that journals may hold, with the facts old records depend on. It
// is text, generated, reviewed and committed like Cargo.lock; README.md explains the rules.
//
//   # rill-domaingen lock for inventory.fbs ...
//   event 0x00420002 version 1
//     name inventory.PriceChanged
//     table inventory.fb.PriceChangedV1
//     aggregate Sku
//     ends no
//     field 0 sku ulong
//     field 1 note string required
//     field 2 old_price int deprecated
//   end
//
// Thread safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rill/codecs/domaingen/schema_model.h"

namespace rill::codecs::domaingen {

struct LockField {
  std::uint16_t id = 0;
  std::string name;
  std::string type;  // FieldModel::lock_type
  bool required = false;
  bool deprecated = false;
};

struct LockEntry {
  std::uint32_t type_id = 0;
  std::uint16_t version = 0;
  std::string name;       // logical name
  std::string table;      // root table, fully qualified
  std::string aggregate;  // empty: none
  bool ends = false;
  std::vector<LockField> fields;  // by id
};

// What the lock records about one event table of the schema.
LockEntry ToLockEntry(const EventModel& event);

// Parses a lock file's text; `path` names it in messages. False (and messages appended to
// errors) on a malformed line.
bool ParseLock(const std::string& text, const std::string& path, std::vector<LockEntry>* out,
               std::vector<std::string>* errors);

// The lock file's text for these entries, in (type id, version) order. `schema_file` names the
// schema in the header comment.
std::string FormatLock(std::vector<LockEntry> entries, const std::string& schema_file);

}  // namespace rill::codecs::domaingen
