#include "rill/tools/inspect/inspect_verify.h"

#include <cinttypes>
#include <optional>
#include <unordered_map>

#include "rill/journal/journal_verifier.h"
#include "rill/tools/inspect/journal_view.h"

namespace rill::tools::inspect {
namespace {

std::string Describe(const journal::CheckProblem& p) {
  std::string s = "segment " + p.segment + " offset " + std::to_string(p.offset);
  if (p.position != 0) s += " position " + std::to_string(p.position);
  return s + ": " + p.reason;
}

// The event-level checks, on every record the journal-level check accepts.
class EventChecker final : public journal::CheckVisitor {
 public:
  void OnSegment(const std::string& name, const journal::SegmentHeader& h, std::span<const std::byte> blob) override {
    segment_ = name;
    if (first_position_ == 0) first_position_ = h.first_position;
    Result<Codec*> c = schemas_.For(h.schema_fingerprint, blob);
    codec_ = c.ok() ? *c : nullptr;
    raw_ = c.ok() && *c == nullptr;
    if (!c.ok())
      Problem(
          {name, journal::kSegmentHeaderSize, h.first_position,
           "unknown schema: " + std::string(c.status().message()) + " (the events of this segment cannot be checked)"});
  }

  void OnRecord(const journal::Record& r) override {
    if (codec_ == nullptr) {
      ++(raw_ ? raw_records_ : unchecked_);
      return;
    }
    if (!IsEventRecordType(r.type)) {  // a digest or another non-event record: not decoded
      ++other_records_;
      return;
    }
    const codecs::DecodeResult d =
        codec_->decoder.Decode({reinterpret_cast<const std::uint8_t*>(r.payload.data()), r.payload.size()}, r.position);
    if (!d.ok()) {
      Problem({segment_, r.offset, r.position, std::string(d.error().ToStatus(&codec_->registry).message())});
      return;
    }
    ++checked_;
    const std::uint64_t version = d.event().stream_version();
    const StreamKey key = kinds_.KeyOf(d.event());
    auto [it, first] = streams_.try_emplace(key, version);
    // A stream's first event is version 1, unless retention removed the journal's start.
    const std::uint64_t expected = first ? (first_position_ == 1 ? 1 : version) : it->second + 1;
    if (version != expected)
      Problem({segment_, r.offset, r.position,
               kinds_.Label(key) + " has version " + std::to_string(version) + " where " + std::to_string(expected) +
                   " was expected (" + (first ? "its first event" : "previous " + std::to_string(it->second)) + ")"});
    it->second = version;
    // An aggregate that ends (rill_ends) may start again under the same id, at version 1.
    if (d.event().type().ends_aggregate) {
      streams_.erase(it);
      ++ended_;
    }
  }

  void Problem(journal::CheckProblem p) {
    if (!first_problem_) first_problem_ = std::move(p);
    ++problems_;
  }

  const std::optional<journal::CheckProblem>& first_problem() const { return first_problem_; }
  std::uint64_t problems() const { return problems_; }
  std::uint64_t checked() const { return checked_; }
  std::uint64_t unchecked() const { return unchecked_; }
  std::uint64_t raw_records() const { return raw_records_; }
  std::uint64_t other_records() const { return other_records_; }
  // Every stream seen: the live ones, plus one per end (a stream that ended and started again
  // under its id counts twice: two lives).
  std::uint64_t streams() const { return streams_.size() + ended_; }
  std::uint64_t ended() const { return ended_; }

 private:
  SchemaCache schemas_;
  Codec* codec_ = nullptr;
  bool raw_ = false;
  std::string segment_;
  std::uint64_t first_position_ = 0;
  KindNames kinds_;
  std::unordered_map<StreamKey, std::uint64_t, StreamKeyHash> streams_;  // -> last version seen (live streams)
  std::optional<journal::CheckProblem> first_problem_;
  std::uint64_t ended_ = 0;
  std::uint64_t problems_ = 0, checked_ = 0, unchecked_ = 0, raw_records_ = 0, other_records_ = 0;
};

}  // namespace

int RunVerify(const VerifyOptions& o, std::FILE* out, std::FILE* err) {
  if (!CheckJournalDirectory(o.dir, err)) return kExitCannotRead;
  EventChecker events;
  Result<journal::JournalCheck> check = journal::CheckJournal(o.dir, {}, &events);
  if (!check.ok()) {
    const bool none = check.status().IsNotFound();
    PrintError(err,
               none ? "not a journal: " + std::string(check.status().message())
                    : "cannot read journal: " + std::string(check.status().message()),
               o.dir, "pass a directory a rill journal writer created (it holds <16 hex digits>.seg files)");
    return kExitCannotRead;
  }
  const journal::JournalCheck& c = *check;
  if (c.verdict == journal::Verdict::kEmpty) {
    std::fprintf(out, "journal      %s\nresult       empty: no segment yet (nothing was ever committed)\n",
                 o.dir.c_str());
    return kExitOk;
  }
  // Events are checked in position order and frame damage ends the walk, so an event problem,
  // when there is one, comes before the frame damage.
  const std::optional<journal::CheckProblem>& first = events.first_problem() ? events.first_problem() : c.damage;
  const std::uint64_t problems = events.problems() + (c.damage ? 1 : 0);
  std::fprintf(out, "journal      %s\n", o.dir.c_str());
  if (first) std::fprintf(out, "problem      %s\n", Describe(*first).c_str());
  const std::string range = c.next_position > c.first_position
                                ? std::to_string(c.first_position) + "-" + std::to_string(c.next_position - 1)
                                : std::string("none");
  std::fprintf(out,
               "frames       %s: %" PRIu64 " segments, %" PRIu64 " batches, %" PRIu64
               " records, positions %s (headers, CRCs, batches, position chain)\n",
               c.damage ? "DAMAGED" : "ok", c.segments, c.batches, c.records, range.c_str());
  if (c.damage && events.first_problem())  // else it is the problem printed above
    std::fprintf(out, "             damage at %s\n", Describe(*c.damage).c_str());
  const std::string ended = events.ended() ? " (" + std::to_string(events.ended()) + " ended)" : "";
  std::fprintf(out, "events       %s: %" PRIu64 " bodies verified against the embedded schema, %" PRIu64 " streams%s\n",
               events.problems() ? "PROBLEMS" : "ok", events.checked(), events.streams(), ended.c_str());
  if (events.raw_records())
    std::fprintf(out, "             %" PRIu64 " records have no embedded schema and were not decoded\n",
                 events.raw_records());
  if (events.other_records())
    std::fprintf(out, "             other records: %" PRIu64 " (not events, e.g. digests; not decoded)\n",
                 events.other_records());
  if (events.unchecked())
    std::fprintf(out, "             %" PRIu64 " records not checked: their schema cannot be loaded\n",
                 events.unchecked());
  if (c.short_last_segment)
    std::fprintf(out, "note         %s (read as zeros; recovery re-extends it)\n",
                 Describe(*c.short_last_segment).c_str());
  for (const journal::TailRegion& l : c.leftovers)
    std::fprintf(out,
                 "note         segment %s: %" PRIu64 " uncommitted bytes after offset %" PRIu64
                 " (a roll interrupted before its pad; never committed; recovery zeroes them)\n",
                 l.segment.c_str(), l.bytes, l.offset);
  for (const std::string& note : c.notes) std::fprintf(out, "note         %s\n", note.c_str());
  if (c.recorded.present && c.verdict != journal::Verdict::kIntact)
    std::fprintf(out, "control      durable position %" PRIu64 ", committed %" PRIu64 ", retained from %s\n",
                 c.recorded.durable, c.recorded.committed,
                 c.recorded.retained_from ? std::to_string(c.recorded.retained_from).c_str() : "unknown");
  if (c.verdict == journal::Verdict::kDamaged) {
    std::fprintf(out, "tail         not reached: the check stops at the damage\n");
  } else if (c.tail) {
    std::fprintf(out,
                 "tail         %s: %" PRIu64 " bytes after offset %" PRIu64 " of segment %s, %" PRIu64
                 " committed events, all past the durable position (recovery sets them aside): %s\n",
                 c.verdict == journal::Verdict::kDamagedTail ? "DAMAGED" : "torn", c.tail->bytes, c.tail->offset,
                 c.tail->segment.c_str(), c.tail->committed_events, c.tail->reason.c_str());
  } else {
    std::fprintf(out, "tail         clean\n");
  }
  if (problems == 0) {
    std::fprintf(out, "result       %s\n", c.tail ? "intact up to a torn tail (not damage)" : "intact");
    return kExitOk;
  }
  std::fprintf(out, "result       DAMAGED: %" PRIu64 " problem%s\n", problems, problems == 1 ? "" : "s");
  if (c.verdict == journal::Verdict::kDamaged)
    std::fprintf(out, "salvage      %s\n", journal::DescribeSalvage(c).c_str());
  const std::string where = (first->segment.empty() ? o.dir : "segment " + first->segment) + " offset " +
                            std::to_string(first->offset) +
                            (first->position ? " position " + std::to_string(first->position) : std::string());
  PrintError(
      err, "journal damaged: " + first->reason, where,
      c.verdict == journal::Verdict::kDamaged
          ? "restore the damaged files from a backup, or see what salvage would keep with `rill recover " + o.dir + "`"
          : "the writer sets the damaged tail aside when it opens (it is past the durable position)");
  return kExitProblems;
}

}  // namespace rill::tools::inspect
