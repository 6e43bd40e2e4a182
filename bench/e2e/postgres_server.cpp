#include "rill/bench/e2e/postgres_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include <filesystem>
#include <system_error>

#include "rill/bench/e2e/script_path.h"

// The source tree's copy (bench/CMakeLists.txt); installed tools find theirs under share/rill.
#ifndef RILL_SOURCE_PG_THROWAWAY_SCRIPT
#define RILL_SOURCE_PG_THROWAWAY_SCRIPT nullptr
#endif

namespace rill::bench {
namespace {

constexpr ScriptLocation kScript{
    .env = "RILL_PG_THROWAWAY_SCRIPT", .source_path = RILL_SOURCE_PG_THROWAWAY_SCRIPT, .name = "pg-throwaway.sh"};

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct ScriptRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

ScriptRun RunScript(const std::string& command_line) {
  ScriptRun run;
  std::FILE* p = ::popen((command_line + " 2>&1").c_str(), "r");
  if (p == nullptr) return run;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) run.output += buf;
  const int status = ::pclose(p);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

// A port the kernel just handed out on 127.0.0.1: free unless someone takes it in between,
// in which case the start fails and says so.
Result<int> FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return Status::FromErrno("socket", errno);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  const int err = errno;
  ::close(fd);
  if (port < 0) return Status::FromErrno("bind 127.0.0.1:0", err);
  return port;
}

}  // namespace

std::string PostgresServer::DefaultScript() { return FindScript(kScript); }

Result<std::unique_ptr<PostgresServer>> PostgresServer::Start(const PostgresServerOptions& options) {
  const std::string script = options.script.empty() ? DefaultScript() : options.script;
  if (options.directory.empty()) return Status::InvalidArgument("PostgresServer: no directory given");
  std::error_code ec;
  if (!std::filesystem::is_regular_file(script, ec))
    return Status::NotFound("the throwaway-server script " + script + " does not exist" +
                            (options.script.empty() ? " (" + ScriptSearchNote(kScript) + ")" : std::string()));
  int port = options.port;
  if (port == 0) {
    Result<int> free_port = FreeLoopbackPort();
    if (!free_port.ok()) return free_port.status();
    port = *free_port;
  }
  const ScriptRun run =
      RunScript("bash " + ShellQuote(script) + " start " + ShellQuote(options.directory) + " " + std::to_string(port));
  if (run.exit_code == 2) return Status::NotFound(run.output);
  // The pid is the last line of the output; warnings from the server tools may precede it.
  long pid = 0;
  if (run.exit_code == 0) {
    const std::size_t end = run.output.find_last_not_of("\n");
    const std::size_t begin = run.output.find_last_of('\n', end);
    pid = std::atol(run.output.substr(begin == std::string::npos ? 0 : begin + 1).c_str());
  }
  if (run.exit_code != 0 || pid <= 0) {
    // Stop whatever half-started, so a failed start never leaves a server behind.
    (void)RunScript("bash " + ShellQuote(script) + " stop " + ShellQuote(options.directory));
    return Status::Unavailable("PostgreSQL could not be started in " + options.directory +
                               " on 127.0.0.1:" + std::to_string(port) + " (" + script + " exit " +
                               std::to_string(run.exit_code) + "): " + run.output);
  }
  return std::unique_ptr<PostgresServer>(new PostgresServer(script, options.directory, port, pid));
}

PostgresServer::~PostgresServer() {
  if (Status s = Stop(); !s.ok()) std::fprintf(stderr, "warning: %s\n", s.ToString().c_str());
}

std::string PostgresServer::conninfo() const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=postgres connect_timeout=10";
}

Status PostgresServer::Stop() {
  if (stopped_) return Status::OK();
  stopped_ = true;
  const ScriptRun run = RunScript("bash " + ShellQuote(script_) + " stop " + ShellQuote(directory_));
  if (run.exit_code != 0) {
    return Status::Unavailable("PostgreSQL server " + std::to_string(pid_) + " in " + directory_ +
                               " did not stop cleanly: " + run.output);
  }
  return Status::OK();
}

}  // namespace rill::bench
