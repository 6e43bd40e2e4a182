// rill/bench/e2e/bench_driver.h: the end-to-end driver behind `rill bench` and `rill demo`:
// the real Engine on a workload, producers in a closed or open loop, projector threads, and
// latency from submit to acknowledgement, overall and per stage.
//
//   rill::bench::BenchConfig c;                 // bench_config.h
//   c.dir = "/tmp/run/journal";                 // must not hold a journal yet
//   c.seconds = 3;
//   auto r = rill::bench::RunEngineBench(c);
//   if (r.ok()) std::printf("%.0f commands/s, p99 %llu ns\n", r->throughput_per_s, r->latency.Percentile(99));
//
// What is measured (bench/e2e/README.md has the details):
// - Closed loop: each producer keeps `inflight` commands outstanding; when the oldest is
//   acknowledged it collects every acknowledged command and refills the freed slots with one
//   submit_batch. Latency: submit -> the producer sees the outcome (as the mutex baseline).
// - Open loop: command i of a producer is due at start + i / rate; latency runs from that
//   intended time to the outcome (stamped in the completion callback), so stalls are counted.
// - Stages from EngineOptions::on_batch: ring wait (submit -> the writer dequeues the batch;
//   per command, measured when acknowledgements come on the writer thread right after the
//   batch: ack journaled, or durable under durability none), apply (dequeue -> decided) and
//   journal commit (decided -> commit returned) per batch weighted by its commands, and
//   projection (commit -> the first projector published the batch's last position).
// - Checks: every submitted command acknowledged exactly once; bank: money conserved in the
//   engine's aggregates and in the first projector's balances; blog: accepted comments equal
//   the aggregates' comment counts.
// Hot path: commands, in-flight slots and submissions are preallocated per producer; the
// completion callback stores a few words and, only when a producer sleeps, wakes it.
// Thread safety: RunEngineBench starts and joins its own threads; one run at a time per dir.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "rill/base/result.h"
#include "rill/bench/e2e/bench_config.h"
#include "rill/bench/e2e/latency_histogram.h"

namespace rill::bench {

struct StageHistograms {
  LatencyHistogram ring_wait;   // per command (see ring_wait_measured)
  LatencyHistogram apply;       // per command: its batch's dequeue -> decided
  LatencyHistogram commit;      // per command: its batch's decided -> committed
  LatencyHistogram projection;  // per command: its batch's commit -> applied by projector 0
};

struct EngineBenchReport {
  BenchConfig config;
  std::string journal_dir;
  int cpus = 0;     // hardware threads available to this process
  int threads = 0;  // writer + producers + projectors (+ syncer)
  std::uint64_t setup_commands = 0;
  // Measured part.
  std::uint64_t submitted = 0, completed = 0;
  std::uint64_t accepted = 0, rejected = 0;  // rejected: by the domain's rules
  std::uint64_t failed = 0;                  // shutdown, journal or view unavailable, ...
  std::uint64_t duplicates = 0;              // outcomes delivered twice (must be 0)
  double seconds = 0;
  double throughput_per_s = 0;  // completed / seconds
  double offered_per_s = 0;     // open loop: the configured rate
  LatencyHistogram latency;
  StageHistograms stages;
  bool ring_wait_measured = false;
  std::uint64_t batches = 0, batch_commands = 0;
  std::uint64_t events = 0;  // journal positions used by the measured part
  std::uint64_t ring_full = 0;
  std::uint64_t projection_marks_dropped = 0;
  // Checks.
  bool acknowledged_once = false;
  bool state_consistent = false;
  std::string check_detail;  // what the state check compared
  std::vector<std::string> notes;

  double mean_batch() const noexcept {
    return batches ? static_cast<double>(batch_commands) / static_cast<double>(batches) : 0;
  }
  bool ok() const noexcept { return acknowledged_once && state_consistent && failed == 0; }
};

// Runs the configuration against a fresh journal in config.dir (created; must not hold a
// journal). Progress lines (setup, start) go to `progress` when given. Errors: InvalidArgument
// (config.Validate()), the engine's or projectors' start-up errors.
Result<EngineBenchReport> RunEngineBench(const BenchConfig& config, std::FILE* progress = nullptr);

}  // namespace rill::bench
