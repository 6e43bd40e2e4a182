#include "rill/tools/replay/replay_command.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <limits>
#include <memory>
#include <string_view>

#include "rill/codecs/schema_registry.h"
#include "rill/engine/command_processor.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/examples/blog/blog_domain.h"
#include "rill/journal/journal_reader.h"
#include "rill/tools/inspect/journal_view.h"

namespace rill::tools {
namespace {

enum Exit : int { kOk = 0, kProblems = 1, kUsage = 2, kCannotRead = 3 };

void PrintError(std::FILE* err, std::string_view what, std::string_view where, std::string_view todo) {
  std::fprintf(err, "rill replay: %.*s (%.*s): %.*s\n", static_cast<int>(what.size()), what.data(),
               static_cast<int>(where.size()), where.data(), static_cast<int>(todo.size()), todo.data());
}

// Appends rather than `"x" + string`: GCC 12 -O3 warns (-Wrestrict) on that pattern.
std::string Join(std::string_view a, const std::string& b, std::string_view c) {
  std::string out(a);
  out += b;
  out += c;
  return out;
}

std::string Hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%016" PRIx64, v);
  return buf;
}

// The last committed position, for the progress bar: the control file's, else the segments'.
std::uint64_t JournalEnd(journal::JournalReader& r) {
  if (const std::uint64_t c = r.committed_position(); c != 0) return c;
  Result<std::vector<journal::SegmentInfo>> segs = r.ListSegments();
  return segs.ok() && !segs->empty() ? segs->back().last_position : 0;
}

void DrawProgress(std::FILE* err, std::uint64_t position, std::uint64_t end, std::uint64_t events, double seconds) {
  constexpr int kWidth = 30;
  const double f = end == 0 ? 1.0 : std::min(1.0, static_cast<double>(position) / static_cast<double>(end));
  const int filled = static_cast<int>(f * kWidth);
  std::fprintf(err, "\r[%.*s%*s] %5.1f%%  %" PRIu64 " events  %.1fM events/s ", filled,
               "##############################", kWidth - filled, "", f * 100.0, events,
               seconds > 0 ? static_cast<double>(events) / seconds / 1e6 : 0.0);
  std::fflush(err);
}

template <typename D>
void Summarize(const engine::CommandProcessor<D>& p, const ReplayOptions& o, ReplaySummary* s);

template <>
void Summarize(const engine::CommandProcessor<examples::bank::BankDomain>& p, const ReplayOptions& o,
               ReplaySummary* s) {
  p.store().ForEach([&](std::uint64_t id, std::uint64_t version, const examples::bank::Account& a) {
    if (version == 0) return;
    ++s->aggregates;
    ++(a.closed ? s->closed_accounts : s->open_accounts);
    if (__builtin_add_overflow(s->total_balance, a.balance, &s->total_balance)) s->total_overflowed = true;
    if (o.account && *o.account == id) {
      s->account_balance = a.balance;
      s->account_version = version;
      s->account_closed = a.closed;
    }
  });
}

template <>
void Summarize(const engine::CommandProcessor<examples::blog::BlogDomain>& p, const ReplayOptions&, ReplaySummary* s) {
  p.store().ForEach([&](std::uint64_t, std::uint64_t version, const examples::blog::Post& post) {
    if (version == 0) return;
    ++s->aggregates;
    if (post.published) ++s->published_posts;
    s->comments += post.comments;
  });
}

void PrintText(const ReplayOptions& o, const ReplaySummary& s, std::FILE* out) {
  std::fprintf(out, "replayed     %" PRIu64 " events (%" PRIu64 " records) in %.3f s: %.2fM events/s\n", s.events,
               s.records, s.seconds, s.events_per_second / 1e6);
  std::fprintf(out, "as of        position %" PRIu64 "%s%s\n", s.last_position,
               s.last_timestamp_ns != 0 ? Join(", ", inspect::FormatTime(s.last_timestamp_ns), "").c_str() : "",
               s.stopped_inside_batch ? " (inside a batch: a command may be half applied)" : "");
  if (s.domain == "bank") {
    std::fprintf(out, "accounts     %" PRIu64 " (%" PRIu64 " open, %" PRIu64 " closed)\n", s.aggregates,
                 s.open_accounts, s.closed_accounts);
    std::fprintf(out, "total money  %" PRId64 "%s\n", s.total_balance, s.total_overflowed ? " (overflowed)" : "");
    if (o.account) {
      if (s.account_balance)
        std::fprintf(out, "account      %" PRIu64 ": balance %" PRId64 ", version %" PRIu64 "%s\n", *o.account,
                     *s.account_balance, s.account_version, s.account_closed ? ", closed" : "");
      else
        std::fprintf(out, "account      %" PRIu64 ": does not exist at this point\n", *o.account);
    }
  } else {
    std::fprintf(out, "posts        %" PRIu64 " (%" PRIu64 " published), %" PRIu64 " comments\n", s.aggregates,
                 s.published_posts, s.comments);
  }
  std::fprintf(out, "digest       %s; %" PRIu64 " digest records checked", Hex(s.state_digest).c_str(),
               s.digests_checked);
  if (s.digest_mismatch)
    std::fprintf(out, ", FIRST MISMATCH at position %" PRIu64 " (recorded %s, replayed %s)",
                 s.digest_mismatch->position, Hex(s.digest_mismatch->recorded).c_str(),
                 Hex(s.digest_mismatch->computed).c_str());
  else if (s.digests_checked != 0)
    std::fprintf(out, ", all match");
  std::fprintf(out, "\n");
}

void PrintJson(const ReplayOptions& o, const ReplaySummary& s, std::FILE* out) {
  std::fprintf(out,
               "{\"domain\":\"%s\",\"records\":%" PRIu64 ",\"events\":%" PRIu64 ",\"last_position\":%" PRIu64
               ",\"last_time\":%s,\"stopped_inside_batch\":%s,\"seconds\":%.6f,\"events_per_second\":%.0f,"
               "\"aggregates\":%" PRIu64 ",\"state_digest\":\"%s\",\"digests_checked\":%" PRIu64
               ",\"digest_mismatch\":",
               s.domain.c_str(), s.records, s.events, s.last_position,
               s.last_timestamp_ns != 0 ? Join("\"", inspect::FormatTime(s.last_timestamp_ns), "\"").c_str() : "null",
               s.stopped_inside_batch ? "true" : "false", s.seconds, s.events_per_second, s.aggregates,
               Hex(s.state_digest).c_str(), s.digests_checked);
  if (s.digest_mismatch)
    std::fprintf(out,
                 "{\"position\":%" PRIu64 ",\"covers_position\":%" PRIu64 ",\"recorded\":\"%s\",\"computed\":\"%s\"}",
                 s.digest_mismatch->position, s.digest_mismatch->covers_position,
                 Hex(s.digest_mismatch->recorded).c_str(), Hex(s.digest_mismatch->computed).c_str());
  else
    std::fprintf(out, "null");
  if (s.domain == "bank") {
    std::fprintf(out,
                 ",\"bank\":{\"accounts\":%" PRIu64 ",\"open\":%" PRIu64 ",\"closed\":%" PRIu64
                 ",\"total_balance\":%" PRId64 ",\"total_overflowed\":%s}",
                 s.aggregates, s.open_accounts, s.closed_accounts, s.total_balance,
                 s.total_overflowed ? "true" : "false");
    if (o.account) {
      if (s.account_balance)
        std::fprintf(out,
                     ",\"account\":{\"id\":%" PRIu64 ",\"balance\":%" PRId64 ",\"version\":%" PRIu64 ",\"closed\":%s}",
                     *o.account, *s.account_balance, s.account_version, s.account_closed ? "true" : "false");
      else
        std::fprintf(out, ",\"account\":{\"id\":%" PRIu64 ",\"exists\":false}", *o.account);
    }
  } else {
    std::fprintf(out, ",\"blog\":{\"posts\":%" PRIu64 ",\"published\":%" PRIu64 ",\"comments\":%" PRIu64 "}",
                 s.aggregates, s.published_posts, s.comments);
  }
  std::fprintf(out, "}\n");
}

template <typename D>
int Replay(const ReplayOptions& o, const inspect::Bound& until, std::FILE* out, std::FILE* err, ReplaySummary* s) {
  codecs::SchemaRegistryBuilder builder;
  D::RegisterEvents(builder);
  Result<codecs::SchemaRegistry> registry = std::move(builder).Build();
  if (!registry.ok()) {
    PrintError(err, "cannot build the " + o.domain + " schema: " + std::string(registry.status().message()), o.dir,
               "this is a bug in rill");
    return kProblems;
  }
  Result<std::unique_ptr<journal::JournalReader>> r = journal::JournalReader::Open({.directory = o.dir});
  if (!r.ok()) {
    PrintError(err, "not a journal: " + std::string(r.status().message()), o.dir,
               "pass the journal directory (the one holding the .seg files)");
    return kCannotRead;
  }
  journal::JournalReader& reader = **r;
  {
    const auto blob = reader.schema_blob();
    if (Status st = registry->CheckJournalSchema(reader.schema_fingerprint(),
                                                 {reinterpret_cast<const std::uint8_t*>(blob.data()), blob.size()});
        !st.ok()) {
      PrintError(err, "the " + o.domain + " domain cannot read this journal: " + std::string(st.message()), o.dir,
                 "pick the journal's domain with --domain bank|blog");
      return kCannotRead;
    }
  }
  // The window is not part of the state summary: a tiny one keeps replay off its random misses.
  engine::CommandProcessor<D> processor({.expected_aggregates = 0, .idempotency_window = 1});
  engine::JournalReplayer<D> replayer(*registry, &processor);
  engine::ReplayLimits limits;
  if (until.kind == inspect::Bound::Kind::kPosition) limits.until_position = until.position;
  if (until.kind == inspect::Bound::Kind::kTime) limits.until_time_ns = until.time_ns;
  const bool bar = o.progress == 1 || (o.progress == -1 && ::isatty(::fileno(err)) == 1);
  const std::uint64_t end = bar ? JournalEnd(reader) : 0;
  limits.max_records = bar ? (1u << 20) : 0;

  engine::ReplayProgress progress;
  const auto t0 = std::chrono::steady_clock::now();
  auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  Status st;
  do {
    st = replayer.Run(reader, limits, &progress);
    if (bar) DrawProgress(err, progress.last_position, end, progress.events, seconds());
  } while (st.ok() && !progress.reached_end && !progress.reached_limit);
  processor.FinishReplay();
  if (bar) std::fprintf(err, "\n");
  // An --until before the journal's first event stops before anything is applied: an empty
  // state that looks like an answer, usually a wrong date or time zone. An --until after the
  // end is the state at the end (the journal may still grow).
  if (st.ok() && progress.reached_limit && progress.records == 0) {
    PrintError(err,
               Join("--until ",
                    until.kind == inspect::Bound::Kind::kPosition ? "position " + std::to_string(until.position)
                                                                  : inspect::FormatTime(until.time_ns),
                    " is before the journal's first event"),
               o.dir, inspect::DescribeJournalRange(reader) + ": pick an --until inside that, or omit it for the end");
    return kUsage;
  }
  s->domain = o.domain;
  s->seconds = seconds();
  s->records = progress.records;
  s->events = progress.events;
  s->last_position = progress.last_position;
  s->last_timestamp_ns = progress.last_timestamp_ns;
  s->stopped_inside_batch = !progress.end_of_batch;
  s->events_per_second = s->seconds > 0 ? static_cast<double>(s->events) / s->seconds : 0;
  s->state_digest = processor.digest();
  s->digests_checked = progress.digests_checked;
  s->digest_mismatch = progress.digest_mismatch;
  Summarize(processor, o, s);
  if (!st.ok()) {
    PrintError(
        err,
        "damaged journal after position " + std::to_string(progress.last_position) + ": " + std::string(st.message()),
        o.dir, "`rill inspect verify` lists every problem; the state printed is as of the last good position");
    (o.json ? PrintJson : PrintText)(o, *s, out);
    return st.IsNotFound() ? kCannotRead : kProblems;
  }
  (o.json ? PrintJson : PrintText)(o, *s, out);
  if (s->digest_mismatch && o.verify) {
    PrintError(err,
               "determinism check failed: the digest recorded at position " +
                   std::to_string(s->digest_mismatch->position) + " differs from the replayed state's",
               o.dir, "the domain's Evolve changed or is not deterministic since this journal was written");
    return kProblems;
  }
  if (o.verify && s->digests_checked == 0)
    std::fprintf(err,
                 "rill replay: note: the journal has no digest records (EngineOptions::digest_interval_commands "
                 "was 0): nothing to verify\n");
  return kOk;
}

}  // namespace

int RunReplay(const ReplayOptions& o, std::FILE* out, std::FILE* err, ReplaySummary* summary) {
  ReplaySummary local;
  ReplaySummary* s = summary ? summary : &local;
  if (o.domain != "bank" && o.domain != "blog") {
    PrintError(err, "unknown domain '" + o.domain + "'", "--domain", "use bank or blog");
    return kUsage;
  }
  if (o.account && o.domain != "bank") {
    PrintError(err, "--account is for the bank domain", "--account", "drop it, or use --domain bank");
    return kUsage;
  }
  Result<inspect::Bound> until = inspect::ParseBound(o.until);
  if (!until.ok()) {
    PrintError(err, "bad --until '" + o.until + "': " + std::string(until.status().message()), "--until",
               "give a position (12345) or an ISO-8601 time (2026-11-23T01:02:03Z)");
    return kUsage;
  }
  struct stat st {};
  if (::stat(o.dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    PrintError(err, "no such directory", o.dir, "pass the journal directory (the one holding the .seg files)");
    return kCannotRead;
  }
  // The same verdict as every tool and the writer: empty is exit 0, damage found before reading
  // (a missing segment, a journal shorter than its durable position) is exit 1 after the replay.
  bool empty = false;
  const int verdict = inspect::AssessJournal(o.dir, err, &empty, "replay");
  if (empty || verdict == kCannotRead) return verdict;
  const int exit = o.domain == "blog" ? Replay<examples::blog::BlogDomain>(o, *until, out, err, s)
                                      : Replay<examples::bank::BankDomain>(o, *until, out, err, s);
  // A damaged journal is exit 1 however the read ended (a missing segment reads as NotFound).
  return verdict == kProblems ? kProblems : exit;
}

}  // namespace rill::tools
