// rill/tools/top/top_command.h: `rill top DIR`: a live view of a running rill process from
// outside, read from the counters file its engine keeps beside the journal
// (observability/README.md). Needs no cooperation from the process and never slows it: it maps
// the file read-only.
//
//   rill top /var/lib/bank/journal                 # refreshes every second until Ctrl-C
//   rill top /var/lib/bank/journal --once --json   # one reading over --interval, for scripts
//
// Exit codes: 0 the process runs; 1 it is gone (its last values are shown, marked STALE);
// 2 usage; 3 no counters file there, or not one this rill reads.
// Thread safety: RunTop is reentrant (its screen is the caller's `out`).
#pragma once

#include <cstdio>
#include <string>

namespace rill::tools {

struct TopOptions {
  std::string dir{};
  bool once = false;        // one reading, then exit
  bool json = false;        // one JSON object per reading instead of the screen
  double interval_s = 1.0;  // between readings: the rates' window
  int iterations = 0;       // stop after this many readings; 0: until interrupted (or --once)
};

int RunTop(const TopOptions& options, std::FILE* out, std::FILE* err);

}  // namespace rill::tools
