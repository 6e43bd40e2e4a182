// A real network partition (SCALE-OUT.md 3e.4, its first form): three nats-servers, each in its
// own network namespace (test_network.h); the writer talks only to the stream's leader, and the
// leader is cut off from the other two (blackhole routes both ways) while a kReplicated workload
// runs. The minority (the leader and the writer) can store nothing with a quorum: no command
// submitted after the cut is acknowledged while the partition lasts, although the majority
// elects a leader of its own meanwhile. After the heal the old leader rejoins as a follower, the
// replicator resyncs through it, everything is acknowledged, and the stream holds every
// position once, byte for byte the writer's journal.
// Needs root and `ip` (WARN "skipped: <why>" otherwise, like a missing nats-server).
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "rill/replication/message_format.h"
#include "rill/replication/nats_client.h"
#include "rill/replication/replicator.h"
#include "rill/tests/replication/cluster_fixture.h"
#include "rill/tests/replication/fault_workload.h"
#include "rill/tests/replication/journal_fixture.h"
#include "rill/tests/replication/test_network.h"
#include "rill/tests/support/temp_dir.h"

namespace {

using namespace rill;
using engine::AckLevel;
using rill::replication::test::DumpBatches;
using rill::test::kClusterSecond;
using rill::test::NatsCluster;
using rill::test::ReplicatedLoad;
using rill::test::TestNetwork;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// The replicator of `dir` talking to node `node` alone.
std::unique_ptr<replication::Replicator> StartReplicator(const std::string& dir, const NatsCluster& c, int node) {
  replication::ReplicatorOptions o = rill::test::TestReplicatorOptions(dir, c.url(node), "bank");
  auto r = replication::Replicator::Start(o);
  if (!r.ok()) FAIL("starting the replicator: " << r.status().ToString());
  return std::move(r).value();
}

}  // namespace

TEST_CASE("a network partition: the writer's minority side acknowledges nothing, the heal loses nothing",
          "[replication][cluster][fault][partition]") {
  if (auto why = NatsCluster::Unavailable()) {
    WARN("skipped: " << *why);
    return;
  }
  if (auto why = TestNetwork::Unavailable()) {
    WARN("skipped: " << *why);
    return;
  }
  auto net = TestNetwork::Create(3);
  REQUIRE(net.ok());
  auto started = NatsCluster::StartOn(**net);
  INFO(started.status().ToString());
  REQUIRE(started.ok());
  NatsCluster& c = **started;
  rill::test::TempDir tmp("rill-fault-netns");
  const std::string writer_dir = tmp.Sub("writer");
  const std::string stream = replication::StreamName("bank", "0");

  // The stream is created by a first replicator (on every node); then the writer is moved to
  // the leader alone, so that it stays on the leader's side of the cut.
  int leader = -1;
  std::uint64_t next_id = 1;
  {
    auto rep = replication::Replicator::Start(rill::test::TestReplicatorOptions(writer_dir, c.urls(), "bank"));
    REQUIRE(rep.ok());
    auto engine = rill::test::OpenFaultEngine(writer_dir, rep->get(), 1'000'000);
    rill::test::OpenFaultAccounts(*engine, next_id, AckLevel::kReplicated);
    REQUIRE((*rep)->WaitReplicated(engine->committed_position(), 20 * kClusterSecond).ok());  // the stream exists
    engine->Stop();
    auto nats = rill::test::ConnectTestClient(c, "netns-leader");
    auto l = nats->StreamLeader(stream);
    REQUIRE(l.ok());
    leader = c.IndexOf(*l);
    REQUIRE(leader >= 0);
  }
  auto rep = StartReplicator(writer_dir, c, leader);
  auto engine = rill::test::OpenFaultEngine(writer_dir, rep.get(), 1'000'000);
  std::string majority_urls;
  for (int i = 0; i < c.size(); ++i) {
    if (i == leader) continue;
    majority_urls.append(majority_urls.empty() ? "" : ",").append(c.url(i));
  }
  auto majority = replication::NatsClient::Connect(majority_urls, {.name = "netns-majority"});
  REQUIRE(majority.ok());

  ReplicatedLoad load(*engine, *rep, 1'000'000);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  REQUIRE(load.acked_count() > 0);
  REQUIRE((*net)->Partition({leader}).ok());
  const Clock::time_point cut_at = Clock::now();
  // Publishes the leader had already stored with a quorum may be answered just after the cut.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const Clock::time_point settled_at = Clock::now();
  const std::uint64_t replicated_at_cut = rep->replicated_position();

  // The majority elects a leader of its own.
  std::string new_leader;
  while (Clock::now() - cut_at < std::chrono::seconds(30)) {
    auto l = (*majority)->StreamLeader(stream);
    if (l.ok() && !l->empty() && *l != c.server_name(leader)) {
      new_leader = *l;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const Clock::time_point elected_at = Clock::now();
  INFO("cut off " << c.server_name(leader) << "; majority leader '" << new_leader << "'");
  REQUIRE(!new_leader.empty());
  // The partition lasts 3 s more: the minority still has nothing acknowledged.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const std::uint64_t replicated_at_heal = rep->replicated_position();
  const std::string state_at_heal = rep->status();
  REQUIRE((*net)->Heal().ok());
  const Clock::time_point healed_at = Clock::now();

  // After the heal everything committed is replicated, through the old leader.
  REQUIRE(rep->WaitReplicated(engine->committed_position(), 60 * kClusterSecond).ok());
  const Clock::time_point caught_up_at = Clock::now();
  load.Stop();
  const std::uint64_t committed = engine->committed_position();
  REQUIRE(rep->WaitReplicated(committed, 20 * kClusterSecond).ok());
  CHECK(rep->final_error().ok());
  engine->Stop();
  rep->Stop();

  std::uint64_t during = 0, beyond = 0, after_heal = 0;
  for (const ReplicatedLoad::Ack& a : load.acks()) {
    if (a.acked > settled_at && a.acked < healed_at) {
      ++during;
      if (a.position > replicated_at_cut) ++beyond;
    }
    if (a.acked >= healed_at) ++after_heal;
  }
  INFO("acks during the partition: " << during << " (" << beyond << " beyond position " << replicated_at_cut
                                     << "); replicator at the heal: " << state_at_heal);
  CHECK(beyond == 0);                              // the minority acknowledged nothing new
  CHECK(replicated_at_heal == replicated_at_cut);  // nor did its replicated position move
  CHECK(after_heal > 0);                           // the commands waiting through the cut, then more
  CHECK(load.AckedUnreplicated() == 0);
  // Every position once, byte for byte the writer's journal (ReadStream REQUIREs the chain).
  const rill::test::StreamContents s = rill::test::ReadStream(**majority, stream);
  CHECK(s.first_position == 1);
  CHECK(s.end_position == committed + 1);
  std::vector<std::byte> writer_bytes;
  for (const auto& b : DumpBatches(writer_dir)) writer_bytes.insert(writer_bytes.end(), b.begin(), b.end());
  CHECK(s.bytes == writer_bytes);
  for (const ReplicatedLoad::Ack& a : load.acks()) CHECK(a.position < s.end_position);
  WARN("partition: " << c.server_name(leader) << " and the writer cut off; the majority elected " << new_leader << " "
                     << Seconds(elected_at - cut_at) << " s after the cut; " << during << " acks during the cut, "
                     << beyond << " beyond position " << replicated_at_cut << "; replicated again "
                     << Seconds(caught_up_at - healed_at) << " s after the heal; " << after_heal << " acks after it");
}
