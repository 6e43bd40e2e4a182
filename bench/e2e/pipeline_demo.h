// rill/bench/e2e/pipeline_demo.h: the smallest real pipeline, end to end, until the engine
// (issue 6) and the end-to-end driver (issue 10) replace it in `make demo`:
//
//   producer threads --MpscRing<DepositCommand>--> writer thread: encode bank.Deposited with
//   its envelope (codecs), append to the journal in ring-sized batches, commit per batch,
//   group-commit sync (policy batch) --> tailer thread: follow the committed position,
//   decode and verify every event, sum balances --> check: every submitted deposit was
//   journaled exactly once, in gap-free positions and per-account versions.
//
// Thread safety: RunPipelineDemo starts and joins its own threads.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "rill/base/result.h"
#include "rill/journal/options.h"

namespace rill::bench {

struct PipelineDemoOptions {
  std::string directory;  // the journal; must not hold one already
  int producers = 2;
  double seconds = 3.0;
  std::size_t ring_size = 4096;
  std::uint64_t accounts = 10'000;
  journal::Durability durability = journal::Durability::kBatch;
};

struct PipelineDemoReport {
  std::uint64_t commands = 0;     // submitted by the producers
  std::uint64_t events_read = 0;  // decoded and verified by the tailer
  std::uint64_t batches = 0, syncs = 0;
  double seconds = 0;       // from the first submit to the last event read
  bool consistent = false;  // every check below held
  std::string problem;      // the first check that failed, if any
};

// Runs the pipeline, prints progress and a summary to `out`. A Status when the journal
// cannot be opened or written; a report with consistent == false when a check failed.
Result<PipelineDemoReport> RunPipelineDemo(const PipelineDemoOptions& options, std::FILE* out);

}  // namespace rill::bench
