// rill/tools/crashtest/child_process.h: a crash test child: start it, read its reports, SIGKILL
// it, reap it. RunChildProcess runs one round's child to its kill; ChildProcess is the same
// child as an object, for the replicated run, which keeps two children at once (the writer, and
// the standby that takes over when the writer is killed).
//
//   KillPlan plan{.from_spawn = false, .delay_ms = 120};
//   auto run = RunChildProcess("/proc/self/exe", {"crashtest", "--child", ...}, log_path, plan);
//   for (const WireRecord& r : run->records) ledger.Absorb(r, round);
//
//   auto c = ChildProcess::Spawn(exe, args, log_path);
//   while ((*c)->Poll(50)) { ...(*c)->records() grows... }   // false once the pipe ended
//   (*c)->Kill();                                           // SIGKILL, read to the end, reap
//
// The child starts with posix_spawn (no fork of this possibly threaded process), its ack pipe
// as fd 3, stdout on /dev/null and stderr appended to `log_path`. Reading continues after the
// SIGKILL until the pipe's end of file, so every record the child wrote before it died is read.
// Thread safety: one thread drives a child; a ChildProcess is always reaped by Kill or its
// destructor (SIGKILL first).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
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

class ChildProcess {
 public:
  using Clock = std::chrono::steady_clock;

  static Result<std::unique_ptr<ChildProcess>> Spawn(const std::string& exe, const std::vector<std::string>& args,
                                                     const std::string& log_path);
  ~ChildProcess();  // Kill() unless reaped
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Reads what the child wrote, waiting up to timeout_ms for the first bytes. False once the
  // pipe reached its end (the child is gone; call Kill or Reap).
  bool Poll(int timeout_ms);
  // SIGKILL (when still running), the pipe read to its end, reaped.
  void Kill();
  // Reads to the end and reaps a child that ended by itself (Poll returned false).
  void Reap();

  const std::vector<WireRecord>& records() const noexcept { return run_.records; }
  // Arrival times of records() (the parent's clock), one per record.
  const std::vector<Clock::time_point>& arrivals() const noexcept { return arrivals_; }
  const ChildRun& run() const noexcept { return run_; }
  Clock::time_point spawned_at() const noexcept { return t0_; }
  Clock::time_point killed_at() const noexcept { return killed_at_; }
  bool reaped() const noexcept { return reaped_; }
  const std::string& log() const noexcept { return log_; }

 private:
  ChildProcess(int pid, int fd, std::string log);
  bool ReadOnce(bool block);  // false at the end of the pipe
  void Take();

  ChildRun run_;
  std::vector<Clock::time_point> arrivals_;
  std::vector<char> buf_;
  int fd_ = -1;
  bool eof_ = false, reaped_ = false;
  Clock::time_point t0_, killed_at_{};
  std::string log_;
};

Result<ChildRun> RunChildProcess(const std::string& exe, const std::vector<std::string>& args,
                                 const std::string& log_path, const KillPlan& plan);

// "killed by SIGKILL", "exited with status 3", ...
std::string DescribeWaitStatus(int status);

}  // namespace rill::tools::crashtest
