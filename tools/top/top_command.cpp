#include "rill/tools/top/top_command.h"

#include <unistd.h>

#include <chrono>
#include <thread>

#include "rill/observability/counters_reader.h"
#include "rill/tools/top/top_view.h"

namespace rill::tools {

namespace {

constexpr int kExitGone = 1;
constexpr int kExitUnreadable = 3;

std::int64_t RealtimeNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int RunTop(const TopOptions& o, std::FILE* out, std::FILE* err) {
  Result<observability::CountersReader> reader = observability::CountersReader::Open(o.dir);
  if (!reader.ok()) {
    std::fprintf(err, "rill top: %s\n", reader.status().ToString().c_str());
    return kExitUnreadable;
  }
  const bool screen = !o.json && !o.once && ::isatty(::fileno(out)) == 1;
  const auto interval = std::chrono::duration<double>(o.interval_s);
  observability::CountersSnapshot prev = reader->Read();
  auto prev_at = std::chrono::steady_clock::now();
  for (int n = 1;; ++n) {
    if (!prev.stale) std::this_thread::sleep_for(interval);  // a dead writer's values no longer move
    if (reader->Replaced()) {                                // the writer restarted: follow its new file
      Result<observability::CountersReader> again = observability::CountersReader::Open(o.dir);
      if (again.ok()) {
        reader = std::move(again);
        prev = reader->Read();
        prev_at = std::chrono::steady_clock::now();
        std::this_thread::sleep_for(interval);
      }
    }
    const observability::CountersSnapshot cur = reader->Read();
    const auto now = std::chrono::steady_clock::now();
    const double seconds = std::chrono::duration<double>(now - prev_at).count();
    const Result<replication::ReplicationStatus> replicator = replication::ReadReplicationStatus(o.dir);
    const TopView view = ComputeTopView(o.dir, prev, cur, prev.stale ? 0.0 : seconds, RealtimeNs(),
                                        replicator.ok() ? &*replicator : nullptr);
    if (o.json) {
      std::fputs(RenderTopJson(view).c_str(), out);
    } else {
      if (screen) std::fputs("\x1b[H\x1b[2J", out);  // home, clear: redraw in place like top(1)
      std::fputs(RenderTopText(view).c_str(), out);
      if (!screen && !o.once) std::fputs("\n", out);
    }
    std::fflush(out);
    if (o.once || (o.iterations > 0 && n >= o.iterations) || cur.stale) return cur.stale ? kExitGone : 0;
    prev = cur;
    prev_at = now;
  }
}

}  // namespace rill::tools
