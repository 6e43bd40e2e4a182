#include "rill/tools/inspect/inspect_stats.h"

#include <algorithm>
#include <cinttypes>
#include <vector>

#include "rill/tools/inspect/inspect_tally.h"
#include "rill/tools/inspect/journal_view.h"

namespace rill::tools::inspect {
namespace {

constexpr std::size_t kMaxTimeRows = 24;

double Percent(std::uint64_t part, std::uint64_t whole) {
  return whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

void PrintTypes(const Tally& t, std::FILE* out) {
  std::fprintf(out, "events per type\n");
  std::vector<std::pair<std::string, std::uint64_t>> rows;
  for (const auto& [name, tt] : t.types) rows.emplace_back(name, tt.events);
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  for (const auto& [name, n] : rows)
    std::fprintf(out, "  %-24s %8" PRIu64 "  %5.1f%%\n", name.c_str(), n, Percent(n, t.events));
}

void PrintStreams(const Tally& t, std::size_t top, std::FILE* out) {
  std::vector<std::pair<StreamKey, std::uint64_t>> rows(t.streams.begin(), t.streams.end());
  // Busiest first; equal counts by kind and stream id, so the output is deterministic.
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    if (a.second != b.second) return a.second > b.second;
    return a.first.kind != b.first.kind ? a.first.kind < b.first.kind : a.first.id < b.first.id;
  });
  if (rows.size() > top) rows.resize(top);
  std::fprintf(out, "busiest streams (top %zu of %zu)\n", rows.size(), t.streams.size());
  for (const auto& [key, n] : rows)
    std::fprintf(out, "  %-24s %8" PRIu64 "  %5.1f%%\n", t.kinds.Label(key).c_str(), n, Percent(n, t.events));
}

void PrintBatchSizes(const Tally& t, std::FILE* out) {
  // Power-of-two buckets [lo, 2*lo): 1, 2-3, 4-7, ...
  std::map<std::uint32_t, std::pair<std::uint64_t, std::uint64_t>> buckets;  // lo -> batches, events
  for (const auto& [size, batches] : t.batch_sizes) {
    std::uint32_t lo = 1;
    while (lo * 2 <= size) lo *= 2;
    buckets[lo].first += batches;
    buckets[lo].second += batches * size;
  }
  std::fprintf(out, "batch sizes (events per batch)   batches    events\n");
  for (const auto& [lo, v] : buckets) {
    const std::string label = lo == 1 ? "1" : std::to_string(lo) + "-" + std::to_string(lo * 2 - 1);
    std::fprintf(out, "  %-30s %8" PRIu64 "  %8" PRIu64 "\n", label.c_str(), v.first, v.second);
  }
}

void PrintRate(const Tally& t, std::FILE* out) {
  const std::int64_t first = t.per_second.begin()->first, last = t.per_second.rbegin()->first;
  static constexpr std::int64_t kWidths[] = {1, 10, 60, 600, 3600, 86400};
  std::int64_t width = kWidths[0];
  for (std::int64_t w : kWidths) {
    width = w;
    if ((last / w - first / w) + 1 <= static_cast<std::int64_t>(kMaxTimeRows)) break;
  }
  std::int64_t from = first / width;
  const std::int64_t rows = last / width - from + 1;
  if (rows > static_cast<std::int64_t>(kMaxTimeRows)) from = last / width - kMaxTimeRows + 1;  // the most recent
  std::fprintf(out, "events per second over time (%" PRId64 " s buckets)\n", width);
  for (std::int64_t b = from; b <= last / width; ++b) {
    std::uint64_t n = 0;
    for (auto it = t.per_second.lower_bound(b * width); it != t.per_second.end() && it->first < (b + 1) * width; ++it)
      n += it->second;
    std::fprintf(out, "  %s %8" PRIu64 " events  %10.1f/s\n", FormatTime(b * width * 1'000'000'000).c_str(), n,
                 static_cast<double>(n) / static_cast<double>(width));
  }
}

}  // namespace

int RunStats(const StatsOptions& options, std::FILE* out, std::FILE* err) {
  int open_exit = kExitCannotRead;
  std::unique_ptr<JournalView> view = JournalView::Open(options.dir, err, &open_exit);
  if (!view) return open_exit;
  Tally t;
  const int exit = TallyJournal(*view, err, &t);
  if (exit == kExitCannotRead) return exit;
  std::fprintf(out, "journal      %s\n", options.dir.c_str());
  if (t.other_records) std::fprintf(out, "%s\n", OtherRecordsSummary(t).c_str());
  if (t.events == 0) {
    std::fprintf(out, "events       0\n");
    return exit;
  }
  const double span_s = static_cast<double>(t.last_ns - t.first_ns) / 1e9;
  std::fprintf(out, "events       %" PRIu64 " in %" PRIu64 " batches over %.3f s (%s .. %s)\n", t.events, t.batches,
               span_s, FormatTime(t.first_ns).c_str(), FormatTime(t.last_ns).c_str());
  PrintTypes(t, out);
  PrintStreams(t, options.top, out);
  PrintBatchSizes(t, out);
  PrintRate(t, out);
  return exit;
}

}  // namespace rill::tools::inspect
