// rill/engine/journal_replay.h: journal records -> a CommandProcessor, with verified decoding
// and the determinism check. One loop for the three that replay: Engine::Open (recovery), the
// snapshotter's shadow copy, and `rill replay`.
//
//   rill::engine::JournalReplayer<BankDomain> replayer(registry, &processor);
//   rill::engine::ReplayLimits limits{.until_position = 1'000'000};
//   rill::engine::ReplayProgress progress;
//   Status s = replayer.Run(reader, limits, &progress);   // Corruption: what, where
//   if (progress.digest_mismatch) report(progress.digest_mismatch->position);
//
// Event records (kEventRecordType) are decoded with the FlatBuffers verifier (the bytes come
// from disk) and applied with CommandProcessor::Replay; digest records (kDigestRecordType) are
// compared with the processor's running digest (engine/state_digest.h). Any other record type
// is Corruption: an engine journal holds nothing else.
// Thread safety: one thread per replayer (the processor's owner).
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>

#include "rill/base/result.h"
#include "rill/base/status.h"
#include "rill/codecs/decoder.h"
#include "rill/codecs/schema_registry.h"
#include "rill/engine/command_processor.h"
#include "rill/engine/event_record.h"
#include "rill/journal/journal_reader.h"

namespace rill::engine {

struct ReplayLimits {
  // Stop after this position (inclusive): the state as of it.
  std::uint64_t until_position = std::numeric_limits<std::uint64_t>::max();
  // Stop before the first batch committed after this time (inclusive): the state as of then.
  std::int64_t until_time_ns = std::numeric_limits<std::int64_t>::max();
  // Return at the end of a batch once this many records were read (0: no limit), so a
  // follower can act between batches; progress tells where it stopped.
  std::uint64_t max_records = 0;
};

struct DigestMismatch {
  std::uint64_t position = 0;         // of the digest record
  std::uint64_t covers_position = 0;  // the last event it covers
  std::uint64_t recorded = 0, computed = 0;
};

struct ReplayProgress {
  std::uint64_t records = 0;        // read, of any type
  std::uint64_t events = 0;         // applied
  std::uint64_t last_position = 0;  // of the last record read (0: none)
  std::int64_t last_timestamp_ns = 0;
  bool end_of_batch = true;  // the last record read ended its batch
  std::uint64_t digests_checked = 0;
  std::optional<DigestMismatch> digest_mismatch;  // the first one
  bool reached_end = false;                       // kEnd stopped the last Run
  bool reached_limit = false;                     // until_position / until_time_ns stopped it (do not Run again)
};

template <typename D>
class JournalReplayer {
 public:
  // REQUIRES: registry and processor outlive the replayer.
  JournalReplayer(const codecs::SchemaRegistry& registry, CommandProcessor<D>* processor)
      : registry_(registry), decoder_(registry), processor_(processor), checked_fingerprint_(registry.fingerprint()) {}
  JournalReplayer(const JournalReplayer&) = delete;
  JournalReplayer& operator=(const JournalReplayer&) = delete;

  // Reads from the reader's current position until its end or a limit. Does not call
  // FinishReplay (a follower calls Run again); the caller does, once, when done. Every record
  // read is applied before it returns (also on an error: the state is as of the record before).
  Status Run(journal::JournalReader& reader, const ReplayLimits& limits, ReplayProgress* progress) {
    journal::Record rec;
    std::uint64_t read = 0;
    std::uint64_t last_read = progress->last_position;  // the reader's side; progress is the applied side
    bool batch_ended = progress->end_of_batch;
    progress->reached_end = false;
    for (;;) {
      if (limits.max_records != 0 && read >= limits.max_records && batch_ended) return Drain(progress);
      if (last_read >= limits.until_position && last_read != 0) {
        progress->reached_limit = true;
        return Drain(progress);
      }
      const journal::ReadStatus st = reader.Next(&rec);
      if (st == journal::ReadStatus::kEnd) {
        progress->reached_end = true;
        return Drain(progress);
      }
      if (st == journal::ReadStatus::kError) return First(Drain(progress), reader.error());
      // Past a limit: not applied. The reader is one record ahead now; callers stop here.
      if (rec.position > limits.until_position || rec.timestamp_ns > limits.until_time_ns) {
        progress->reached_limit = true;
        return Drain(progress);
      }
      if (reader.schema_fingerprint() != checked_fingerprint_) {
        const auto blob = reader.schema_blob();
        Status s = registry_.CheckJournalSchema(reader.schema_fingerprint(),
                                                {reinterpret_cast<const std::uint8_t*>(blob.data()), blob.size()});
        if (!s.ok()) return First(Drain(progress), std::move(s));
        checked_fingerprint_ = reader.schema_fingerprint();
      }
      ++read;
      last_read = rec.position;
      batch_ended = rec.end_of_batch;
      if (rec.type == kEventRecordType) [[likely]] {
        if (Status s = Prepare(rec); !s.ok()) return First(Drain(progress), std::move(s));
        if (pending_ == kLookahead) RILL_RETURN_IF_ERROR(ApplyOldest(progress));
      } else {
        // A digest compares the state after every event before it: those first.
        RILL_RETURN_IF_ERROR(Drain(progress));
        RILL_RETURN_IF_ERROR(Apply(rec, progress));
        Count(progress, rec.position, rec.timestamp_ns, rec.end_of_batch);
      }
    }
  }

  // One record (already read and schema-checked), applied at once.
  Status Apply(const journal::Record& rec, ReplayProgress* progress) {
    if (rec.type == kEventRecordType) [[likely]] {
      const codecs::DecodeResult d = decoder_.Decode(
          {reinterpret_cast<const std::uint8_t*>(rec.payload.data()), rec.payload.size()}, rec.position);
      if (!d.ok()) return d.error().ToStatus(&registry_);
      RILL_RETURN_IF_ERROR(processor_->Replay(d.event()));
      ++progress->events;
      return Status::OK();
    }
    if (rec.type == kDigestRecordType) {
      DigestRecord dr;
      if (rec.payload.size() != sizeof dr)
        return Status::Corruption("digest record at position " + std::to_string(rec.position) + " has " +
                                  std::to_string(rec.payload.size()) + " bytes, not " + std::to_string(sizeof dr));
      std::memcpy(&dr, rec.payload.data(), sizeof dr);
      ++progress->digests_checked;
      const std::uint64_t computed = processor_->digest();
      if (computed != dr.digest && !progress->digest_mismatch)
        progress->digest_mismatch = DigestMismatch{rec.position, dr.covers_position, dr.digest, computed};
      return Status::OK();
    }
    return Status::Corruption("record at position " + std::to_string(rec.position) + " has type " +
                              std::to_string(rec.type) + ", neither an event (" + std::to_string(kEventRecordType) +
                              ") nor a digest (" + std::to_string(kDigestRecordType) +
                              ") record: is this an engine journal?");
  }

 private:
  // The lookahead (CommandProcessor::ReplayItem): an event is decoded and its aggregate's slot
  // fetched kLookahead events before it is applied, its entry kEntryAhead events before; with
  // many aggregates that overlaps the cache misses of consecutive lookups.
  static constexpr std::size_t kLookahead = 16;  // a power of two
  static constexpr std::size_t kEntryAhead = 6;
  struct Slot {
    typename CommandProcessor<D>::ReplayItem item;
    std::int64_t timestamp_ns = 0;
    bool end_of_batch = false;
  };

  static Status First(Status a, Status b) { return a.ok() ? b : a; }

  Status Prepare(const journal::Record& rec) {
    const codecs::DecodeResult d =
        decoder_.Decode({reinterpret_cast<const std::uint8_t*>(rec.payload.data()), rec.payload.size()}, rec.position);
    if (!d.ok()) return d.error().ToStatus(&registry_);
    Slot& slot = ring_[(next_ + pending_) % kLookahead];
    RILL_RETURN_IF_ERROR(processor_->PrepareReplay(d.event(), &slot.item));
    slot.timestamp_ns = rec.timestamp_ns;
    slot.end_of_batch = rec.end_of_batch;
    ++pending_;
    if (pending_ > kEntryAhead)
      processor_->PrefetchReplayEntry(ring_[(next_ + pending_ - 1 - kEntryAhead) % kLookahead].item);
    return Status::OK();
  }
  // Applies the oldest prepared event. On an error the ones after it are dropped: the state
  // stays as of the event before (a replay stops at its first error).
  Status ApplyOldest(ReplayProgress* progress) {
    Slot& slot = ring_[next_];
    next_ = (next_ + 1) % kLookahead;
    --pending_;
    if (Status s = processor_->ReplayPrepared(slot.item); !s.ok()) {
      next_ = (next_ + pending_) % kLookahead;
      pending_ = 0;
      return s;
    }
    ++progress->events;
    Count(progress, slot.item.position, slot.timestamp_ns, slot.end_of_batch);
    return Status::OK();
  }
  Status Drain(ReplayProgress* progress) {
    while (pending_ != 0) RILL_RETURN_IF_ERROR(ApplyOldest(progress));
    return Status::OK();
  }
  static void Count(ReplayProgress* progress, std::uint64_t position, std::int64_t timestamp_ns, bool end_of_batch) {
    ++progress->records;
    progress->last_position = position;
    progress->last_timestamp_ns = timestamp_ns;
    progress->end_of_batch = end_of_batch;
  }

  const codecs::SchemaRegistry& registry_;
  codecs::Decoder decoder_;
  CommandProcessor<D>* processor_;
  std::uint64_t checked_fingerprint_;
  std::array<Slot, kLookahead> ring_{};
  std::size_t next_ = 0, pending_ = 0;  // ring_[next_] is the oldest of `pending_` prepared events
};

}  // namespace rill::engine
