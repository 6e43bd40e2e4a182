#include "rill/tools/inspect/journal_view.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "rill/engine/event_record.h"
#include "rill/journal/journal_verifier.h"
#include "rill/journal/segment_file.h"

namespace rill::tools::inspect {
namespace {

// Lock-free, so a signal handler may store it.
std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void OnStopSignal(int) { RequestStop(); }

std::string DescribeBound(const Bound& b) {
  return b.kind == Bound::Kind::kPosition ? "position " + std::to_string(b.position) : FormatTime(b.time_ns);
}

}  // namespace

std::string DescribeJournalRange(const journal::JournalReader& reader) {
  Result<std::vector<journal::SegmentInfo>> segs = reader.ListSegments();
  if (!segs.ok()) return "its range cannot be listed (" + std::string(segs.status().message()) + ")";
  const journal::SegmentInfo* first = nullptr;
  const journal::SegmentInfo* last = nullptr;
  for (const journal::SegmentInfo& s : *segs) {
    if (s.last_position < s.first_position) continue;  // no record yet
    if (first == nullptr) first = &s;
    last = &s;
  }
  if (first == nullptr) return "the journal holds no events yet";
  std::string out = "the journal holds positions ";
  out += std::to_string(first->first_position);
  out += '-';
  out += std::to_string(last->last_position);
  out += ", ";
  out += FormatTime(first->first_timestamp_ns);
  out += " .. ";
  out += FormatTime(last->last_timestamp_ns);
  return out;
}

void PrintError(std::FILE* err, std::string_view what, std::string_view where, std::string_view todo) {
  std::fprintf(err, "rill inspect: %.*s (%.*s): %.*s\n", static_cast<int>(what.size()), what.data(),
               static_cast<int>(where.size()), where.data(), static_cast<int>(todo.size()), todo.data());
}

bool IsEventRecordType(std::uint16_t type) { return type == engine::kEventRecordType || type == 0; }

std::optional<DigestFields> ReadDigest(const journal::Record& r) {
  if (r.type != engine::kDigestRecordType || r.payload.size() != sizeof(engine::DigestRecord)) return std::nullopt;
  // Little-endian on disk whatever the host: assembled byte by byte.
  const auto u64 = [&](std::size_t at) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(r.payload[at + i]) << (8 * i);
    return v;
  };
  return DigestFields{u64(0), u64(8)};
}

void RequestStop() noexcept { g_stop.store(true, std::memory_order_relaxed); }

void StopOnSignals() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool CheckJournalDirectory(const std::string& dir, std::FILE* err) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    PrintError(err, std::string("cannot open journal directory: ") + std::strerror(errno), dir,
               "check the path (a journal is a directory of <16 hex digits>.seg files)");
    return false;
  }
  if (!S_ISDIR(st.st_mode)) {
    PrintError(err, "not a directory", dir, "pass the journal's directory, not a file in it");
    return false;
  }
  return true;
}

int AssessJournal(const std::string& dir, std::FILE* err, bool* empty, const char* tool) {
  *empty = false;
  auto PrintError = [&](std::string_view what, std::string_view where, std::string_view todo) {
    std::fprintf(err, "rill %s: %.*s (%.*s): %.*s\n", tool, static_cast<int>(what.size()), what.data(),
                 static_cast<int>(where.size()), where.data(), static_cast<int>(todo.size()), todo.data());
  };
  if (!CheckJournalDirectory(dir, err)) return kExitCannotRead;  // (names itself "rill inspect")
  // The writer's own verdict, without a full scan: every header, size and the position chain,
  // the last segment's batches, and the control file's floors (journal_verifier.h). Damage in
  // a sealed segment's batches is met while reading, through the same batch parser.
  Result<journal::JournalCheck> check = journal::CheckJournal(dir, {.scope = journal::CheckScope::kTail});
  if (!check.ok()) {
    const bool none = check.status().IsNotFound();
    PrintError(none ? "not a journal: " + std::string(check.status().message())
                    : "cannot read journal: " + std::string(check.status().message()),
               dir,
               none ? "pass a directory a rill journal writer created (it holds <16 hex digits>.seg files)"
                    : "check the files' permissions");
    return check.status().IsCorruption() ? kExitProblems : kExitCannotRead;
  }
  switch (check->verdict) {
    case journal::Verdict::kEmpty:
      *empty = true;
      PrintError("empty journal: no segment yet (a writer created it and committed nothing)", dir, "nothing to show");
      return kExitOk;
    case journal::Verdict::kIntact:
    case journal::Verdict::kTornTail:
      return kExitOk;
    case journal::Verdict::kDamagedTail:
    case journal::Verdict::kDamaged: {
      const journal::CheckProblem& p = *check->damage;
      PrintError("journal damaged: " + p.reason,
                 (p.segment.empty() ? dir : "segment " + p.segment) + " offset " + std::to_string(p.offset) +
                     (p.position ? " position " + std::to_string(p.position) : std::string()),
                 "`rill inspect verify` and `rill recover` say more; what can be read is shown");
      return kExitProblems;
    }
  }
  return kExitOk;
}

std::unique_ptr<JournalView> JournalView::Open(const std::string& dir, std::FILE* err, int* exit_code) {
  int ignored = kExitCannotRead;
  int& code = exit_code ? *exit_code : ignored;
  bool empty = false;
  const int verdict = AssessJournal(dir, err, &empty, "inspect");
  code = verdict;
  if (empty || verdict == kExitCannotRead) return nullptr;
  Result<std::unique_ptr<journal::JournalReader>> r = journal::JournalReader::Open({.directory = dir});
  if (!r.ok()) {
    if (verdict == kExitOk)  // else the damage is printed already
      PrintError(err, std::string(r.status().message()), dir, "run `rill inspect verify` on it for details");
    // Damage the verdict found stays exit 1 however the reader fails on it (every tool agrees).
    code = verdict == kExitProblems || r.status().IsCorruption() ? kExitProblems : kExitCannotRead;
    return nullptr;
  }
  std::unique_ptr<JournalView> view(new JournalView());
  view->verdict_exit_ = verdict;
  view->dir_ = dir;
  view->reader_ = std::move(r).value();
  Result<Codec*> codec = view->schemas_.For(view->reader_->schema_fingerprint(), view->reader_->schema_blob());
  if (!codec.ok()) {
    PrintError(err, "unknown schema: " + std::string(codec.status().message()), dir + ", first segment",
               "the journal's embedded schema blob is missing or damaged; `rill inspect verify` checks the rest");
    code = kExitCannotRead;
    return nullptr;
  }
  return view;
}

Result<Codec*> SchemaCache::For(std::uint64_t fingerprint, std::span<const std::byte> blob) {
  if (blob.empty() && fingerprint == 0) return static_cast<Codec*>(nullptr);
  if (auto it = codecs_.find(fingerprint); it != codecs_.end()) return it->second.get();
  Result<codecs::SchemaRegistry> reg =
      codecs::SchemaRegistry::FromBlob({reinterpret_cast<const std::uint8_t*>(blob.data()), blob.size()}, fingerprint);
  if (!reg.ok()) return reg.status();
  auto codec = std::make_unique<Codec>(std::move(reg).value());
  Codec* out = codec.get();
  codecs_[fingerprint] = std::move(codec);
  return out;
}

int JournalView::ForEach(const EventFilter& filter, const FollowOptions& follow, std::FILE* err, const EventFn& fn) {
  using Clock = std::chrono::steady_clock;
  journal::JournalReader& reader = *reader_;
  // Range checks. A range that cannot meet the journal is a usage error naming what the journal
  // holds, not a silent empty dump: --from > --to, a --from after the last event (unless
  // following: then it waits for it), a --to before the first event. A --from before the start
  // or a --to after the end only clamps (`--from 2026-01-01` is a natural question).
  const Bound& from = filter.from;
  const Bound& to = filter.to;
  const bool bounded = from.kind != Bound::Kind::kNone || to.kind != Bound::Kind::kNone;
  const auto range_error = [&](const std::string& what) {
    std::string todo = DescribeJournalRange(reader);
    todo += todo.ends_with("no events yet") ? ": drop --from/--to, or add --follow to wait for events"
                                            : ": pick --from/--to inside that";
    PrintError(err, what, dir_, todo);
    return kExitUsage;
  };
  if (from.kind != Bound::Kind::kNone && from.kind == to.kind &&
      (from.kind == Bound::Kind::kPosition ? from.position > to.position : from.time_ns > to.time_ns))
    return range_error("empty range: --from " + DescribeBound(from) + " is after --to " + DescribeBound(to));
  // Right after Open the reader stands at the first position: a --from at or before it needs no
  // seek (and one before it, deleted by retention, clamps instead of failing).
  if (from.kind == Bound::Kind::kTime ||
      (from.kind == Bound::Kind::kPosition && from.position > reader.next_position())) {
    const Status s =
        from.kind == Bound::Kind::kPosition ? reader.SeekToPosition(from.position) : reader.SeekToTime(from.time_ns);
    if (s.IsInvalidArgument())
      return range_error("--from " + DescribeBound(from) + " is after the journal's last event");
    if (!s.ok()) {
      PrintError(err, "cannot seek to --from: " + std::string(s.message()), dir_,
                 "pick a position or time inside the journal (`rill inspect info` shows its range)");
      return s.IsCorruption() ? kExitProblems : kExitUsage;
    }
  }
  bool read_any = false;  // a record was read: the range met the journal
  const auto idle = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(follow.idle_timeout_s));
  Clock::time_point idle_deadline = Clock::now() + idle;
  std::uint64_t matched = 0, last_segment = ~std::uint64_t{0};
  Codec* codec = nullptr;
  int exit = kExitOk;
  journal::Record rec;
  while (!g_stop.load(std::memory_order_relaxed)) {
    const journal::ReadStatus rs = reader.Next(&rec);
    if (rs == journal::ReadStatus::kError) {
      if (verdict_exit_ == kExitOk)  // else Open printed the damage already: one line per problem
        PrintError(err, "corrupt journal: " + std::string(reader.error().message()), dir_,
                   "run `rill inspect verify` for the whole report");
      return kExitProblems;
    }
    if (rs == journal::ReadStatus::kEnd) {
      if (!read_any && bounded && !follow.follow) {
        if (from.kind != Bound::Kind::kNone)
          return range_error("--from " + DescribeBound(from) + " is after the journal's last event");
        return range_error("--to " + DescribeBound(to) + " selects nothing");  // only when the journal is empty
      }
      if (!follow.follow) break;
      std::int64_t wait_ns = 100'000'000;  // short slices, so a stop request is seen soon
      if (follow.idle_timeout_s > 0) {
        const auto left = idle_deadline - Clock::now();
        if (left <= Clock::duration::zero()) break;
        wait_ns = std::min<std::int64_t>(wait_ns, std::chrono::duration_cast<std::chrono::nanoseconds>(left).count());
      }
      reader.WaitForCommit(wait_ns);
      continue;
    }
    idle_deadline = Clock::now() + idle;
    // Positions and batch times only grow along the journal: past --to, nothing more can match.
    if ((to.kind == Bound::Kind::kPosition && rec.position > to.position) ||
        (to.kind == Bound::Kind::kTime && rec.timestamp_ns > to.time_ns)) {
      if (read_any) break;
      // The first record of the range is already past --to: nothing can ever match.
      if (from.kind == Bound::Kind::kNone)
        return range_error("--to " + DescribeBound(to) + " is before the journal's first event");
      return range_error("empty range: the first event from --from " + DescribeBound(from) + " (position " +
                         std::to_string(rec.position) + ", " + FormatTime(rec.timestamp_ns) + ") is after --to " +
                         DescribeBound(to));
    }
    read_any = true;
    if (rec.segment_index != last_segment) {
      Result<Codec*> c = schemas_.For(reader.schema_fingerprint(), reader.schema_blob());
      if (!c.ok()) {
        PrintError(err, "unknown schema: " + std::string(c.status().message()),
                   dir_ + ", segment " + journal::SegmentFileName(rec.segment_index),
                   "the segment's embedded schema blob is missing or damaged; run `rill inspect verify`");
        return kExitCannotRead;
      }
      codec = *c;
      last_segment = rec.segment_index;
    }
    Event ev;
    ev.record = &rec;
    ev.codec = codec;
    codecs::DecodeResult d;
    if (codec != nullptr && !IsEventRecordType(rec.type)) {
      ev.other = true;  // a digest or another non-event record: shown raw, never decoded
    } else if (codec != nullptr) {
      d = codec->decoder.Decode({reinterpret_cast<const std::uint8_t*>(rec.payload.data()), rec.payload.size()},
                                rec.position);
      if (d.ok()) {
        ev.decoded = &d.event();
        ev.type_name = d.event().type().name;
      } else {
        ev.decode_error = d.error().ToStatus(&codec->registry);
        exit = kExitProblems;
      }
    }
    if (filter.stream && (ev.decoded == nullptr || !filter.stream->Matches(*ev.decoded))) continue;
    if (!filter.type.empty() &&
        (ev.decoded == nullptr || (ev.type_name != filter.type && ev.decoded->type().root_table != filter.type)))
      continue;
    fn(ev);
    if (filter.limit != 0 && ++matched >= filter.limit) break;
  }
  return std::max(exit, verdict_exit_);  // damage found by Open's verdict counts too
}

}  // namespace rill::tools::inspect
