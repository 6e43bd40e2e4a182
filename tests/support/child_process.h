// rill/tests/support/child_process.h: the real servers tests start (nats-server, prometheus,
// rill metrics) as child processes on 127.0.0.1: a free port, fork+exec with the output in a
// log file, a stop by pid, a plain HTTP GET, a log's tail for failure messages.
//
//   const int port = rill::test::FreeLoopbackPort();
//   std::string why;
//   const pid_t pid = rill::test::SpawnWithLog({"/usr/bin/prometheus", "--config.file=..."}, log, &why);
//   ... rill::test::HttpGet(port, "/-/ready", &status) ...
//   rill::test::StopChild(pid);   // SIGTERM, then SIGKILL after the grace period
//
// Children ask the kernel for SIGKILL when this process dies (PR_SET_PDEATHSIG), so a test that
// crashes or hits ctest's timeout leaves no server behind.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace rill::test {

// A port nobody listens on right now: the kernel's pick for port 0. Another process could take
// it before the server binds it; the server then fails to start and its log says so.
inline int FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

// fork+exec of args[0] (a path) with stdout and stderr appended to `log`; the pid, or -1 with
// `why`. Only async-signal-safe calls between fork and exec: everything is prepared before.
inline pid_t SpawnWithLog(std::vector<std::string> args, const std::string& log, std::string* why) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    *why = "open " + log + ": " + std::strerror(errno);
    return -1;
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::execve(argv[0], argv.data(), environ);
    ::_exit(127);
  }
  const int fork_errno = errno;
  ::close(log_fd);
  if (pid < 0) *why = "fork for " + args[0] + ": " + std::strerror(fork_errno);
  return pid;
}

// True while `pid` (our child) has not exited; reaps it when it has, storing its wait status.
inline bool ChildRunning(pid_t pid, int* status = nullptr) {
  int s = 0;
  const pid_t r = ::waitpid(pid, &s, WNOHANG);
  if (r == pid && status != nullptr) *status = s;
  return r == 0;
}

// SIGTERM (or `sig`), then SIGKILL after `grace`; the child's wait status, or -1.
inline int StopChild(pid_t pid, int sig = SIGTERM, std::chrono::milliseconds grace = std::chrono::seconds(10)) {
  if (pid <= 0) return -1;
  ::kill(pid, sig);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid, SIGKILL);
  return ::waitpid(pid, &status, 0) == pid ? status : -1;
}

// GET http://127.0.0.1:<port><target> (HTTP/1.0: the server closes, no chunking); the body, and
// the status code in *status (0 when there was no answer).
inline std::string HttpGet(int port, const std::string& target, int* status) {
  *status = 0;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {};
  timeval tv{10, 0};  // a server that accepts and never answers fails the call, not the test run
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const std::string request = "GET " + target + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
      char buf[8192];
      for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) response.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  const std::size_t head_end = response.find("\r\n\r\n");
  if (response.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos) return {};
  *status = std::atoi(response.c_str() + response.find(' ') + 1);
  return response.substr(head_end + 4);
}

// The last `lines` lines of a log, for a failure message.
inline std::string LogTail(const std::string& path, std::size_t lines = 20) {
  std::ifstream in(path);
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);) all.push_back(line);
  std::string out;
  for (std::size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) out += all[i] + "\n";
  return out;
}

}  // namespace rill::test
