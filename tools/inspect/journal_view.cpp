#include "rill/tools/inspect/journal_view.h"

#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <ctime>

#include "rill/engine/event_record.h"
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

}  // namespace

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
  std::tm tm{};
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
      for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, scale /= 10) frac_ns += (s[i] - '0') * scale;
      if (i == start || i - start > 9) return bad();
    }
    if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
      ++i;
    } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
      const int sign = s[i++] == '-' ? -1 : 1;
      int oh = 0, om = 0;
      if (!Digits(s, &i, 2, &oh)) return bad();
      Expect(s, &i, ':');
      if (!Digits(s, &i, 2, &om)) return bad();
      offset_s = sign * (oh * 3600 + om * 60);
    }
  }
  if (i != s.size() || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return bad();
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::int64_t secs = static_cast<std::int64_t>(::timegm(&tm)) - offset_s;
  return secs * 1'000'000'000 + frac_ns;
}

Result<Bound> ParseBound(std::string_view text) {
  Bound b;
  if (text.empty()) return b;
  if (AllDigits(text)) {
    if (text.size() > 19) return Status::InvalidArgument("position '" + std::string(text) + "' is too large");
    b.kind = Bound::Kind::kPosition;
    b.position = std::stoull(std::string(text));
    return b;
  }
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

std::unique_ptr<JournalView> JournalView::Open(const std::string& dir, std::FILE* err) {
  if (!CheckJournalDirectory(dir, err)) return nullptr;
  Result<std::unique_ptr<journal::JournalReader>> r = journal::JournalReader::Open({.directory = dir});
  if (!r.ok()) {
    const bool empty = r.status().IsNotFound();
    PrintError(err, empty ? "not a journal: no segment files" : std::string(r.status().message()), dir,
               empty ? "pass a directory a rill journal writer created (it holds <16 hex digits>.seg files)"
                     : "run `rill inspect verify` on it for details");
    return nullptr;
  }
  std::unique_ptr<JournalView> view(new JournalView());
  view->dir_ = dir;
  view->reader_ = std::move(r).value();
  Result<Codec*> codec = view->schemas_.For(view->reader_->schema_fingerprint(), view->reader_->schema_blob());
  if (!codec.ok()) {
    PrintError(err, "unknown schema: " + std::string(codec.status().message()), dir + ", first segment",
               "the journal's embedded schema blob is missing or damaged; `rill inspect verify` checks the rest");
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
  if (filter.from.kind != Bound::Kind::kNone) {
    const Status s = filter.from.kind == Bound::Kind::kPosition ? reader.SeekToPosition(filter.from.position)
                                                                : reader.SeekToTime(filter.from.time_ns);
    if (!s.ok()) {
      PrintError(err, "cannot seek to --from: " + std::string(s.message()), dir_,
                 "pick a position or time inside the journal (`rill inspect info` shows its range)");
      return s.IsCorruption() ? kExitProblems : kExitUsage;
    }
  }
  const auto idle = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(follow.idle_timeout_s));
  Clock::time_point idle_deadline = Clock::now() + idle;
  std::uint64_t matched = 0, last_segment = ~std::uint64_t{0};
  Codec* codec = nullptr;
  int exit = kExitOk;
  journal::Record rec;
  while (!g_stop.load(std::memory_order_relaxed)) {
    const journal::ReadStatus rs = reader.Next(&rec);
    if (rs == journal::ReadStatus::kError) {
      PrintError(err, "corrupt journal: " + std::string(reader.error().message()), dir_,
                 "run `rill inspect verify` for the whole report");
      return kExitProblems;
    }
    if (rs == journal::ReadStatus::kEnd) {
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
    if ((filter.to.kind == Bound::Kind::kPosition && rec.position > filter.to.position) ||
        (filter.to.kind == Bound::Kind::kTime && rec.timestamp_ns > filter.to.time_ns))
      break;
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
  return exit;
}

}  // namespace rill::tools::inspect
