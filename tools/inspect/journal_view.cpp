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

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// Reads exactly n digits at s[*i]; false when they are not there.
bool Digits(std::string_view s, std::size_t* i, int n, int* out) {
  if (*i + static_cast<std::size_t>(n) > s.size()) return false;
  int v = 0;
  for (int k = 0; k < n; ++k) {
    const char c = s[*i + static_cast<std::size_t>(k)];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *i += static_cast<std::size_t>(n);
  *out = v;
  return true;
}

bool Expect(std::string_view s, std::size_t* i, char c) {
  if (*i >= s.size() || s[*i] != c) return false;
  ++*i;
  return true;
}

bool IsLeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). Not
// timegm: it silently normalises out-of-range fields (Feb 30 becomes Mar 2), which is how bad
// dates slipped through before; the fields are checked first, then converted exactly.
std::int64_t DaysFromCivil(int y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

const char* const kMonthNames[] = {"January", "February", "March",     "April",   "May",      "June",
                                   "July",    "August",   "September", "October", "November", "December"};

// "'<text>': <detail>", appended step by step (GCC 12's -Wrestrict misfires on "a" + b + "c").
Status BadTime(std::string_view text, std::string_view detail) {
  std::string msg = "'";
  msg.append(text);
  msg.append("': ");
  msg.append(detail);
  return Status::InvalidArgument(msg);
}

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

std::string FormatTime(std::int64_t unix_ns) {
  std::int64_t secs = unix_ns / 1'000'000'000;
  std::int64_t frac = unix_ns % 1'000'000'000;
  if (frac < 0) {  // floor, so times before 1970 print correctly too
    frac += 1'000'000'000;
    --secs;
  }
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  if (frac != 0) {
    int digits = 9;
    while (digits > 3 && frac % 1000 == 0) {
      frac /= 1000;
      digits -= 3;
    }
    n += static_cast<std::size_t>(
        std::snprintf(buf + n, sizeof buf - n, ".%0*lld", digits, static_cast<long long>(frac)));
  }
  std::snprintf(buf + n, sizeof buf - n, "Z");
  return buf;
}

Result<std::int64_t> ParseTime(std::string_view s) {
  const auto bad = [&] {
    std::string msg = "'";  // appended step by step: GCC 12's -Wrestrict misfires on "a" + b + "c"
    msg.append(s);
    msg.append("' is neither a position nor an ISO-8601 time like 2026-11-23T01:02:03Z");
    return Status::InvalidArgument(msg);
  };
  std::size_t i = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!Digits(s, &i, 4, &year) || !Expect(s, &i, '-') || !Digits(s, &i, 2, &month) || !Expect(s, &i, '-') ||
      !Digits(s, &i, 2, &day))
    return bad();
  std::int64_t frac_ns = 0, offset_s = 0;
  if (i < s.size() && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
    ++i;
    if (!Digits(s, &i, 2, &hour) || !Expect(s, &i, ':') || !Digits(s, &i, 2, &minute)) return bad();
    if (Expect(s, &i, ':') && !Digits(s, &i, 2, &second)) return bad();
    if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
      ++i;
      std::int64_t scale = 100'000'000;
      const std::size_t start = i;
      for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, scale /= 10) {
        if (i - start == 9) return BadTime(s, "more than 9 fractional digits (nanoseconds are the finest)");
        frac_ns += (s[i] - '0') * scale;
      }
      if (i == start) return bad();
    }
    if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
      ++i;
    } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
      const char sign = s[i++];
      int oh = 0, om = 0;
      if (!Digits(s, &i, 2, &oh)) return bad();
      Expect(s, &i, ':');
      if (!Digits(s, &i, 2, &om)) return bad();
      // Real offsets span -12:00 .. +14:00; ISO 8601 and RFC 3339 parsers commonly allow +-18:00.
      if (om > 59 || oh * 60 + om > 18 * 60) {
        char detail[96];
        std::snprintf(detail, sizeof detail, "UTC offset %c%02d:%02d is out of range (at most +-18:00, minutes 00-59)",
                      sign, oh, om);
        return BadTime(s, detail);
      }
      offset_s = (sign == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    }
  }
  if (i != s.size()) return bad();
  char detail[128];
  if (month < 1 || month > 12) {
    std::snprintf(detail, sizeof detail, "month %02d does not exist (01-12)", month);
    return BadTime(s, detail);
  }
  if (day < 1 || day > DaysInMonth(year, month)) {
    std::snprintf(detail, sizeof detail, "day %02d does not exist in %s %04d (01-%02d)", day, kMonthNames[month - 1],
                  year, DaysInMonth(year, month));
    return BadTime(s, detail);
  }
  if (hour > 23) {
    std::snprintf(detail, sizeof detail, "hour %02d is out of range (00-23; write 24:00 as 00:00 of the next day)",
                  hour);
    return BadTime(s, detail);
  }
  if (minute > 59) {
    std::snprintf(detail, sizeof detail, "minute %02d is out of range (00-59)", minute);
    return BadTime(s, detail);
  }
  // No leap second: journal times are Unix time, which has none, so :60 could never match.
  if (second > 59) {
    std::snprintf(detail, sizeof detail, "second %02d is out of range (00-59; Unix time has no leap seconds)", second);
    return BadTime(s, detail);
  }
  const std::int64_t secs = DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset_s;
  // Journal times are int64 nanoseconds since 1970: 1677-09-21T00:12:44Z .. 2262-04-11T23:47:16Z.
  std::int64_t ns = 0;
  if (__builtin_mul_overflow(secs, std::int64_t{1'000'000'000}, &ns) || __builtin_add_overflow(ns, frac_ns, &ns))
    return BadTime(s, "outside the times a journal can hold (1677-09-21T00:12:44Z .. 2262-04-11T23:47:16Z)");
  return ns;
}

Result<Bound> ParseBound(std::string_view text) {
  Bound b;
  if (text.empty()) return b;
  if (AllDigits(text)) {
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size())
      return Status::InvalidArgument("position " + std::string(text) + " is too large (at most 18446744073709551615)");
    if (v == 0) return Status::InvalidArgument("position 0 does not exist: positions start at 1");
    b.kind = Bound::Kind::kPosition;
    b.position = v;
    return b;
  }
  if (text.size() > 1 && text[0] == '-' && AllDigits(text.substr(1)))
    return Status::InvalidArgument("position " + std::string(text) + " is negative: positions start at 1");
  Result<std::int64_t> t = ParseTime(text);
  if (!t.ok()) return t.status();
  b.kind = Bound::Kind::kTime;
  b.time_ns = *t;
  return b;
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
    code = r.status().IsCorruption() ? kExitProblems : kExitCannotRead;
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
    if (filter.stream && (ev.decoded == nullptr || ev.decoded->stream_id() != *filter.stream)) continue;
    if (!filter.type.empty() &&
        (ev.decoded == nullptr || (ev.type_name != filter.type && ev.decoded->type().root_table != filter.type)))
      continue;
    fn(ev);
    if (filter.limit != 0 && ++matched >= filter.limit) break;
  }
  return std::max(exit, verdict_exit_);  // damage found by Open's verdict counts too
}

}  // namespace rill::tools::inspect
