// rill/tools/crashtest/crashtest_parent.h: the crash test's parent, for any domain: rounds of
// child, kill, recover and verify, the power-loss and damage copies, and the report. The domain
// comes in through CrashDomain (crashtest.h implements it for a workload), so this is compiled
// once, in rill::tools_crashtest.
//
//   if (std::optional<int> usage = CheckCrashtestOptions(o, err)) return *usage;
//   CrashDomainFor<W> domain(o);                   // crashtest.h
//   return RunCrashtestParent(o, domain, out, err);
//
// Thread safety: one call at a time per process (it re-executes a binary and waits for it).
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>

#include "rill/tools/crashtest/crashtest_command.h"
#include "rill/tools/crashtest/ledger.h"
#include "rill/tools/crashtest/verifier.h"
#include "rill/tools/workload.h"

namespace rill::tools::crashtest {

// The domain's half of a run.
class CrashDomain {
 public:
  virtual ~CrashDomain() = default;
  virtual CommandIds ids() const = 0;
  // Recovers and checks a journal (verify_journal.h).
  virtual VerifyReport Verify(const VerifyOptions& options, const Ledger& ledger) = 0;
};

// nullopt when the options are usable; else the exit code (2), with the reason on err.
std::optional<int> CheckCrashtestOptions(const CrashtestOptions& o, std::FILE* err);

// `seed`, or a random one (never 0) when it is 0.
std::uint64_t ResolveSeed(std::uint64_t seed);

// The whole run; returns the exit code (crashtest_command.h).
// REQUIRES: o.seed != 0, the seed `domain`'s workload was built with (ResolveSeed).
int RunCrashtestParent(const CrashtestOptions& o, CrashDomain& domain, std::FILE* out, std::FILE* err);

}  // namespace rill::tools::crashtest
