// rill/tools/bench/bench_command.h: `rill bench`, the end-to-end benchmark: the real engine on
// a workload, then (with --baselines) the same workload on the mutex design and on PostgreSQL,
// in the same run, with rill's ratio to each.
//
//   rill bench --workload bank --producers 1 --projectors 1 --durability none --seconds 5
//   rill bench --durability batch --ack durable --baselines --json out.json --plot latency.svg
//   rill bench --rate 1000000 --ack journaled          # open loop, no coordinated omission
//
// Returns the process exit code: 0 ok; 1 the run failed or a consistency check did not hold;
// 2 usage error (a bad value, e.g. --ack applied without a projector); 3 the journal
// directory cannot be created, or --dir already holds files. The engine's code is in
// bench/e2e/ (bench_driver.h); this file turns options into a BenchConfig, runs the baselines
// and writes the summary, the JSON and the plot.
// Thread safety: one call at a time per output stream.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace rill::tools {

struct BenchOptions {
  std::string workload = "bank";  // bank | blog
  int producers = 1;
  std::string durability = "none";  // none | batch | interval
  int projectors = 1;
  std::size_t ring_size = 16384;
  std::size_t max_batch = 0;  // 0: a quarter of the ring
  std::string pin;            // CPU list: writer, producers, projectors take them in turn
  double seconds = 3.0;
  std::string ack = "journaled";  // accepted | journaled | durable | applied
  std::string dir;                // journal directory; empty: a temporary one
  bool keep = false;
  int inflight = 256;
  double rate = 0;  // open loop: commands/s in total; 0 = closed loop
  std::uint64_t accounts = 100'000;
  std::uint64_t seed = 1;
  std::uint64_t commands = 0;  // > 0: each producer sends exactly this many (tests)
  bool baselines = false;
  double baseline_seconds = 0;  // 0: --seconds
  std::string json;             // write the JSON here ("-": stdout, the summary goes to err)
  std::string plot;             // write the latency plot here (.png or .svg)
  std::string plot_script;      // empty: the repository's scripts/plot-latency.sh
};

int RunBench(const BenchOptions& options, std::FILE* out, std::FILE* err);

}  // namespace rill::tools
