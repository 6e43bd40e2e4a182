// rill/observability/process_identity.h: is the process that wrote a counters file still the
// one running under its pid? A pid alone can be reused after a crash, so the file also records
// the process's start time in clock ticks since boot (/proc/<pid>/stat, field 22), which a reused
// pid does not share.
// Thread safety: reentrant.
#pragma once

#include <cstdint>
#include <optional>

namespace rill::observability {

// The start time of process `pid` in clock ticks since boot; nullopt when there is no such
// process (or /proc is not mounted).
std::optional<std::uint64_t> ProcessStartTicks(std::int64_t pid);

// True when `pid` runs and started at `start_ticks`: the writer of a counters file is alive.
bool ProcessAlive(std::int64_t pid, std::uint64_t start_ticks);

}  // namespace rill::observability
