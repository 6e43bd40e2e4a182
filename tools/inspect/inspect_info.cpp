#include "rill/tools/inspect/inspect_info.h"

#include <sys/stat.h>

#include <chrono>
#include <cinttypes>

#include "rill/journal/segment_file.h"
#include "rill/replication/status_file.h"
#include "rill/tools/inspect/checkpoints.h"
#include "rill/tools/inspect/inspect_tally.h"
#include "rill/tools/inspect/journal_view.h"

namespace rill::tools::inspect {
namespace {

std::string Range(std::uint64_t first, std::uint64_t last) {
  if (last < first) return "none";
  return first == last ? std::to_string(first) : std::to_string(first) + "-" + std::to_string(last);
}

std::string TimeRange(std::int64_t first, std::int64_t last) {
  return first == last ? FormatTime(first) : FormatTime(first) + " .. " + FormatTime(last);
}

double PerEvent(std::uint64_t bytes, std::uint64_t events) {
  return events == 0 ? 0.0 : static_cast<double>(bytes) / static_cast<double>(events);
}

int PrintSegments(JournalView& view, std::FILE* out, std::FILE* err) {
  Result<std::vector<journal::SegmentInfo>> segs = view.reader().ListSegments();
  if (!segs.ok()) {
    PrintError(err, "cannot list segments: " + std::string(segs.status().message()), view.dir(),
               "run `rill inspect verify` for details");
    return kExitProblems;
  }
  std::fprintf(out, "segments     %zu\n", segs->size());
  for (const journal::SegmentInfo& s : *segs) {
    struct stat st {};
    const long long size = ::stat(s.file.c_str(), &st) == 0 ? static_cast<long long>(st.st_size) : -1;
    std::fprintf(out, "  %s  %lld bytes  positions %s  %" PRIu64 " batches  %s%s\n",
                 journal::SegmentFileName(s.index).c_str(), size, Range(s.first_position, s.last_position).c_str(),
                 s.batches, s.batches ? (TimeRange(s.first_timestamp_ns, s.last_timestamp_ns) + "  ").c_str() : "",
                 s.sealed ? "sealed" : "open");
  }
  return kExitOk;
}

void PrintSchema(JournalView& view, std::FILE* out) {
  journal::JournalReader& r = view.reader();
  Result<Codec*> codec = view.schemas().For(r.schema_fingerprint(), r.schema_blob());
  if (!codec.ok() || *codec == nullptr) {
    std::fprintf(out, "schema       none embedded (records are shown raw)\n");
    return;
  }
  const codecs::SchemaRegistry& reg = (*codec)->registry;
  std::string names;
  for (std::size_t i = 0; i < reg.schema_count(); ++i) names += (i ? ", " : "") + std::string(reg.schema_name(i));
  std::fprintf(out, "schema       fingerprint %016" PRIx64 ", %zu bytes, schemas: %s, %zu event types\n",
               r.schema_fingerprint(), r.schema_blob().size(), names.c_str(), reg.types().size());
}

void PrintTail(JournalView& view, std::FILE* out) {
  journal::JournalReader& r = view.reader();
  const std::uint64_t committed = r.committed_position(), durable = r.durable_position();
  if (committed == 0) {
    std::fprintf(out, "tail         no positions published (no control file, or nothing committed yet)\n");
    return;
  }
  std::fprintf(out, "tail         committed %" PRIu64 ", durable %" PRIu64 " (%s)\n", committed, durable,
               durable >= committed ? "everything committed is durable"
                                    : (std::to_string(committed - durable) + " events not yet synced").c_str());
  const journal::JournalStats st = r.stats();
  std::fprintf(out, "writer       %" PRIu64 " appends, %" PRIu64 " batches, %" PRIu64 " syncs since it opened\n",
               st.appends, st.batches, st.syncs);
}

// <dir>/replication.status, written by the replicator (replication/status_file.h): its lag as
// of its last write, and whether that process still runs. Nothing when there is no file; one
// line when it cannot be read (the journal's own output above stands, the exit code too).
void PrintReplication(const std::string& dir, std::FILE* out) {
  Result<replication::ReplicationStatus> r = replication::ReadReplicationStatus(dir);
  if (r.status().IsNotFound()) return;
  if (!r.ok()) {
    std::fprintf(out, "replication  status file unreadable: %s\n", r.status().ToString().c_str());
    return;
  }
  const replication::ReplicationStatus& s = *r;
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const double ago = now > s.updated_ns ? static_cast<double>(now - s.updated_ns) / 1e9 : 0.0;
  std::fprintf(out, "replication  stream %s, %s\n", s.stream.c_str(), s.state.c_str());
  std::fprintf(
      out, "             replicated through %" PRIu64 " of committed %" PRIu64 " (lag %" PRIu64 " positions, %.3f s)\n",
      s.replicated_position, s.committed_position, s.lag_positions, s.lag_seconds);
  std::fprintf(
      out, "             epoch %" PRIu64 ", last stream seq %" PRIu64 ", updated %.1f s ago by pid %" PRId64 " %s\n",
      s.epoch, s.last_seq, ago, s.pid,
      replication::StatusWriterAlive(s) ? "(alive)" : "(NOT RUNNING: these are the last values it wrote)");
  if (!s.last_error.empty()) std::fprintf(out, "             last error: %s\n", s.last_error.c_str());
}

}  // namespace

int RunInfo(const InfoOptions& options, std::FILE* out, std::FILE* err) {
  int open_exit = kExitCannotRead;
  std::unique_ptr<JournalView> view = JournalView::Open(options.dir, err, &open_exit);
  if (!view) return open_exit;
  std::fprintf(out, "journal      %s\n", options.dir.c_str());
  int exit = PrintSegments(*view, out, err);
  if (exit != kExitOk) return exit;
  Tally t;
  exit = TallyJournal(*view, err, &t);
  if (exit == kExitCannotRead) return exit;
  if (t.events == 0) {
    std::fprintf(out, "events       0\n");
  } else {
    std::fprintf(out, "events       %" PRIu64 " in %" PRIu64 " batches, positions %s, %s\n", t.events, t.batches,
                 Range(t.first_position, t.last_position).c_str(), TimeRange(t.first_ns, t.last_ns).c_str());
    std::fprintf(out, "bytes        %" PRIu64 " in records, %.1f bytes/event\n", t.bytes, PerEvent(t.bytes, t.events));
  }
  if (t.other_records) std::fprintf(out, "%s\n", OtherRecordsSummary(t).c_str());
  PrintSchema(*view, out);
  if (!t.types.empty()) std::fprintf(out, "types        events     bytes  bytes/event\n");
  for (const auto& [name, tt] : t.types)
    std::fprintf(out, "  %-24s %8" PRIu64 " %9" PRIu64 " %12.1f\n", name.c_str(), tt.events, tt.bytes,
                 PerEvent(tt.bytes, tt.events));
  if (t.undecodable) std::fprintf(out, "problems     %" PRIu64 " events cannot be decoded\n", t.undecodable);
  PrintTail(*view, out);
  PrintReplication(options.dir, out);
  PrintCheckpoints(CheckpointDirectory(options.dir, options.checkpoints_dir), view->reader().committed_position(),
                   view->reader().schema_fingerprint(), out);
  return exit;
}

}  // namespace rill::tools::inspect
