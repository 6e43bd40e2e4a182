// The lock-file rules (compat.h): every fact an old record depends on stays as the lock says.
#include "rill/codecs/domaingen/compat.h"

#include <algorithm>
#include <utility>

namespace rill::codecs::domaingen {
namespace {

const LockEntry* Find(const std::vector<LockEntry>& entries, std::uint32_t type_id, std::uint16_t version) {
  for (const LockEntry& e : entries) {
    if (e.type_id == type_id && e.version == version) return &e;
  }
  return nullptr;
}

const LockField* FindField(const LockEntry& e, std::uint16_t id) {
  for (const LockField& f : e.fields) {
    if (f.id == id) return &f;
  }
  return nullptr;
}

const LockField* FindField(const LockEntry& e, const std::string& name) {
  for (const LockField& f : e.fields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string Show(const std::string& aggregate) { return aggregate.empty() ? "(none)" : aggregate; }

class Checker {
 public:
  Checker(const std::string& label, std::vector<std::string>* errors, std::vector<std::string>* notes)
      : label_(label), errors_(errors), notes_(notes) {}

  // newer_exists: the schema has a later version of this type, so this one may have handed its
  // table name to it (PriceChanged -> PriceChangedV1, codecs/README.md).
  void CheckEvent(const LockEntry& old, const LockEntry* now, bool newer_exists) {
    const std::string what = label_ + ": " + DescribeEvent(old.name, old.type_id, old.version);
    if (now == nullptr) {
      errors_->push_back(what + " (table " + old.table +
                         ") is in the lock but not in the schema: journals may hold it; put the table back "
                         "(an event that is no longer emitted stays in the schema, and its number is never reused)");
      return;
    }
    if (now->table != old.table && newer_exists) {
      notes_->push_back(DescribeEvent(old.name, old.type_id, old.version) + ": the table is now " + now->table +
                        " (was " + old.table + ")");
    } else if (now->table != old.table) {
      errors_->push_back(what + ": the type id was " + old.table + " and now names " + now->table + ": journals hold " +
                         old.table +
                         " records under this id; put that table back and give the new one an unused rill_event number "
                         "(only an old version's table may be renamed, once a newer version exists)");
      return;  // another table: its fields are not comparable
    }
    if (now->aggregate != old.aggregate) {
      errors_->push_back(what + ": aggregate kind changed from " + Show(old.aggregate) + " to " + Show(now->aggregate) +
                         ": old journals apply it to " + Show(old.aggregate) +
                         "; add a new event (a new rill_event number) for the other kind instead");
    }
    if (now->ends != old.ends) {
      errors_->push_back(what + ": rill_ends changed from " + (old.ends ? "yes" : "no") + " to " +
                         (now->ends ? "yes" : "no") +
                         ": replaying old journals would end aggregates at other events than when they were "
                         "written; add a new event instead");
    }
    for (const LockField& f : old.fields) CheckField(what, f, *now);
    for (const LockField& f : now->fields) {
      if (FindField(old, f.id) != nullptr) continue;
      if (f.required) {
        errors_->push_back(what + ": field " + f.name +
                           " is new and required: records written before it lack it, "
                           "and the verifier would refuse them; make it optional (give it a default)");
      } else {
        notes_->push_back(DescribeEvent(now->name, now->type_id, now->version) + ": added field " + f.name + " (" +
                          f.type + ", id " + std::to_string(f.id) + ")");
      }
    }
  }

 private:
  void CheckField(const std::string& what, const LockField& f, const LockEntry& now) {
    const LockField* same_id = FindField(now, f.id);
    if (same_id == nullptr || same_id->name != f.name) {
      const LockField* same_name = FindField(now, f.name);
      if (same_name != nullptr) {
        errors_->push_back(what + ": field " + f.name + " moved from id " + std::to_string(f.id) + " to id " +
                           std::to_string(same_name->id) + ": old journals hold it at id " + std::to_string(f.id) +
                           "; keep the fields in their order (to retire a field, mark it (deprecated) instead of "
                           "deleting it, so the ids after it do not shift)");
      } else {
        errors_->push_back(what + ": field " + f.name + " (id " + std::to_string(f.id) +
                           ") was removed or renamed: old journals hold it at id " + std::to_string(f.id) +
                           "; keep it (mark it (deprecated) to stop using it)");
      }
      return;
    }
    if (same_id->type != f.type) {
      errors_->push_back(what + ": field " + f.name + " changed type from " + f.type + " to " + same_id->type +
                         ": old journals hold the " + f.type + "; add a new field instead");
    }
    if (same_id->required && !f.required) {
      errors_->push_back(what + ": field " + f.name +
                         " is now required: old records may lack it, and the verifier would refuse them; keep it "
                         "optional");
    }
    if (same_id->deprecated != f.deprecated) {
      notes_->push_back(DescribeEvent(now.name, now.type_id, now.version) + ": field " + f.name +
                        (same_id->deprecated ? " is now deprecated" : " is no longer deprecated"));
    }
    if (f.required && !same_id->required) {
      notes_->push_back(DescribeEvent(now.name, now.type_id, now.version) + ": field " + f.name +
                        " is no longer required");
    }
  }

  const std::string& label_;
  std::vector<std::string>* errors_;
  std::vector<std::string>* notes_;
};

}  // namespace

bool CheckCompatible(const std::vector<LockEntry>& locked, const std::vector<LockEntry>& current,
                     const std::string& label, std::vector<std::string>* errors, std::vector<std::string>* notes) {
  const std::size_t errors_before = errors->size();
  Checker checker(label, errors, notes);
  for (const LockEntry& old : locked) {
    const bool newer_exists = std::any_of(current.begin(), current.end(), [&](const LockEntry& e) {
      return e.type_id == old.type_id && e.version > old.version;
    });
    checker.CheckEvent(old, Find(current, old.type_id, old.version), newer_exists);
  }
  for (const LockEntry& now : current) {
    if (Find(locked, now.type_id, now.version) == nullptr) {
      notes->push_back("added " + DescribeEvent(now.name, now.type_id, now.version) + " (table " + now.table + ")");
    }
  }
  return errors->size() == errors_before;
}

}  // namespace rill::codecs::domaingen
