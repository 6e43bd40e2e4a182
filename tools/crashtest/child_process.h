// rill/tools/crashtest/child_process.h: one round's child: start it, read its reports, SIGKILL it
// on schedule, reap it.
//
//   KillPlan plan{.from_spawn = false, .delay_ms = 120};
//   auto run = RunChildProcess("/proc/self/exe", {"crashtest", "--child", ...}, log_path, plan);
//   for (const WireRecord& r : run->records) ledger.Absorb(r, round);
//
// The child starts with posix_spawn (no fork of this possibly threaded process), its ack pipe
// as fd 3, stdout on /dev/null and stderr appended to `log_path`. Reading continues after the
// SIGKILL until the pipe's end of file, so every record the child wrote before it died is read.
// Thread safety: one call at a time per thread; the child is always reaped before returning.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rill/base/result.h"
#include "rill/tools/crashtest/wire.h"

namespace rill::tools::crashtest {

inline constexpr int kChildAckFd = 3;

struct KillPlan {
  bool from_spawn = false;  // count the delay from the spawn (a kill during recovery), else from kReady
  int delay_ms = 100;
  int ready_timeout_ms = 60'000;  // a child that never reports kReady is killed after this
};

struct ChildRun {
  std::vector<WireRecord> records;
  bool ready = false;         // the child reported kReady
  double ready_ms = 0;        // after the spawn
  double killed_ms = 0;       // after the spawn; 0 when it ended on its own
  bool killed_by_us = false;  // it died of our SIGKILL
  int pid = 0;
  int wait_status = 0;            // waitpid's
  std::uint64_t stray_bytes = 0;  // a partial record at the end of the pipe (never expected)
};

Result<ChildRun> RunChildProcess(const std::string& exe, const std::vector<std::string>& args,
                                 const std::string& log_path, const KillPlan& plan);

// "killed by SIGKILL", "exited with status 3", ...
std::string DescribeWaitStatus(int status);

}  // namespace rill::tools::crashtest
