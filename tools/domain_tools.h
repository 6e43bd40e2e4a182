// rill/tools/domain_tools.h: the subcommands of one domain behind a virtual interface, so the
// command line (tool_main.cpp, CLI11, compiled once into rill::tools) knows no domain: the
// templates that do (WorkloadTools<W> in tool_main.h) are instantiated in the tool's main().
//
//   std::vector<std::unique_ptr<DomainTools>> domains;
//   domains.push_back(ToolsFor<BankWorkload>("bank"));        // tool_main.h
//   return RunToolMain(argc, argv, "rill", std::move(domains));
//
// Thread safety: const methods; each call runs one subcommand to its end.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "rill/tools/bench/bench_command.h"
#include "rill/tools/crashtest/crashtest_command.h"
#include "rill/tools/demo/demo_command.h"
#include "rill/tools/replay/replay_command.h"

namespace rill::tools {

class DomainTools {
 public:
  explicit DomainTools(std::string name) : name_(std::move(name)) {}
  virtual ~DomainTools() = default;
  DomainTools(const DomainTools&) = delete;
  DomainTools& operator=(const DomainTools&) = delete;

  const std::string& name() const noexcept { return name_; }
  // True when this domain's schema can read the journal in `dir` (replay picks a domain so).
  virtual bool ReadsJournal(const std::string& dir) const = 0;
  // Each returns the process exit code (tools/README.md).
  virtual int Replay(const ReplayOptions& options, std::FILE* out, std::FILE* err) const = 0;
  virtual int Bench(const BenchOptions& options, std::FILE* out, std::FILE* err) const = 0;
  virtual int Crashtest(const crashtest::CrashtestOptions& options, std::FILE* out, std::FILE* err) const = 0;
  virtual int Demo(const DemoOptions& options, std::FILE* out, std::FILE* err) const = 0;

 private:
  std::string name_;
};

// The command line of a tool with these domains (tool_main.cpp). REQUIRES: at least one domain.
int RunToolMain(int argc, char** argv, const char* program, std::vector<std::unique_ptr<DomainTools>> domains);

// Parses the command line and runs the subcommand; returns the process exit code. `program`
// names the tool in --help and errors; each domain comes from ToolsFor<W>("name") (tool_main.h).
// REQUIRES: names distinct.
template <typename... More>
int Main(int argc, char** argv, const char* program, std::unique_ptr<DomainTools> first, More&&... more) {
  std::vector<std::unique_ptr<DomainTools>> domains;
  domains.push_back(std::move(first));
  (domains.push_back(std::forward<More>(more)), ...);
  return RunToolMain(argc, argv, program, std::move(domains));
}

}  // namespace rill::tools
