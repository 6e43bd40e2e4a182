// Shared by the `rill replay` tests: RunReplay<W> with its output captured, and the top-level
// keys of its JSON object (to pin the field names and their order).
#pragma once

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "rill/tools/replay/replay.h"

namespace rill::replay_test {

struct Captured {
  int exit = 0;
  std::string out, err;
  tools::ReplaySummary summary;
};

template <typename W>
Captured Replay(const tools::ReplayOptions& o) {
  Captured c;
  std::FILE* out = std::tmpfile();
  std::FILE* err = std::tmpfile();
  c.exit = tools::RunReplay<W>(o, out, err, &c.summary);
  for (auto [f, s] : {std::pair{out, &c.out}, std::pair{err, &c.err}}) {
    std::rewind(f);
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s->append(buf, n);
    std::fclose(f);
  }
  return c;
}

// The keys of a JSON object's members at `depth` (1: the top level), in order. Enough JSON for
// what replay prints: strings with escapes, nested objects, no arrays of objects.
inline std::vector<std::string> JsonKeys(const std::string& json, int depth = 1) {
  std::vector<std::string> keys;
  int level = 0;
  for (std::size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (c == '{') ++level;
    if (c == '}') --level;
    if (c != '"') continue;
    std::string s;
    for (++i; i < json.size() && json[i] != '"'; ++i) {
      if (json[i] == '\\') ++i;
      s += json[i];
    }
    if (level == depth && i + 1 < json.size() && json[i + 1] == ':') keys.push_back(s);
  }
  return keys;
}

// The text of member `key`'s object value ("{...}", braces included); "" when there is none.
inline std::string JsonObject(const std::string& json, const std::string& key) {
  const std::size_t start = json.find("\"" + key + "\":{");
  if (start == std::string::npos) return "";
  const std::size_t open = start + key.size() + 3;
  int level = 0;
  bool in_string = false;
  for (std::size_t i = open; i < json.size(); ++i) {
    if (in_string) {
      if (json[i] == '\\') {
        ++i;
      } else if (json[i] == '"') {
        in_string = false;
      }
    } else if (json[i] == '"') {
      in_string = true;
    } else if (json[i] == '{') {
      ++level;
    } else if (json[i] == '}' && --level == 0) {
      return json.substr(open, i + 1 - open);
    }
  }
  return "";
}

}  // namespace rill::replay_test
