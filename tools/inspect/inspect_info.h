// rill/tools/inspect/inspect_info.h: `rill inspect info DIR`: what a journal holds.
//
//   rill::tools::inspect::RunInfo({.dir = "/var/lib/bank/journal"}, stdout, stderr);
//
// Segments (name, size, positions, time range, batches, sealed or active), event and batch
// counts, events and bytes per type, the schema fingerprint, the committed and durable
// positions the writer published (durability of the tail), the replicator's lag from
// <dir>/replication.status when there is one (replication/status_file.h), and projector checkpoints.
// Thread safety: one call at a time per output stream.
#pragma once

#include <cstdio>
#include <string>

namespace rill::tools::inspect {

struct InfoOptions {
  std::string dir;
  std::string checkpoints_dir;  // empty: <dir>/checkpoints (tools/inspect/checkpoints.h)
};

// Returns an ExitCode (journal_view.h).
int RunInfo(const InfoOptions& options, std::FILE* out, std::FILE* err);

}  // namespace rill::tools::inspect
