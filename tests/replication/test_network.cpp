// rill/tests/replication/test_network.cpp: see test_network.h.
#include "rill/tests/replication/test_network.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <sstream>

extern char** environ;

namespace rill::test {
namespace {

// Runs `argv` with stdout and stderr into a pipe; its exit status and what it printed.
int RunCaptured(const std::vector<std::string>& argv, std::string* output) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return -1;
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    ::execve(args[0], args.data(), environ);
    ::_exit(127);
  }
  ::close(fds[1]);
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) output->append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  if (pid < 0) return -1;
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Leftovers of a test process that died without its destructor (ctest's timeout, SIGKILL):
// namespaces rill-<pid>-<i> and bridges rb<pid> whose pid no longer runs.
void RemoveStale(const std::string& ip) {
  auto dead = [](const std::string& digits) {
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) return false;
    return ::kill(static_cast<pid_t>(std::stol(digits)), 0) != 0 && errno == ESRCH;
  };
  std::string out, ignored;
  if (RunCaptured({ip, "netns", "list"}, &out) == 0) {
    std::istringstream lines(out);
    for (std::string name; lines >> name;) {
      if (name.rfind("rill-", 0) != 0) continue;
      const std::size_t dash = name.find('-', 5);
      if (dash != std::string::npos && dead(name.substr(5, dash - 5)))
        (void)RunCaptured({ip, "netns", "del", name}, &ignored);
    }
  }
  out.clear();
  if (RunCaptured({ip, "-o", "link", "show", "type", "bridge"}, &out) == 0) {
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
      const std::size_t at = line.find(": rb");
      if (at == std::string::npos) continue;
      const std::size_t end = line.find(':', at + 2);
      const std::string name = line.substr(at + 2, end == std::string::npos ? std::string::npos : end - at - 2);
      if (dead(name.substr(2))) (void)RunCaptured({ip, "link", "del", name}, &ignored);
    }
  }
}

std::string Joined(const std::vector<std::string>& args) {
  std::string s;
  for (const std::string& a : args) s.append(s.empty() ? "" : " ").append(a);
  return s;
}

}  // namespace

std::string TestNetwork::IpBinary() {
  for (const char* p : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"})
    if (::access(p, X_OK) == 0) return p;
  return {};
}

std::optional<std::string> TestNetwork::Unavailable() {
  if (::geteuid() != 0)
    return std::string("network namespaces need root (CAP_NET_ADMIN); this test runs as uid ") +
           std::to_string(::geteuid());
  const std::string ip = IpBinary();
  if (ip.empty()) return std::string("no `ip` (iproute2): install it (scripts/install-deps.sh)");
  // The sandbox may still refuse (no CAP_NET_ADMIN in a container, /run/netns not writable).
  const std::string probe = "rill-probe-" + std::to_string(::getpid());
  std::string out;
  if (RunCaptured({ip, "netns", "add", probe}, &out) != 0)
    return "cannot create a network namespace (`ip netns add` said: " + out + ")";
  std::string ignored;
  (void)RunCaptured({ip, "netns", "del", probe}, &ignored);
  return std::nullopt;
}

Status TestNetwork::Run(const std::vector<std::string>& args) {
  std::vector<std::string> argv{IpBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string out;
  const int code = RunCaptured(argv, &out);
  if (code == 0) return Status::OK();
  return Status::IOError("`" + Joined(argv) + "` exited with " + std::to_string(code) + ": " + out);
}

Result<std::unique_ptr<TestNetwork>> TestNetwork::Create(int hosts) {
  if (auto why = Unavailable()) return Status::Unavailable(*why);
  if (hosts < 1 || hosts > 200) return Status::InvalidArgument("TestNetwork: 1..200 hosts");
  RemoveStale(IpBinary());
  std::unique_ptr<TestNetwork> n(new TestNetwork());
  const auto pid = static_cast<unsigned>(::getpid());
  // A /28 of 198.18.0.0/15 from the pid's low 13 bits (distinct for concurrent tests): .base+1
  // is the bridge, .base+2.. the hosts.
  if (hosts > 13) return Status::InvalidArgument("TestNetwork: at most 13 hosts");
  const std::string prefix =
      "198." + std::to_string(18 + (pid >> 12) % 2) + "." + std::to_string((pid >> 4) % 256) + ".";
  const unsigned base = (pid % 16) * 16;
  n->bridge_ = "rb" + std::to_string(pid);
  RILL_RETURN_IF_ERROR(n->Run({"link", "add", n->bridge_, "type", "bridge"}));
  RILL_RETURN_IF_ERROR(n->Run({"addr", "add", prefix + std::to_string(base + 1) + "/28", "dev", n->bridge_}));
  RILL_RETURN_IF_ERROR(n->Run({"link", "set", n->bridge_, "up"}));
  for (int i = 0; i < hosts; ++i) {
    Host h;
    h.netns = "rill-" + std::to_string(pid) + "-" + std::to_string(i);
    h.veth = "rv" + std::to_string(pid) + "-" + std::to_string(i);
    h.address = prefix + std::to_string(base + 2 + static_cast<unsigned>(i));
    RILL_RETURN_IF_ERROR(n->Run({"netns", "add", h.netns}));
    n->hosts_.push_back(h);  // from here on the destructor deletes it
    RILL_RETURN_IF_ERROR(n->Run({"link", "add", h.veth, "type", "veth", "peer", "name", "eth0", "netns", h.netns}));
    RILL_RETURN_IF_ERROR(n->Run({"link", "set", h.veth, "master", n->bridge_, "up"}));
    RILL_RETURN_IF_ERROR(n->Run({"-n", h.netns, "addr", "add", h.address + "/28", "dev", "eth0"}));
    RILL_RETURN_IF_ERROR(n->Run({"-n", h.netns, "link", "set", "eth0", "up"}));
    RILL_RETURN_IF_ERROR(n->Run({"-n", h.netns, "link", "set", "lo", "up"}));
  }
  return n;
}

TestNetwork::~TestNetwork() {
  // Deleting a namespace deletes its veth end, and with it the peer on the bridge.
  for (const Host& h : hosts_) (void)Run({"netns", "del", h.netns});
  if (!bridge_.empty()) (void)Run({"link", "del", bridge_});
}

Status TestNetwork::Partition(const std::vector<int>& side) {
  if (!cut_.empty()) return Status::FailedPrecondition("TestNetwork: already partitioned (Heal first)");
  std::vector<bool> in(hosts_.size(), false);
  for (int h : side) {
    if (h < 0 || h >= size()) return Status::InvalidArgument("TestNetwork: no host " + std::to_string(h));
    in[static_cast<std::size_t>(h)] = true;
  }
  for (int a = 0; a < size(); ++a) {
    for (int b = 0; b < size(); ++b) {
      if (in[static_cast<std::size_t>(a)] == in[static_cast<std::size_t>(b)]) continue;
      RILL_RETURN_IF_ERROR(Run({"-n", namespace_name(a), "route", "add", "blackhole", address(b) + "/32"}));
      cut_.emplace_back(a, b);
    }
  }
  return Status::OK();
}

Status TestNetwork::Heal() {
  Status first;
  for (const auto& [a, b] : cut_) {
    Status s = Run({"-n", namespace_name(a), "route", "del", "blackhole", address(b) + "/32"});
    if (first.ok() && !s.ok()) first = s;
  }
  cut_.clear();
  return first;
}

}  // namespace rill::test
