// rill/tools/demo/demo_command.h: `rill demo`, the main job of `make demo`.
//
//   rill demo                       # 3 s of the bank workload in a temporary journal, then inspect it
//   rill demo --dir ./demo-data --seconds 5 --durability none
//
// Runs the bank workload on the real Engine (bench/e2e/bench_driver.h: producers -> command ring
// -> writer -> journal -> a projector keeping account balances), prints throughput, latency
// and the per-stage figures, checks that every command was acknowledged once and that money
// was conserved in the engine and in the balances read model, then runs `rill inspect info`
// on the journal it wrote. Returns the process exit code: 0 when the checks held and the
// journal reads back, 1 otherwise, 3 when the directory cannot be created or already holds a
// journal.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace rill::tools {

struct DemoOptions {
  std::string dir;  // empty: a fresh temporary directory, removed afterwards unless keep
  bool keep = false;
  double seconds = 3.0;
  int producers = 1;
  std::string durability = "batch";  // none | batch | interval
  std::uint64_t accounts = 10'000;
};

int RunDemo(const DemoOptions& options, std::FILE* out, std::FILE* err);

}  // namespace rill::tools
