// rill/bench/e2e/bench_report.h: how a `rill bench` run is shown: the readable summary and
// the JSON document (`--json`), with the same-run baselines and rill's ratio to each.
//
//   std::vector<rill::bench::BaselineResult> baselines = ...;   // mutex, postgres_per_txn, ...
//   rill::bench::PrintSummary(report, baselines, stdout);
//   rill::bench::WriteJson(report, baselines, json_file);
//
// JSON keys (stable; tests check them): throughput_per_s, latency_ns {p50, p90, p99, p999,
// max, min, mean, count}, config {workload (the domain's name), aggregates (also as its old
// name accounts), ..., cpus}, stages_ns {ring_wait, apply, journal_commit,
// projection}, counts, checks, baselines {mutex, postgres_per_txn, postgres_copy}: each
// {available, throughput_per_s, ratio, ...} or {available: false, reason}. Empty when the run
// had no --baselines.
// Thread safety: plain functions.
#pragma once

#include <cstdio>
#include <span>
#include <string>
#include <string_view>

#include "rill/base/json_escape.h"
#include "rill/bench/e2e/bench_driver.h"
#include "rill/bench/e2e/latency_histogram.h"

namespace rill::bench {

struct BaselineResult {
  std::string name;  // "mutex", "postgres_per_txn", "postgres_copy"
  bool available = false;
  std::string reason;           // why it did not run (available == false)
  double throughput_per_s = 0;  // commands/s, as rill's
  double events_per_s = 0;
  double seconds = 0;
  std::uint64_t commands = 0;
  LatencySummary latency;
  std::string detail;  // e.g. the mutex baseline's money check
};

// rill's throughput over the baseline's (0 when the baseline has none).
double Ratio(const EngineBenchReport& r, const BaselineResult& b) noexcept;

void PrintSummary(const EngineBenchReport& r, std::span<const BaselineResult> baselines, std::FILE* out);
void WriteJson(const EngineBenchReport& r, std::span<const BaselineResult> baselines, std::FILE* out);

using rill::JsonEscape;  // base/json_escape.h
// The domain's name as the summary and the JSON show it (config.domain, or "unnamed domain").
std::string DomainLabel(const BenchConfig& c);
// "1.23 us", "456 ns", "7.8 ms": for the readable summary.
std::string FormatNs(std::uint64_t ns);

}  // namespace rill::bench
