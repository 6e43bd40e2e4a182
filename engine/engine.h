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
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
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
#include "rill/codecs/decoder.h"
#include "rill/codecs/schema_registry.h"
#include "rill/engine/ack_level.h"
#include "rill/engine/applied_view.h"
#include "rill/engine/command_outcome.h"
#include "rill/engine/command_processor.h"
#include "rill/engine/completion.h"
#include "rill/engine/domain.h"
#include "rill/engine/engine_options.h"
#include "rill/engine/event_record.h"
#include "rill/engine/journal_replay.h"
#include "rill/engine/prefetch.h"
#include "rill/engine/ring_buffer.h"
#include "rill/engine/snapshot.h"
#include "rill/engine/snapshotter.h"
#include "rill/journal/journal_reader.h"
#include "rill/journal/journal_writer.h"
#include "rill/journal/recovery.h"

namespace rill::engine {

// One ring slot: 16 (meta) + the command + 16 (target) + 24 bytes. Bank: 88 bytes.
template <typename D>
struct CommandSlot {
  CommandMeta meta;
  typename D::Command command{};
  CompletionTarget target;
  // The ring sequence the slot was written for: at shutdown, slots with a sequence the writer
  // never reached are the commands to answer with kShutdown.
  std::int64_t sequence = -1;
  AppliedView* view = nullptr;  // kApplied: the read model to wait for
  AckLevel ack = AckLevel::kJournaled;
  // A wake-up from the journal's syncer (durable position moved), not a command; the durable
  // position it reports travels in meta.expected_version.
  bool tick = false;
};

// What a domain may provide instead of EngineOptions::register_events.
template <typename D>
concept HasRegisterEvents = requires(codecs::SchemaRegistryBuilder& b) {
  D::RegisterEvents(b);
};

// What Open found and did before accepting commands.
struct RecoveryInfo {
  std::uint64_t replayed_events = 0;     // from the journal, after the snapshot if one was used
  std::uint64_t committed_position = 0;  // the journal's last position after recovery
  std::vector<journal::TailCut> tail_cuts;
  std::vector<journal::SalvageReport> salvaged;
  // The snapshot start-up used ("" and 0: none, the whole journal was replayed), and one line
  // per snapshot file skipped, saying why (also logged).
  std::string snapshot_path;
  std::uint64_t snapshot_position = 0;
  std::uint64_t snapshot_aggregates = 0, snapshot_window_entries = 0;
  std::vector<std::string> snapshot_notes;
  // The determinism check over the replayed part: digest records compared, the first mismatch.
  std::uint64_t digests_checked = 0;
  std::optional<DigestMismatch> digest_mismatch;
  std::uint64_t state_digest = 0;  // of the recovered aggregates
  // Each step's duration: open the journal (verify, cut a torn tail), find and load the
  // snapshot (aggregates and idempotency window), replay the journal after it, start the
  // writer (and the snapshotter). total_ns: Open's call until commands are accepted.
  std::int64_t open_journal_ns = 0, load_snapshot_ns = 0, replay_ns = 0, start_ns = 0, total_ns = 0;
};

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
  static Result<std::unique_ptr<Engine>> Open(const EngineOptions& options) {
    if (options.ring_size < 2 || options.ring_size > (std::size_t{1} << 30) || !std::has_single_bit(options.ring_size))
      return Status::InvalidArgument("EngineOptions::ring_size must be a power of two in [2, 2^30], got " +
                                     std::to_string(options.ring_size));
    codecs::SchemaRegistryBuilder builder;
    if (options.register_events) {
      options.register_events(builder);
    } else {
      if constexpr (HasRegisterEvents<D>) {
        D::RegisterEvents(builder);
      } else {
        return Status::InvalidArgument(
            "no event types: set EngineOptions::register_events or give the domain a static "
            "RegisterEvents(rill::codecs::SchemaRegistryBuilder&)");
      }
    }
    Result<codecs::SchemaRegistry> registry = std::move(builder).Build();
    if (!registry.ok()) return registry.status();
    const auto t0 = std::chrono::steady_clock::now();
    std::unique_ptr<Engine> engine(new Engine(options, std::move(registry).value()));
    if (Status s = engine->Recover(); !s.ok()) return s;
    const auto t1 = std::chrono::steady_clock::now();
    engine->Start();
    const auto t2 = std::chrono::steady_clock::now();
    engine->recovery_.start_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t2 - t1).count();
    engine->recovery_.total_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t2 - t0).count();
    return Result<std::unique_ptr<Engine>>(std::move(engine));
  }

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
      for (std::int64_t s = c.first; s <= c.last; ++s) {
        const Submission& sub = batch[result.submitted + static_cast<std::size_t>(s - c.first)];
        Fill((*ring_)[s], s, sub.meta, sub.command, sub.ack, sub.view, sub.target);
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

  // fn(id, version, const State&) for every aggregate. Aggregates belong to the writer, so
  // only after Stop(), and only when the journal never failed: after a failure, memory may
  // hold an aborted batch's effects (never journaled); reopen the engine to see the journal's
  // state. Queries of a running engine go through read models (projections/).
  template <typename Fn>
  Status ForEachAggregate(Fn&& fn) const {
    if (!stopped_) return Status::Unavailable("ForEachAggregate: aggregates belong to the writer; call Stop() first");
    if (failed_.load(std::memory_order_acquire))  // acquire: as in status()
      return Status::Unavailable("ForEachAggregate: the journal failed, memory may hold an aborted batch: reopen");
    processor_->store().ForEach(std::forward<Fn>(fn));
    return Status::OK();
  }

 private:
  // A command decided in this batch whose outcome waits for the commit (or for durability).
  struct PendingAck {
    CompletionTarget target;
    AckLevel ack = AckLevel::kJournaled;
    AppliedView* view = nullptr;
    CommandOutcome outcome;
  };

  // Appends a record to the journal's open batch, for CommandProcessor::Process.
  struct JournalSink {
    Engine* e;
    std::optional<std::uint64_t> operator()(std::span<const std::uint8_t> record) {
      Result<std::span<std::byte>> dst = e->journal_->Reserve(record.size(), kEventRecordType);
      if (!dst.ok()) [[unlikely]] {
        e->append_error_ = dst.status();
        return std::nullopt;
      }
      std::memcpy(dst->data(), record.data(), record.size());
      // Start the read-for-ownership of the journal lines ~1 KiB ahead: fresh page-cache lines
      // otherwise miss to DRAM one store at a time (writer_apply/bank vs
      // bank_no_journal_prefetch). A prefetch past the mapping is dropped, never a fault.
      PrefetchForWrite(dst->data() + kJournalPrefetchAhead);
      e->batch_open_ = true;
      e->batch_bytes_ += record.size();
      return ++e->next_position_;
    }
  };

  class Reporter final : public journal::Reporter {
   public:
    explicit Reporter(Engine* e) : e_(e) {}
    void TailTruncated(const journal::TailCut& cut) override {
      e_->recovery_.tail_cuts.push_back(cut);
      e_->Log("recovery cut a torn tail of " + std::to_string(cut.bytes_cut) + " bytes in " + cut.segment +
              " at offset " + std::to_string(cut.offset) + " (from position " + std::to_string(cut.first_position_cut) +
              "): " + cut.reason);
    }
    void Salvaged(const journal::SalvageReport& r) override {
      e_->recovery_.salvaged.push_back(r);
      e_->Log("salvage dropped everything from position " + std::to_string(r.first_position_dropped) + " (" + r.reason +
              "), moved to " + r.aside_directory);
    }

   private:
    Engine* e_;
  };

  static constexpr std::size_t kFarLookahead = 12;  // index slots (command_processor.h, Prefetch)
  static constexpr std::size_t kNearLookahead = 4;  // aggregate entries
  static constexpr std::size_t kJournalPrefetchAhead = 1024;

  Engine(const EngineOptions& options, codecs::SchemaRegistry registry)
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
    durable_.resize(std::max<std::size_t>(16, std::bit_ceil(options.ring_size)));
    // Commit early once a batch passes a quarter segment, so a batch of big commands never
    // outgrows a segment (the journal would refuse it).
    commit_threshold_ = std::max<std::size_t>(1, options.journal.segment_size / 4);
  }

  Status Recover() {
    const auto t_start = std::chrono::steady_clock::now();
    journal::WriterOptions wo = options_.journal;
    wo.schema_fingerprint = registry_.fingerprint();
    wo.schema_blob = std::as_bytes(registry_.blob());
    wo.on_durable = [this](std::uint64_t position) { OnDurable(position); };
    Reporter reporter(this);
    Result<std::unique_ptr<journal::JournalWriter>> w = journal::JournalWriter::Open(wo, &reporter);
    if (!w.ok()) return w.status();
    journal_ = std::move(w).value();
    durability_none_ = wo.durability == journal::Durability::kNone;

    const std::uint64_t end = journal_->committed_position();
    const auto t_open = std::chrono::steady_clock::now();
    recovery_.open_journal_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t_open - t_start).count();

    // The newest usable snapshot, else the journal's start. Skipped files are logged.
    std::optional<FoundSnapshot> snap;
    if (options_.snapshot.load) {
      snap = FindSnapshot<D>(SnapshotDirectory(), {registry_.fingerprint(), build_id_, end}, &recovery_.snapshot_notes);
      for (const std::string& note : recovery_.snapshot_notes) Log(note);
    }
    Result<std::unique_ptr<journal::JournalReader>> r = journal::JournalReader::Open({.directory = wo.directory});
    if (!r.ok()) return r.status().WithContext("replay");
    if (snap) {
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

  std::string SnapshotDirectory() const {
    return options_.snapshot.directory.empty() ? options_.journal.directory + "/snapshots"
                                               : options_.snapshot.directory;
  }

  void Start() {
    // Recovery ran on this thread; starting the thread is the happens-before edge it needs.
    processor_->store().TransferOwnership();
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
      snapshotter_ = std::make_unique<Snapshotter<D>>(std::move(c), registry_, std::move(snapshot_start_));
      snapshot_start_.reset();
      snapshotter_->Start();
    }
  }

  // ---- Submitters -------------------------------------------------------------------------

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
                   AppliedView* view, CompletionTarget target) noexcept {
    slot.meta = meta;
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
      Fill((*ring_)[c.first], c.first, meta, cmd, ack, view, target);
      ring_->publish(c.first);
    }
    Leave();
    return c.status;
  }

  // ---- Syncer thread ----------------------------------------------------------------------

  // journal on_durable (kBatch, kInterval), on the syncer thread, before the journal publishes
  // the durable position. Wakes the writer with a tick when it holds durable acknowledgements.
  void OnDurable(std::uint64_t position) {
    // Seq_cst (both): a Dekker pair with CheckDurable's store of durable_waiting_ and load of
    // durable_hint_: either the writer sees this position, or we see that it waits and tick.
    durable_hint_.store(position, std::memory_order_seq_cst);
    if (!durable_waiting_.load(std::memory_order_seq_cst)) return;
    if (!Enter()) return;
    // A blocking claim: never dropped. The writer never waits for the syncer, so a full ring
    // only delays this until its next batch.
    const Claim c = ring_->claim(1);
    if (c.ok()) {
      Slot& slot = (*ring_)[c.first];
      slot.tick = true;
      slot.sequence = c.first;
      slot.meta.expected_version = position;
      slot.target = {};
      ring_->publish(c.first);
    }
    Leave();
  }

  // ---- Writer thread ----------------------------------------------------------------------

  void WriterMain() {
    std::int64_t next = 0;
    for (;;) {
      const Available a = ring_->wait_for(next, next + max_batch_ - 1);
      if (!a.ok()) break;  // shut down, and everything contiguous was handled
      HandleBatch(next, a.last);
      ring_->release(a.last);
      next = a.last + 1;
      if (durable_size_ != 0) CheckDurable();
    }
    FinishAfterShutdown(next);
  }

  static std::int64_t NowNs() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  static std::int64_t SteadyNs() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  void HandleBatch(std::int64_t first, std::int64_t last) {
    const std::int64_t timestamp = NowNs();  // one per batch, recorded in every envelope
    const bool timed = static_cast<bool>(options_.on_batch);
    BatchTiming timing;
    if (timed) timing.dequeued_ns = SteadyNs();
    batch_pending_.clear();
    for (std::int64_t s = first; s <= last; ++s) {
      const Slot& slot = (*ring_)[s];
      if (slot.tick) {
        if (slot.meta.expected_version > tick_durable_) tick_durable_ = slot.meta.expected_version;
        continue;
      }
      if (s + static_cast<std::int64_t>(kFarLookahead) <= last) {
        const Slot& ahead = (*ring_)[s + static_cast<std::int64_t>(kFarLookahead)];
        if (!ahead.tick) processor_->Prefetch(ahead.meta, ahead.command, kFarLookahead);
      }
      if (s + static_cast<std::int64_t>(kNearLookahead) <= last) {
        const Slot& ahead = (*ring_)[s + static_cast<std::int64_t>(kNearLookahead)];
        if (!ahead.tick) processor_->PrefetchEntries(ahead.command);
      }
      ++timing.commands;
      if (slot.ack == AckLevel::kApplied && slot.view == nullptr) [[unlikely]] {
        slot.target.Deliver(CommandOutcome::Rejected(
            Rejection(RejectCode::kInvalidCommand, 0, "AckLevel::kApplied needs a view: submit with an AppliedView&")));
        continue;
      }
      CommandOutcome outcome = Decide(slot, timestamp);
      if (!outcome.accepted() || slot.ack == AckLevel::kAccepted) {
        slot.target.Deliver(outcome);  // rejections changed nothing: true at once
      } else {
        batch_pending_.push_back(PendingAck{slot.target, slot.ack, slot.view, outcome});
      }
    }
    if (timed) timing.decided_ns = SteadyNs();
    if (digest_interval_ != 0 && commands_since_digest_ >= digest_interval_ && batch_open_) [[unlikely]]
      AppendDigest();
    if (batch_open_) CommitOpenBatch(timestamp);
    if (timed) {
      timing.committed_ns = SteadyNs();
      options_.on_batch(timing);
    }
    CompleteCommitted();
  }

  CommandOutcome Decide(const Slot& slot, std::int64_t timestamp) {
    if (failed_local_) [[unlikely]]
      return JournalUnavailable();
    // At a command boundary, so a command's events always share one journal batch.
    if (batch_bytes_ >= commit_threshold_) [[unlikely]] {
      CommitOpenBatch(timestamp);
      if (failed_local_) return JournalUnavailable();
    }
    JournalSink sink{this};
    CommandOutcome outcome = processor_->Process(slot.meta, slot.command, timestamp, sink);
    if (processor_->failed()) [[unlikely]] {
      OnJournalFailure(append_error_);
      return JournalUnavailable();
    }
    ++commands_since_digest_;
    return outcome;
  }

  // The determinism check: the state digest after every event so far, as a record of the open
  // batch (committed, or aborted, with it). Replays compare it with their own.
  void AppendDigest() {
    commands_since_digest_ = 0;
    const DigestRecord rec{processor_->digest(), next_position_};
    Result<std::span<std::byte>> dst = journal_->Reserve(sizeof rec, kDigestRecordType);
    if (!dst.ok()) [[unlikely]] {
      OnJournalFailure(dst.status());
      return;
    }
    std::memcpy(dst->data(), &rec, sizeof rec);
    ++next_position_;
    batch_bytes_ += sizeof rec;
  }

  void CommitOpenBatch(std::int64_t timestamp) {
    Result<std::uint64_t> r = journal_->CommitBatch(timestamp);
    batch_open_ = false;
    batch_bytes_ = 0;
    if (!r.ok()) [[unlikely]]
      OnJournalFailure(r.status());
  }

  // After the batch's commit (or its failure): an accepted command is journaled exactly when
  // the journal's committed position covers its last event.
  void CompleteCommitted() {
    if (batch_pending_.empty()) return;
    const std::uint64_t committed = journal_->committed_position();
    for (const PendingAck& p : batch_pending_) {
      if (p.outcome.position() > committed) [[unlikely]] {
        p.target.Deliver(JournalUnavailable());  // decided, then lost with the aborted batch
      } else if (p.ack == AckLevel::kApplied) {
        applied_pending_.push_back(AppliedWaiter{p.outcome.position(), p.target, p.outcome});
        applied_views_.push_back(p.view);
      } else if (p.ack == AckLevel::kJournaled || durability_none_) {
        p.target.Deliver(p.outcome);  // kDurable under kNone: durable == committed
      } else {
        PushDurable(p);
      }
    }
    batch_pending_.clear();
    if (!applied_pending_.empty()) HandOverApplied();
  }

  // Journaled applied(view) acknowledgements go to their views, one NotifyBatch (one lock)
  // per run of commands for the same view: usually one per batch.
  void HandOverApplied() {
    std::size_t begin = 0;
    while (begin < applied_pending_.size()) {
      std::size_t end = begin + 1;
      while (end < applied_pending_.size() && applied_views_[end] == applied_views_[begin]) ++end;
      applied_views_[begin]->NotifyBatch(std::span<const AppliedWaiter>(&applied_pending_[begin], end - begin));
      begin = end;
    }
    applied_pending_.clear();
    applied_views_.clear();
  }

  // The durable queue: a circular buffer, in commit order, that doubles when full (rare:
  // more kDurable commands in flight than the ring holds), so the writer never waits for the
  // syncer.
  void PushDurable(const PendingAck& p) {
    if (durable_size_ == durable_.size()) {
      std::vector<PendingAck> bigger(durable_.size() * 2);
      for (std::size_t i = 0; i < durable_size_; ++i) bigger[i] = durable_[(durable_head_ + i) % durable_.size()];
      durable_ = std::move(bigger);
      durable_head_ = 0;
    }
    durable_[(durable_head_ + durable_size_) % durable_.size()] = p;
    ++durable_size_;
  }

  void DeliverDurableUpTo(std::uint64_t durable) {
    while (durable_size_ != 0) {
      PendingAck& p = durable_[durable_head_];
      if (p.outcome.position() > durable) break;
      p.target.Deliver(p.outcome);
      durable_head_ = (durable_head_ + 1) % durable_.size();
      --durable_size_;
    }
  }

  void CheckDurable() {
    // Seq_cst: see OnDurable.
    durable_waiting_.store(true, std::memory_order_seq_cst);
    const std::uint64_t hint = durable_hint_.load(std::memory_order_seq_cst);
    DeliverDurableUpTo(std::max({hint, tick_durable_, journal_->durable_position()}));
    // Relaxed: only the writer stores it; a stale true costs the syncer one useless tick.
    if (durable_size_ == 0) durable_waiting_.store(false, std::memory_order_relaxed);
  }

  CommandOutcome JournalUnavailable() const {
    return CommandOutcome::Rejected(Rejection(RejectCode::kJournalUnavailable, 0, failure_.ToString()));
  }

  // The journal refused an append or a commit. The open batch is aborted: its commands were
  // decided and evolved in memory but never journaled, so from here on every command is
  // rejected (nothing more is decided on that state) until a restart rebuilds it from the
  // journal. Nothing acknowledged at kJournaled or kDurable is lost: those commands are
  // answered kJournalUnavailable unless the committed position covers them.
  void OnJournalFailure(const Status& error) {
    journal_->AbortBatch();
    batch_open_ = false;
    batch_bytes_ = 0;
    next_position_ = journal_->committed_position();
    if (failed_local_) return;
    failed_local_ = true;
    failure_ = error.ok() ? Status::Unavailable("the journal refused an append") : error;
    // Release: failure_ is complete before status() readers see the flag.
    failed_.store(true, std::memory_order_release);
    Log("journal unavailable: " + failure_.ToString() + "; rejecting commands with kJournalUnavailable; " +
        "everything committed up to position " + std::to_string(journal_->committed_position()) +
        " is intact; fix the cause and restart the engine");
    // Durable acknowledgements already committed: make them durable now if the journal can.
    if (durable_size_ != 0) {
      (void)journal_->Sync();
      DeliverDurableUpTo(journal_->durable_position());
    }
  }

  void FinishAfterShutdown(std::int64_t next) {
    // Wait for submitters that claimed before the shutdown to publish (or give up). Acquire:
    // pairs with Leave, so their slot writes are visible to the scan below. A yield loop: a
    // cold path, bounded by a producer's fill-and-publish.
    while (submitting_.load(std::memory_order_seq_cst) != 0) std::this_thread::yield();
    const CommandOutcome shutdown =
        CommandOutcome::Rejected(Rejection(RejectCode::kShutdown, 0, "the engine stopped before deciding the command"));
    // Published after the writer stopped (or beyond a claimed-but-abandoned gap): never
    // decided, so kShutdown. Handled slots all carry sequences below `next`.
    for (std::int64_t i = 0; i < ring_->capacity(); ++i) {
      const Slot& slot = (*ring_)[i];
      if (slot.sequence >= next && !slot.tick) slot.target.Deliver(shutdown);
    }
    if (durable_size_ != 0) {
      const Status s = journal_->Sync();
      DeliverDurableUpTo(journal_->durable_position());
      const CommandOutcome lost = CommandOutcome::Rejected(
          Rejection(RejectCode::kJournalUnavailable, 0, "journaled, but the sync at shutdown failed: " + s.ToString()));
      while (durable_size_ != 0) {
        durable_[durable_head_].target.Deliver(lost);
        durable_head_ = (durable_head_ + 1) % durable_.size();
        --durable_size_;
      }
    }
  }

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
  std::optional<FoundSnapshot> snapshot_start_;  // Recover -> Start: the snapshotter's first state
  std::unique_ptr<Snapshotter<D>> snapshotter_;  // when options_.snapshot.enabled
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
  std::vector<PendingAck> durable_;
  std::size_t durable_head_ = 0, durable_size_ = 0;
};

}  // namespace rill::engine
