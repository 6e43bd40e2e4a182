// rill/tests/replication/nats_cluster.cpp: see nats_cluster.h.
#include "rill/tests/replication/nats_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <thread>

#include "rill/replication/nats_client.h"
#include "rill/tests/support/child_process.h"

extern char** environ;

namespace rill::test {
namespace {

using Clock = std::chrono::steady_clock;

bool Accepts(const std::string& host, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  if (::inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) {
    ::close(fd);
    return false;
  }
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(fd);
  return ok;
}

std::string Tail(const std::string& path) {
  std::ifstream in(path);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return all.size() > 1500 ? all.substr(all.size() - 1500) : all;
}

}  // namespace

std::string NatsCluster::ServerBinary() {
  const char* env = std::getenv("RILL_NATS_SERVER");
  return env != nullptr && *env != '\0' ? std::string(env) : std::string("/usr/sbin/nats-server");
}

std::optional<std::string> NatsCluster::Unavailable() {
  std::string bin = ServerBinary();
  if (::access(bin.c_str(), X_OK) != 0) {
    std::string why("no nats-server at ");
    why.append(bin).append(" (install it: scripts/install-deps.sh; or set RILL_NATS_SERVER)");
    return why;
  }
  return std::nullopt;
}

// Ports are found by binding port 0 and closing it, so a test starting its own cluster at the
// same moment (ctest -j) can take one before our server binds it: try again with fresh ports.
Result<std::unique_ptr<NatsCluster>> NatsCluster::Start(int nodes, std::int64_t timeout_ns) {
  Result<std::unique_ptr<NatsCluster>> c = StartOnce(nodes, timeout_ns);
  for (int attempt = 1; attempt < 3 && !c.ok() && !c.status().IsInvalidArgument() && !Unavailable(); ++attempt)
    c = StartOnce(nodes, timeout_ns);
  return c;
}

Result<std::unique_ptr<NatsCluster>> NatsCluster::StartOn(const TestNetwork& network, std::int64_t timeout_ns) {
  return StartOnce(network.size(), timeout_ns, &network);
}

Result<std::unique_ptr<NatsCluster>> NatsCluster::StartOnce(int nodes, std::int64_t timeout_ns,
                                                            const TestNetwork* network) {
  if (auto why = Unavailable()) return Status::Unavailable(*why);
  if (nodes < 1) return Status::InvalidArgument("a cluster needs a node");
  std::unique_ptr<NatsCluster> c(new NatsCluster());
  if (c->dir_.path().empty()) return Status::IOError("cannot create a temporary directory");
  c->nodes_.resize(static_cast<std::size_t>(nodes));
  for (int i = 0; network != nullptr && i < nodes; ++i) {
    c->nodes_[static_cast<std::size_t>(i)].host = network->address(i);
    c->nodes_[static_cast<std::size_t>(i)].netns = network->namespace_name(i);
  }
  for (auto& n : c->nodes_) {
    n.client_port = rill::test::FreeLoopbackPort();
    n.route_port = rill::test::FreeLoopbackPort();
    n.monitor_port = rill::test::FreeLoopbackPort();
    if (n.client_port == 0 || n.route_port == 0 || n.monitor_port == 0) return Status::IOError("no free port");
  }
  std::string routes;
  for (const auto& n : c->nodes_) {
    if (!routes.empty()) routes.append(", ");
    routes.append("nats-route://").append(n.host).append(":").append(std::to_string(n.route_port));
  }
  for (int i = 0; i < nodes; ++i) {
    Node& n = c->nodes_[static_cast<std::size_t>(i)];
    std::string name = c->server_name(i);
    n.config = c->dir_.Sub(name + ".conf");
    n.log = c->dir_.Sub(name + ".log");
    std::ofstream conf(n.config);
    conf << "server_name: " << name << "\n"
         << "listen: " << n.host << ":" << n.client_port << "\n"
         << "http: " << n.host << ":" << n.monitor_port << "\n"
         << "jetstream { store_dir: \"" << c->dir_.Sub(name) << "\" }\n";
    if (nodes > 1) {
      conf << "cluster { name: rill, listen: " << n.host << ":" << n.route_port << ", routes: [ " << routes << " ] }\n";
    }
    if (!conf.good()) return Status::IOError("cannot write " + n.config);
    if (!c->urls_.empty()) c->urls_.append(",");
    c->urls_.append(c->url(i));
  }
  for (int i = 0; i < nodes; ++i) RILL_RETURN_IF_ERROR(c->Spawn(i));
  RILL_RETURN_IF_ERROR(c->WaitForMetaLeader(nodes, timeout_ns));
  return c;
}

NatsCluster::~NatsCluster() {
  for (auto& n : nodes_) {
    if (n.pid <= 0) continue;
    ::kill(n.pid, SIGKILL);  // also ends a SIGSTOPped node
    ::waitpid(n.pid, nullptr, 0);
    n.pid = -1;
  }
}

std::string NatsCluster::url(int i) const {
  const Node& n = nodes_[static_cast<std::size_t>(i)];
  std::string u("nats://");
  return u.append(n.host).append(":").append(std::to_string(n.client_port));
}

std::string NatsCluster::server_name(int i) const { return "n" + std::to_string(i + 1); }

int NatsCluster::IndexOf(std::string_view server_name) const {
  for (int i = 0; i < size(); ++i) {
    if (this->server_name(i) == server_name) return i;
  }
  return -1;
}

Status NatsCluster::Spawn(int i) {
  Node& n = nodes_[static_cast<std::size_t>(i)];
  if (n.pid > 0) return Status::InvalidArgument(server_name(i) + " is running");
  std::string bin = ServerBinary();
  // In its own network namespace: `ip netns exec NS nats-server ...` (ip execs the server, so
  // the pid is the server's).
  std::vector<std::string> args;
  if (!n.netns.empty()) args = {TestNetwork::IpBinary(), "netns", "exec", n.netns};
  args.insert(args.end(), {bin, "-c", n.config});
  // fork+exec (support/child_process.h): the child asks for SIGKILL when this process dies, so a
  // test that crashes or is killed by ctest's timeout leaves no nodes behind.
  std::string why;
  const pid_t pid = rill::test::SpawnWithLog(args, n.log, &why);
  if (pid < 0) return Status::IOError(why);
  n.pid = pid;
  n.paused = false;
  // Bounded wait for the client port: a node that cannot bind exits, and its log says why.
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (!Accepts(n.host, n.client_port)) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      n.pid = -1;
      return Status::Unavailable(server_name(i) + " exited at start; log:\n" + Tail(n.log));
    }
    if (Clock::now() > deadline) return Status::TimedOut(server_name(i) + " does not listen; log:\n" + Tail(n.log));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Status::OK();
}

Status NatsCluster::Kill(int i) {
  Node& n = nodes_[static_cast<std::size_t>(i)];
  if (n.pid <= 0) return Status::InvalidArgument(server_name(i) + " is not running");
  ::kill(n.pid, SIGKILL);
  ::waitpid(n.pid, nullptr, 0);
  n.pid = -1;
  n.paused = false;
  return Status::OK();
}

Status NatsCluster::Pause(int i) {
  Node& n = nodes_[static_cast<std::size_t>(i)];
  if (n.pid <= 0) return Status::InvalidArgument(server_name(i) + " is not running");
  if (::kill(n.pid, SIGSTOP) != 0) return Status::FromErrno("SIGSTOP " + server_name(i), errno);
  n.paused = true;
  return Status::OK();
}

Status NatsCluster::Resume(int i) {
  Node& n = nodes_[static_cast<std::size_t>(i)];
  if (n.pid <= 0) return Status::InvalidArgument(server_name(i) + " is not running");
  if (::kill(n.pid, SIGCONT) != 0) return Status::FromErrno("SIGCONT " + server_name(i), errno);
  n.paused = false;
  return Status::OK();
}

Status NatsCluster::Restart(int i) {
  if (running(i)) RILL_RETURN_IF_ERROR(Kill(i));
  return Spawn(i);
}

Status NatsCluster::WaitForMetaLeader(int replicas, std::int64_t timeout_ns) {
  auto deadline = Clock::now() + std::chrono::nanoseconds(timeout_ns);
  Status last = Status::TimedOut("not tried");
  while (Clock::now() < deadline) {
    auto client = replication::NatsClient::Connect(
        urls_, {.name = "nats-cluster-probe", .connect_timeout_ns = 500'000'000, .request_timeout_ns = 1'000'000'000});
    if (client.ok()) {
      last = (*client)->EnsureStream({.name = "RILL_PROBE", .subject = "rill.probe", .replicas = replicas});
      if (last.ok()) last = (*client)->DeleteStream("RILL_PROBE");
      if (last.ok()) return Status::OK();
    } else {
      last = client.status();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::string msg("no JetStream meta leader in time: ");
  msg.append(last.ToString());
  for (int i = 0; i < size(); ++i)
    msg.append("\n--- ").append(server_name(i)).append(".log\n").append(Tail(nodes_[static_cast<std::size_t>(i)].log));
  return Status::TimedOut(msg);
}

}  // namespace rill::test

namespace rill::test {

std::optional<std::chrono::system_clock::time_point> NatsCluster::StreamLeaderSince(
    int i, std::string_view stream, std::chrono::system_clock::time_point after) const {
  std::ifstream in(nodes_[static_cast<std::size_t>(i)].log);
  std::string want("new stream leader for '$G > ");
  want.append(stream).append("'");
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(want) == std::string::npos) continue;
    // "[pid] 2026/12/05 00:54:52.151122 [INF] ..."
    const std::size_t at = line.find("] ");
    std::tm tm{};
    int micros = 0;
    if (at == std::string::npos || std::sscanf(line.c_str() + at + 2, "%d/%d/%d %d:%d:%d.%d", &tm.tm_year, &tm.tm_mon,
                                               &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &micros) != 7)
      continue;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    tm.tm_isdst = -1;
    const std::time_t t = std::mktime(&tm);
    if (t == static_cast<std::time_t>(-1)) continue;
    const auto when = std::chrono::system_clock::from_time_t(t) + std::chrono::microseconds(micros);
    if (when >= after) return when;
  }
  return std::nullopt;
}

}  // namespace rill::test
