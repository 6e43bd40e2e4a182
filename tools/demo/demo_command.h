// rill/tools/demo/demo_command.h: `rill demo`, the main job of `make demo`.
//
//   rill demo                       # 3 s of the pipeline in a temporary journal, then inspect it
//   rill demo --dir ./demo-data --seconds 5 --durability none --keep
//
// Runs the demo pipeline (bench/e2e/pipeline_demo.h), then `rill inspect info` and
// `rill inspect verify` on the journal it wrote. Returns the process exit code: 0 when the
// pipeline's checks held and the journal verifies intact, 1 otherwise, 3 when the journal
// directory cannot be created or written.
#pragma once

#include <cstdio>
#include <string>

namespace rill::tools {

struct DemoOptions {
  std::string dir;  // empty: a fresh temporary directory, removed afterwards unless keep
  bool keep = false;
  double seconds = 3.0;
  int producers = 2;
  std::string durability = "batch";  // none | batch | interval
};

int RunDemo(const DemoOptions& options, std::FILE* out, std::FILE* err);

}  // namespace rill::tools
