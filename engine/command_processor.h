// rill/engine/command_processor.h: the writer's work for one command, generic over a Domain:
// validate, idempotency check, look up the aggregates, expected-version check, decide, encode
// the events into the journal (through a sink), evolve. The writer loop (ring + journal)
// calls Process once per command of a batch, on the writer thread; recovery calls Replay per
// journaled event, then FinishReplay.
//
//   rill::engine::CommandProcessor<BankDomain> p({.expected_aggregates = 1'000'000});
//   auto sink = [&](std::span<const std::uint8_t> record) -> std::optional<std::uint64_t> {
//     auto dst = journal.Reserve(record.size());             // nullopt: the journal refused
//     if (!dst.ok()) return std::nullopt;
//     std::memcpy(dst->data(), record.data(), record.size());
//     return next_position++;
//   };
//   CommandOutcome o = p.Process(slot.meta, slot.command, now_ns, sink);
//   // then, per the submitter's ack level: complete now (accepted), after CommitBatch
//   // (journaled) or once durable.
//
// A command is all or nothing: every event is encoded and handed to the sink before any is
// evolved, so a refused append leaves the aggregates as they were. After a refused append
// the processor is failed(): the journal's open batch must be aborted, and the batch's earlier
// commands (already evolved) are then in memory but not in the journal, so every later command
// is rejected with kJournalUnavailable until a restart rebuilds state from the journal. None of
// them was acknowledged beyond "accepted", so nothing acknowledged is lost.
// Idempotency: only accepted commands are remembered by default, so the window is exactly a
// function of the journal and behaves the same before and after a crash; a rejected command
// changed nothing and is decided again when retried (remember_rejections changes that).
// Thread safety: single-writer (the writer thread).
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "rill/base/status.h"
#include "rill/codecs/decoder.h"
#include "rill/codecs/encoder.h"
#include "rill/engine/aggregate_store.h"
#include "rill/engine/command_outcome.h"
#include "rill/engine/decision.h"
#include "rill/engine/domain.h"
#include "rill/engine/fingerprint.h"
#include "rill/engine/idempotency_window.h"
#include "rill/engine/state_digest.h"

namespace rill::engine {

// Appends one encoded record (valid only during the call) and returns its journal position,
// or nullopt when the journal refuses it.
template <typename S>
concept RecordSink = requires(S& sink, std::span<const std::uint8_t> record) {
  { sink(record) } -> std::same_as<std::optional<std::uint64_t>>;
};

struct ProcessorOptions {
  std::size_t expected_aggregates = 0;        // preallocated in the aggregate store
  std::size_t idempotency_window = 1u << 20;  // most recent command ids remembered
  bool remember_rejections = false;           // see the header comment
  std::size_t encoder_capacity = 1024;        // grows to the largest event, once
};

template <typename D>
class CommandProcessor {
  static_assert(CheckDomain<D>());

 public:
  using Command = typename D::Command;
  using Event = typename D::Event;
  using State = typename D::State;
  using Store = AggregateStore<State>;
  using Index = typename Store::Index;

  explicit CommandProcessor(const ProcessorOptions& options = {})
      : options_(options),
        store_(options.expected_aggregates),
        window_(options.idempotency_window),
        encoder_(options.encoder_capacity) {}
  CommandProcessor(const CommandProcessor&) = delete;
  CommandProcessor& operator=(const CommandProcessor&) = delete;

  // The fingerprint the idempotency window keeps for a command: the domain's, plus the
  // expected version (a retry carries the same one). Also what the envelope should record
  // (see engine/README.md).
  static std::uint64_t FingerprintOf(const CommandMeta& meta, const Command& cmd) noexcept {
    Fingerprinter f;
    f.Add(D::Fingerprint(cmd));
    f.Add(meta.expected_version);
    return f.Finish();
  }

  template <RecordSink Sink>
  CommandOutcome Process(const CommandMeta& meta, const Command& cmd, std::int64_t timestamp_ns, Sink& sink) {
    if (failed_) [[unlikely]]
      return CommandOutcome::Rejected(
          Rejection(RejectCode::kJournalUnavailable, 0, "the journal refused an append; restart to recover"));
    if constexpr (HasValidate<D>) {
      if (std::optional<Rejection> r = D::Validate(cmd)) [[unlikely]]
        return CommandOutcome::Rejected(*r);
    }
    const std::uint64_t fingerprint = meta.command_id != 0 ? FingerprintOf(meta, cmd) : 0;
    if (meta.command_id != 0) {
      const IdempotencyWindow::Hit hit = window_.Check(meta.command_id, fingerprint);
      if (hit.kind == IdempotencyWindow::kDuplicate) return hit.outcome->ToOutcome();
      if (hit.kind == IdempotencyWindow::kMismatch) [[unlikely]] {
        return CommandOutcome::Rejected(
            Rejection::Format(RejectCode::kDuplicateCommandMismatch, 0,
                              "command id %llu was already used for another command: use a new id for a new command",
                              static_cast<unsigned long long>(meta.command_id)));
      }
    }

    const StreamListOf<D> streams = D::Streams(cmd);
    if (streams.count == 0) [[unlikely]]
      return CommandOutcome::Rejected(Rejection(RejectCode::kInternalError, 0, "Streams() returned no stream"));
    std::array<AggregateView<State>, D::kMaxStreams> views;
    std::array<Index, D::kMaxStreams> indices;
    for (std::size_t i = 0; i < streams.count; ++i) {
      const Index idx = store_.Find(streams.ids[i]);
      indices[i] = idx;
      views[i].id = streams.ids[i];
      if (idx != Store::kNone && store_.version(idx) != kNoStream) {
        views[i].version = store_.version(idx);
        views[i].state = &store_.state(idx);
      }
    }
    if (meta.expected_version != kAnyVersion && meta.expected_version != views[0].version) [[unlikely]] {
      Rejection r = Rejection::Format(
          RejectCode::kConcurrencyConflict, 0, "stream %llu is at version %llu, the command expected %llu",
          static_cast<unsigned long long>(views[0].id), static_cast<unsigned long long>(views[0].version),
          static_cast<unsigned long long>(meta.expected_version));
      r.actual_version = views[0].version;
      return Finish(meta, fingerprint, CommandOutcome::Rejected(r));
    }

    const DecideContext ctx{timestamp_ns, meta.command_id};
    const DecisionOf<D> decision =
        D::Decide(cmd, std::span<const AggregateView<State>>(views.data(), streams.count), ctx);
    if (!decision.accepted()) return Finish(meta, fingerprint, CommandOutcome::Rejected(decision.rejection()));

    // Pass 1: versions, encode, append. Nothing is evolved until every event is appended.
    const std::span<const StreamEvent<Event>> events = decision.events();
    std::array<Index, D::kMaxEvents> event_index;
    std::array<std::uint64_t, D::kMaxEvents> event_version;
    std::uint64_t position = 0;
    for (std::size_t e = 0; e < events.size(); ++e) {
      const std::uint64_t stream = events[e].stream_id;
      Index idx = Store::kNone;
      for (std::size_t i = 0; i < streams.count; ++i) {
        if (streams.ids[i] == stream) {
          idx = indices[i];
          break;
        }
      }
      if (idx == Store::kNone) idx = store_.FindOrInsert(stream);  // a new stream (or one decide did not read)
      std::uint64_t version = store_.version(idx) + 1;
      for (std::size_t p = 0; p < e; ++p) version += event_index[p] == idx ? 1 : 0;
      event_index[e] = idx;
      event_version[e] = version;
      const std::span<const std::uint8_t> record =
          D::Encode(encoder_, codecs::EnvelopeFields{stream, version, timestamp_ns, meta.command_id, fingerprint},
                    events[e].event);
      const std::optional<std::uint64_t> pos = sink(record);
      if (!pos) [[unlikely]] {
        failed_ = true;
        return CommandOutcome::Rejected(
            Rejection(RejectCode::kJournalUnavailable, 0, "the journal refused the command's events"));
      }
      position = *pos;
    }
    // Pass 2: evolve, in order, keeping the state digest (state_digest.h) up to date.
    for (std::size_t e = 0; e < events.size(); ++e) {
      const Index i = event_index[e];
      const std::uint64_t before = AggregateHash<D>(events[e].stream_id, store_.version(i), store_.state(i));
      D::Evolve(store_.mutable_state(i), events[e].event);
      store_.set_version(i, event_version[e]);
      digest_.Replace(before, AggregateHash<D>(events[e].stream_id, event_version[e], store_.state(i)));
    }
    const std::uint64_t primary = events.empty() ? streams.ids[0] : events[0].stream_id;
    const Index primary_idx = events.empty() ? indices[0] : event_index[0];
    const std::uint64_t primary_version = primary_idx == Store::kNone ? kNoStream : store_.version(primary_idx);
    const auto count = static_cast<std::uint32_t>(events.size());
    // The hot path builds the compact entry directly and returns a prvalue (no 160-byte copies).
    if (meta.command_id != 0) {
      RememberedOutcome remembered;
      remembered.position = position;
      remembered.stream_id = primary;
      remembered.stream_version = primary_version;
      remembered.event_count = static_cast<std::uint16_t>(count);
      window_.Remember(meta.command_id, fingerprint, remembered);
    }
    return CommandOutcome::Accepted(position, primary, primary_version, count);
  }

  // Prefetching for the writer loop, which knows its batch: with millions of aggregates and a
  // large idempotency window, each command's lookups are cache misses (random slots in tables
  // of several MiB), and issuing them early overlaps them. Stage 1, `ahead` commands before
  // Process (8-16): the window's slot for the id, the ring entry it will write and the slot of
  // the id that entry evicts, and the aggregates' index slots. Stage 2, a few commands before
  // Process: the aggregates' entries.
  void Prefetch(const CommandMeta& meta, const Command& cmd, std::size_t ahead) const noexcept {
    if (meta.command_id != 0) {
      window_.Prefetch(meta.command_id);
      window_.PrefetchRemember(ahead);
    }
    const StreamListOf<D> streams = D::Streams(cmd);
    for (std::size_t i = 0; i < streams.count; ++i) store_.Prefetch(streams.ids[i]);
  }
  void PrefetchEntries(const Command& cmd) const noexcept {
    const StreamListOf<D> streams = D::Streams(cmd);
    for (std::size_t i = 0; i < streams.count; ++i) store_.PrefetchEntry(streams.ids[i]);
  }

  // Recovery: applies one journaled event, checking that its stream's versions have no gap,
  // and rebuilds the idempotency window (a command's events are contiguous in the journal).
  // The command's fingerprint comes from the envelope (kUnknownFingerprint, 0, for records
  // written without one: those entries match any payload, as before the field existed).
  Status Replay(const codecs::DecodedEvent& decoded) {
    const std::uint64_t fingerprint = decoded.command_fingerprint();
    const std::optional<Event> event = D::FromDecoded(decoded);
    if (!event) {
      return Status::Corruption("event type " + std::to_string(decoded.event_type()) + " at position " +
                                std::to_string(decoded.position()) +
                                " does not belong to this domain: is this the right journal?");
    }
    const Index idx = store_.FindOrInsert(decoded.stream_id());
    if (decoded.stream_version() != store_.version(idx) + 1) {
      return Status::Corruption("stream " + std::to_string(decoded.stream_id()) + " jumps from version " +
                                std::to_string(store_.version(idx)) + " to " +
                                std::to_string(decoded.stream_version()) + " at position " +
                                std::to_string(decoded.position()) + ": the journal is missing events");
    }
    const std::uint64_t before = AggregateHash<D>(decoded.stream_id(), store_.version(idx), store_.state(idx));
    D::Evolve(store_.mutable_state(idx), *event);
    store_.set_version(idx, decoded.stream_version());
    digest_.Replace(before, AggregateHash<D>(decoded.stream_id(), decoded.stream_version(), store_.state(idx)));

    if (decoded.command_id() != pending_.command_id) {
      FlushPending();
      pending_ = PendingCommand{decoded.command_id(), fingerprint, decoded.stream_id(), 0, 0, 0};
    }
    if (decoded.stream_id() == pending_.stream_id) pending_.stream_version = decoded.stream_version();
    pending_.position = decoded.position();
    ++pending_.event_count;
    return Status::OK();
  }
  // Call once after the last Replay.
  void FinishReplay() noexcept {
    FlushPending();
    pending_ = {};
  }

  bool failed() const noexcept { return failed_; }
  Store& store() noexcept { return store_; }
  const Store& store() const noexcept { return store_; }
  IdempotencyWindow& window() noexcept { return window_; }
  const IdempotencyWindow& window() const noexcept { return window_; }
  // The digest of every aggregate's state (state_digest.h), kept on each evolve: what the
  // writer records in digest records and a replay must reproduce.
  std::uint64_t digest() const noexcept { return digest_.value(); }
  // After loading aggregates from a snapshot (snapshot.h): the digest they were saved with.
  void RestoreDigest(std::uint64_t value) noexcept { digest_.Reset(value); }

 private:
  CommandOutcome Finish(const CommandMeta& meta, std::uint64_t fingerprint, const CommandOutcome& outcome) noexcept {
    if (meta.command_id != 0 && (outcome.accepted() || options_.remember_rejections))
      window_.Remember(meta.command_id, fingerprint, RememberedOutcome::From(outcome));
    return outcome;
  }

  struct PendingCommand {
    std::uint64_t command_id = 0;
    std::uint64_t fingerprint = kUnknownFingerprint;
    std::uint64_t stream_id = 0;
    std::uint64_t stream_version = 0;
    std::uint64_t position = 0;
    std::uint32_t event_count = 0;
  };
  void FlushPending() noexcept {
    if (pending_.command_id == 0 || pending_.event_count == 0) return;
    RememberedOutcome o;
    o.position = pending_.position;
    o.stream_id = pending_.stream_id;
    o.stream_version = pending_.stream_version;
    o.event_count = static_cast<std::uint16_t>(pending_.event_count);
    window_.Remember(pending_.command_id, pending_.fingerprint, o);
  }

  ProcessorOptions options_;
  Store store_;
  IdempotencyWindow window_;
  codecs::Encoder encoder_;
  PendingCommand pending_;
  StateDigest digest_;
  bool failed_ = false;
};

}  // namespace rill::engine
