// rill/tools/demo/demo.h: `rill demo` for the workload W (tools/workload.h): the domain's run on
// the engine and its replay, handed to the domain-independent demo (demo_command.h).
//
//   return rill::tools::RunDemo<InventoryWorkload>({.domain = "inventory"}, stdout, stderr);
//
// Thread safety: as RunDemoWith.
#pragma once

#include <cstdio>

#include "rill/bench/e2e/bench_driver_impl.h"
#include "rill/tools/demo/demo_command.h"
#include "rill/tools/replay/replay.h"
#include "rill/tools/workload.h"

namespace rill::tools {

template <Workload W>
int RunDemo(const DemoOptions& options, std::FILE* out, std::FILE* err) {
  DemoSteps steps;
  steps.run = [](const bench::BenchConfig& config, std::FILE* progress) {
    return bench::RunEngineBench<W>(config, progress);
  };
  steps.replay = [](const ReplayOptions& replay, std::FILE* o, std::FILE* e) { return RunReplay<W>(replay, o, e); };
  return RunDemoWith(options, steps, out, err);
}

}  // namespace rill::tools
