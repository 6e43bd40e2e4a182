// rill/tools/crashtest/parent_run.h: the crash test parent's state for one run and the helpers
// its two round loops share: the classic one (crashtest_parent.cpp: one journal, a child per
// round) and the replicated one (replicated_rounds.h: two nodes, restart in place and standby
// takeover). Internal to rill::tools_crashtest.
// Thread safety: the parent's one thread.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "rill/tools/crashtest/crashtest_command.h"
#include "rill/tools/crashtest/crashtest_parent.h"
#include "rill/tools/crashtest/ledger.h"
#include "rill/tools/crashtest/round_report.h"
#include "rill/tools/crashtest/verifier.h"
#include "rill/tools/crashtest/wire.h"

namespace rill::tools::crashtest::parent {

struct Run {
  const CrashtestOptions& o;
  CrashDomain& domain;
  journal::Durability durability;
  std::string root, journal, exe;
  std::uint64_t seed;
  Ledger ledger;
  std::mt19937_64 kill_rng, power_rng, retry_rng;
};

inline constexpr std::size_t kRetryUnacked = 64;  // unacknowledged commands resent per round, at most
inline constexpr std::size_t kRetryAcked = 8;     // acknowledged ones resent (must come back as duplicates)

// The last 2000 bytes of a child's log.
std::string LogTail(const std::string& path);
// How the parent verifies `journal` (a plain crash: no power-loss cut).
VerifyOptions JournalOptions(const Run& run, const std::string& journal);
// A child's command line; `extra` (the replicated child's flags) goes last.
std::vector<std::string> ChildArgs(const Run& run, int round, const std::string& journal, const std::string& plan_file,
                                   const std::vector<std::string>& extra = {});
// Counts a report in the round's figures and absorbs it into the ledger (the first violation
// goes to r.violation).
void AbsorbReport(Run& run, Round& r, const WireRecord& w);

}  // namespace rill::tools::crashtest::parent
