// rill/engine/engine_recovery.h: how Engine<D>::Open gets from options to a running writer:
// build the event registry, open (and recover) the journal, load the newest usable snapshot,
// replay the journal after it with verified decoding and the determinism check, then start
// the writer thread and the snapshotter. Everything here runs once, before the first command.
//
// Include engine.h, not this file: engine.h includes it at its end. The definitions of a class
// template's members must be visible to every user of the template; they live in their own
// file so that engine.h reads as the facade. Each is declared `inline`, as a definition inside
// the class is implicitly.
// Thread safety: the thread that calls Open.
#pragma once

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "rill/base/result.h"
#include "rill/base/status.h"
#include "rill/codecs/decoder.h"
#include "rill/codecs/schema_registry.h"
#include "rill/engine/engine.h"
#include "rill/engine/hot_standby.h"
#include "rill/engine/journal_replay.h"
#include "rill/engine/recovery_info.h"
#include "rill/engine/snapshot.h"
#include "rill/engine/snapshotter.h"
#include "rill/journal/journal_reader.h"
#include "rill/journal/journal_writer.h"

namespace rill::engine {

template <typename D>
inline Result<std::unique_ptr<Engine<D>>> Engine<D>::Open(const EngineOptions& options) {
  return OpenWith(options, nullptr);
}

template <typename D>
inline Result<std::unique_ptr<Engine<D>>> Engine<D>::Open(const EngineOptions& options,
                                                          std::unique_ptr<HotStandby<D>> hot) {
  if (hot == nullptr) return Status::InvalidArgument("Engine::Open: no hot standby state (use Open(options))");
  return OpenWith(options, hot.get());
}

template <typename D>
inline Result<std::unique_ptr<Engine<D>>> Engine<D>::OpenWith(const EngineOptions& options, HotStandby<D>* hot) {
  if (options.ring_size < 2 || options.ring_size > (std::size_t{1} << 30) || !std::has_single_bit(options.ring_size))
    return Status::InvalidArgument("EngineOptions::ring_size must be a power of two in [2, 2^30], got " +
                                   std::to_string(options.ring_size));
  if (!std::has_single_bit(options.ack_latency_sample_every))
    return Status::InvalidArgument(
        "EngineOptions::ack_latency_sample_every must be a power of two (1 = every command), got " +
        std::to_string(options.ack_latency_sample_every));
  Result<codecs::SchemaRegistry> registry = BuildEventRegistry<D>(options);
  if (!registry.ok()) return registry.status();
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<Engine> engine(new Engine(options, std::move(registry).value()));
  if (Status s = engine->Recover(hot); !s.ok()) return s;
  if (options.counters) {  // after recovery: the journal directory exists and this process holds its LOCK
    Result<std::unique_ptr<EngineCounters>> c = EngineCounters::Create(
        options.journal.directory, options.counters_program, engine->ring_->capacity(), options.replication != nullptr);
    if (!c.ok()) return c.status();
    engine->counters_ = std::move(*c);
  }
  const auto t1 = std::chrono::steady_clock::now();
  engine->Start();
  const auto t2 = std::chrono::steady_clock::now();
  engine->recovery_.start_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t2 - t1).count();
  engine->recovery_.total_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t2 - t0).count();
  return Result<std::unique_ptr<Engine>>(std::move(engine));
}

template <typename D>
inline Engine<D>::Engine(const EngineOptions& options, codecs::SchemaRegistry registry)
    : options_(options),
      registry_(std::move(registry)),
      processor_(std::make_unique<Processor>(options.processor)),
      ring_(std::make_unique<Ring>(options.ring_size)) {
  const std::size_t max_batch =
      options.max_batch != 0 ? options.max_batch : std::max<std::size_t>(1, options.ring_size / 4);
  max_batch_ = static_cast<std::int64_t>(std::min(max_batch, options.ring_size));
  batch_pending_.reserve(static_cast<std::size_t>(max_batch_));
  applied_pending_.reserve(static_cast<std::size_t>(max_batch_));
  applied_views_.reserve(static_cast<std::size_t>(max_batch_));
  durable_ = PendingAckQueue<PendingAck>(std::max<std::size_t>(16, std::bit_ceil(options.ring_size)));
  if (replication_ != nullptr)
    replicated_ = PendingAckQueue<PendingAck>(std::max<std::size_t>(16, std::bit_ceil(options.ring_size)));
  // Commit early once a batch passes a quarter segment, so a batch of big commands never
  // outgrows a segment (the journal would refuse it).
  commit_threshold_ = std::max<std::size_t>(1, options.journal.segment_size / 4);
}

template <typename D>
inline Status Engine<D>::Recover(HotStandby<D>* hot) {
  const auto t_start = std::chrono::steady_clock::now();
  journal::WriterOptions wo = options_.journal;
  wo.schema_fingerprint = registry_.fingerprint();
  wo.schema_blob = std::as_bytes(registry_.blob());
  wo.on_durable = [this](std::uint64_t position) { OnDurable(position); };
  RecoveryLog reporter(&recovery_, [this](const std::string& line) { Log(line); });
  Result<std::unique_ptr<journal::JournalWriter>> w = journal::JournalWriter::Open(wo, &reporter);
  if (!w.ok()) return w.status();
  journal_ = std::move(w).value();
  durability_none_ = wo.durability == journal::Durability::kNone;

  const std::uint64_t end = journal_->committed_position();
  const auto t_open = std::chrono::steady_clock::now();
  recovery_.open_journal_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t_open - t_start).count();

  // The newest usable snapshot, else the journal's start. Skipped files are logged.
  std::optional<FoundSnapshot> snap;
  std::uint64_t hot_position = 0;
  if (hot != nullptr) {
    // A standby's takeover: its state instead of a snapshot, then the journal after it.
    RILL_RETURN_IF_ERROR(hot->final_error().WithContext("hot standby"));
    hot->Stop();
    hot_position = hot->position();
    if (hot_position > end) {
      return Status::FailedPrecondition("hot standby: its state applied position " + std::to_string(hot_position) +
                                        " but the journal ends at " + std::to_string(end) +
                                        " (its tail was moved aside): start a new HotStandby on the journal");
    }
    processor_ = hot->TakeProcessor();
    recovery_.hot_standby_position = hot_position;
  } else if (options_.snapshot.load) {
    snap = FindSnapshot<D>(SnapshotDirectory(), {registry_.fingerprint(), build_id_, end}, &recovery_.snapshot_notes);
    for (const std::string& note : recovery_.snapshot_notes) Log(note);
  }
  Result<std::unique_ptr<journal::JournalReader>> r = journal::JournalReader::Open({.directory = wo.directory});
  if (!r.ok()) return r.status().WithContext("replay");
  if (hot_position != 0) {
    if (Status s = (*r)->SeekToPosition(hot_position + 1); !s.ok())
      return s.WithContext("replay after the hot standby");
  } else if (snap) {
    // Retention may have deleted the journal right after the snapshot: then it cannot be used.
    if (Status s = (*r)->SeekToPosition(snap->header.position + 1); !s.ok()) {
      recovery_.snapshot_notes.push_back("snapshot " + snap->path + " skipped: " + s.ToString());
      Log(recovery_.snapshot_notes.back());
      snap.reset();
      r = journal::JournalReader::Open({.directory = wo.directory});
      if (!r.ok()) return r.status().WithContext("replay");
    } else {
      RILL_RETURN_IF_ERROR(ApplySnapshot<D>(*snap, processor_.get()).WithContext("snapshot " + snap->path));
      recovery_.snapshot_path = snap->path;
      recovery_.snapshot_position = snap->header.position;
      recovery_.snapshot_aggregates = snap->header.aggregates;
      recovery_.snapshot_window_entries = snap->header.window_entries;
    }
  }
  const auto t_loaded = std::chrono::steady_clock::now();
  recovery_.load_snapshot_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t_loaded - t_open).count();

  // Replay with verified decoding (these bytes come from disk), checking digest records.
  JournalReplayer<D> replayer(registry_, processor_.get());
  ReplayProgress progress;
  if (Status s = replayer.Run(**r, {}, &progress); !s.ok()) return s.WithContext("replay");
  recovery_.replayed_events = progress.events;
  recovery_.digests_checked = progress.digests_checked;
  recovery_.digest_mismatch = progress.digest_mismatch;
  if (const auto& m = progress.digest_mismatch) {
    Log("determinism check failed: the digest record at position " + std::to_string(m->position) +
        " differs from the replayed state (Evolve changed or is not deterministic); the engine runs on the replayed "
        "state: run `rill replay --verify` on the journal");
  }
  if (snap && options_.snapshot.enabled) snapshot_start_ = std::move(snap);  // the snapshotter starts from it
  processor_->FinishReplay();
  recovery_.state_digest = processor_->digest();
  recovery_.replay_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t_loaded).count();
  next_position_ = journal_->committed_position();
  recovery_.committed_position = next_position_;
  return Status::OK();
}

template <typename D>
inline std::string Engine<D>::SnapshotDirectory() const {
  return options_.snapshot.directory.empty() ? options_.journal.directory + "/snapshots" : options_.snapshot.directory;
}

template <typename D>
inline void Engine<D>::Start() {
  // Recovery ran on this thread; starting the thread is the happens-before edge it needs.
  processor_->TransferOwnership();
  if (replication_ != nullptr) replication_->SetWake([this] { OnReplicated(); });
  writer_ = std::thread([this] { WriterMain(); });
  if (options_.snapshot.enabled) {
    typename Snapshotter<D>::Config c;
    c.journal_dir = options_.journal.directory;
    c.snapshot_dir = SnapshotDirectory();
    c.options = options_.snapshot;
    c.processor = options_.processor;
    c.schema_fingerprint = registry_.fingerprint();
    c.build_id = build_id_;
    c.log = [this](const std::string& line) { Log(line); };
    c.counters = counters_ ? &counters_->file() : nullptr;
    snapshotter_ = std::make_unique<Snapshotter<D>>(std::move(c), registry_, std::move(snapshot_start_));
    snapshot_start_.reset();
    snapshotter_->Start();
  }
}

}  // namespace rill::engine
