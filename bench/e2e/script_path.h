// rill/bench/e2e/script_path.h: where the tools find the helper scripts they run (the
// throwaway PostgreSQL, the latency plot), in the source tree or once installed with the
// package, without depending on the source tree at run time.
//
//   std::string script = rill::bench::FindScript({.env = "RILL_PLOT_LATENCY_SCRIPT",
//                                                  .source_path = RILL_SOURCE_PLOT_LATENCY_SCRIPT,
//                                                  .name = "plot-latency.sh"});
//
// Looked for in this order: the environment variable (when set and not empty, taken as is),
// the source tree's copy (a path compiled in, used when the file exists), then
// `<directory of the running executable>/../share/rill/<name>` (where `cmake --install` puts
// the scripts: cmake/RillInstall.cmake). When none exists the last candidate is returned, so
// the caller's error names a place; ScriptSearchNote says where else it looked.
// Thread safety: plain functions (they read the environment and /proc/self/exe).
#pragma once

#include <string>

namespace rill::bench {

struct ScriptLocation {
  const char* env = nullptr;          // e.g. "RILL_PG_THROWAWAY_SCRIPT"
  const char* source_path = nullptr;  // e.g. "/src/rill/scripts/pg-throwaway.sh"; may be null
  const char* name = nullptr;         // e.g. "pg-throwaway.sh"
};

std::string FindScript(const ScriptLocation& where);
// "looked in $ENV (unset), /src/..., /usr/bin/../share/rill/...: set ENV to the script's path".
std::string ScriptSearchNote(const ScriptLocation& where);

}  // namespace rill::bench
