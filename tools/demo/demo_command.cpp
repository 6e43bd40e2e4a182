#include "rill/tools/demo/demo_command.h"

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <system_error>

#include "rill/bench/e2e/bench_report.h"
#include "rill/tools/inspect/inspect_info.h"
#include "rill/tools/inspect/journal_view.h"

namespace rill::tools {
namespace {

namespace fs = std::filesystem;

}  // namespace

int RunDemoWith(const DemoOptions& options, const DemoSteps& steps, std::FILE* out, std::FILE* err) {
  const auto t0 = std::chrono::steady_clock::now();
  std::string root = options.dir;
  const bool temporary = root.empty();
  if (temporary) {
    std::string tmpl = (fs::temp_directory_path() / "rill-demo-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::fprintf(err, "rill demo: cannot create a temporary directory in %s: use --dir DIR\n",
                   fs::temp_directory_path().c_str());
      return inspect::kExitCannotRead;
    }
    root = tmpl;
  }
  const std::string journal_dir = (fs::path(root) / "journal").string();
  std::error_code ec;
  if (fs::exists(journal_dir, ec) && !fs::is_empty(journal_dir, ec)) {
    std::fprintf(err, "rill demo: %s already holds a journal: pass another --dir, or remove it\n", journal_dir.c_str());
    return inspect::kExitCannotRead;
  }

  bench::BenchConfig config;
  config.dir = journal_dir;
  config.domain = options.domain;
  config.seconds = options.seconds;
  config.producers = options.producers;
  config.projectors = 1;  // the workload's first read model (bank: balances)
  config.durability = bench::ParseDurability(options.durability).value_or(journal::Durability::kBatch);
  // Acknowledged once the journal has synced the command under batch/interval (group commit).
  config.ack = engine::AckLevel::kDurable;
  config.aggregates = options.aggregates;
  // Enough outstanding commands for group commit to share each sync among thousands.
  config.inflight = 4096;
  config.segment_size = std::size_t{64} << 20;

  std::fprintf(out, "== rill demo: the %s workload on the engine for %.1f s (durability %s), journal in %s\n",
               options.domain.c_str(), options.seconds, bench::DurabilityName(config.durability), journal_dir.c_str());
  std::fflush(out);
  int exit_code = inspect::kExitOk;
  auto report = steps.run(config, out);
  if (!report.ok()) {
    std::fprintf(err, "rill demo: the run failed: %s\n", report.status().ToString().c_str());
    exit_code = report.status().IsInvalidArgument() ? inspect::kExitUsage : inspect::kExitCannotRead;
  } else {
    std::fprintf(out, "\n");
    bench::PrintSummary(*report, {}, out);
    if (!report->ok()) exit_code = inspect::kExitProblems;

    std::fprintf(out, "\n== rill inspect info %s\n", journal_dir.c_str());
    std::fflush(out);
    if (inspect::RunInfo({.dir = journal_dir, .checkpoints_dir = {}}, out, err) != inspect::kExitOk)
      exit_code = inspect::kExitProblems;

    // The recovery path, timed: rebuild the aggregates from the journal alone and check the
    // writer's state digests on the way.
    std::fprintf(out, "\n== rill replay %s --verify\n", journal_dir.c_str());
    std::fflush(out);
    ReplayOptions replay;
    replay.dir = journal_dir;
    replay.verify = true;
    replay.progress = 0;
    replay.domain = options.domain;
    if (steps.replay(replay, out, err) != inspect::kExitOk) exit_code = inspect::kExitProblems;
  }

  if (temporary && !options.keep) {
    fs::remove_all(root, ec);
  } else {
    std::fprintf(out, "\njournal kept in %s (try: rill inspect dump %s --limit 5)\n", journal_dir.c_str(),
                 journal_dir.c_str());
  }
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(out, "\n== demo %s in %.1f s\n", exit_code == inspect::kExitOk ? "passed" : "FAILED", took);
  return exit_code;
}

}  // namespace rill::tools
