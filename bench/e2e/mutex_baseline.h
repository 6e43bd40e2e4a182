// rill/bench/e2e/mutex_baseline.h: `rill bench --baselines`' "mutex" baseline, the design a
// team writes first: producers push commands into one std::deque under one std::mutex and
// wake the consumer with a std::condition_variable; one consumer thread pops a command,
// applies the bank domain's Decide + Evolve on a std::unordered_map (BankLedger), and hands
// the outcome back to its producer under the same mutex, waking it with its own condition
// variable. Same workload, same domain code as rill; only the plumbing differs.
//
//   rill::bench::MutexBaselineOptions o{.workload = {.accounts = 100'000}, .inflight = 64,
//                                       .seconds = 3};
//   MutexBaselineReport r = rill::bench::RunMutexBaseline(o);
//   std::printf("%.0f commands/s, p99 %llu ns\n", r.throughput_per_s, r.latency.Percentile(99));
//
// Closed loop, like the rill driver's: each producer keeps up to `inflight` commands
// outstanding, and records each one's latency from just before it was queued to when the
// producer saw its outcome. Setup commands are applied before the clock starts. Runs for
// `seconds`, or until each producer has sent `commands_per_producer` (whichever is set; the
// count wins when both are). No thread spins: every wait is on a condition variable.
// Thread safety: RunMutexBaseline starts and joins its own threads.
#pragma once

#include <cstdint>
#include <vector>

#include "rill/bench/e2e/bank_workload.h"
#include "rill/bench/e2e/latency_histogram.h"

namespace rill::bench {

struct MutexBaselineOptions {
  BankWorkloadOptions workload;  // workload.producers = the number of producer threads
  int inflight = 64;             // >= 1: outstanding commands per producer
  double seconds = 1.0;
  std::uint64_t commands_per_producer = 0;  // > 0: a fixed count instead of a duration
  // Also encode each accepted event with codecs::Encoder (as rill does into its journal);
  // off by default: the design a team writes first keeps state in memory only.
  bool encode_events = false;
  bool pin_threads = false;  // consumer on CPU 0, producer i on CPU (i + 1) % CPUs
};

struct MutexBaselineReport {
  std::uint64_t commands = 0;  // completed (every sent command gets an outcome)
  std::uint64_t accepted = 0, rejected = 0;
  std::uint64_t events = 0;
  double seconds = 0;  // from the producers' start to the last outcome
  double throughput_per_s = 0;
  LatencyHistogram latency;  // submit -> outcome seen by the producer, ns
  // Money conservation: the sum of all balances at the end, and the setup deposits plus the
  // NetDeposit of every command its producer saw accepted. They must be equal.
  std::int64_t total_balance = 0;
  std::int64_t expected_balance = 0;
  std::uint64_t encoded_bytes = 0;  // with encode_events
};

MutexBaselineReport RunMutexBaseline(const MutexBaselineOptions& options);

}  // namespace rill::bench
