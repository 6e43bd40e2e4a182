// rill/tools/inspect/inspect_dump.h: `rill inspect dump DIR`: events as text or JSON lines,
// filtered, optionally following a live writer.
//
//   DumpOptions o{.dir = dir, .json = true, .from = "2026-11-23T01:00:00Z", .type = "bank.Deposited"};
//   rill::tools::inspect::RunDump(o, stdout, stderr);
//
// Text: one line per event: position, time, stream and version, type, command id and the body
// as FlatBuffers' JSON. --json: one object per line, JsonPrinter's (envelope fields, type,
// table, body) plus "time". Bodies come from the schema embedded in the journal, never from
// application code. An event that cannot be decoded is still shown, with its error, and the
// exit code is then 1.
// Thread safety: one call at a time per output stream.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "rill/tools/inspect/stream_key.h"

namespace rill::tools::inspect {

struct DumpOptions {
  std::string dir;
  bool json = false;
  std::string from, to;                  // a position or an ISO-8601 time, inclusive; "" = unbounded
  std::optional<StreamSelector> stream;  // ID, or KIND:ID in a domain with several aggregate kinds
  std::string type;                      // registered name ("bank.Deposited") or root table; "" = any
  std::uint64_t limit = 0;               // 0 = no limit; with follow, stops after this many events
  bool follow = false;                   // keep printing events as the writer commits them
  double follow_timeout_s = 0;           // > 0: stop following after this long without a new event
};

// Returns an ExitCode (journal_view.h).
int RunDump(const DumpOptions& options, std::FILE* out, std::FILE* err);

}  // namespace rill::tools::inspect
