// rill/tools/demo/demo_command.h: `rill demo`, the main job of `make demo`, for any domain.
//
//   rill demo                       # 3 s of the bank workload in a temporary journal, then inspect it
//   rill demo --domain blog --dir ./demo-data --seconds 5 --durability none
//   inventory-rill demo             # a user's tool: their workload (tools/tool_main.h)
//
// Runs the domain's workload on the real Engine (bench/e2e/bench_driver.h: producers -> command
// ring -> writer -> journal -> a projector with the workload's first read model), prints
// throughput, latency and the per-stage figures, checks that every command was acknowledged once
// and the workload's own checks (tools/workload.h: a conserved tally, invariants), then runs
// `rill inspect info` and `rill replay --verify` on the journal it wrote. Returns the process
// exit code: 0 when the checks held and the journal reads back, 1 otherwise, 3 when the
// directory cannot be created or already holds a journal. The domain's part (the run and the
// replay) comes in DemoSteps from RunDemo<W> (demo.h); the rest is here, compiled once.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

#include "rill/base/result.h"
#include "rill/bench/e2e/bench_config.h"
#include "rill/bench/e2e/bench_driver.h"
#include "rill/tools/replay/replay_command.h"

namespace rill::tools {

struct DemoOptions {
  std::string dir;  // empty: a fresh temporary directory, removed afterwards unless keep
  bool keep = false;
  double seconds = 3.0;
  int producers = 1;
  std::string durability = "batch";   // none | batch | interval
  std::uint64_t aggregates = 10'000;  // how many the workload spreads over (bank: accounts)
  std::string domain = "bank";        // its name in the messages (set by the tool)
};

// What the domain brings to the demo (RunDemo<W> in demo.h fills them).
struct DemoSteps {
  std::function<Result<bench::EngineBenchReport>(const bench::BenchConfig&, std::FILE* progress)> run;
  std::function<int(const ReplayOptions&, std::FILE* out, std::FILE* err)> replay;
};

int RunDemoWith(const DemoOptions& options, const DemoSteps& steps, std::FILE* out, std::FILE* err);

}  // namespace rill::tools
