// rill/tools/crashtest/crashtest_command.h: `rill crashtest`, the kill -9 crash test kit.
//
//   rill crashtest --kills 20 --durability batch            # prints its seed first
//   rill crashtest --kills 20 --durability batch --seed 7   # replays that schedule
//
// Each round starts a child (this same binary, re-executed through /proc/self/exe in a hidden
// child mode, so the parent never forks a threaded process) that runs the bank workload on the
// real Engine and reports every submitted and every acknowledged command over a pipe. The
// parent SIGKILLs it at a random moment, recovers the journal with an Engine of its own,
// verifies it (verifier.h: acknowledged commands present exactly once, money conserved,
// positions and stream versions gap-free, the balances read model equal to the aggregates),
// under batch and interval also simulates a power loss on a copy (power_loss.h), and starts the
// next child on the same journal, which first resends commands whose outcome never arrived.
// Returns the exit code: 0 every round verified; 1 a violation (the first one is printed);
// 2 usage error; 3 cannot start (directory, spawn, or the first child cannot open a journal).
// Thread safety: one call at a time per process (it re-executes the binary and waits for it).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace rill::tools::crashtest {

struct CrashtestOptions {
  int kills = 10;                    // rounds; each ends with a SIGKILL
  std::uint64_t seed = 0;            // 0: pick one (printed)
  std::string durability = "batch";  // none | batch | interval
  std::string dir;                   // empty: a temporary directory, removed unless keep (or a failure)
  bool keep = false;
  bool json = false;  // one JSON object on `out` instead of the text report
  int min_ms = 40;    // a child runs this long at least after it reported ready ...
  int max_ms = 250;   // ... and at most this long
  int producers = 3;
  int accounts = 64;
  // Commands per second a child submits at most (0: as fast as it can). The parent re-verifies
  // the whole journal every round, so an unbounded journal makes long runs quadratic.
  int rate = 50'000;
  std::uint32_t segment_kib = 1024;  // small segments: rounds cross segment rolls
  // The executable to re-execute as the child; empty: /proc/self/exe (tests pass the rill binary).
  std::string child_exe;
  // Testing the tester: "fake-ack" adds an acknowledgement for a command id that no journal
  // holds after the first round; "lose-ack" turns the first journaled ack into a rejection.
  // Both must end in exit code 1.
  std::string inject;

  // Hidden child mode (set by the parent on the child's command line).
  bool child = false;
  int round = 0;
  int ack_fd = -1;
  std::string retry_file;
  std::string journal;  // the journal directory the child opens
};

int RunCrashtest(const CrashtestOptions& options, std::FILE* out, std::FILE* err);

}  // namespace rill::tools::crashtest
