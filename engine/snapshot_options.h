// rill/engine/snapshot_options.h: when the engine takes aggregate snapshots and where it keeps
// them (EngineOptions::snapshot).
//
//   rill::engine::EngineOptions o;
//   o.snapshot.enabled = true;                 // a snapshotter thread follows the journal
//   o.snapshot.interval_events = 1'000'000;    // a snapshot every 1M events ...
//   o.snapshot.interval_ms = 60'000;           // ... or a minute after the last one, if anything changed
//
// Start-up always uses the newest usable snapshot in `directory` when there is one (`load`),
// whether or not this engine takes new ones.
// Thread safety: plain values.
#pragma once

#include <cstdint>
#include <string>

namespace rill::engine {

struct SnapshotOptions {
  // Take snapshots: a thread replays the journal into its own shadow copy of the aggregates
  // and the idempotency window (the writer never pauses), and writes one every interval. Off
  // by default: the shadow doubles the memory of the aggregates and the window, and its
  // replay competes for a core.
  bool enabled = false;
  // Use the newest usable snapshot at Open (false: always replay the whole journal).
  bool load = true;
  std::string directory;                      // "" = <journal directory>/snapshots
  std::uint64_t interval_events = 1'000'000;  // events between snapshots (0: time only)
  std::uint32_t interval_ms = 0;              // also after this long, when events came (0: events only)
  int keep = 2;                               // newest files kept (at least 1)
  // Part of the snapshot's build id: bump it when Evolve (or State) changes meaning, so that
  // snapshots written by the old code are ignored and the journal is replayed instead.
  std::uint64_t domain_version = 0;
  // How long the idle snapshotter sleeps between looks at the journal (also bounds Stop).
  std::uint32_t idle_wait_ms = 20;
};

}  // namespace rill::engine
