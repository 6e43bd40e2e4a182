// rill/engine/engine_options.h: what Engine<D>::Open needs: where the journal lives and how
// it syncs, the ring's size, and the writer's table sizes.
//
//   rill::engine::EngineOptions o;
//   o.journal.directory = "/var/lib/ledger";
//   o.journal.durability = rill::journal::Durability::kBatch;   // group commit
//   o.ring_size = 4096;                                          // power of two
//   o.processor.expected_aggregates = 1'000'000;
//   auto engine = rill::engine::Engine<BankDomain>::Open(o);
//
// The engine fills journal.schema_fingerprint / schema_blob (from the domain's event
// registry) and journal.on_durable (its own completion hook): leave them unset.
// Thread safety: plain values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "rill/codecs/schema_registry.h"
#include "rill/engine/command_processor.h"
#include "rill/engine/replication_progress.h"
#include "rill/engine/snapshot_options.h"
#include "rill/journal/options.h"

namespace rill::engine {

// One writer batch's timeline, steady_clock nanoseconds, for per-stage latency (rill bench).
struct BatchTiming {
  std::int64_t dequeued_ns = 0;   // the writer took the batch from the ring
  std::int64_t decided_ns = 0;    // every command decided, evolved and appended
  std::int64_t committed_ns = 0;  // the journal commit returned (journaled acks follow)
  std::uint32_t commands = 0;     // commands in the batch (syncer ticks excluded)
};

struct EngineOptions {
  journal::WriterOptions journal;
  // Command ring slots: a power of two in [2, 2^30]. Submitters wait (submit) or are refused
  // (try_submit) while it is full.
  std::size_t ring_size = 4096;
  // Most commands the writer takes as one batch (one journal commit); 0 = a quarter of the ring.
  std::size_t max_batch = 0;
  ProcessorOptions processor;
  // Registers the domain's event types. Optional when the domain has
  // `static void RegisterEvents(rill::codecs::SchemaRegistryBuilder&)`; this one wins if both.
  std::function<void(codecs::SchemaRegistryBuilder&)> register_events;
  // Log start-up reports (a cut torn tail) and journal failures as one line on stderr.
  bool log_to_stderr = true;
  // Aggregate snapshots: taken off the writer's path, used at Open (snapshot_options.h).
  SnapshotOptions snapshot;
  // The determinism check: every this many commands the writer appends a digest record of the
  // aggregates' state (event_record.h) to the batch; replays compare. 0 = none. On by default:
  // every journal reader skips non-event records (engine/README.md, "Determinism digest").
  std::uint64_t digest_interval_commands = 4096;
  // Called on the writer thread after each batch's commit and before its journaled
  // acknowledgements are delivered; unset costs nothing, set costs three clock reads per batch.
  // Must be short and must not wait on the engine.
  std::function<void(const BatchTiming&)> on_batch;
  // Replication (replication/README.md): the replicator that ships this journal, needed for
  // AckLevel::kReplicated. Not owned: it must outlive the engine. Null: no replication.
  ReplicationProgress* replication = nullptr;
  // Most journal positions that may wait for replication: once that many wait, commands are answered
  // kReplicationUnavailable (checked once per writer batch, so one batch may overshoot) until
  // the replicator catches up. It bounds what a standby's takeover can lose of commands
  // acknowledged at kJournaled or kDurable. 0 = no bound.
  std::uint64_t max_replication_lag = 1'000'000;
  // At Stop, how long pending kReplicated acknowledgements may still wait for the replicator
  // before they are answered kReplicationUnavailable ("journaled, not confirmed replicated").
  std::int64_t replication_stop_wait_ns = 2'000'000'000;
  // Live counters in `<journal directory>/counters` (observability/README.md) for `rill top`
  // and `rill metrics` in other processes: commands by result and reason, batches, the ring,
  // positions. Costs a few stores per writer batch. `counters_program` names this process there.
  bool counters = true;
  std::string counters_program = "rill";
  // The acknowledgement latency histograms time one command in this many (picked by ring sequence; a
  // power of two; 1 = every command): a clock read per submit costs ~5% of `rill bench`'s
  // single-producer throughput, one in 16 is within noise. submit_batch stamps each batch.
  std::uint32_t ack_latency_sample_every = 16;
};

}  // namespace rill::engine
