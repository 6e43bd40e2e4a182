// rill/tools/inspect/inspect_verify.h: `rill inspect verify DIR`: is the journal intact?
//
//   int code = rill::tools::inspect::RunVerify({.dir = dir}, stdout, stderr);  // 0 only when intact
//
// Checks, without the writer's lock and without changing a byte: every segment header, every
// frame's CRC, every batch's integrity and gap-free positions (journal/journal_verifier.h, the
// journal's own definition of a valid batch), then every event body against the schema
// embedded in its segment and each stream's version continuity (each event's stream version is
// the previous one + 1; 1 for a stream's first event when the journal starts at position 1).
// Prints the first problem with segment, offset and position, and a summary. An uncommitted
// tail (bytes after the last committed batch of the last segment: a batch being written, or
// one a crash left unfinished) is reported but is not damage: recovery cuts it, exit code 0.
// Thread safety: one call at a time per output stream.
#pragma once

#include <cstdio>
#include <string>

namespace rill::tools::inspect {

struct VerifyOptions {
  std::string dir;
};

// Returns kExitOk (intact), kExitProblems or kExitCannotRead (journal_view.h).
int RunVerify(const VerifyOptions& options, std::FILE* out, std::FILE* err);

}  // namespace rill::tools::inspect
