// rill/bench/e2e/bench_driver.h: what the end-to-end driver behind `rill bench` and `rill demo`
// reports: throughput, latency overall and per stage, and the checks. The driver itself is the
// template RunEngineBench<W> (bench_driver_impl.h), for any workload W (tools/workload.h): the
// real Engine of W's domain, producers in a closed or open loop, projector threads.
//
//   rill::bench::BenchConfig c;                 // bench_config.h
//   c.dir = "/tmp/run/journal";                 // must not hold a journal yet
//   c.seconds = 3;
//   auto r = rill::bench::RunEngineBench<InventoryWorkload>(c);   // bench_driver_impl.h
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
// - Checks (check_detail names those that ran): every submitted command acknowledged exactly
//   once; the workload's hooks on the engine's aggregates after Stop: the sum of Tally over the
//   accepted commands (setup included) equals Total, CheckInvariants finds nothing; and when
//   projector 0 is the default StateMirror (the workload has no AddReadModels), its digest
//   equals the engine's.
// Thread safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

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
  // Replication (config.replicate): what the replicator shipped, filled by the tool after the
  // run (tools/bench/bench_command.cpp).
  struct Replication {
    bool on = false;
    std::uint64_t messages = 0, bytes = 0, duplicates = 0, resyncs = 0;
    std::uint64_t replicated_position = 0, committed_position = 0;
    std::string stream;  // RILL_<app>_<shard>: `rill follow --app bench --shard <shard>` reads it
    std::string state;
  } replication;
  // Checks.
  bool acknowledged_once = false;
  bool state_consistent = false;
  // The state checks that ran and what each compared, "; "-separated ("money: accepted
  // commands add 5, the aggregates hold 5; invariants hold; state mirror digest = engine's").
  std::string check_detail;
  std::vector<std::string> notes;

  double mean_batch() const noexcept {
    return batches ? static_cast<double>(batch_commands) / static_cast<double>(batches) : 0;
  }
  bool ok() const noexcept { return acknowledged_once && state_consistent && failed == 0; }
};

}  // namespace rill::bench
