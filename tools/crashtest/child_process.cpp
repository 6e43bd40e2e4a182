#include "rill/tools/crashtest/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace rill::tools::crashtest {
namespace {

using Clock = ChildProcess::Clock;

double MsSince(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

}  // namespace

std::string DescribeWaitStatus(int status) {
  if (WIFSIGNALED(status))
    return std::string("killed by signal ") + std::to_string(WTERMSIG(status)) + " (" + ::strsignal(WTERMSIG(status)) +
           ")";
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  return "ended with wait status " + std::to_string(status);
}

Result<std::unique_ptr<ChildProcess>> ChildProcess::Spawn(const std::string& exe, const std::vector<std::string>& args,
                                                          const std::string& log_path) {
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
  const int rc = ::posix_spawn(&pid, exe.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return Status::FromErrno("start " + exe, rc);
  }
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid, fds[0], log_path));
}

ChildProcess::ChildProcess(int pid, int fd, std::string log) : fd_(fd), t0_(Clock::now()), log_(std::move(log)) {
  run_.pid = pid;
}

ChildProcess::~ChildProcess() {
  if (!reaped_) Kill();
}

// Appends whole records from buf_, keeps the rest.
void ChildProcess::Take() {
  const std::size_t whole = buf_.size() / sizeof(WireRecord);
  const Clock::time_point now = Clock::now();
  for (std::size_t i = 0; i < whole; ++i) {
    WireRecord r;
    std::memcpy(&r, buf_.data() + i * sizeof r, sizeof r);
    if (r.kind == WireKind::kReady && !run_.ready) {
      run_.ready = true;
      run_.ready_ms = MsSince(t0_);
    }
    run_.records.push_back(r);
    arrivals_.push_back(now);
  }
  buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(whole * sizeof(WireRecord)));
}

bool ChildProcess::ReadOnce(bool block) {
  char chunk[65536];
  for (;;) {
    if (!block) {
      pollfd p{fd_, POLLIN, 0};
      const int n = ::poll(&p, 1, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return true;
    }
    const ssize_t r = ::read(fd_, chunk, sizeof chunk);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      eof_ = true;
      return false;
    }
    buf_.insert(buf_.end(), chunk, chunk + r);
    Take();
    return true;
  }
}

bool ChildProcess::Poll(int timeout_ms) {
  if (eof_) return false;
  pollfd p{fd_, POLLIN, 0};
  const int n = ::poll(&p, 1, timeout_ms < 0 ? 0 : timeout_ms);
  if (n <= 0) return true;  // nothing yet (or EINTR): the caller polls again
  // Everything available now, without waiting for more.
  while (ReadOnce(false) && !eof_) {
    pollfd q{fd_, POLLIN, 0};
    if (::poll(&q, 1, 0) <= 0) break;
  }
  return !eof_;
}

void ChildProcess::Kill() {
  if (reaped_) return;
  // A child that already ended is a zombie until reaped: the signal is harmless, and Reap's
  // wait status tells whether it was ours.
  ::kill(run_.pid, SIGKILL);
  run_.killed_by_us = true;
  run_.killed_ms = MsSince(t0_);
  killed_at_ = Clock::now();
  Reap();
}

void ChildProcess::Reap() {
  if (reaped_) return;
  // Everything written before the kill is still in the pipe: read to its end.
  while (!eof_) ReadOnce(true);
  ::close(fd_);
  fd_ = -1;
  run_.stray_bytes = buf_.size();
  while (::waitpid(run_.pid, &run_.wait_status, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  // It may have died on its own just before our signal: only SIGKILL counts as ours.
  run_.killed_by_us = run_.killed_by_us && WIFSIGNALED(run_.wait_status) && WTERMSIG(run_.wait_status) == SIGKILL;
}

Result<ChildRun> RunChildProcess(const std::string& exe, const std::vector<std::string>& args,
                                 const std::string& log_path, const KillPlan& plan) {
  Result<std::unique_ptr<ChildProcess>> spawned = ChildProcess::Spawn(exe, args, log_path);
  if (!spawned.ok()) return spawned.status();
  ChildProcess& c = **spawned;
  for (;;) {
    const ChildRun& run = c.run();
    const double deadline = plan.from_spawn ? plan.delay_ms
                            : run.ready     ? run.ready_ms + plan.delay_ms
                                            : static_cast<double>(plan.ready_timeout_ms);
    const double left = deadline - MsSince(c.spawned_at());
    if (left <= 0) {
      c.Kill();
      break;
    }
    if (!c.Poll(static_cast<int>(left) + 1)) {
      c.Reap();  // it ended by itself
      break;
    }
  }
  return c.run();
}

}  // namespace rill::tools::crashtest
