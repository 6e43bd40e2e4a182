// rill/tools/top/top_view.h: what `rill top` shows, computed from two readings of a counters
// file (observability/counters_reader.h) taken `interval` apart: rates over the interval,
// percentiles of the interval's histogram records, positions and lags now. Rendered as a
// terminal screen or as one JSON object. Pure functions: the tests feed them snapshots.
// Thread safety: reentrant.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rill/observability/counters_reader.h"
#include "rill/replication/status_file.h"

namespace rill::tools {

struct TopProjector {
  std::string name;
  std::uint64_t position = 0;
  std::uint64_t lag_events = 0;
  double lag_seconds = 0;  // now minus the batch time of the last applied event (0 when caught up)
  double events_per_s = 0;
  std::string state;  // running, halted, rebuilding
  std::uint64_t parked = 0;
  std::uint64_t skipped = 0;
};

struct TopCount {
  std::string label;  // a reason, a level
  std::uint64_t total = 0;
  double per_s = 0;
};

struct TopAckLatency {
  std::string level;   // accepted, journaled, durable, replicated, replicated_durable
  double sampled = 0;  // sampled acknowledgements in the interval (EngineOptions::ack_latency_sample_every)
  double p50_s = 0, p99_s = 0;
};

struct TopView {
  std::string dir;
  std::string program;
  std::int64_t pid = 0;
  bool stale = false;
  double heartbeat_age_s = 0;
  double interval_s = 0;
  double commands_per_s = 0, accepted_per_s = 0, rejected_per_s = 0;
  std::uint64_t accepted_total = 0, rejected_total = 0;
  std::vector<TopCount> rejections;  // every reason, by total, largest first
  double batches_per_s = 0;
  double batch_commands_p50 = 0, batch_commands_p99 = 0;  // this interval's batches
  double batch_seconds_p50 = 0, batch_seconds_p99 = 0;
  std::uint64_t ring_capacity = 0;
  double ring_full_per_s = 0;
  std::uint64_t committed_position = 0, durable_position = 0;
  double journal_events_per_s = 0;
  double journal_bytes_per_s = 0, syncs_per_s = 0;
  double sync_seconds_mean = 0;  // per sync, over the interval
  std::vector<TopCount> acks_waiting;
  std::vector<TopAckLatency> ack_latency;  // levels with acknowledgements in the interval
  bool engine_failed = false;
  bool snapshots = false;  // the engine takes snapshots (the rill_snapshot_* metrics exist)
  std::uint64_t snapshots_total = 0, snapshot_position = 0;
  double snapshot_age_s = -1;  // since the newest snapshot was written; -1: none yet
  bool replication = false;    // the engine ships its journal (rill_replication_position exists)
  std::uint64_t replicated_position = 0;
  std::string replicator_state;       // from DIR/replication.status, when there is one
  double replicator_lag_seconds = 0;  // its oldest unreplicated batch's age
  std::vector<TopProjector> projectors;
  std::vector<std::string> other;  // metrics this view does not know: "name{labels} value"
};

// `now_ns`: CLOCK_REALTIME when `cur` was read (lags in time, the heartbeat's age).
// `replicator`: DIR/replication.status when the journal is replicated (replication/status_file.h), or null.
TopView ComputeTopView(const std::string& dir, const observability::CountersSnapshot& prev,
                       const observability::CountersSnapshot& cur, double interval_s, std::int64_t now_ns,
                       const replication::ReplicationStatus* replicator = nullptr);
std::string RenderTopText(const TopView& v);
std::string RenderTopJson(const TopView& v);

}  // namespace rill::tools
