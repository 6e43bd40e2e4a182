// JetStream unavailable (issue 18's test list): the bank engine with a replicator whose whole
// NATS cluster is down, at start and mid-run. What the engine documents (engine_replication.h,
// EngineOptions::max_replication_lag) is what is checked:
//   - the replicator's state says it cannot reach NATS, naming the servers;
//   - kJournaled commands are accepted until max_replication_lag positions wait for
//     replication, then answered kReplicationUnavailable (with the bound in the message);
//   - kReplicated commands journaled before the bound wait (no timeout in the engine: the
//     replicator retries forever) and are acknowledged once the cluster is back;
//   - when it is back, everything journaled is shipped: the stream holds every position
//     exactly once, in order, byte for byte the writer's batches (read back directly and
//     through a Follower into another directory), and the gate opens again.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "rill/engine/engine.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/replication/follower.h"
#include "rill/replication/message_format.h"
#include "rill/replication/replicator.h"
#include "rill/tests/replication/cluster_fixture.h"
#include "rill/tests/replication/fault_workload.h"
#include "rill/tests/replication/journal_fixture.h"
#include "rill/tests/support/temp_dir.h"

namespace {

using namespace rill;
using namespace rill::examples::bank;
using engine::AckLevel;
using engine::CommandOutcome;
using engine::Completion;
using engine::RejectCode;
using rill::replication::test::DumpBatches;
using rill::test::FaultBankEngine;
using rill::test::kClusterSecond;
using rill::test::ReplicatedLoad;

constexpr std::uint64_t kLagBound = 2000;
using rill::test::kFaultAccounts;

void KillAll(rill::test::NatsCluster& c) {
  for (int i = 0; i < c.size(); ++i) REQUIRE(c.Kill(i).ok());
}
void RestartAll(rill::test::NatsCluster& c) {
  for (int i = 0; i < c.size(); ++i) REQUIRE(c.Restart(i).ok());
}

// Deposits at kJournaled, one at a time, until the engine refuses one (or `most` were
// accepted). Returns how many were accepted; *refusal is the refusal.
std::uint64_t DepositUntilRefused(FaultBankEngine& e, std::uint64_t& next_id, std::uint64_t most,
                                  CommandOutcome* refusal) {
  std::uint64_t accepted = 0;
  for (; accepted < most; ++accepted) {
    const CommandOutcome o =
        e.execute(Deposit{1 + next_id % kFaultAccounts, 1}, {.command_id = next_id}, AckLevel::kJournaled);
    ++next_id;
    if (!o.accepted()) {
      *refusal = o;
      break;
    }
  }
  return accepted;
}

// The stream once the cluster is back: every position 1..end exactly once, in order, its bytes the
// writer's batches; a follower in another directory copies the same bytes.
void CheckShippedExactlyOnce(const rill::test::NatsCluster& c, const std::string& writer_dir,
                             const std::string& follower_dir, std::uint64_t committed) {
  auto nats = rill::test::ConnectTestClient(c, "fault-unavailable-check");
  const rill::test::StreamContents s = rill::test::ReadStream(*nats, replication::StreamName("bank", "0"));
  CHECK(s.first_position == 1);
  CHECK(s.end_position == committed + 1);
  std::vector<std::byte> writer_bytes;
  for (const auto& b : DumpBatches(writer_dir)) writer_bytes.insert(writer_bytes.end(), b.begin(), b.end());
  CHECK(s.bytes == writer_bytes);
  auto follower = replication::Follower::Start(rill::test::TestFollowerOptions(follower_dir, c.urls(), "bank"));
  REQUIRE(follower.ok());
  const Status applied = (*follower)->WaitApplied(committed, 20 * kClusterSecond);
  INFO("follower: " << (*follower)->stats().state);
  REQUIRE(applied.ok());
  (*follower)->Stop();
  CHECK(DumpBatches(follower_dir) == DumpBatches(writer_dir));
}

}  // namespace

TEST_CASE(
    "JetStream down at start: journaled up to the lag bound, then kReplicationUnavailable, all shipped once "
    "it returns",
    "[replication][cluster][fault]") {
  RILL_START_CLUSTER_OR_SKIP(c, 3);
  KillAll(c);  // the ports are known, nothing listens: a cluster not started yet
  rill::test::TempDir tmp("rill-fault-down");
  const std::string writer_dir = tmp.Sub("writer");
  auto rep = replication::Replicator::Start(rill::test::TestReplicatorOptions(writer_dir, c.urls(), "bank"));
  REQUIRE(rep.ok());
  Completion waiting;  // before the engine: it delivers to it until it is destroyed
  auto engine = rill::test::OpenFaultEngine(writer_dir, rep->get(), kLagBound);
  std::uint64_t next_id = 1;
  rill::test::OpenFaultAccounts(*engine, next_id, AckLevel::kJournaled);

  // A kReplicated command is journaled, and waits.
  REQUIRE(engine->submit(Deposit{1, 5}, {.command_id = next_id++}, AckLevel::kReplicated, waiting) ==
          engine::ClaimStatus::kOk);

  // The state names the cause and the servers.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string state = (*rep)->status();
  while (state.find("connecting to NATS") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    state = (*rep)->status();
  }
  INFO("replicator state: " << state);
  CHECK(state.rfind("retrying: ", 0) == 0);
  CHECK(state.find("connecting to NATS at " + c.urls()) != std::string::npos);
  CHECK((*rep)->final_error().ok());  // transient: retried, not final
  CHECK((*rep)->replicated_position() == 0);

  // kJournaled up to the bound (one command per batch here: no overshoot), then refused.
  CommandOutcome refusal;
  const std::uint64_t accepted = DepositUntilRefused(*engine, next_id, 3 * kLagBound, &refusal);
  const std::uint64_t committed_while_down = engine->committed_position();
  INFO("accepted " << accepted << ", committed " << committed_while_down
                   << ", refusal: " << refusal.rejection().message());
  REQUIRE(!refusal.accepted());
  CHECK(refusal.rejection().code == RejectCode::kReplicationUnavailable);
  CHECK(std::string(refusal.rejection().message()).find("max_replication_lag 2000") != std::string::npos);
  CHECK(committed_while_down >= kLagBound - 1);
  CHECK(committed_while_down <= kLagBound + 1);
  // Refused at every level, kReplicated included, and nothing more is journaled.
  CHECK(engine->execute(Deposit{2, 1}, {.command_id = next_id++}, AckLevel::kReplicated).rejection().code ==
        RejectCode::kReplicationUnavailable);
  CHECK(engine->committed_position() == committed_while_down);
  CHECK(!waiting.ready());  // still journaled only: never acknowledged replicated without a quorum

  // The cluster comes back: everything is shipped, the waiting command is acknowledged.
  RestartAll(c);
  REQUIRE(rill::test::WaitReady(waiting, 40));
  const CommandOutcome& w = waiting.Wait();
  INFO(w.rejection().message());
  REQUIRE(w.accepted());
  CHECK(w.position() == kFaultAccounts + 1);
  const Status shipped = (*rep)->WaitReplicated(committed_while_down, 30 * kClusterSecond);
  INFO("replicator: " << (*rep)->status() << " / " << (*rep)->stats().last_error);
  REQUIRE(shipped.ok());
  // The gate opens again (checked once per batch: the first command after may still be refused).
  CommandOutcome after;
  for (int i = 0; i < 3; ++i) {
    after = engine->execute(Deposit{3, 1}, {.command_id = next_id++}, AckLevel::kReplicated);
    if (after.accepted()) break;
  }
  CHECK(after.accepted());
  const std::uint64_t committed = engine->committed_position();
  REQUIRE((*rep)->WaitReplicated(committed, 10 * kClusterSecond).ok());
  CHECK((*rep)->final_error().ok());
  WARN("cluster down at start: state \"" << state << "\"; refused after " << accepted << " deposits: \""
                                         << refusal.rejection().message() << "\"");
  engine->Stop();
  (*rep)->Stop();
  CheckShippedExactlyOnce(c, writer_dir, tmp.Sub("follower"), committed);
}

TEST_CASE("JetStream down mid-run under a kReplicated workload: acks stop, resume, nothing lost or doubled",
          "[replication][cluster][fault]") {
  RILL_START_CLUSTER_OR_SKIP(c, 3);
  rill::test::TempDir tmp("rill-fault-midrun");
  const std::string writer_dir = tmp.Sub("writer");
  auto rep = replication::Replicator::Start(rill::test::TestReplicatorOptions(writer_dir, c.urls(), "bank"));
  REQUIRE(rep.ok());
  auto engine = rill::test::OpenFaultEngine(writer_dir, rep->get(), kLagBound);
  std::uint64_t next_id = 1;
  rill::test::OpenFaultAccounts(*engine, next_id, AckLevel::kReplicated);
  ReplicatedLoad load(*engine, **rep, 1'000'000);  // kReplicated deposits, 32 in flight

  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  KillAll(c);
  // Acks the replicator had received before the kill may still be handled just after it: the
  // outage counts from 300 ms on.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto down_at = std::chrono::steady_clock::now();
  const std::uint64_t replicated_when_down = (*rep)->replicated_position();
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  // Down: the state says so, and journaled commands run into the bound.
  const std::string state = (*rep)->status();
  INFO("replicator state while down: " << state);
  CHECK(state.rfind("retrying: ", 0) == 0);
  CHECK(state.find("not connected to NATS at " + c.urls()) != std::string::npos);
  CommandOutcome refusal;
  const std::uint64_t journaled = DepositUntilRefused(*engine, next_id, 3 * kLagBound, &refusal);
  INFO("journaled while down " << journaled << ": " << refusal.rejection().message());
  REQUIRE(!refusal.accepted());
  CHECK(refusal.rejection().code == RejectCode::kReplicationUnavailable);
  const std::uint64_t replicated_while_down = (*rep)->replicated_position();
  CHECK(engine->committed_position() <= replicated_while_down + kLagBound + 64);  // one batch may overshoot
  const auto restart_at = std::chrono::steady_clock::now();
  RestartAll(c);
  const std::uint64_t committed_before_restart = engine->committed_position();
  const Status shipped = (*rep)->WaitReplicated(committed_before_restart, 40 * kClusterSecond);
  INFO("replicator: " << (*rep)->status() << " / " << (*rep)->stats().last_error);
  REQUIRE(shipped.ok());
  const auto shipped_at = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));  // acks resume
  load.Stop();
  const std::uint64_t committed = engine->committed_position();
  REQUIRE((*rep)->WaitReplicated(committed, 10 * kClusterSecond).ok());
  CHECK((*rep)->final_error().ok());

  // No kReplicated ack while the cluster was down beyond what was replicated before (acks of
  // positions replicated before may still be delivered meanwhile).
  std::uint64_t during = 0, after = 0;
  for (const ReplicatedLoad::Ack& a : load.acks()) {
    if (a.acked > down_at && a.acked < restart_at) {
      ++during;
      CHECK(a.position <= replicated_when_down);
    }
    if (a.acked > restart_at) ++after;
  }
  INFO("acks " << load.acks().size() << ": " << during << " while down, " << after << " after the restart; refused "
               << load.refused());
  CHECK(after > 0);                      // acks resumed
  CHECK(load.AckedUnreplicated() == 0);  // every ack covered by the replicated position
  WARN("cluster down mid-run: state \"" << state << "\"; " << journaled << " journaled commands until \""
                                        << refusal.rejection().message() << "\"; kReplicated acks "
                                        << load.acks().size() << " (" << during << " while down, " << after
                                        << " after the restart), " << load.refused() << " refused; shipped "
                                        << std::chrono::duration<double>(shipped_at - restart_at).count()
                                        << " s after the restart began");
  engine->Stop();
  (*rep)->Stop();
  for (const ReplicatedLoad::Ack& a : load.acks()) REQUIRE(a.position <= committed);
  CheckShippedExactlyOnce(c, writer_dir, tmp.Sub("follower"), committed);
}
