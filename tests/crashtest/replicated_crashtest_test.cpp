// `rill crashtest --replicate` (SCALE-OUT.md 3e.2) against a real three-node NATS cluster: the
// parent in process (RunCrashtest<W>), the children crashtest_tool, each a replication Node on
// node-a or node-b; writers killed with SIGKILL, alternating standby takeover and restart in
// place. Whatever moment a kill lands on, the run must pass; the figures it prints show both
// kinds of round and a tail moved aside. Needs nats-server (WARN "skipped: ..." otherwise).
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <regex>
#include <string>

#include "crashtest_test_util.h"
#include "rill/tests/replication/cluster_fixture.h"
#include "rill/tools/crashtest/crashtest.h"

namespace {

using namespace rill::tools::crashtest;
using rill::test::NatsCluster;
using rill::test::TempDir;

struct Output {
  int exit = -1;
  std::string out, err;
};

Output RunInProcess(CrashtestOptions o) {
  o.child_exe = CRASHTEST_TOOL;
  Output r;
  char *out_buf = nullptr, *err_buf = nullptr;
  std::size_t out_len = 0, err_len = 0;
  std::FILE* out = ::open_memstream(&out_buf, &out_len);
  std::FILE* err = ::open_memstream(&err_buf, &err_len);
  r.exit = RunCrashtest<rill::examples::bank::BankWorkload>(o, out, err);
  std::fclose(out);
  std::fclose(err);
  r.out.assign(out_buf, out_len);
  r.err.assign(err_buf, err_len);
  std::free(out_buf);
  std::free(err_buf);
  return r;
}

std::uint64_t Seed() {
  const char* env = std::getenv("RILL_TEST_SEED");
  const std::uint64_t seed = env != nullptr ? std::strtoull(env, nullptr, 10) : 1 + std::random_device{}() % 1'000'000;
  std::printf("replicated crashtest: seed %llu (rerun with RILL_TEST_SEED=%llu)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  return seed;
}

// A replicated bank run of `kills` rounds on `cluster`, 150-300 ms each, a 1 s lease.
CrashtestOptions ReplicatedRun(const TempDir& tmp, const NatsCluster& cluster, int kills) {
  CrashtestOptions o;
  o.kills = kills;
  o.seed = Seed();
  o.dir = tmp.Sub("run");
  o.domain = "bank";
  o.durability = "none";
  o.producers = 2;
  o.min_ms = 150;
  o.max_ms = 300;
  // Unpaced: producer 1 (kJournaled) commits without pause, so a kill nearly always leaves a
  // tail the stream does not hold yet (paced, the replicator often has everything).
  o.rate = 0;
  o.replicate = cluster.urls();
  o.lease_ttl_ms = 1000;
  return o;
}

}  // namespace

TEST_CASE("replicated run: writer kills, restarts in place and standby takeovers keep every replicated ack",
          "[crashtest][replication][failover]") {
  RILL_START_CLUSTER_OR_SKIP(cluster, 3);
  TempDir tmp("rill-crashtest-rep");
  const Output r = RunInProcess(ReplicatedRun(tmp, cluster, 6));
  INFO(r.out << r.err);
  CHECK(r.exit == 0);
  CHECK_THAT(r.out, Catch::Contains("result: ok"));
  CHECK_THAT(r.out, Catch::Contains("[takeover, node b"));
  CHECK_THAT(r.out, Catch::Contains("[in place, node"));
  CHECK_THAT(r.out, Catch::Contains("replicated: 2 restarts in place, 3 standby takeovers"));
  CHECK_THAT(r.out, Catch::Contains("aside (aside-"));  // a round line: the tail it moved
  CHECK_THAT(r.out, Catch::Contains("moved-aside records not on it"));
  // Each takeover is hot: the standby's engine had applied nearly everything it followed, so
  // the new writer replays a fraction of the journal (a warm one replays all of it).
  const std::regex takeover_line(R"(after position (\d+), (\d+) events replayed)");
  int takeovers = 0;
  for (auto it = std::sregex_iterator(r.out.begin(), r.out.end(), takeover_line); it != std::sregex_iterator(); ++it) {
    const std::uint64_t position = std::stoull((*it)[1].str()), replayed = std::stoull((*it)[2].str());
    INFO("takeover after position " << position << " replayed " << replayed << " events");
    CHECK(replayed * 2 < position);
    ++takeovers;
  }
  CHECK(takeovers == 3);
}

TEST_CASE("replicated run: --json is one object with each round's takeover and the run's summary",
          "[crashtest][replication][failover]") {
  RILL_START_CLUSTER_OR_SKIP(cluster, 3);
  TempDir tmp("rill-crashtest-rep");
  CrashtestOptions o = ReplicatedRun(tmp, cluster, 2);  // the first writer, then a takeover
  o.json = true;
  const Output r = RunInProcess(o);
  INFO(r.out << r.err);
  CHECK(r.exit == 0);
  CHECK(r.out.rfind("{\"seed\":", 0) == 0);
  CHECK(r.out.find('\n') == r.out.size() - 1);  // one line, and no round lines around it
  CHECK_THAT(r.out, Catch::Contains("\"result\":\"ok\""));
  CHECK_THAT(r.out, Catch::Contains("\"replicated\":{\"kind\":\"first\",\"node\":\"a\""));
  CHECK_THAT(r.out, Catch::Contains("\"replicated\":{\"kind\":\"takeover\",\"node\":\"b\""));
  CHECK_THAT(r.out, Catch::Contains("\"replicated\":{\"in_place\":0,\"takeovers\":1,\"takeover_ms\":["));
  CHECK_THAT(r.out, Catch::Contains("\"takeover_replayed\":["));
}

TEST_CASE("replicated run: --lease-ttl-ms without --replicate is a usage error", "[crashtest][replication]") {
  TempDir tmp("rill-crashtest-rep");
  CrashtestOptions o;
  o.kills = 1;
  o.seed = 1;
  o.dir = tmp.Sub("run");
  o.lease_ttl_ms = 500;
  const Output r = RunInProcess(o);
  CHECK(r.exit == 2);
  CHECK_THAT(r.err, Catch::Contains("--lease-ttl-ms applies to a replicated run only"));
}
