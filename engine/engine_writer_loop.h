// rill/engine/engine_writer_loop.h: Engine<D>'s writer thread. Per batch of ring slots:
// decide and append each command to the journal (JournalSink), commit, then acknowledge
// (journaled, durable, applied(view); replicated in engine_replication.h); the durable queue and the syncer's tick that
// wakes the writer for it (OnDurable, with its Dekker partner CheckDurable); the failed mode after a journal error; the
// answers at shutdown.
//
// Include engine.h, not this file: engine.h includes it at its end. The definitions of a class
// template's members must be visible to every user of the template; they live in their own
// file so that engine.h reads as the facade. Each is declared `inline`, as a definition inside
// the class is implicitly: the compiler gives inline functions a bigger inlining budget, and
// this is the hot path.
// Thread safety: the writer thread only, except OnDurable (the journal's syncer thread).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "rill/base/result.h"
#include "rill/base/status.h"
#include "rill/engine/engine.h"
#include "rill/engine/event_record.h"
#include "rill/engine/prefetch.h"

namespace rill::engine {

// Appends a record to the journal's open batch, for CommandProcessor::Process.
template <typename D>
struct Engine<D>::JournalSink {
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

// ---- Syncer thread ---------------------------------------------------------------------

// journal on_durable (kBatch, kInterval), on the syncer thread, before the journal publishes
// the durable position. Wakes the writer with a tick when it holds durable acknowledgements.
template <typename D>
inline void Engine<D>::OnDurable(std::uint64_t position) {
  // Seq_cst (both): a Dekker pair with CheckDurable's store of durable_waiting_ and load of
  // durable_hint_: either the writer sees this position, or we see that it waits and tick.
  durable_hint_.store(position, std::memory_order_seq_cst);
  if (!durable_waiting_.load(std::memory_order_seq_cst)) return;
  PublishTick(position);
}

// A tick slot wakes the writer like a command; `durable_position` (0: none) is what the
// syncer reports. A blocking claim: never dropped. The writer never waits for the syncer or
// the replicator, so a full ring only delays this until its next batch.
template <typename D>
inline void Engine<D>::PublishTick(std::uint64_t durable_position) {
  if (!Enter()) return;
  const Claim c = ring_->claim(1);
  if (c.ok()) {
    Slot& slot = (*ring_)[c.first];
    slot.tick = true;
    slot.sequence = c.first;
    slot.meta.expected_version = durable_position;
    slot.target = {};
    ring_->publish(c.first);
  }
  Leave();
}

// ---- Writer thread ---------------------------------------------------------------------

template <typename D>
inline void Engine<D>::WriterMain() {
  std::int64_t next = 0;
  for (;;) {
    const Available a = ring_->wait_for(next, next + max_batch_ - 1);
    if (!a.ok()) break;  // shut down, and everything contiguous was handled
    HandleBatch(next, a.last);
    ring_->release(a.last);
    next = a.last + 1;
    if (!durable_.empty()) CheckDurable();
    if (!replicated_.empty()) CheckReplicated();
  }
  FinishAfterShutdown(next);
}

template <typename D>
inline std::int64_t Engine<D>::NowNs() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

template <typename D>
inline std::int64_t Engine<D>::SteadyNs() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

template <typename D>
inline void Engine<D>::HandleBatch(std::int64_t first, std::int64_t last) {
  const std::int64_t timestamp = NowNs();  // one per batch, recorded in every envelope
  const bool timed = static_cast<bool>(options_.on_batch);
  EngineCounters* const counters = counters_.get();
  BatchTiming timing;
  if (timed || counters != nullptr) timing.dequeued_ns = SteadyNs();
  batch_pending_.clear();
  if (replication_ != nullptr) RefreshReplicationGate();
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
      if (counters != nullptr) counters->Count(RejectCode::kInvalidCommand);
      continue;
    }
    if ((slot.ack == AckLevel::kReplicated || slot.ack == AckLevel::kReplicatedDurable) && replication_ == nullptr)
        [[unlikely]] {
      slot.target.Deliver(CommandOutcome::Rejected(Rejection(
          RejectCode::kInvalidCommand, 0, "AckLevel::kReplicated needs a replicator: set EngineOptions::replication")));
      if (counters != nullptr) counters->Count(RejectCode::kInvalidCommand);
      continue;
    }
    CommandOutcome outcome = Decide(slot, timestamp);
    if (counters != nullptr) counters->Count(outcome.rejection().code);
    if (!outcome.accepted() || slot.ack == AckLevel::kAccepted) {
      slot.target.Deliver(outcome);  // rejections changed nothing: true at once
      if (counters != nullptr && outcome.accepted() && slot.submitted_ns != 0)
        counters->RecordAck(AckLevel::kAccepted, slot.submitted_ns, SteadyNs());
    } else {
      batch_pending_.push_back(PendingAck{slot.target, slot.ack, slot.view, outcome, slot.submitted_ns});
    }
  }
  if (timed) timing.decided_ns = SteadyNs();
  if (digest_interval_ != 0 && commands_since_digest_ >= digest_interval_ && batch_open_) [[unlikely]]
    AppendDigest();
  if (batch_open_) CommitOpenBatch(timestamp);
  if (timed || counters != nullptr) timing.committed_ns = SteadyNs();
  if (timed) options_.on_batch(timing);
  CompleteCommitted(timing.committed_ns);
  if (counters != nullptr) PublishCounters(timing, timestamp);
}

// After the batch's acknowledgements: what is waiting now is what an operator wants to see.
template <typename D>
inline void Engine<D>::PublishCounters(const BatchTiming& timing, std::int64_t timestamp) {
  BatchCounts b;
  b.commands = timing.commands;
  b.dequeued_ns = timing.dequeued_ns;
  b.committed_ns = timing.committed_ns;
  b.now_ns = timestamp;
  b.committed_position = journal_->committed_position();
  b.durable_position = durable_position();
  const journal::JournalStats js = journal_->stats();  // relaxed loads of the control block
  b.journal_bytes = js.bytes;
  b.syncs = js.syncs;
  b.sync_ns = js.sync_ns_total;
  b.ring_full = ring_->full_count();
  b.durable_waiting = durable_.size();
  b.replicated_waiting = replicated_.size();
  if (replication_ != nullptr) b.replicated_position = replication_->replicated_position();
  b.failed = failed_local_;
  counters_->Publish(b);
}

template <typename D>
inline CommandOutcome Engine<D>::Decide(const Slot& slot, std::int64_t timestamp) {
  if (failed_local_) [[unlikely]]
    return JournalUnavailable();
  if (replication_refusing_) [[unlikely]]
    return ReplicationUnavailable();
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
template <typename D>
inline void Engine<D>::AppendDigest() {
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

template <typename D>
inline void Engine<D>::CommitOpenBatch(std::int64_t timestamp) {
  Result<std::uint64_t> r = journal_->CommitBatch(timestamp);
  batch_open_ = false;
  batch_bytes_ = 0;
  if (!r.ok()) [[unlikely]] {
    OnJournalFailure(r.status());
    return;
  }
  if (replication_ != nullptr) replication_->OnCommitted();  // a replicator waiting for acks ships it now
}

// After the batch's commit (or its failure): an accepted command is journaled exactly when
// the journal's committed position covers its last event.
// `committed_ns`: steady_clock after the commit (read when counters are on): the journaled acks'
// delivery time for the latency histograms, one clock read for the batch.
template <typename D>
inline void Engine<D>::CompleteCommitted(std::int64_t committed_ns) {
  if (batch_pending_.empty()) return;
  const std::uint64_t committed = journal_->committed_position();
  for (const PendingAck& p : batch_pending_) {
    if (p.outcome.position() > committed) [[unlikely]] {
      p.target.Deliver(JournalUnavailable());  // decided, then lost with the aborted batch
    } else if (p.ack == AckLevel::kApplied) {
      applied_pending_.push_back(AppliedWaiter{p.outcome.position(), p.target, p.outcome});
      applied_views_.push_back(p.view);
    } else if (p.ack == AckLevel::kJournaled || (p.ack == AckLevel::kDurable && durability_none_)) {
      p.target.Deliver(p.outcome);  // kDurable under kNone: durable == committed
      if (counters_) counters_->RecordAck(p.ack, p.submitted_ns, committed_ns);
    } else if (p.ack == AckLevel::kReplicated || (p.ack == AckLevel::kReplicatedDurable && durability_none_)) {
      replicated_.Push(p);
    } else {
      durable_.Push(p);  // kDurable, and kReplicatedDurable until durable
    }
  }
  batch_pending_.clear();
  if (!applied_pending_.empty()) HandOverApplied();
}

// Journaled applied(view) acknowledgements go to their views, one NotifyBatch (one lock)
// per run of commands for the same view: usually one per batch.
template <typename D>
inline void Engine<D>::HandOverApplied() {
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

// Durable acknowledgements are delivered in commit order; kReplicatedDurable ones move on to
// the replicated queue (their position is already durable when they get there).
template <typename D>
inline void Engine<D>::DeliverDurableUpTo(std::uint64_t durable) {
  const std::int64_t now = counters_ ? SteadyNs() : 0;
  durable_.PopUpTo(durable, [this, now](PendingAck& p) {
    if (p.ack == AckLevel::kReplicatedDurable) {
      replicated_.Push(p);
    } else {
      p.target.Deliver(p.outcome);
      if (counters_) counters_->RecordAck(p.ack, p.submitted_ns, now);
    }
  });
  if (!replicated_.empty()) CheckReplicated();
}

template <typename D>
inline void Engine<D>::CheckDurable() {
  // Seq_cst: see OnDurable.
  durable_waiting_.store(true, std::memory_order_seq_cst);
  const std::uint64_t hint = durable_hint_.load(std::memory_order_seq_cst);
  DeliverDurableUpTo(std::max({hint, tick_durable_, journal_->durable_position()}));
  // A failed sync is final (journal/durability.h): what still waits will never be durable.
  // The syncer records its failure before its last on_durable call (the wake-up tick); the
  // seq_cst pair above orders that call's hint store before our hint load, so when the tick
  // was skipped (we were not waiting yet) the failure is visible here.
  if (!durable_.empty()) {
    if (const Status s = journal_->status(); !s.ok()) {
      OnJournalFailure(s);
      RejectPendingDurable(s);
    }
  }
  // Relaxed: only the writer stores it; a stale true costs the syncer one useless tick.
  if (durable_.empty()) durable_waiting_.store(false, std::memory_order_relaxed);
}

// Answers every pending durable acknowledgement with kJournalUnavailable: journaled, but a
// sync failed and is never retried, so they will never be durable.
template <typename D>
inline void Engine<D>::RejectPendingDurable(const Status& why) {
  const CommandOutcome lost = CommandOutcome::Rejected(
      Rejection(RejectCode::kJournalUnavailable, 0, "journaled, not durable: " + why.ToString()));
  durable_.PopAll([&lost](PendingAck& p) { p.target.Deliver(lost); });
}

template <typename D>
inline CommandOutcome Engine<D>::JournalUnavailable() const {
  return CommandOutcome::Rejected(Rejection(RejectCode::kJournalUnavailable, 0, failure_.ToString()));
}

// The journal refused an append or a commit. The open batch is aborted: its commands were
// decided and evolved in memory but never journaled, so from here on every command is
// rejected (nothing more is decided on that state) until a restart rebuilds it from the
// journal. Nothing acknowledged at kJournaled or kDurable is lost: those commands are
// answered kJournalUnavailable unless the committed position covers them.
template <typename D>
inline void Engine<D>::OnJournalFailure(const Status& error) {
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
  // Durable acknowledgements already committed: make them durable now if the journal can
  // (after a failed sync, Sync() returns that failure at once: it is never retried).
  if (!durable_.empty()) {
    const Status synced = journal_->Sync();
    DeliverDurableUpTo(journal_->durable_position());
    if (!synced.ok()) RejectPendingDurable(synced);
  }
}

template <typename D>
inline void Engine<D>::FinishAfterShutdown(std::int64_t next) {
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
  if (!durable_.empty()) {
    const Status s = journal_->Sync();
    DeliverDurableUpTo(journal_->durable_position());
    const CommandOutcome lost = CommandOutcome::Rejected(
        Rejection(RejectCode::kJournalUnavailable, 0, "journaled, but the sync at shutdown failed: " + s.ToString()));
    durable_.PopAll([&lost](PendingAck& p) { p.target.Deliver(lost); });
  }
  if (!replicated_.empty()) FinishReplicatedAtShutdown();
}

}  // namespace rill::engine
