// rill/engine/engine_counters.h: what the writer thread publishes in the counters file
// (observability/): commands by result and rejection reason, batches and their size and
// duration, the ring, the journal's positions, acknowledgements waiting. Compiled once (not a
// template), so each domain's Engine only calls it.
//
// Cost on the writer's path: Count() is one increment of a private array per command; Publish()
// runs once per batch (a few release stores into the mapped file, two steady_clock reads, no
// system call). `rill bench --counters off` measures it against the same run with them on.
// Thread safety: the writer thread only, after Create.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "rill/base/result.h"
#include "rill/engine/ack_level.h"
#include "rill/engine/command_outcome.h"
#include "rill/observability/counters_file.h"

namespace rill::engine {

// One writer batch, as the writer saw it.
struct BatchCounts {
  std::uint32_t commands = 0;     // decided (syncer ticks excluded)
  std::int64_t dequeued_ns = 0;   // steady_clock: the writer took the batch from the ring
  std::int64_t committed_ns = 0;  // steady_clock: its journal commit returned
  std::int64_t now_ns = 0;        // CLOCK_REALTIME of the batch (the file's heartbeat)
  std::uint64_t committed_position = 0;
  std::uint64_t durable_position = 0;
  std::uint64_t journal_bytes = 0;        // committed batch bytes, so far (journal::JournalStats)
  std::uint64_t syncs = 0;                // the syncer's syncs, so far
  std::uint64_t sync_ns = 0;              // and their total time
  std::uint64_t ring_full = 0;            // submissions that found the ring full, so far
  std::uint64_t durable_waiting = 0;      // acknowledgements waiting for a sync
  std::uint64_t replicated_waiting = 0;   // acknowledgements waiting for the replicator
  std::uint64_t replicated_position = 0;  // the replicator's (with replication only)
  bool failed = false;                    // the journal failed: commands are rejected
};

class EngineCounters {
 public:
  static constexpr std::size_t kCodes = static_cast<std::size_t>(RejectCode::kReplicationUnavailable) + 1;

  // Creates `<journal directory>/counters` for `program` and registers the engine's metrics.
  // `replication`: the engine ships its journal (rill_replication_position is registered).
  static Result<std::unique_ptr<EngineCounters>> Create(const std::string& journal_directory, std::string_view program,
                                                        std::int64_t ring_capacity, bool replication);

  // Per decided command: its outcome's code (kNone = accepted).
  void Count(RejectCode code) noexcept { ++outcomes_[static_cast<std::size_t>(code)]; }
  // Per acknowledged command (accepted, not kApplied: the projector delivers those): from its
  // submit to the delivery of its outcome at `level` (steady_clock nanoseconds).
  // `submitted_ns` 0: the command was not sampled (EngineOptions::ack_latency_sample_every).
  void RecordAck(AckLevel level, std::int64_t submitted_ns, std::int64_t now_ns) noexcept {
    if (submitted_ns == 0) return;
    const std::int64_t latency = now_ns - submitted_ns;
    ack_latency_[static_cast<std::size_t>(level)].Record(latency > 0 ? static_cast<std::uint64_t>(latency) : 0);
  }
  // Per batch, after its commit.
  void Publish(const BatchCounts& b) noexcept;

  // For projectors, the snapshotter, the replicator: the same file.
  observability::CountersFile& file() noexcept { return *file_; }

 private:
  explicit EngineCounters(std::unique_ptr<observability::CountersFile> file) : file_(std::move(file)) {}
  Status Register(std::int64_t ring_capacity, bool replication);

  std::unique_ptr<observability::CountersFile> file_;
  std::array<std::uint64_t, kCodes> outcomes_{};          // this batch's, by code; zeroed by Publish
  std::array<observability::Counter, kCodes> by_code_{};  // [kNone]: rill_commands_total{result="accepted"}
  observability::Counter rejected_;
  observability::Counter batches_;
  observability::Histogram batch_commands_;
  observability::Histogram batch_duration_;
  observability::Counter ring_full_;
  observability::Gauge committed_;
  observability::Gauge durable_;
  observability::Counter journal_bytes_, syncs_, sync_seconds_;
  observability::Gauge durable_waiting_;
  observability::Gauge replicated_waiting_;
  observability::Gauge failed_;
  observability::Gauge replicated_;  // scratch without replication
  static constexpr std::size_t kLevels = static_cast<std::size_t>(AckLevel::kReplicatedDurable) + 1;
  std::array<observability::Histogram, kLevels> ack_latency_{};  // [kApplied] unregistered: scratch
};

// What the snapshotter's thread publishes (engine/snapshotter.h): snapshots written, the newest
// one's position, time and cost, and the shadow copy's position. Snapshot thread only.
class SnapshotCounters {
 public:
  static Result<SnapshotCounters> Register(observability::CountersFile& file);
  void Applied(std::uint64_t shadow_position) noexcept { shadow_.Set(shadow_position); }
  void Written(std::uint64_t position, std::int64_t realtime_ns, std::int64_t write_ns, std::uint64_t bytes) noexcept;

 private:
  observability::Counter snapshots_;
  observability::Gauge position_, time_, write_, bytes_, shadow_;
};

}  // namespace rill::engine
