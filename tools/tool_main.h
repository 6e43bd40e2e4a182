// rill/tools/tool_main.h: a domain's own command-line tool, with every rill subcommand: the
// generic `inspect` and `recover`, and `replay`, `bench`, `crashtest`, `demo` for the domains
// it is given. The bundled `rill` is built this way with the bank and the blog; a user's tool is
// the same few lines with their workload (tools/workload.h):
//
//   #include "rill/tools/tool_main.h"
//   #include "inventory_workload.h"
//   int main(int argc, char** argv) {
//     return rill::tools::Main(argc, argv, "inventory-rill", rill::tools::ToolsFor<InventoryWorkload>("inventory"));
//   }
//   # CMake: target_link_libraries(inventory-rill PRIVATE inventory rill::tools)
//
// With several domains, `--domain NAME` picks one (the first is the default; `replay` picks the
// one whose schema reads the journal). Everything domain-specific is instantiated here, in the
// user's translation unit; the command line itself (CLI11) is compiled once, in rill::tools.
// Exit codes (tools/README.md): 0 ok, 1 problems found / the run failed, 2 usage error, 3 cannot
// read the input.
// Thread safety: Main is called once, from main().
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "rill/tools/bench/bench.h"
#include "rill/tools/crashtest/crashtest.h"
#include "rill/tools/demo/demo.h"
#include "rill/tools/domain_tools.h"
#include "rill/tools/replay/replay.h"
#include "rill/tools/workload.h"

namespace rill::tools {

// The subcommands of one domain, for the workload W.
template <Workload W>
class WorkloadTools final : public DomainTools {
 public:
  explicit WorkloadTools(std::string name) : DomainTools(std::move(name)) {}
  bool ReadsJournal(const std::string& dir) const override { return tools::ReadsJournal<W>(dir); }
  int Replay(const ReplayOptions& o, std::FILE* out, std::FILE* err) const override {
    return RunReplay<W>(o, out, err);
  }
  int Bench(const BenchOptions& o, std::FILE* out, std::FILE* err) const override { return RunBench<W>(o, out, err); }
  int Crashtest(const crashtest::CrashtestOptions& o, std::FILE* out, std::FILE* err) const override {
    return crashtest::RunCrashtest<W>(o, out, err);
  }
  int Demo(const DemoOptions& o, std::FILE* out, std::FILE* err) const override { return RunDemo<W>(o, out, err); }
};

// A domain's tools under the name `--domain` and messages use ("inventory").
template <Workload W>
std::unique_ptr<DomainTools> ToolsFor(std::string name) {
  return std::make_unique<WorkloadTools<W>>(std::move(name));
}

}  // namespace rill::tools
