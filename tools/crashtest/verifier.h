// rill/tools/crashtest/verifier.h: the domain-independent half of checking a crashed journal
// against what the children were acknowledged; verify_journal.h (VerifyJournal<W>) adds the
// domain's half and runs both.
//
//   VerifyOptions v{.journal = dir, .segment_kib = 1024, .durability = journal::Durability::kBatch};
//   VerifyReport r = VerifyJournal<InventoryWorkload>(v, ledger, source);   // verify_journal.h
//   if (r.violation) std::printf("VIOLATION: %s\n", r.violation->c_str());
//
// Here: JournalWalk, one pass over the journal (positions gap-free; each command's events one
// contiguous group in one batch, of a command id some child sent, never journaled twice; the
// writer's digest records against the domain's fold), with the domain's check of each group
// behind a virtual call; CheckAcks, every acknowledgement against what the walk found; the
// verdict checks on CheckJournal's result; and the read model's projector set-up.
// Thread safety: one call at a time per journal (recovery takes the journal's writer lock).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "rill/base/result.h"
#include "rill/codecs/decoder.h"
#include "rill/codecs/schema_registry.h"
#include "rill/engine/engine_options.h"
#include "rill/journal/journal_verifier.h"
#include "rill/journal/options.h"
#include "rill/projections/projector_thread.h"
#include "rill/tools/crashtest/ledger.h"

namespace rill::tools::crashtest {

struct VerifyOptions {
  std::string journal;
  std::uint32_t segment_kib = 1024;  // as the children wrote it, so recovery reuses the last segment
  journal::Durability durability = journal::Durability::kNone;
  // A power-loss copy: only positions up to here were synced. nullopt: a plain crash.
  std::optional<std::uint64_t> synced_position;
  std::uint64_t aggregates = 64;  // preallocated per kind in the recovering engine
  // The children's read-model checkpoints (crash_workload.h, CheckpointDirectory), copied to
  // `scratch` and loaded from there; empty: the read model folds the journal from its start.
  std::string checkpoints;
  std::string scratch;
};

struct VerifyReport {
  std::optional<std::string> violation;  // the first one found
  std::uint64_t committed_position = 0;  // after recovery
  std::uint64_t events = 0, commands = 0;
  std::uint64_t tail_cut_bytes = 0;  // what recovery cut (a torn tail), 0 when nothing
  std::uint64_t acks_checked = 0, durable_acks_checked = 0, rejections_checked = 0;
  std::uint64_t digests_checked = 0;   // the writer's digest records matched by the domain's fold
  std::uint64_t read_model_start = 0;  // the checkpoint position the read model resumed from
  std::int64_t tally = 0;              // the workload's Total after recovery (kHasTally)
  double recover_seconds = 0, verify_seconds = 0;
};

// Where the walk found a command (by id): 0 positions when absent.
struct JournaledCommand {
  std::uint64_t last_position = 0;
  std::uint64_t stream_version = 0;  // the primary stream's, after the command (as acknowledged)
  std::uint32_t event_count = 0;
};

// One command's events as journaled, for the domain's check.
struct JournaledGroup {
  std::uint64_t command_id = 0;
  std::int64_t timestamp_ns = 0;  // the envelope's: what the writer gave Decide
  std::span<const std::uint64_t> positions;
  std::span<const std::uint8_t> bytes;  // the records, back to back
  std::span<const std::size_t> ends;    // record i is bytes[ends[i-1], ends[i])
  std::size_t size() const noexcept { return positions.size(); }
  std::span<const std::uint8_t> record(std::size_t i) const noexcept {
    const std::size_t begin = i == 0 ? 0 : ends[i - 1];
    return bytes.subspan(begin, ends[i] - begin);
  }
};

class JournalWalk : public journal::CheckVisitor {
 public:
  // REQUIRES: ledger and registry outlive the walk. max_events: the domain's kMaxEvents.
  JournalWalk(const Ledger& ledger, const codecs::SchemaRegistry& registry, std::size_t max_events);

  void OnRecord(const journal::Record& rec) final;
  // After CheckJournal: the last command.
  void Finish();

  const std::optional<std::string>& violation() const noexcept { return violation_; }
  std::uint64_t events() const noexcept { return events_; }
  std::uint64_t commands() const noexcept { return commands_; }
  std::uint64_t digests_checked() const noexcept { return digests_checked_; }
  // What the walk found for a command id (all zero when absent).
  JournaledCommand Found(std::uint64_t id) const noexcept {
    return id != 0 && id <= found_.size() ? found_[id - 1] : JournaledCommand{};
  }

 protected:
  // The domain's check of one group: the command the ledger's id stands for, decided on the
  // state before it, must give exactly these records. Sets *primary_version (the version the
  // ack reports). Returns the violation.
  virtual std::optional<std::string> CheckGroup(const JournaledGroup& group, std::uint64_t* primary_version) = 0;
  // The domain's state digest after every group so far (engine/state_digest.h).
  virtual std::uint64_t Digest() const = 0;
  const Ledger& ledger() const noexcept { return ledger_; }
  const codecs::SchemaRegistry& registry() const noexcept { return registry_; }

 private:
  void Fail(std::string why) {
    if (!violation_) violation_ = std::move(why);
  }
  void FinishGroup();
  void CheckDigestRecord(const journal::Record& rec);

  const Ledger& ledger_;
  const codecs::SchemaRegistry& registry_;
  codecs::Decoder decoder_;
  const std::size_t max_events_;
  std::optional<std::string> violation_;
  std::uint64_t expected_position_ = 0;
  std::uint64_t last_event_position_ = 0;
  std::uint64_t events_ = 0, commands_ = 0, digests_checked_ = 0;
  std::vector<JournaledCommand> found_;  // by id - 1
  // The group being collected.
  std::uint64_t group_id_ = 0;
  std::int64_t group_timestamp_ = 0;
  std::vector<std::uint64_t> positions_;
  std::vector<std::uint8_t> bytes_;
  std::vector<std::size_t> ends_;
  bool prev_end_of_batch_ = false;
};

// Every acknowledgement in the ledger against what the walk found. `describe(id)` names a
// command in messages.
std::optional<std::string> CheckAcks(const Ledger& ledger, const JournalWalk& walk, const VerifyOptions& o,
                                     const std::function<std::string(std::uint64_t)>& describe, VerifyReport* rep);

// CheckJournal's verdict on the recovered journal: no damage, no tail left, records ending at
// the committed position. Runs the walk as CheckJournal's visitor.
std::optional<std::string> WalkRecoveredJournal(const VerifyOptions& o, JournalWalk& walk,
                                                std::uint64_t committed_position);

// The engine options the parent recovers a journal with.
engine::EngineOptions RecoveryOptions(const VerifyOptions& o);

// A projector thread on the journal for the read-model check, loading the children's newest
// checkpoint (copied to o.scratch first) when o.checkpoints is set. Its warnings (a skipped
// checkpoint) go to *warnings.
Result<std::unique_ptr<projections::ProjectorThread>> OpenReadModelThread(const VerifyOptions& o,
                                                                          const codecs::SchemaRegistry& registry,
                                                                          std::vector<std::string>* warnings);

}  // namespace rill::tools::crashtest
