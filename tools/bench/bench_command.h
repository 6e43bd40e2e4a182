// rill/tools/bench/bench_command.h: `rill bench`, the end-to-end benchmark, for any domain: the
// real engine on the domain's workload, then (with --baselines) the same workload on the mutex
// design and on PostgreSQL, in the same run, with rill's ratio to each.
//
//   rill bench --producers 1 --projectors 1 --durability none --seconds 5
//   inventory-rill bench --durability batch --ack durable --baselines --json out.json --plot latency.svg
//   rill bench --rate 1000000 --ack journaled          # open loop, no coordinated omission
//
// Returns the process exit code: 0 ok; 1 the run failed or a consistency check did not hold;
// 2 usage error (a bad value, e.g. --ack applied without a projector); 3 the journal
// directory cannot be created, or --dir already holds files. The domain's part (the engine's
// run and the baselines, templates on the workload) comes in BenchSteps from RunBench<W>
// (bench.h); everything else is here, compiled once: options into a BenchConfig, the temporary
// directory, the throwaway PostgreSQL, the summary, the JSON and the plot.
// Thread safety: one call at a time per output stream.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

#include "rill/base/result.h"
#include "rill/bench/e2e/bench_config.h"
#include "rill/bench/e2e/bench_driver.h"
#include "rill/bench/e2e/mutex_baseline.h"
#include "rill/bench/e2e/postgres_baseline.h"

namespace rill::tools {

struct BenchOptions {
  std::string domain;  // the domain's name (set by the tool's --domain), for the report and the JSON
  int producers = 1;
  std::string durability = "none";  // none | batch | interval
  int projectors = 1;
  std::size_t ring_size = 16384;
  std::size_t max_batch = 0;    // 0: a quarter of the ring
  std::string counters = "on";  // on | off: the counters file (rill top), to measure its cost
  std::string pin;              // CPU list: writer, producers, projectors take them in turn
  double seconds = 3.0;
  std::string ack = "journaled";  // accepted | journaled | durable | applied | replicated | replicated+durable
  std::string dir;                // journal directory; empty: a temporary one
  bool keep = false;
  int inflight = 256;
  double rate = 0;                     // open loop: commands/s in total; 0 = closed loop
  std::uint64_t aggregates = 100'000;  // how many aggregates the workload spreads over
  std::uint64_t seed = 1;
  std::uint64_t commands = 0;  // > 0: each producer sends exactly this many (tests)
  bool baselines = false;
  double baseline_seconds = 0;  // 0: --seconds
  std::string json;             // write the JSON here ("-": stdout, the summary goes to err)
  std::string plot;             // write the latency plot here (.png or .svg)
  // Empty: $RILL_PLOT_LATENCY_SCRIPT, else the source tree's scripts/plot-latency.sh, else
  // <executable's dir>/../share/rill/plot-latency.sh (bench/e2e/script_path.h).
  std::string plot_script;
  // Ship the journal to this NATS JetStream cluster (comma-separated URLs) while the engine
  // runs; needed by --ack replicated. The cluster's raw async-publish rate of 64 KiB messages
  // is then measured after the run, as the same-run ceiling.
  std::string replicate;
  int replicas = 3;
};

// What the domain brings to the bench (RunBench<W> in bench.h fills them).
struct BenchSteps {
  std::function<Result<bench::EngineBenchReport>(const bench::BenchConfig&, std::FILE* progress)> run;
  std::function<bench::MutexBaselineReport(const bench::MutexBaselineOptions&)> mutex;
  std::function<Result<bench::PostgresBaselineReport>(const bench::PostgresBaselineOptions&)> postgres;
};

int RunBenchWith(const BenchOptions& options, const BenchSteps& steps, std::FILE* out, std::FILE* err);

}  // namespace rill::tools
