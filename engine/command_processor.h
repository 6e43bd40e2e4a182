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
// Why one file past 400 lines: Process (the writer) and Replay (recovery, followers) must make
// the same versions, digest updates and aggregate endings, or a replay diverges from what the
// writer decided; keeping them side by side is how they stay in step.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "rill/base/status.h"
#include "rill/codecs/decoder.h"
#include "rill/codecs/encoder.h"
#include "rill/engine/aggregate_store.h"
#include "rill/engine/aggregates.h"
#include "rill/engine/command_outcome.h"
#include "rill/engine/decision.h"
#include "rill/engine/domain.h"
#include "rill/engine/domain_kinds.h"
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
  using Stores = AggregateStores<D>;
  // A single-kind domain's store (with several kinds: store<K>(), stores()).
  using Store = AggregateStore<KindAt<D, 0>>;
  using Index = typename Store::Index;
  static constexpr Index kNone = Store::kNone;
  static constexpr bool kSingleKind = kKindCount<D> == 1;

  // ProcessorOptions::expected_aggregates is preallocated for each kind.
  explicit CommandProcessor(const ProcessorOptions& options = {})
      : options_(options),
        stores_(MakeStores(options.expected_aggregates, std::make_index_sequence<kKindCount<D>>{})),
        window_(options.idempotency_window),
        encoder_(options.encoder_capacity) {}
  CommandProcessor(const CommandProcessor&) = delete;
  CommandProcessor& operator=(const CommandProcessor&) = delete;

  // The fingerprint the idempotency window keeps for a command: the domain's, plus the
  // expected version (a retry carries the same one). Also what the envelope should record
  // (see engine/README.md).
  static std::uint64_t FingerprintOf(const CommandMeta& meta, const Command& cmd) noexcept {
    Fingerprinter f;
    if constexpr (HasFingerprint<D>) {
      f.Add(D::Fingerprint(cmd));
    } else {
      f.Add(DefaultFingerprint(cmd));
    }
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
    // The listed streams' kinds (always 0 for one kind), entries and views.
    std::array<std::uint8_t, D::kMaxStreams> kinds{};
    std::array<Index, D::kMaxStreams> indices;
    ListedViews views;
    for (std::size_t i = 0; i < streams.count; ++i) {
      const std::uint64_t id = StreamId(streams.ids[i]);
      std::size_t k = 0;
      if constexpr (StreamsByRef<D>) {
        k = KindIndexOf<D>(streams.ids[i].kind);
        if (k == kNoKind) [[unlikely]]
          return CommandOutcome::Rejected(Rejection::Format(
              RejectCode::kInternalError, 0,
              "Streams() listed stream %llu of a kind that is not in Domain::Aggregates: a domain bug",
              static_cast<unsigned long long>(id)));
        kinds[i] = static_cast<std::uint8_t>(k);
      }
      WithKind<D>(k, [&](auto kc) {
        const auto& store = std::get<kc.value>(stores_);
        const Index idx = store.Find(id);
        indices[i] = idx;
        views[i].id = id;
        if constexpr (!DecidesWithSpan<D>) views[i].kind = KindTagOf<KindAt<D, kc.value>>();
        if (idx != kNone && store.version(idx) != kNoStream) {
          views[i].version = store.version(idx);
          views[i].state = &store.state(idx);
        }
      });
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
    const DecisionOf<D> decision = CallDecide(cmd, views, streams.count, ctx);
    if (!decision.accepted()) return Finish(meta, fingerprint, CommandOutcome::Rejected(decision.rejection()));
    const std::span<const StreamEvent<Event>> events = decision.events();
    if constexpr (kHasEndingEvents<D>) {
      if (std::optional<Rejection> r = CheckEnds<D>(events)) [[unlikely]]
        return CommandOutcome::Rejected(*r);
    }

    // Pass 1: versions, encode, append. Nothing is evolved until every event is appended.
    std::array<Index, D::kMaxEvents> event_index;
    std::array<std::uint64_t, D::kMaxEvents> event_version;
    std::uint64_t position = 0;
    for (std::size_t e = 0; e < events.size(); ++e) {
      const std::uint64_t stream = events[e].stream_id;
      const std::size_t k = KindOfEvent<D>(events[e].event);
      Index idx = kNone;
      for (std::size_t i = 0; i < streams.count; ++i) {
        if (StreamId(streams.ids[i]) == stream && (kSingleKind || kinds[i] == k)) {
          idx = indices[i];
          break;
        }
      }
      // A new stream, or one decide did not list.
      if (idx == kNone) idx = WithKind<D>(k, [&](auto kc) { return std::get<kc.value>(stores_).FindOrInsert(stream); });
      std::uint64_t version = WithKind<D>(k, [&](auto kc) { return std::get<kc.value>(stores_).version(idx); }) + 1;
      for (std::size_t p = 0; p < e; ++p)
        version += event_index[p] == idx && KindOfEvent<D>(events[p].event) == k ? 1 : 0;
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
    for (std::size_t e = 0; e < events.size(); ++e)
      Apply(events[e].stream_id, event_index[e], event_version[e], events[e].event);
    const std::uint64_t primary = events.empty() ? StreamId(streams.ids[0]) : events[0].stream_id;
    const std::size_t primary_kind = events.empty() ? kinds[0] : KindOfEvent<D>(events[0].event);
    (void)primary_kind;
    const Index primary_idx = events.empty() ? indices[0] : event_index[0];
    const std::uint64_t primary_version = primary_idx == kNone ? kNoStream : WithKind<D>(primary_kind, [&](auto kc) {
      return std::get<kc.value>(stores_).version(primary_idx);
    });
    // Aggregates that ended leave their stores now that no index of this command is used again.
    if constexpr (kHasEndingEvents<D>) {
      for (std::size_t e = 0; e < events.size(); ++e)
        if (EventEnds<D>(events[e].event)) End(KindOfEvent<D>(events[e].event), events[e].stream_id);
    }
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
    for (std::size_t i = 0; i < streams.count; ++i)
      OnStore(streams.ids[i], [&](const auto& store, std::uint64_t id) { store.Prefetch(id); });
  }
  void PrefetchEntries(const Command& cmd) const noexcept {
    const StreamListOf<D> streams = D::Streams(cmd);
    for (std::size_t i = 0; i < streams.count; ++i)
      OnStore(streams.ids[i], [&](const auto& store, std::uint64_t id) { store.PrefetchEntry(id); });
  }

  // Recovery: applies one journaled event, checking that its stream's versions have no gap,
  // and rebuilds the idempotency window (a command's events are contiguous in the journal).
  // The command's fingerprint comes from the envelope (kUnknownFingerprint, 0, for records
  // written without one: those entries match any payload, as before the field existed).
  // An event that ends its aggregate removes it here too, so a later event for the same id
  // starts again at version 1, as it did in the writer.
  Status Replay(const codecs::DecodedEvent& decoded) {
    ReplayItem item;
    RILL_RETURN_IF_ERROR(PrepareReplay(decoded, &item));
    return ReplayPrepared(item);
  }

  // Replay in steps, so that a replayer can look ahead (journal_replay.h): with many
  // aggregates each event's lookup is a cache miss, and issuing it a few events early overlaps
  // them. PrepareReplay converts the decoded event into an item that owns its values (valid
  // after the decoder's next call) and starts fetching its aggregate's index slot;
  // PrefetchReplayEntry, a few items later (the slot is cached by then), its entry;
  // ReplayPrepared applies it, in journal order.
  struct ReplayItem {
    std::optional<Event> event;
    std::uint64_t id = 0, version = 0, command_id = 0, fingerprint = 0, position = 0;
    std::size_t kind = 0;
  };
  Status PrepareReplay(const codecs::DecodedEvent& decoded, ReplayItem* item) const {
    item->event = D::FromDecoded(decoded);
    if (!item->event) {
      return Status::Corruption("event type " + std::to_string(decoded.event_type()) + " at position " +
                                std::to_string(decoded.position()) +
                                " does not belong to this domain: is this the right journal?");
    }
    item->id = decoded.stream_id();
    item->version = decoded.stream_version();
    item->command_id = decoded.command_id();
    item->fingerprint = decoded.command_fingerprint();
    item->position = decoded.position();
    item->kind = KindOfEvent<D>(*item->event);
    WithKind<D>(item->kind, [&](auto kc) { std::get<kc.value>(stores_).Prefetch(item->id); });
    return Status::OK();
  }
  void PrefetchReplayEntry(const ReplayItem& item) const noexcept {
    WithKind<D>(item.kind, [&](auto kc) { std::get<kc.value>(stores_).PrefetchEntry(item.id); });
  }
  Status ReplayPrepared(const ReplayItem& item) {
    const std::uint64_t id = item.id;
    const std::size_t k = item.kind;
    const Event& event = *item.event;
    const Index idx = WithKind<D>(k, [&](auto kc) { return std::get<kc.value>(stores_).FindOrInsert(id); });
    const std::uint64_t version = WithKind<D>(k, [&](auto kc) { return std::get<kc.value>(stores_).version(idx); });
    if (item.version != version + 1) {
      return Status::Corruption(StreamName<D>(k, id) + " jumps from version " + std::to_string(version) + " to " +
                                std::to_string(item.version) + " at position " + std::to_string(item.position) +
                                ": the journal is missing events");
    }
    Apply(id, idx, item.version, event);
    if constexpr (kHasEndingEvents<D>) {
      if (EventEnds<D>(event)) End(k, id);
    }

    if (item.command_id != pending_.command_id) {
      FlushPending();
      pending_ = PendingCommand{item.command_id, item.fingerprint, id, 0, 0, 0, k};
    }
    if (id == pending_.stream_id && k == pending_.kind) pending_.stream_version = item.version;
    pending_.position = item.position;
    ++pending_.event_count;
    return Status::OK();
  }
  // Call once after the last Replay.
  void FinishReplay() noexcept {
    FlushPending();
    pending_ = {};
  }

  bool failed() const noexcept { return failed_; }
  // The aggregates of a single-kind domain.
  AggregateStore<KindAt<D, 0>>& store() noexcept requires kSingleKind { return std::get<0>(stores_); }
  const AggregateStore<KindAt<D, 0>>& store() const noexcept requires kSingleKind { return std::get<0>(stores_); }
  // The aggregates of kind K.
  template <typename K>
  AggregateStore<K>& store() noexcept {
    static_assert(kKindIndex<D, K> != kNoKind, "store<K>(): K is not one of the domain's aggregate kinds");
    return std::get<kKindIndex<D, K>>(stores_);
  }
  template <typename K>
  const AggregateStore<K>& store() const noexcept {
    static_assert(kKindIndex<D, K> != kNoKind, "store<K>(): K is not one of the domain's aggregate kinds");
    return std::get<kKindIndex<D, K>>(stores_);
  }
  // Every kind's store, in the order of KindsOf<D> (generic code: std::get<I>, ForEachKind).
  Stores& stores() noexcept { return stores_; }
  const Stores& stores() const noexcept { return stores_; }
  // Aggregates of all kinds (the sum of the stores' sizes).
  std::size_t aggregate_count() const noexcept {
    std::size_t n = 0;
    ForEachKind<D>([&](auto kc) { n += std::get<kc.value>(stores_).size(); });
    return n;
  }
  IdempotencyWindow& window() noexcept { return window_; }
  const IdempotencyWindow& window() const noexcept { return window_; }
  // The digest of every aggregate's state (state_digest.h), kept on each evolve: what the
  // writer records in digest records and a replay must reproduce.
  std::uint64_t digest() const noexcept { return digest_.value(); }
  // The digest recomputed from the stores (tests, snapshots): equals digest().
  std::uint64_t ComputeDigest() const {
    StateDigest d;
    ForEachKind<D>([&](auto kc) { d.Add(::rill::engine::ComputeDigest<D>(std::get<kc.value>(stores_), kc.value)); });
    return d.value();
  }
  // After loading aggregates from a snapshot (snapshot.h): the digest they were saved with.
  void RestoreDigest(std::uint64_t value) noexcept { digest_.Reset(value); }
  // Hands every store to another thread (AggregateStore::TransferOwnership).
  void TransferOwnership() noexcept {
    ForEachKind<D>([&](auto kc) { std::get<kc.value>(stores_).TransferOwnership(); });
  }

 private:
  using ListedViews =
      std::array<std::conditional_t<DecidesWithSpan<D>, AggregateView<KindAt<D, 0>>, StreamView>, D::kMaxStreams>;

  template <std::size_t... I>
  static Stores MakeStores(std::size_t expected, std::index_sequence<I...>) {
    return Stores((void(I), expected)...);
  }

  static std::uint64_t StreamId(std::uint64_t id) noexcept { return id; }
  static std::uint64_t StreamId(const StreamRef& ref) noexcept { return ref.id; }

  // f(store, id) on the store of a listed stream's kind; an unknown kind is skipped.
  template <typename Ref, typename F>
  void OnStore(const Ref& ref, F&& f) const noexcept {
    if constexpr (std::is_same_v<Ref, StreamRef>) {
      const std::size_t k = KindIndexOf<D>(ref.kind);
      if (k == kNoKind) return;
      WithKind<D>(k, [&](auto kc) { f(std::get<kc.value>(stores_), ref.id); });
    } else {
      f(std::get<0>(stores_), ref);
    }
  }

  DecisionOf<D> CallDecide(const Command& cmd, const ListedViews& views, std::size_t count,
                           const DecideContext& ctx) const {
    if constexpr (DecidesWithSpan<D>) {
      return D::Decide(cmd, std::span<const AggregateView<KindAt<D, 0>>>(views.data(), count), ctx);
    } else {
      return D::Decide(cmd, Aggregates<D>(stores_, std::span<const StreamView>(views.data(), count)), ctx);
    }
  }

  void Apply(std::uint64_t id, Index idx, std::uint64_t version, const Event& event) noexcept {
    ApplyEvent<D>(stores_, digest_, id, idx, version, event);
  }
  void End(std::size_t k, std::uint64_t id) noexcept { EndAggregate<D>(stores_, digest_, k, id); }

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
    std::size_t kind = 0;
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
  Stores stores_;
  IdempotencyWindow window_;
  codecs::Encoder encoder_;
  PendingCommand pending_;
  StateDigest digest_;
  bool failed_ = false;
};

}  // namespace rill::engine
