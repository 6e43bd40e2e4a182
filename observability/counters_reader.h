// rill/observability/counters_reader.h: reads a counters file (counters_format.h) from any
// process, with no cooperation from its writer: `rill top`, `rill metrics`, tests.
//
//   auto reader = rill::observability::CountersReader::Open(dir);   // maps <dir>/counters
//   if (!reader.ok()) { ... reader.status().ToString() says what and what to do ... }
//   rill::observability::CountersSnapshot s = reader->Read();
//   std::uint64_t accepted = s.Value("rill_commands_total", "result=\"accepted\"");
//
// A writer that crashed leaves its last values readable: `stale` is set when the pid recorded in
// the file no longer runs (or runs another program: the start time differs). A writer that starts
// again replaces the file; Reopen() maps the new one.
// Thread safety: one reader per thread; any number of readers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rill/base/result.h"
#include "rill/observability/counters_format.h"

namespace rill::observability {

struct MetricSample {
  MetricKind kind = MetricKind::kCounter;
  std::string name;
  std::string labels;  // Prometheus label pairs without braces
  std::string help;
  std::string unit;
  double scale = 1.0;
  std::vector<std::uint64_t> values;  // 1, or kHistogramBuckets buckets then sum then count

  std::uint64_t value() const { return values.empty() ? 0 : values[0]; }
  std::uint64_t histogram_count() const { return values.size() == kHistogramWords ? values.back() : 0; }
  // The smallest bucket bound (raw units, 2^i - 1) at or below which a fraction q of the
  // recorded values lie; 0 when nothing was recorded.
  std::uint64_t Quantile(double q) const;
};

struct CountersSnapshot {
  std::int64_t pid = 0;
  bool stale = false;  // the writing process is gone
  std::string program;
  std::int64_t created_ns = 0;
  std::int64_t heartbeat_ns = 0;
  std::vector<MetricSample> metrics;

  // The metric with this name and labels, or null.
  const MetricSample* Find(std::string_view name, std::string_view labels = "") const;
  std::uint64_t Value(std::string_view name, std::string_view labels = "") const;
};

class CountersReader {
 public:
  // Maps `<directory>/counters` read-only. NotFound when there is none (the directory is not a
  // journal, or its writer has not started or runs with counters off); Corruption for a file
  // that is not a counters file, or one of another format version; IOError otherwise (EACCES).
  static Result<CountersReader> Open(const std::string& directory);
  CountersReader(CountersReader&& o) noexcept;
  CountersReader& operator=(CountersReader&& o) noexcept;
  ~CountersReader();

  CountersSnapshot Read() const;
  // True when `<directory>/counters` is now another file (a writer restarted): Open it again.
  bool Replaced() const;

 private:
  CountersReader(std::string path, const std::byte* base, std::uint64_t inode)
      : path_(std::move(path)), base_(base), inode_(inode) {}
  std::string path_;
  const std::byte* base_ = nullptr;
  std::uint64_t inode_ = 0;
};

}  // namespace rill::observability
