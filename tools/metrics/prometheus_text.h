// rill/tools/metrics/prometheus_text.h: a counters reading (observability/counters_reader.h) in
// the Prometheus text exposition format 0.0.4: `# HELP` and `# TYPE` once per metric name, one
// sample line per label set, histograms as cumulative `_bucket{le="..."}` lines plus `_sum` and
// `_count`, values in base units (a histogram of nanoseconds is exposed in seconds).
// Two more samples describe the reading itself: `rill_process_up` (0 once the writer is gone)
// and `rill_counters_heartbeat_age_seconds`.
// Thread safety: reentrant.
#pragma once

#include <cstdint>
#include <string>

#include "rill/observability/counters_reader.h"
#include "rill/replication/status_file.h"

namespace rill::tools {

// `now_ns`: CLOCK_REALTIME of the reading (the heartbeat's age).
std::string PrometheusText(const observability::CountersSnapshot& s, std::int64_t now_ns);

// The replicator's status file (replication/status_file.h, `<dir>/replication.status`, written
// by the replicator at most every 100 ms) as rill_replication_* samples: lag in positions and
// seconds, messages, bytes, duplicates and resyncs, whether it ships, and the file's age.
std::string PrometheusReplicationText(const replication::ReplicationStatus& r, std::int64_t now_ns);

}  // namespace rill::tools
