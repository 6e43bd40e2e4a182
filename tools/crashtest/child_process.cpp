#include "rill/tools/crashtest/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

extern char** environ;

namespace rill::tools::crashtest {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

// Appends whole records from `buf` to `out`, keeps the rest in `buf`.
void TakeRecords(std::vector<char>& buf, ChildRun& run, Clock::time_point t0) {
  const std::size_t whole = buf.size() / sizeof(WireRecord);
  for (std::size_t i = 0; i < whole; ++i) {
    WireRecord r;
    std::memcpy(&r, buf.data() + i * sizeof r, sizeof r);
    if (r.kind == WireKind::kReady && !run.ready) {
      run.ready = true;
      run.ready_ms = MsSince(t0);
    }
    run.records.push_back(r);
  }
  buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(whole * sizeof(WireRecord)));
}

}  // namespace

std::string DescribeWaitStatus(int status) {
  if (WIFSIGNALED(status))
    return std::string("killed by signal ") + std::to_string(WTERMSIG(status)) + " (" + ::strsignal(WTERMSIG(status)) +
           ")";
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  return "ended with wait status " + std::to_string(status);
}

Result<ChildRun> RunChildProcess(const std::string& exe, const std::vector<std::string>& args,
                                 const std::string& log_path, const KillPlan& plan) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Status::FromErrno("pipe", errno);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  // dup2 onto fd 3 clears close-on-exec there (also when fds[1] already is 3: POSIX 2017,
  // glibc >= 2.29); the originals are close-on-exec and vanish at exec.
  posix_spawn_file_actions_adddup2(&fa, fds[1], kChildAckFd);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(exe.c_str()));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const Clock::time_point t0 = Clock::now();
  const int rc = ::posix_spawn(&pid, exe.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return Status::FromErrno("start " + exe, rc);
  }

  ChildRun run;
  run.pid = pid;
  std::vector<char> buf;
  char chunk[65536];
  bool eof = false;
  while (!eof && !run.killed_by_us) {
    const double deadline = plan.from_spawn ? plan.delay_ms
                            : run.ready     ? run.ready_ms + plan.delay_ms
                                            : static_cast<double>(plan.ready_timeout_ms);
    const double left = deadline - MsSince(t0);
    if (left <= 0) {
      ::kill(pid, SIGKILL);
      run.killed_by_us = true;
      run.killed_ms = MsSince(t0);
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left) + 1);
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    const ssize_t r = ::read(fds[0], chunk, sizeof chunk);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      eof = true;
      break;
    }
    buf.insert(buf.end(), chunk, chunk + r);
    TakeRecords(buf, run, t0);
  }
  // Everything written before the kill is still in the pipe: read to its end.
  while (!eof) {
    const ssize_t r = ::read(fds[0], chunk, sizeof chunk);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    buf.insert(buf.end(), chunk, chunk + r);
    TakeRecords(buf, run, t0);
  }
  ::close(fds[0]);
  run.stray_bytes = buf.size();
  while (::waitpid(pid, &run.wait_status, 0) < 0 && errno == EINTR) {
  }
  // It may have died on its own just before our signal: only SIGKILL counts as ours.
  run.killed_by_us = run.killed_by_us && WIFSIGNALED(run.wait_status) && WTERMSIG(run.wait_status) == SIGKILL;
  return run;
}

}  // namespace rill::tools::crashtest
