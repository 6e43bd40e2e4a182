#include "rill/tools/demo/demo_command.h"

#include <stdlib.h>

#include <filesystem>
#include <system_error>

#include "rill/bench/e2e/pipeline_demo.h"
#include "rill/tools/inspect/inspect_info.h"
#include "rill/tools/inspect/inspect_verify.h"
#include "rill/tools/inspect/journal_view.h"

namespace rill::tools {
namespace {

namespace fs = std::filesystem;

journal::Durability ParseDurability(const std::string& name) {
  if (name == "none") return journal::Durability::kNone;
  if (name == "interval") return journal::Durability::kInterval;
  return journal::Durability::kBatch;  // CLI11 restricts the choices; "batch" is the default
}

}  // namespace

int RunDemo(const DemoOptions& options, std::FILE* out, std::FILE* err) {
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
  if (fs::exists(journal_dir)) {
    std::fprintf(err, "rill demo: %s already holds a journal: pass another --dir, or remove it\n", journal_dir.c_str());
    return inspect::kExitUsage;
  }

  bench::PipelineDemoOptions pipeline;
  pipeline.directory = journal_dir;
  pipeline.seconds = options.seconds;
  pipeline.producers = options.producers;
  pipeline.durability = ParseDurability(options.durability);

  std::fprintf(out, "== rill demo: %.1f s, journal in %s\n", options.seconds, journal_dir.c_str());
  int exit_code = inspect::kExitOk;
  auto report = bench::RunPipelineDemo(pipeline, out);
  if (!report.ok()) {
    std::fprintf(err, "rill demo: the pipeline failed: %s\n", report.status().ToString().c_str());
    exit_code = inspect::kExitCannotRead;
  } else {
    if (!report->consistent) exit_code = inspect::kExitProblems;
    std::fprintf(out, "\n== rill inspect info %s\n", journal_dir.c_str());
    if (inspect::RunInfo({.dir = journal_dir, .checkpoints_dir = {}}, out, err) != inspect::kExitOk)
      exit_code = inspect::kExitProblems;
    std::fprintf(out, "\n== rill inspect verify %s\n", journal_dir.c_str());
    if (inspect::RunVerify({.dir = journal_dir}, out, err) != inspect::kExitOk) exit_code = inspect::kExitProblems;
  }

  if (temporary && !options.keep) {
    std::error_code ec;
    fs::remove_all(root, ec);
  } else {
    std::fprintf(out, "\njournal kept in %s (try: rill inspect dump %s --limit 5)\n", journal_dir.c_str(),
                 journal_dir.c_str());
  }
  std::fprintf(out, "\n== demo %s\n", exit_code == inspect::kExitOk ? "passed" : "FAILED");
  return exit_code;
}

}  // namespace rill::tools
