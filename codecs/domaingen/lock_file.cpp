// Reads and writes the lock file (lock_file.h): a line-oriented text format, one token per fact.
#include "rill/codecs/domaingen/lock_file.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <sstream>
#include <utility>

namespace rill::codecs::domaingen {
namespace {

std::vector<std::string> Split(const std::string& line) {
  std::vector<std::string> tokens;
  std::istringstream in(line);
  for (std::string t; in >> t;) tokens.push_back(t);
  return tokens;
}

template <typename T>
bool ParseNumber(const std::string& s, T* out, int base = 10) {
  const char* begin = s.data();
  if (base == 16) {
    if (s.size() < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) return false;
    begin += 2;
  }
  const auto [end, ec] = std::from_chars(begin, s.data() + s.size(), *out, base);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

LockEntry ToLockEntry(const EventModel& event) {
  LockEntry entry;
  entry.type_id = event.type_id;
  entry.version = event.version;
  entry.name = event.logical_name;
  entry.table = event.table;
  entry.aggregate = event.aggregate;
  entry.ends = event.ends;
  for (const FieldModel& f : event.fields) {
    entry.fields.push_back(
        {.id = f.id, .name = f.name, .type = f.lock_type, .required = f.required, .deprecated = f.deprecated});
  }
  return entry;
}

bool ParseLock(const std::string& text, const std::string& path, std::vector<LockEntry>* out,
               std::vector<std::string>* errors) {
  std::istringstream in(text);
  std::string line;
  int line_no = 0;
  LockEntry* open = nullptr;
  const std::size_t errors_before = errors->size();
  auto fail = [&](const std::string& what) {
    errors->push_back(path + ":" + std::to_string(line_no) + ": " + what +
                      ": the lock file is generated; restore it from version control");
  };
  while (std::getline(in, line)) {
    ++line_no;
    const std::vector<std::string> t = Split(line);
    if (t.empty() || t[0][0] == '#') continue;
    if (open == nullptr) {
      LockEntry e;
      if (t.size() != 4 || t[0] != "event" || t[2] != "version" || !ParseNumber(t[1], &e.type_id, 16) ||
          !ParseNumber(t[3], &e.version)) {
        fail("expected `event 0x<type id> version <n>`");
        return false;
      }
      out->push_back(std::move(e));
      open = &out->back();
      continue;
    }
    if (t[0] == "end" && t.size() == 1) {
      open = nullptr;
    } else if (t[0] == "name" && t.size() == 2) {
      open->name = t[1];
    } else if (t[0] == "table" && t.size() == 2) {
      open->table = t[1];
    } else if (t[0] == "aggregate" && t.size() == 2) {
      open->aggregate = t[1] == "-" ? "" : t[1];
    } else if (t[0] == "ends" && t.size() == 2 && (t[1] == "yes" || t[1] == "no")) {
      open->ends = t[1] == "yes";
    } else if (t[0] == "field" && t.size() >= 4) {
      LockField f;
      if (!ParseNumber(t[1], &f.id)) {
        fail("expected a field id");
        return false;
      }
      f.name = t[2];
      f.type = t[3];
      for (std::size_t i = 4; i < t.size(); ++i) {
        if (t[i] == "required") {
          f.required = true;
        } else if (t[i] == "deprecated") {
          f.deprecated = true;
        } else {
          fail("unknown field flag `" + t[i] + "`");
          return false;
        }
      }
      open->fields.push_back(std::move(f));
    } else {
      fail("unexpected `" + line + "`");
      return false;
    }
  }
  if (open != nullptr) fail("the last event block has no `end`");
  return errors->size() == errors_before;
}

std::string FormatLock(std::vector<LockEntry> entries, const std::string& schema_file) {
  std::sort(entries.begin(), entries.end(), [](const LockEntry& a, const LockEntry& b) {
    return std::pair(a.type_id, a.version) < std::pair(b.type_id, b.version);
  });
  std::string out =
      "# rill-domaingen lock for " + schema_file +
      ": every event type and version that journals may hold.\n"
      "# Generated: each build checks the schema against it and appends new events, versions and fields.\n"
      "# Commit it with the schema. Never edit an entry to silence a check: old journals still hold\n"
      "# what it describes (see rill's codecs/domaingen/README.md).\n";
  for (const LockEntry& e : entries) {
    char id[16];
    std::snprintf(id, sizeof id, "0x%08X", static_cast<unsigned>(e.type_id));
    out += "\nevent " + std::string(id) + " version " + std::to_string(e.version) + "\n";
    out += "  name " + e.name + "\n";
    out += "  table " + e.table + "\n";
    out += "  aggregate " + (e.aggregate.empty() ? std::string("-") : e.aggregate) + "\n";
    out += std::string("  ends ") + (e.ends ? "yes" : "no") + "\n";
    for (const LockField& f : e.fields) {
      out += "  field " + std::to_string(f.id) + " " + f.name + " " + f.type;
      if (f.required) out += " required";
      if (f.deprecated) out += " deprecated";
      out += "\n";
    }
    out += "end\n";
  }
  return out;
}

}  // namespace rill::codecs::domaingen
