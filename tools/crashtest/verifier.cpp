#include "rill/tools/crashtest/verifier.h"

#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include "rill/engine/event_record.h"

namespace rill::tools::crashtest {
namespace {

namespace fs = std::filesystem;

std::string N(std::uint64_t v) { return std::to_string(v); }

}  // namespace

JournalWalk::JournalWalk(const Ledger& ledger, const codecs::SchemaRegistry& registry, std::size_t max_events)
    : ledger_(ledger), registry_(registry), decoder_(registry), max_events_(max_events), found_(ledger.capacity()) {
  positions_.reserve(max_events);
  ends_.reserve(max_events);
}

void JournalWalk::OnRecord(const journal::Record& rec) {
  if (violation_) return;
  if (expected_position_ != 0 && rec.position != expected_position_)
    return Fail("position " + N(rec.position) + " follows position " + N(expected_position_ - 1) + ": a gap");
  expected_position_ = rec.position + 1;
  if (rec.type != engine::kEventRecordType) {
    // The writer appends digest records between commands, never inside one.
    if (!positions_.empty()) FinishGroup();
    if (rec.type == engine::kDigestRecordType) CheckDigestRecord(rec);
    prev_end_of_batch_ = rec.end_of_batch;
    return;
  }
  const codecs::DecodeResult d =
      decoder_.Decode({reinterpret_cast<const std::uint8_t*>(rec.payload.data()), rec.payload.size()}, rec.position);
  if (!d.ok()) return Fail("position " + N(rec.position) + " does not decode: " + d.error().ToStatus().ToString());
  const codecs::DecodedEvent& e = d.event();
  ++events_;
  // A command's events are contiguous and share a batch: another id, or a batch boundary,
  // starts the next command.
  if (!positions_.empty() && (e.command_id() != group_id_ || prev_end_of_batch_)) FinishGroup();
  prev_end_of_batch_ = rec.end_of_batch;
  if (violation_) return;
  if (positions_.size() == max_events_)
    return Fail("command " + N(group_id_) + " has more than " + N(max_events_) +
                " events in a row (the domain's kMaxEvents), at position " + N(rec.position));
  if (positions_.empty()) {
    group_id_ = e.command_id();
    group_timestamp_ = e.timestamp_ns();
  }
  positions_.push_back(rec.position);
  const auto* p = reinterpret_cast<const std::uint8_t*>(rec.payload.data());
  bytes_.insert(bytes_.end(), p, p + rec.payload.size());
  ends_.push_back(bytes_.size());
  last_event_position_ = rec.position;
}

void JournalWalk::Finish() {
  if (!positions_.empty() && !violation_) FinishGroup();
}

void JournalWalk::FinishGroup() {
  const JournaledGroup group{group_id_, group_timestamp_, positions_, bytes_, ends_};
  const std::uint64_t last = positions_.back();
  ++commands_;
  const Ledger::Entry* e = ledger_.Find(group_id_);
  if (e == nullptr) {
    Fail("the journal holds command id " + N(group_id_) + " (position " + N(last) + "), which no child sent");
  } else if (found_[group_id_ - 1].last_position != 0) {  // found_ covers every id the ledger knows
    Fail("command " + N(group_id_) + " is journaled twice (or its events are not contiguous): at position " +
         N(found_[group_id_ - 1].last_position) + " and again at position " + N(last));
  } else {
    std::uint64_t version = 0;
    if (std::optional<std::string> v = CheckGroup(group, &version)) {
      Fail(std::move(*v));
    } else {
      found_[group_id_ - 1] = JournaledCommand{last, version, static_cast<std::uint32_t>(positions_.size())};
    }
  }
  positions_.clear();
  bytes_.clear();
  ends_.clear();
}

void JournalWalk::CheckDigestRecord(const journal::Record& rec) {
  if (violation_) return;
  engine::DigestRecord dr;
  if (rec.payload.size() != sizeof dr)
    return Fail("the digest record at position " + N(rec.position) + " has " + N(rec.payload.size()) + " bytes, not " +
                N(sizeof dr));
  std::memcpy(&dr, rec.payload.data(), sizeof dr);
  ++digests_checked_;
  if (dr.digest != Digest())
    Fail("the writer's digest record at position " + N(rec.position) + " (state after position " +
         N(dr.covers_position) + ") is " + N(dr.digest) + ", but the journal's events up to position " +
         N(last_event_position_) + ", folded with the domain's Evolve, give " + N(Digest()) +
         ": the writer's aggregates were not what its journal says");
}

std::optional<std::string> CheckAcks(const Ledger& ledger, const JournalWalk& walk, const VerifyOptions& o,
                                     const std::function<std::string(std::uint64_t)>& describe, VerifyReport* rep) {
  for (std::uint64_t id = 1; id <= ledger.capacity(); ++id) {
    const Ledger::Entry* e = ledger.Find(id);
    if (e == nullptr || !e->acked) continue;
    const JournaledCommand at = walk.Found(id);
    if (!e->accepted()) {
      ++rep->rejections_checked;
      if (at.last_position != 0)
        return "command " + N(id) + " (" + describe(id) + ") was acknowledged as rejected (" +
               engine::RejectCodeName(e->code) + ", round " + N(static_cast<std::uint64_t>(e->acked_round)) +
               "), yet the journal holds it at position " + N(at.last_position);
      continue;
    }
    if (e->event_count == 0) continue;  // accepted with no event: nothing to find
    const char* level = engine::AckLevelName(e->level);
    if (o.synced_position && e->position > *o.synced_position) {
      if (at.last_position != 0)
        return "after the power loss, command " + N(id) + " is present at position " + N(at.last_position) +
               " although only positions up to " + N(*o.synced_position) + " were synced";
      continue;
    }
    ++rep->acks_checked;
    if (e->durable()) ++rep->durable_acks_checked;
    if (at.last_position == 0)
      return "command " + N(id) + " (" + describe(id) + "), acknowledged " + level + " at position " + N(e->position) +
             " in round " + N(static_cast<std::uint64_t>(e->acked_round)) +
             ", is missing from the recovered journal (committed position " + N(rep->committed_position) + ")";
    if (at.last_position != e->position || at.stream_version != e->stream_version || at.event_count != e->event_count)
      return "command " + N(id) + " was acknowledged at position " + N(e->position) + ", stream version " +
             N(e->stream_version) + ", " + N(e->event_count) + " event(s), but the journal holds it at position " +
             N(at.last_position) + ", version " + N(at.stream_version) + ", " + N(at.event_count) + " event(s)";
  }
  return std::nullopt;
}

std::optional<std::string> WalkRecoveredJournal(const VerifyOptions& o, JournalWalk& walk,
                                                std::uint64_t committed_position) {
  Result<journal::JournalCheck> check = journal::CheckJournal(o.journal, {}, &walk);
  if (!check.ok() && !check.status().IsNotFound()) return "cannot check the journal: " + check.status().ToString();
  walk.Finish();
  if (check.ok()) {
    if (check->damage)
      return "the recovered journal is damaged: segment " + check->damage->segment + " offset " +
             N(check->damage->offset) + " position " + N(check->damage->position) + ": " + check->damage->reason;
    if (check->tail)
      return "the recovered journal still has a torn tail in " + check->tail->segment + " at offset " +
             N(check->tail->offset) + ": recovery should have set it aside";
    const std::uint64_t last = check->records == 0 ? 0 : check->next_position - 1;
    if (last != committed_position)
      return "recovery reports committed position " + N(committed_position) +
             " but the journal's records end at position " + N(last);
  }
  return walk.violation();
}

engine::EngineOptions RecoveryOptions(const VerifyOptions& o) {
  engine::EngineOptions eo;
  eo.journal.directory = o.journal;
  eo.journal.segment_size = std::size_t{o.segment_kib} * 1024;
  eo.journal.durability = o.durability;
  eo.processor.expected_aggregates = static_cast<std::size_t>(o.aggregates);
  // No command is submitted here: a small window keeps Open from allocating the default 2^20.
  eo.processor.idempotency_window = 1024;
  eo.log_to_stderr = false;  // the cut tail is in RecoveryInfo
  return eo;
}

Result<std::unique_ptr<projections::ProjectorThread>> OpenReadModelThread(const VerifyOptions& o,
                                                                          const codecs::SchemaRegistry& registry,
                                                                          std::vector<std::string>* warnings) {
  projections::ProjectorThreadOptions po;
  po.name = "crashtest-verify";
  po.journal_directory = o.journal;
  po.registry = &registry;
  // Warnings come from Start (skipped checkpoints) and Stop, on this thread.
  po.warn = [warnings](const std::string& w) { warnings->push_back(w); };
  if (!o.checkpoints.empty()) {
    // A copy: what this check writes (a final checkpoint on Stop) must not become what the
    // next child loads, or the children's own checkpoints would go untested.
    std::error_code ec;
    fs::remove_all(o.scratch, ec);
    fs::create_directories(o.scratch, ec);
    if (ec) return Status::IOError("cannot create " + o.scratch + ": " + ec.message());
    for (const fs::directory_entry& f : fs::directory_iterator(o.checkpoints, ec)) {
      if (f.path().extension() != ".ckpt") continue;
      fs::copy_file(f.path(), fs::path(o.scratch) / f.path().filename(), ec);
      if (ec) return Status::IOError("cannot copy " + f.path().string() + ": " + ec.message());
    }
    po.checkpoint_directory = o.scratch;
    po.checkpoint_every_events = ~std::uint64_t{0};  // none while catching up
  }
  return projections::ProjectorThread::Create(std::move(po));
}

}  // namespace rill::tools::crashtest
