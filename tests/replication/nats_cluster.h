// rill/tests/replication/nats_cluster.h: a throwaway NATS JetStream cluster for one test case,
// started by the test itself (fork+exec, not scripts/nats-throwaway.sh) so it can kill,
// pause and restart single nodes. Nodes get SIGKILL when the thread that started them exits
// (PR_SET_PDEATHSIG), so a crashed or timed-out test leaves none behind: call Start and
// Restart from the test's main thread.
//
//   if (auto why = NatsCluster::Unavailable()) { WARN("skipped: " << *why); return; }
//   auto cluster = NatsCluster::Start(3);
//   REQUIRE(cluster.ok());
//   auto client = NatsClient::Connect((*cluster)->urls());
//   (*cluster)->Kill((*cluster)->IndexOf(leader_name));   // SIGKILL + waitpid
//   (*cluster)->Restart(i);                               // same ports, same store
// (cluster_fixture.h wraps the first three lines: RILL_START_CLUSTER_OR_SKIP.)
//
// StartOn(network) puts node i in host i of a TestNetwork (test_network.h: a network namespace
// each, on its own address), so a test can partition them; the test process reaches them all.
//
// Nodes are n1..nN (server names; index i is node n<i+1>), on 127.0.0.1 with ports found by
// binding port 0, store and logs in a TempDir. Start returns once a meta leader exists (a
// probe stream of N replicas could be created and deleted), within the timeout. The
// destructor SIGKILLs every node still running (a paused one too) by its pid.
//
// Thread safety: one thread drives a NatsCluster.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rill/base/result.h"
#include "rill/tests/replication/test_network.h"
#include "rill/tests/support/temp_dir.h"

namespace rill::test {

class NatsCluster {
 public:
  // Why the suite cannot run here (no nats-server binary), or nullopt.
  static std::optional<std::string> Unavailable();
  static std::string ServerBinary();  // $RILL_NATS_SERVER, else /usr/sbin/nats-server

  static Result<std::unique_ptr<NatsCluster>> Start(int nodes = 3, std::int64_t timeout_ns = 20'000'000'000);
  // Start's one attempt (Start retries it with fresh ports: see nats_cluster.cpp).
  static Result<std::unique_ptr<NatsCluster>> StartOnce(int nodes, std::int64_t timeout_ns,
                                                        const TestNetwork* network = nullptr);
  // One node per host of `network` (which must outlive the cluster).
  static Result<std::unique_ptr<NatsCluster>> StartOn(const TestNetwork& network,
                                                      std::int64_t timeout_ns = 20'000'000'000);
  ~NatsCluster();
  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;

  int size() const noexcept { return static_cast<int>(nodes_.size()); }
  const std::string& urls() const noexcept { return urls_; }  // every node, comma-separated
  std::string url(int i) const;                               // node i alone
  std::string server_name(int i) const;                       // "n<i+1>"
  int IndexOf(std::string_view server_name) const;            // -1 when no such node
  bool running(int i) const { return nodes_[i].pid > 0; }
  const std::string& directory() const noexcept { return dir_.path(); }

  Status Kill(int i);     // SIGKILL and reap; the store stays for Restart
  Status Pause(int i);    // SIGSTOP: the node hangs, its sockets stay open
  Status Resume(int i);   // SIGCONT
  Status Restart(int i);  // (re)spawns a killed node with the same config; waits for its port
  // Waits until the cluster has a meta leader (a probe stream of `replicas` is created and deleted).
  Status WaitForMetaLeader(int replicas, std::int64_t timeout_ns);
  // When node i logged that it became the leader of `stream` ("new stream leader for
  // '$G > <stream>'") at or after `after`: the first such time, or nullopt. From the node's log
  // (microseconds, the server's local time read back as local time): the exact moment an
  // election ended, which a client's stream-info request only sees later.
  std::optional<std::chrono::system_clock::time_point> StreamLeaderSince(
      int i, std::string_view stream, std::chrono::system_clock::time_point after) const;

 private:
  struct Node {
    int client_port = 0, route_port = 0, monitor_port = 0;
    std::string config, log;
    std::string host = "127.0.0.1";  // its address; and its network namespace ("" = ours)
    std::string netns;
    pid_t pid = -1;
    bool paused = false;
  };
  NatsCluster() : dir_("rill-nats") {}
  Status Spawn(int i);

  TempDir dir_;
  std::vector<Node> nodes_;
  std::string urls_;
};

}  // namespace rill::test
