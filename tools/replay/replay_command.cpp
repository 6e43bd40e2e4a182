#include "rill/tools/replay/replay_command.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <memory>
#include <string_view>

#include "rill/tools/inspect/journal_view.h"
#include "rill/tools/inspect/stream_key.h"

namespace rill::tools {
namespace {

enum Exit : int { kOk = 0, kProblems = 1, kUsage = 2, kCannotRead = 3 };

void PrintError(std::FILE* err, std::string_view what, std::string_view where, std::string_view todo) {
  std::fprintf(err, "rill replay: %.*s (%.*s): %.*s\n", static_cast<int>(what.size()), what.data(),
               static_cast<int>(where.size()), where.data(), static_cast<int>(todo.size()), todo.data());
}

// Appends rather than `"x" + string`: GCC 12 -O3 warns (-Wrestrict) on that pattern.
std::string Join(std::string_view a, std::string_view b, std::string_view c) {
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

// "the 'inventory' domain", for messages; options.domain is empty when no tool named it.
std::string DomainLabel(const std::string& domain) {
  return domain.empty() ? std::string("this tool's domain") : Join("the '", domain, "' domain");
}

// Appends "item" to a list separated by `sep`. (Appends: GCC 12 -O3 warns on `"x" + string`.)
void AppendItem(std::string& list, std::string_view sep, std::string_view item) {
  if (!list.empty()) list += sep;
  list += item;
}

std::string KindList(const std::vector<std::string>& kinds) {
  std::string out;
  for (const std::string& k : kinds) AppendItem(out, ", ", k);
  return out;
}

// A JSON string literal: quotes, backslashes and control characters escaped.
std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char u[8];
      std::snprintf(u, sizeof u, "\\u%04x", static_cast<unsigned>(c));
      out += u;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// Why a schema check failed, without the fingerprint the registry's message starts with (the
// line names it already).
std::string SchemaDetail(const Status& st, std::uint64_t fingerprint) {
  std::string detail(st.message());
  char prefix[64];
  std::snprintf(prefix, sizeof prefix, "unknown schema fingerprint 0x%" PRIx64, fingerprint);
  if (detail.rfind(prefix, 0) == 0) {
    detail.erase(0, std::string_view(prefix).size());
    detail.erase(0, detail.rfind(": ", 0) == 0 ? 2 : detail.rfind(' ', 0) == 0 ? 1 : 0);
  }
  return detail;
}

// --stream against the domain's kinds: KIND:ID names one; a bare ID is enough for one kind.
std::optional<DomainReplay::StreamQuery> ResolveStream(const inspect::StreamSelector& sel,
                                                       const std::vector<std::string>& kinds, std::FILE* err) {
  if (sel.kind.empty()) {
    if (kinds.size() == 1) return DomainReplay::StreamQuery{0, sel.id};
    PrintError(
        err, "--stream " + std::to_string(sel.id) + " does not say which aggregate kind", "--stream",
        "give KIND:ID with one of " + KindList(kinds) + " (" + kinds.front() + ":" + std::to_string(sel.id) + ")");
    return std::nullopt;
  }
  for (std::size_t k = 0; k < kinds.size(); ++k)
    if (kinds[k] == sel.kind) return DomainReplay::StreamQuery{k, sel.id};
  PrintError(err, "--stream names the kind '" + sel.kind + "', which this domain does not have", "--stream",
             "use one of " + KindList(kinds));
  return std::nullopt;
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

void PrintText(const ReplaySummary& s, std::FILE* out) {
  std::fprintf(out, "replayed     %" PRIu64 " events (%" PRIu64 " records) in %.3f s: %.2fM events/s\n", s.events,
               s.records, s.seconds, s.events_per_second / 1e6);
  std::fprintf(out, "as of        position %" PRIu64 "%s%s\n", s.last_position,
               s.last_timestamp_ns != 0 ? Join(", ", inspect::FormatTime(s.last_timestamp_ns), "").c_str() : "",
               s.stopped_inside_batch ? " (inside a batch: a command may be half applied)" : "");
  std::string kinds;
  for (const auto& [kind, n] : s.kinds) AppendItem(kinds, ", ", Join(kind, " ", std::to_string(n)));
  std::fprintf(out, "aggregates   %" PRIu64 ": %s\n", s.aggregates, kinds.c_str());
  if (s.summary) {
    std::string figures;
    for (const auto& [name, value] : *s.summary) AppendItem(figures, ", ", Join(name, " ", std::to_string(value)));
    std::fprintf(out, "summary      %s\n", figures.c_str());
  }
  if (s.stream) {
    const std::string label = inspect::StreamLabel(s.stream->kind, s.stream->id);
    if (s.stream->exists)
      std::fprintf(out, "stream       %s: version %" PRIu64 ", %s\n", label.c_str(), s.stream->version,
                   s.stream->state.c_str());
    else
      std::fprintf(out, "stream       %s: does not exist at this point\n", label.c_str());
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

void PrintJson(const ReplaySummary& s, std::FILE* out) {
  std::fprintf(out,
               "{\"domain\":%s,\"records\":%" PRIu64 ",\"events\":%" PRIu64 ",\"last_position\":%" PRIu64
               ",\"last_time\":%s,\"stopped_inside_batch\":%s,\"seconds\":%.6f,\"events_per_second\":%.0f,"
               "\"aggregates\":%" PRIu64 ",\"state_digest\":\"%s\",\"digests_checked\":%" PRIu64
               ",\"digest_mismatch\":",
               JsonString(s.domain).c_str(), s.records, s.events, s.last_position,
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
  std::string kinds;
  for (const auto& [kind, n] : s.kinds) AppendItem(kinds, ",", Join(JsonString(kind), ":", std::to_string(n)));
  std::fprintf(out, ",\"kinds\":{%s}", kinds.c_str());
  if (s.summary) {
    std::string figures;
    for (const auto& [name, value] : *s.summary)
      AppendItem(figures, ",", Join(JsonString(name), ":", std::to_string(value)));
    std::fprintf(out, ",\"summary\":{%s}", figures.c_str());
  }
  if (s.stream)
    std::fprintf(out, ",\"stream\":{\"kind\":%s,\"id\":%" PRIu64 ",\"exists\":%s,\"version\":%" PRIu64 ",\"state\":%s}",
                 JsonString(s.stream->kind).c_str(), s.stream->id, s.stream->exists ? "true" : "false",
                 s.stream->version, s.stream->exists ? JsonString(s.stream->state).c_str() : "null");
  std::fprintf(out, "}\n");
}

// The replay proper, on a journal that passed the option checks and its verdict.
int Replay(DomainReplay& domain, const ReplayOptions& o, const inspect::Bound& until,
           const std::optional<DomainReplay::StreamQuery>& stream, std::FILE* out, std::FILE* err, ReplaySummary* s) {
  Result<std::unique_ptr<journal::JournalReader>> r = journal::JournalReader::Open({.directory = o.dir});
  if (!r.ok()) {
    PrintError(err, "not a journal: " + std::string(r.status().message()), o.dir,
               "pass the journal directory (the one holding the .seg files)");
    return kCannotRead;
  }
  journal::JournalReader& reader = **r;
  {
    const auto blob = reader.schema_blob();
    if (Status st = domain.registry()->CheckJournalSchema(
            reader.schema_fingerprint(), {reinterpret_cast<const std::uint8_t*>(blob.data()), blob.size()});
        !st.ok()) {
      PrintError(err,
                 "the journal's schema (fingerprint " + Hex(reader.schema_fingerprint()) + ") is not one " +
                     DomainLabel(o.domain) + " reads: " + SchemaDetail(st, reader.schema_fingerprint()),
                 o.dir,
                 "replay it with the domain that wrote it (--domain, or that domain's own tool); `rill inspect info` "
                 "shows the journal's event types");
      return kCannotRead;
    }
  }
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
    st = domain.Run(reader, limits, &progress);
    if (bar) DrawProgress(err, progress.last_position, end, progress.events, seconds());
  } while (st.ok() && !progress.reached_end && !progress.reached_limit);
  domain.FinishReplay();
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
  s->seconds = seconds();
  s->records = progress.records;
  s->events = progress.events;
  s->last_position = progress.last_position;
  s->last_timestamp_ns = progress.last_timestamp_ns;
  s->stopped_inside_batch = !progress.end_of_batch;
  s->events_per_second = s->seconds > 0 ? static_cast<double>(s->events) / s->seconds : 0;
  s->digests_checked = progress.digests_checked;
  s->digest_mismatch = progress.digest_mismatch;
  domain.Summarize(stream, s);
  if (!st.ok()) {
    PrintError(
        err,
        "damaged journal after position " + std::to_string(progress.last_position) + ": " + std::string(st.message()),
        o.dir, "`rill inspect verify` lists every problem; the state printed is as of the last good position");
    (o.json ? PrintJson : PrintText)(*s, out);
    return st.IsNotFound() ? kCannotRead : kProblems;
  }
  (o.json ? PrintJson : PrintText)(*s, out);
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

namespace replay_internal {

Result<codecs::SchemaRegistry> BuildRegistry(RegisterEventsFn register_events) {
  codecs::SchemaRegistryBuilder builder;
  register_events(builder);
  return std::move(builder).Build();
}

bool ReadsJournal(RegisterEventsFn register_events, const std::string& dir) {
  Result<codecs::SchemaRegistry> registry = BuildRegistry(register_events);
  if (!registry.ok()) return false;
  Result<std::unique_ptr<journal::JournalReader>> r = journal::JournalReader::Open({.directory = dir});
  if (!r.ok()) return false;
  const auto blob = (*r)->schema_blob();
  return registry
      ->CheckJournalSchema((*r)->schema_fingerprint(),
                           {reinterpret_cast<const std::uint8_t*>(blob.data()), blob.size()})
      .ok();
}

int RunReplay(DomainReplay& domain, const ReplayOptions& o, std::FILE* out, std::FILE* err, ReplaySummary* s) {
  s->domain = o.domain;
  if (!domain.registry().ok()) {
    PrintError(
        err,
        "cannot build " + DomainLabel(o.domain) + "'s schema: " + std::string(domain.registry().status().message()),
        o.dir, "fix the domain's RegisterEvents (a bug in the tool, not in the journal)");
    return kProblems;
  }
  Result<inspect::Bound> until = inspect::ParseBound(o.until);
  if (!until.ok()) {
    PrintError(err, "bad --until '" + o.until + "': " + std::string(until.status().message()), "--until",
               "give a position (12345) or an ISO-8601 time (2026-11-23T01:02:03Z)");
    return kUsage;
  }
  std::optional<DomainReplay::StreamQuery> stream;
  if (!o.stream.empty()) {
    const std::optional<inspect::StreamSelector> sel = inspect::ParseStreamSelector(o.stream);
    if (!sel) {
      PrintError(err, "bad --stream '" + o.stream + "'", "--stream",
                 "give an aggregate id (42), or KIND:ID (" + domain.kind_names().front() + ":42)");
      return kUsage;
    }
    stream = ResolveStream(*sel, domain.kind_names(), err);
    if (!stream) return kUsage;
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
  const int exit = Replay(domain, o, *until, stream, out, err, s);
  // A damaged journal is exit 1 however the read ended (a missing segment reads as NotFound).
  return verdict == kProblems ? kProblems : exit;
}

}  // namespace replay_internal
}  // namespace rill::tools
