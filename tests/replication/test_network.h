// rill/tests/replication/test_network.h: hosts for one test case, each its own Linux network
// namespace, so a test can cut the network between them (SCALE-OUT.md 3e.4: a partition).
//
//   if (auto why = TestNetwork::Unavailable()) { WARN("skipped: " << *why); return; }
//   auto net = TestNetwork::Create(3);                 // hosts 0..2, e.g. 198.18.7.34..36
//   auto cluster = NatsCluster::StartOn(**net);        // a nats-server in each namespace
//   (*net)->Partition({0});                            // host 0 | hosts 1, 2
//   (*net)->Heal();
//
// Layout: a bridge in this process's namespace holds the first address of a /28 in 198.18.0.0/15
// (reserved for benchmarking network devices, RFC 2544, so it never shadows a network the
// machine uses; which /28 comes from the pid, so concurrent tests get their own); host i is the
// namespace rill-<pid>-<i> whose veth eth0 holds the (i+2)th address, attached to the bridge. The test process reaches
// every host; a partition adds blackhole routes inside the namespaces between the two sides
// (both ways), so hosts on different sides cannot exchange a packet while each still talks to
// the test process. The destructor deletes the namespaces (their veths go with them) and the
// bridge; Create first removes what a test process that died without it left (namespaces and
// bridges named after a pid that no longer runs). Needs root (CAP_NET_ADMIN) and iproute2's
// `ip`: Unavailable() says when not.
// Thread safety: one thread drives a TestNetwork.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rill/base/result.h"
#include "rill/base/status.h"

namespace rill::test {

class TestNetwork {
 public:
  // Why namespaces cannot be made here (not root, no `ip`, or creating one failed), or nullopt.
  static std::optional<std::string> Unavailable();
  static std::string IpBinary();  // /usr/sbin/ip or /sbin/ip

  static Result<std::unique_ptr<TestNetwork>> Create(int hosts);
  ~TestNetwork();
  TestNetwork(const TestNetwork&) = delete;
  TestNetwork& operator=(const TestNetwork&) = delete;

  int size() const noexcept { return static_cast<int>(hosts_.size()); }
  const std::string& address(int host) const { return hosts_[static_cast<std::size_t>(host)].address; }
  const std::string& namespace_name(int host) const { return hosts_[static_cast<std::size_t>(host)].netns; }

  // The hosts in `side` and the others can no longer reach each other (the test process still
  // reaches all). One partition at a time: Heal first.
  Status Partition(const std::vector<int>& side);
  Status Heal();  // removes the partition's routes

 private:
  struct Host {
    std::string netns, veth, address;
  };
  TestNetwork() = default;
  Status Run(const std::vector<std::string>& args);  // `ip ARGS`; the error carries its output

  std::string bridge_;
  std::vector<Host> hosts_;
  std::vector<std::pair<int, int>> cut_;  // (from host, to host) blackholed
};

}  // namespace rill::test
