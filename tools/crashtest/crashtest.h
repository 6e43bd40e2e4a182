// rill/tools/crashtest/crashtest.h: `rill crashtest`, the kill -9 crash test kit, for any
// workload (tools/workload.h).
//
//   CrashtestOptions o;   // crashtest_command.h; the command line fills it, incl. o.domain
//   o.kills = 20;
//   return RunCrashtest<InventoryWorkload>(o, stdout, stderr);
//
// The parent (crashtest_parent.h) re-executes o.child_exe (default: this binary) as
// `crashtest --domain <o.domain> --child ...` each round; that command line must reach
// RunCrashtest<W> with the same W, which then runs the child (child.h). Everything the domain
// decides is checked through the workload: the parent regenerates each command from its id,
// decides it again on the state before it and compares with the journal (verify_journal.h),
// then applies the workload's hooks (Tally/Total, CheckInvariants) to the recovered state.
// Returns the exit code (crashtest_command.h).
// Thread safety: one call at a time per process.
#pragma once

#include <cstdio>
#include <optional>

#include "rill/tools/crashtest/child.h"
#include "rill/tools/crashtest/crash_workload.h"
#include "rill/tools/crashtest/crashtest_command.h"
#include "rill/tools/crashtest/crashtest_parent.h"
#include "rill/tools/crashtest/verify_journal.h"
#include "rill/tools/workload.h"

namespace rill::tools::crashtest {

// The domain's half of a run, for the workload W.
template <Workload W>
class CrashDomainFor final : public CrashDomain {
 public:
  explicit CrashDomainFor(const CrashtestOptions& o)
      : source_(CrashWorkloadOptions(static_cast<std::uint64_t>(o.aggregates), o.producers, o.seed)) {}
  CommandIds ids() const override { return source_.ids(); }
  VerifyReport Verify(const VerifyOptions& options, const Ledger& ledger) override {
    return VerifyJournal<W>(options, ledger, source_);
  }

 private:
  CommandSource<W> source_;
};

template <Workload W>
int RunCrashtest(const CrashtestOptions& options, std::FILE* out, std::FILE* err) {
  if (options.child) return RunChild<W>(options, err);
  if (std::optional<int> usage = CheckCrashtestOptions(options, err)) return *usage;
  CrashtestOptions o = options;
  // Drawn before the workload is built: the parent regenerates the children's commands.
  o.seed = ResolveSeed(o.seed);
  CrashDomainFor<W> domain(o);
  return RunCrashtestParent(o, domain, out, err);
}

}  // namespace rill::tools::crashtest
