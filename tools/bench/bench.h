// rill/tools/bench/bench.h: `rill bench` for the workload W (tools/workload.h): the engine's
// run and the baselines on W's domain, handed to the domain-independent command
// (bench_command.h: options, temporary directory, PostgreSQL server, summary, JSON, plot).
//
//   BenchOptions o;
//   o.domain = "inventory";
//   o.seconds = 5;
//   return rill::tools::RunBench<InventoryWorkload>(o, stdout, stderr);
//
// Thread safety: as RunBenchWith.
#pragma once

#include <cstdio>

#include "rill/bench/e2e/bench_driver_impl.h"
#include "rill/bench/e2e/mutex_baseline.h"
#include "rill/bench/e2e/postgres_baseline.h"
#include "rill/tools/bench/bench_command.h"
#include "rill/tools/workload.h"

namespace rill::tools {

template <Workload W>
int RunBench(const BenchOptions& options, std::FILE* out, std::FILE* err) {
  BenchSteps steps;
  steps.run = [](const bench::BenchConfig& config, std::FILE* progress) {
    return bench::RunEngineBench<W>(config, progress);
  };
  steps.mutex = [](const bench::MutexBaselineOptions& o) { return bench::RunMutexBaseline<W>(o); };
  steps.postgres = [](const bench::PostgresBaselineOptions& o) { return bench::RunPostgresBaseline<W>(o); };
  return RunBenchWith(options, steps, out, err);
}

}  // namespace rill::tools
