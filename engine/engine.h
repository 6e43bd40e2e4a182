// rill/engine/engine.h: the public facade: a domain's commands in, journaled events out,
// one outcome per command. Opens (and recovers) the journal, replays it into the aggregates
// and the idempotency window, then runs the single writer thread.
//
//   using rill::examples::bank::BankDomain;
//   rill::engine::EngineOptions options;
//   options.journal.directory = "/var/lib/ledger";
//   auto opened = rill::engine::Engine<BankDomain>::Open(options);      // replays the journal
//   if (!opened.ok()) return opened.status();
//   auto& engine = **opened;
//
//   // Any thread. Waits for the outcome; the default ack level is kJournaled.
//   rill::engine::CommandOutcome o = engine.execute(Deposit{.account = 7, .amount = 500}, {.command_id = 42});
//   if (o.accepted()) use(o.position(), o.stream_version());
//
//   rill::engine::Completion done;                                        // or a callback
//   engine.submit(Withdraw{7, 100}, {.command_id = 43}, rill::engine::AckLevel::kDurable, done);
//   if (engine.try_submit(cmd, meta, AckLevel::kJournaled, done) == ClaimStatus::kFull) shed_load();
//   done.Wait();
//
//   // applied(view): returns once the balances read model shows the deposit (applied_view.h).
//   o = engine.execute(Deposit{.account = 7, .amount = 5}, {.command_id = 44}, balances_view);
//
//   engine.Stop();   // every command in the ring gets its outcome; also done by the destructor
//
// Guarantees (engine/README.md has them in full):
// - Each command that submit/try_submit/execute took gets exactly one outcome; the outcome is
//   delivered at the command's AckLevel and never claims more than is true.
// - Idempotency by CommandMeta::command_id within the last ProcessorOptions::idempotency_window
//   ids, rebuilt from the journal at Open: a retry gets the original outcome, applied once.
// - Journal failure (disk full, I/O error): commands are rejected with kJournalUnavailable and
//   the journal's message, status() reports it, committed data stays intact; restart to resume.
// Thread safety: execute/submit/try_submit/submit_batch/status/positions from any thread;
// Open, Stop and ForEachAggregate from the owning thread. Completion callbacks run on the
// writer thread (applied(view) ones may run on the view's projector thread): short, and never
// waiting on this engine.
//
// Files: this one holds the class, its public API and the submitters. The other members are
// defined in headers included at its end: engine_recovery.h (what Open runs: recovery,
// replay, start) and engine_writer_loop.h (the writer thread, and the syncer's tick beside
// its Dekker partner). command_slot.h holds a ring slot, recovery_info.h RecoveryInfo,
// hot_standby.h a standby's state for Open. About 420 lines, kept whole: the class and its
// public API read best in one place; the member definitions already live in the files above.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "rill/base/cache_line.h"
#include "rill/base/result.h"
#include "rill/base/status.h"
#include "rill/codecs/schema_registry.h"
#include "rill/engine/ack_level.h"
#include "rill/engine/applied_view.h"
#include "rill/engine/command_outcome.h"
#include "rill/engine/command_processor.h"
#include "rill/engine/command_slot.h"
#include "rill/engine/completion.h"
#include "rill/engine/domain.h"
#include "rill/engine/engine_counters.h"
#include "rill/engine/engine_options.h"
#include "rill/engine/event_registry.h"
#include "rill/engine/pending_ack_queue.h"
#include "rill/engine/recovery_info.h"
#include "rill/engine/replication_progress.h"
#include "rill/engine/ring_buffer.h"
#include "rill/engine/snapshot.h"
#include "rill/engine/snapshotter.h"
#include "rill/journal/journal_writer.h"

namespace rill::engine {

template <typename D>
class HotStandby;  // hot_standby.h

struct BatchSubmitResult {
  ClaimStatus status = ClaimStatus::kOk;  // kOk: all submitted; kShutDown: the rest were not
  std::size_t submitted = 0;              // how many, from the front, the engine took
};

template <typename D>
class Engine {
  static_assert(CheckDomain<D>());

 public:
  using Command = typename D::Command;
  using Slot = CommandSlot<D>;
  using Ring = MpscRing<Slot>;
  using Processor = CommandProcessor<D>;

  // One command of submit_batch.
  struct Submission {
    CommandMeta meta;
    Command command{};
    AckLevel ack = AckLevel::kJournaled;
    CompletionTarget target;
    AppliedView* view = nullptr;  // required with AckLevel::kApplied, ignored otherwise
  };

  // Builds the event registry, opens the journal (recovery cuts a torn tail and reports it),
  // replays it with verified decoding, then starts the writer thread. Errors: the journal's
  // (Busy: another writer; Corruption before the tail), a record this domain cannot decode,
  // a stream version gap, InvalidArgument for bad options.
  static Result<std::unique_ptr<Engine>> Open(const EngineOptions& options);
  // A standby's takeover (hot_standby.h): takes the aggregates and the idempotency window of
  // `hot`, then replays only the journal after its position. FailedPrecondition when `hot`
  // applied past the journal's end (its tail was moved aside: start a new HotStandby) or
  // stopped on an error.
  static Result<std::unique_ptr<Engine>> Open(const EngineOptions& options, std::unique_ptr<HotStandby<D>> hot);

  ~Engine() { Stop(); }
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Submits and waits for the outcome at `ack`. After Stop: kShutdown.
  CommandOutcome execute(const Command& cmd, const CommandMeta& meta = {}, AckLevel ack = AckLevel::kJournaled) {
    Completion done;
    if (submit(cmd, meta, ack, done) != ClaimStatus::kOk)
      return CommandOutcome::Rejected(Rejection(RejectCode::kShutdown, 0, "the engine is stopped"));
    return done.Wait();
  }

  // applied(view): returns once `view`'s read model has applied the command's events.
  CommandOutcome execute(const Command& cmd, const CommandMeta& meta, AppliedView& view) {
    Completion done;
    if (submit(cmd, meta, view, done) != ClaimStatus::kOk)
      return CommandOutcome::Rejected(Rejection(RejectCode::kShutdown, 0, "the engine is stopped"));
    return done.Wait();
  }

  // Waits for a ring slot while the ring is full; kOk (the outcome will be delivered) or
  // kShutDown (it will not). `done` is Reset() here. REQUIRES: `done` is not in flight, and it
  // (and any BytesRef in cmd) stays alive until the outcome is delivered.
  ClaimStatus submit(const Command& cmd, const CommandMeta& meta, AckLevel ack, Completion& done) {
    done.Reset();
    return Publish(cmd, meta, ack, nullptr, done.target(), /*wait=*/true);
  }
  ClaimStatus submit(const Command& cmd, const CommandMeta& meta, AckLevel ack, CompletionTarget target) {
    return Publish(cmd, meta, ack, nullptr, target, /*wait=*/true);
  }
  // AckLevel::kApplied: the outcome comes once `view` has applied the command's last event.
  ClaimStatus submit(const Command& cmd, const CommandMeta& meta, AppliedView& view, Completion& done) {
    done.Reset();
    return Publish(cmd, meta, AckLevel::kApplied, &view, done.target(), /*wait=*/true);
  }
  ClaimStatus submit(const Command& cmd, const CommandMeta& meta, AppliedView& view, CompletionTarget target) {
    return Publish(cmd, meta, AckLevel::kApplied, &view, target, /*wait=*/true);
  }
  // As submit, but kFull at once when the ring is full (nothing was submitted).
  ClaimStatus try_submit(const Command& cmd, const CommandMeta& meta, AckLevel ack, Completion& done) {
    done.Reset();
    return Publish(cmd, meta, ack, nullptr, done.target(), /*wait=*/false);
  }
  ClaimStatus try_submit(const Command& cmd, const CommandMeta& meta, AckLevel ack, CompletionTarget target) {
    return Publish(cmd, meta, ack, nullptr, target, /*wait=*/false);
  }
  ClaimStatus try_submit(const Command& cmd, const CommandMeta& meta, AppliedView& view, Completion& done) {
    done.Reset();
    return Publish(cmd, meta, AckLevel::kApplied, &view, done.target(), /*wait=*/false);
  }
  ClaimStatus try_submit(const Command& cmd, const CommandMeta& meta, AppliedView& view, CompletionTarget target) {
    return Publish(cmd, meta, AckLevel::kApplied, &view, target, /*wait=*/false);
  }
  // Claims slots for many commands at once (in chunks of at most the ring's capacity),
  // waiting while the ring is full; they are decided in order, usually in one writer batch.
  BatchSubmitResult submit_batch(std::span<const Submission> batch) {
    BatchSubmitResult result;
    if (!Enter()) return {ClaimStatus::kShutDown, 0};
    const auto capacity = static_cast<std::size_t>(ring_->capacity());
    while (result.submitted < batch.size()) {
      const std::size_t n = std::min(batch.size() - result.submitted, capacity);
      const Claim c = ring_->claim(static_cast<std::int64_t>(n));
      if (!c.ok()) {
        result.status = c.status;
        break;
      }
      const std::int64_t now = stamp_submits_ ? SteadyNs() : 0;  // one clock read per call
      for (std::int64_t s = c.first; s <= c.last; ++s) {
        const Submission& sub = batch[result.submitted + static_cast<std::size_t>(s - c.first)];
        Fill((*ring_)[s], s, sub.meta, sub.command, sub.ack, sub.view, sub.target, now);
      }
      ring_->publish(c);
      result.submitted += n;
    }
    Leave();
    return result;
  }

  // Stops accepting, lets the writer finish what the ring holds (real outcomes), answers
  // commands it never reached with kShutdown, completes pending durable acknowledgements
  // (syncing once), joins the writer and closes the journal. Idempotent.
  void Stop() {
    std::lock_guard<std::mutex> lock(stop_mu_);
    if (!writer_.joinable()) return;
    // Seq_cst: pairs with Enter (a Dekker pair with submitting_): either a submitter sees the
    // flag, or the writer's final wait sees its registration.
    stopping_.store(true, std::memory_order_seq_cst);
    ring_->shutdown();
    writer_.join();
    if (replication_ != nullptr) replication_->SetWake({});  // it outlives us: no more wake-ups
    if (snapshotter_) snapshotter_->Stop();
    if (Status s = journal_->Close(); !s.ok()) Log("closing the journal: " + s.ToString());
    stopped_ = true;
  }

  // OK, or why commands are rejected with kJournalUnavailable (the journal's error).
  Status status() const {
    // Acquire: pairs with the release in OnJournalFailure; failure_ is written once, before.
    return failed_.load(std::memory_order_acquire) ? failure_ : Status::OK();
  }
  std::uint64_t committed_position() const noexcept { return journal_->committed_position(); }
  // What the journal reports durable, or more: the syncer reports a sync to the engine just
  // before it publishes the position in the journal, and durable acknowledgements use it.
  std::uint64_t durable_position() const noexcept {
    // Seq_cst: the same word as OnDurable's Dekker pair; this reader needs only acquire.
    return std::max(journal_->durable_position(), durable_hint_.load(std::memory_order_seq_cst));
  }
  const RecoveryInfo& recovery() const noexcept { return recovery_; }

  // Asks the snapshotter for a snapshot of everything committed now and waits for it (up to
  // timeout_ns): its position. Unavailable when snapshots are off; TimedOut. From the owning
  // thread (tests, an operator before a planned restart).
  Result<std::uint64_t> TakeSnapshot(std::int64_t timeout_ns) {
    if (!snapshotter_) return Status::Unavailable("snapshots are off: set EngineOptions::snapshot.enabled");
    if (stopped_) return Status::Unavailable("TakeSnapshot: the engine is stopped");
    return snapshotter_->SnapshotNow(journal_->committed_position(), timeout_ns);
  }
  // The snapshotter's counters (nullopt when snapshots are off). Any thread.
  std::optional<SnapshotterStats> snapshotter_stats() const {
    if (!snapshotter_) return std::nullopt;
    return snapshotter_->stats();
  }
  // The digest of every aggregate's state (engine/state_digest.h); like ForEachAggregate, only
  // after Stop() and when the journal never failed.
  Result<std::uint64_t> state_digest() const {
    if (!stopped_) return Status::Unavailable("state_digest: aggregates belong to the writer; call Stop() first");
    if (failed_.load(std::memory_order_acquire))  // acquire: as in status()
      return Status::Unavailable("state_digest: the journal failed, memory may hold an aborted batch: reopen");
    return processor_->digest();
  }
  const codecs::SchemaRegistry& registry() const noexcept { return registry_; }
  // How many submissions found the ring full.
  std::uint64_t ring_full_count() const noexcept { return ring_->full_count(); }
  // The counters file (null when EngineOptions::counters is off): projector threads and a
  // replicator of this process register their metrics in it.
  observability::CountersFile* counters_file() noexcept { return counters_ ? &counters_->file() : nullptr; }

  // fn(id, version, const State&) for every aggregate (ForEachAggregate<K> for kind K of a
  // domain with several kinds). Aggregates belong to the writer, so only after Stop(), and only
  // when the journal never failed: after a failure, memory may hold an aborted batch's effects
  // (never journaled); reopen the engine to see the journal's state. Queries of a running
  // engine go through read models (projections/).
  template <typename Fn>
  Status ForEachAggregate(Fn&& fn) const requires(kKindCount<D> == 1) {
    return ForEachAggregate<KindAt<D, 0>>(std::forward<Fn>(fn));
  }
  template <typename K, typename Fn>
  Status ForEachAggregate(Fn&& fn) const {
    if (!stopped_) return Status::Unavailable("ForEachAggregate: aggregates belong to the writer; call Stop() first");
    if (failed_.load(std::memory_order_acquire))  // acquire: as in status()
      return Status::Unavailable("ForEachAggregate: the journal failed, memory may hold an aborted batch: reopen");
    processor_->template store<K>().ForEach(std::forward<Fn>(fn));
    return Status::OK();
  }

 private:
  // A command decided in this batch whose outcome waits for the commit (or for durability).
  struct PendingAck {
    CompletionTarget target;
    AckLevel ack = AckLevel::kJournaled;
    AppliedView* view = nullptr;
    CommandOutcome outcome;
    std::int64_t submitted_ns = 0;  // the slot's, for the ack latency histograms
  };

  // Appends a record to the journal's open batch, for CommandProcessor::Process
  // (engine_writer_loop.h).
  struct JournalSink;

  static constexpr std::size_t kFarLookahead = 12;  // index slots (command_processor.h, Prefetch)
  static constexpr std::size_t kNearLookahead = 4;  // aggregate entries
  static constexpr std::size_t kJournalPrefetchAhead = 1024;

  // ---- Start-up, on the thread that calls Open (engine_recovery.h) ------------------------

  Engine(const EngineOptions& options, codecs::SchemaRegistry registry);
  static Result<std::unique_ptr<Engine>> OpenWith(const EngineOptions& options, HotStandby<D>* hot);
  Status Recover(HotStandby<D>* hot);
  std::string SnapshotDirectory() const;
  void Start();

  // ---- Submitters -------------------------------------------------------------------------

  // The submit time for the acknowledgement latency histograms (0: not timed): a steady_clock
  // read (vDSO, no system call) for one command in ack_latency_sample_every, only when the
  // engine keeps counters. The sample is picked by a Fibonacci hash of the ring sequence, not
  // its low bits: a workload that alternates two kinds of command would otherwise be sampled on
  // one kind only.
  std::int64_t SubmitStamp(std::int64_t seq) const noexcept {
    const std::uint64_t mixed = (static_cast<std::uint64_t>(seq) * 0x9E3779B97F4A7C15ull) >> 40;
    return stamp_submits_ && (mixed & static_cast<std::uint64_t>(stamp_mask_)) == 0 ? SteadyNs() : 0;
  }

  // Registers a submitter so that Stop's writer waits for its publish. False once stopping.
  bool Enter() noexcept {
    // Seq_cst (both): a Dekker pair with Stop's store of stopping_ and the writer's final load
    // of submitting_: either we see stopping_, or the writer sees our increment and waits.
    submitting_.fetch_add(1, std::memory_order_seq_cst);
    if (stopping_.load(std::memory_order_seq_cst)) {
      Leave();
      return false;
    }
    return true;
  }
  // Release: our slot writes and publish happen before the writer's final scan, which
  // acquires submitting_ == 0.
  void Leave() noexcept { submitting_.fetch_sub(1, std::memory_order_release); }

  static void Fill(Slot& slot, std::int64_t seq, const CommandMeta& meta, const Command& cmd, AckLevel ack,
                   AppliedView* view, CompletionTarget target, std::int64_t submitted_ns) noexcept {
    slot.meta = meta;
    slot.submitted_ns = submitted_ns;
    slot.command = cmd;
    slot.target = target;
    slot.sequence = seq;
    slot.view = view;
    slot.ack = ack;
    slot.tick = false;
  }

  ClaimStatus Publish(const Command& cmd, const CommandMeta& meta, AckLevel ack, AppliedView* view,
                      CompletionTarget target, bool wait) {
    if (!Enter()) return ClaimStatus::kShutDown;
    const Claim c = wait ? ring_->claim(1) : ring_->try_claim(1);
    if (c.ok()) {
      Fill((*ring_)[c.first], c.first, meta, cmd, ack, view, target, SubmitStamp(c.first));
      ring_->publish(c.first);
    }
    Leave();
    return c.status;
  }

  // ---- Syncer thread (engine_writer_loop.h) -----------------------------------------------

  void OnDurable(std::uint64_t position);
  void PublishTick(std::uint64_t durable_position);

  // ---- Writer thread (engine_writer_loop.h) -----------------------------------------------

  void WriterMain();
  static std::int64_t NowNs() noexcept;
  static std::int64_t SteadyNs() noexcept;
  void HandleBatch(std::int64_t first, std::int64_t last);
  void PublishCounters(const BatchTiming& timing, std::int64_t timestamp);
  CommandOutcome Decide(const Slot& slot, std::int64_t timestamp);
  void AppendDigest();
  void CommitOpenBatch(std::int64_t timestamp);
  void CompleteCommitted(std::int64_t committed_ns);
  void HandOverApplied();
  void DeliverDurableUpTo(std::uint64_t durable);
  void CheckDurable();
  void RejectPendingDurable(const Status& why);
  // ---- Replicated acknowledgements (engine_replication.h) ----------------------------------
  void OnReplicated();  // the replicator's thread
  void CheckReplicated();
  void RefreshReplicationGate();
  void RejectPendingReplicated(const CommandOutcome& outcome);
  CommandOutcome ReplicationUnavailable() const;
  void FinishReplicatedAtShutdown();
  CommandOutcome JournalUnavailable() const;
  void OnJournalFailure(const Status& error);
  void FinishAfterShutdown(std::int64_t next);

  void Log(const std::string& line) const {
    if (options_.log_to_stderr)
      std::fprintf(stderr, "rill engine (%s): %s\n", options_.journal.directory.c_str(), line.c_str());
  }

  const EngineOptions options_;
  codecs::SchemaRegistry registry_;
  std::unique_ptr<Processor> processor_;
  std::unique_ptr<Ring> ring_;
  std::unique_ptr<journal::JournalWriter> journal_;
  const std::uint64_t build_id_ = SnapshotBuildId<D>(options_.snapshot.domain_version);
  std::optional<FoundSnapshot> snapshot_start_;   // Recover -> Start: the snapshotter's first state
  std::unique_ptr<Snapshotter<D>> snapshotter_;   // when options_.snapshot.enabled
  std::unique_ptr<EngineCounters> counters_;      // when options_.counters; published by the writer
  const bool stamp_submits_ = options_.counters;  // submitters stamp slots (ack latency)
  const std::int64_t stamp_mask_ = static_cast<std::int64_t>(options_.ack_latency_sample_every) - 1;
  RecoveryInfo recovery_;
  std::thread writer_;
  std::mutex stop_mu_;
  bool stopped_ = false;  // owner thread only (Stop, ForEachAggregate)
  bool durability_none_ = true;

  // Shared with submitters and the syncer.
  alignas(kFalseSharingRange) std::atomic<std::int64_t> submitting_{0};
  std::atomic<bool> stopping_{false};
  alignas(kFalseSharingRange) std::atomic<std::uint64_t> durable_hint_{0};
  std::atomic<bool> durable_waiting_{false};
  std::atomic<bool> failed_{false};
  Status failure_;  // written once by the writer before failed_ is set
  // Shared with the replicator's thread (OnReplicated).
  alignas(kFalseSharingRange) std::atomic<bool> replicated_waiting_{false};

  // Writer thread only.
  alignas(kFalseSharingRange) std::int64_t max_batch_ = 1;
  std::size_t commit_threshold_ = 0;
  std::uint64_t next_position_ = 0;  // last position handed out in the open batch
  std::size_t batch_bytes_ = 0;
  bool batch_open_ = false;
  bool failed_local_ = false;
  Status append_error_;
  std::uint64_t tick_durable_ = 0;
  std::vector<PendingAck> batch_pending_;
  const std::uint64_t digest_interval_ = options_.digest_interval_commands;
  std::uint64_t commands_since_digest_ = 0;
  std::vector<AppliedWaiter> applied_pending_;  // this batch's applied(view) acks, by view:
  std::vector<AppliedView*> applied_views_;     //   parallel arrays, capacity kept
  PendingAckQueue<PendingAck> durable_;
  // kReplicated(+durable, once durable) acknowledgements, waiting for the replicated position.
  PendingAckQueue<PendingAck> replicated_;
  ReplicationProgress* const replication_ = options_.replication;  // not owned; may be null
  bool replication_refusing_ = false;  // the lag bound is reached: commands get kReplicationUnavailable
  bool replication_failed_ = false;    // final_error() was seen: this writer no longer writes
  Status replication_failure_;
};

}  // namespace rill::engine

// The member definitions (see "Files" above): a class template's must be visible wherever it
// is used, so they are headers included here, kept apart for readability.
#include "rill/engine/engine_recovery.h"
#include "rill/engine/engine_replication.h"
#include "rill/engine/engine_writer_loop.h"
