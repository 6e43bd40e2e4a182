// rill/tools/inspect/inspect_stats.h: `rill inspect stats DIR`: how a journal was used.
//
//   rill::tools::inspect::RunStats({.dir = "/var/lib/bank/journal", .top = 5}, stdout, stderr);
//
// Events per type, the busiest streams, the distribution of batch sizes (events per batch, in
// power-of-two buckets), and events per second over time (buckets of 1 s, 10 s, 1 min, 10 min,
// 1 h or 1 day: the smallest that fits the journal's time range in at most 24 rows).
// Thread safety: one call at a time per output stream.
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>

namespace rill::tools::inspect {

struct StatsOptions {
  std::string dir;
  std::size_t top = 10;  // busiest streams shown
};

// Returns an ExitCode (journal_view.h).
int RunStats(const StatsOptions& options, std::FILE* out, std::FILE* err);

}  // namespace rill::tools::inspect
