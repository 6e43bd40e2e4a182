// AckLevel::kReplicated end to end on the engine, with a scripted ReplicationProgress in place
// of the NATS replicator (tests/replication/ runs the real one): outcomes wait for the
// replicated position, the lag bound refuses commands, a final error (fenced) fails what waits
// and everything after, kReplicatedDurable waits for both, and Stop answers what is left.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "rill/engine/replication_progress.h"
#include "rill/tests/support/temp_dir.h"
#include "rill/tests/writer/bank_engine_util.h"

namespace {

using namespace rill::examples::bank;
using rill::Status;
using rill::engine::AckLevel;
using rill::engine::CommandOutcome;
using rill::engine::Completion;
using rill::engine::RejectCode;
using rill::testing::OpenBank;
using rill::testing::SmallBankOptions;

// The test moves the replicated position by hand, as a replicator's acks would.
class ScriptedReplication final : public rill::engine::ReplicationProgress {
 public:
  std::uint64_t replicated_position() const noexcept override { return position_.load(std::memory_order_acquire); }
  void SetWake(std::function<void()> wake) override {
    std::lock_guard<std::mutex> lock(mu_);
    wake_ = std::move(wake);
  }
  Status final_error() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return error_;
  }
  void Advance(std::uint64_t position) {
    position_.store(position, std::memory_order_release);
    Wake();
  }
  void Fail(Status why) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      error_ = std::move(why);
    }
    Wake();
  }
  bool attached() const {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<bool>(wake_);
  }

 private:
  void Wake() {
    std::lock_guard<std::mutex> lock(mu_);  // SetWake({}) returns only when no call is running
    if (wake_) wake_();
  }
  std::atomic<std::uint64_t> position_{0};
  mutable std::mutex mu_;
  std::function<void()> wake_;
  Status error_;
};

// Polls `done` for up to `ms`: the outcome must NOT arrive while replication stands still.
bool ArrivesWithin(const Completion& done, int ms) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < until) {
    if (done.ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return done.ready();
}

TEST_CASE("a kReplicated outcome waits for the replicated position to cover its last event", "[engine][replicated]") {
  rill::test::TempDir dir;
  ScriptedReplication replication;
  auto o = SmallBankOptions(dir.path());
  o.replication = &replication;
  auto engine = OpenBank(o);
  REQUIRE(replication.attached());

  Completion done;
  REQUIRE(engine->submit(OpenAccount{1, 10, 978}, {.command_id = 1}, AckLevel::kReplicated, done) ==
          rill::engine::ClaimStatus::kOk);
  CHECK_FALSE(ArrivesWithin(done, 50));  // journaled, not replicated
  const std::uint64_t committed = engine->committed_position();
  REQUIRE(committed >= 1);
  replication.Advance(committed - 1);  // not far enough: its last event is at `committed`
  CHECK_FALSE(ArrivesWithin(done, 30));
  replication.Advance(committed);  // the wake-up tick, with the writer idle
  const CommandOutcome& o2 = done.Wait();
  CHECK(o2.accepted());
  CHECK(o2.position() == committed);

  // kJournaled is unaffected by replication.
  CHECK(engine->execute(Deposit{1, 5}, {.command_id = 2}, AckLevel::kJournaled).accepted());
  engine->Stop();
  CHECK_FALSE(replication.attached());  // Stop detached the engine's wake-up
}

TEST_CASE("kReplicated without a replicator is an invalid command", "[engine][replicated]") {
  rill::test::TempDir dir;
  auto engine = OpenBank(SmallBankOptions(dir.path()));
  const CommandOutcome o = engine->execute(OpenAccount{1, 10, 978}, {.command_id = 1}, AckLevel::kReplicated);
  CHECK(o.code() == RejectCode::kInvalidCommand);
}

TEST_CASE("past max_replication_lag the engine answers kReplicationUnavailable until replication catches up",
          "[engine][replicated]") {
  rill::test::TempDir dir;
  ScriptedReplication replication;
  auto o = SmallBankOptions(dir.path());
  o.replication = &replication;
  o.max_replication_lag = 4;
  o.digest_interval_commands = 0;  // one position per command, so the count below is exact
  auto engine = OpenBank(o);

  REQUIRE(engine->execute(OpenAccount{1, 10, 978}, {.command_id = 1}).accepted());
  std::uint64_t id = 2;
  for (int i = 0; i < 3; ++i) REQUIRE(engine->execute(Deposit{1, 1}, {.command_id = id++}).accepted());
  // Four positions wait: the next batch is refused, with the numbers.
  CommandOutcome refused = engine->execute(Deposit{1, 1}, {.command_id = id++});
  CHECK(refused.code() == RejectCode::kReplicationUnavailable);
  CHECK(std::string(refused.rejection().message()).find("max_replication_lag 4") != std::string::npos);
  replication.Advance(engine->committed_position());
  CHECK(engine->execute(Deposit{1, 1}, {.command_id = id++}).accepted());
}

TEST_CASE("a final replication error fails what waits and every later command", "[engine][replicated]") {
  rill::test::TempDir dir;
  ScriptedReplication replication;
  auto o = SmallBankOptions(dir.path());
  o.replication = &replication;
  auto engine = OpenBank(o);

  Completion done;
  REQUIRE(engine->submit(OpenAccount{1, 10, 978}, {.command_id = 1}, AckLevel::kReplicated, done) ==
          rill::engine::ClaimStatus::kOk);
  CHECK_FALSE(ArrivesWithin(done, 30));
  replication.Fail(Status::FailedPrecondition("fenced: the stream holds position 1 from epoch 2"));
  const CommandOutcome& o1 = done.Wait();
  CHECK(o1.code() == RejectCode::kReplicationUnavailable);
  CHECK(std::string(o1.rejection().message()).find("fenced") != std::string::npos);
  const CommandOutcome later = engine->execute(Deposit{1, 1}, {.command_id = 2}, AckLevel::kJournaled);
  CHECK(later.code() == RejectCode::kReplicationUnavailable);
}

TEST_CASE("kReplicatedDurable waits for the sync and for replication", "[engine][replicated]") {
  rill::test::TempDir dir;
  ScriptedReplication replication;
  auto o = SmallBankOptions(dir.path(), rill::journal::Durability::kInterval);
  o.journal.sync_interval_ms = 2000;  // the first sync comes well after the checks below
  o.replication = &replication;
  auto engine = OpenBank(o);

  Completion done;
  REQUIRE(engine->submit(OpenAccount{1, 10, 978}, {.command_id = 1}, AckLevel::kReplicatedDurable, done) ==
          rill::engine::ClaimStatus::kOk);
  CHECK_FALSE(ArrivesWithin(done, 30));
  replication.Advance(engine->committed_position());
  CHECK_FALSE(ArrivesWithin(done, 50));    // replicated, not yet durable
  const CommandOutcome& o1 = done.Wait();  // after the interval's sync
  CHECK(o1.accepted());
  CHECK(engine->durable_position() >= o1.position());
}

TEST_CASE("Stop answers kReplicated commands that replication did not confirm in time", "[engine][replicated]") {
  rill::test::TempDir dir;
  ScriptedReplication replication;
  auto o = SmallBankOptions(dir.path());
  o.replication = &replication;
  o.replication_stop_wait_ns = 20'000'000;
  auto engine = OpenBank(o);

  Completion done;
  REQUIRE(engine->submit(OpenAccount{1, 10, 978}, {.command_id = 1}, AckLevel::kReplicated, done) ==
          rill::engine::ClaimStatus::kOk);
  CHECK_FALSE(ArrivesWithin(done, 20));
  engine->Stop();
  const CommandOutcome& o1 = done.Wait();
  CHECK(o1.code() == RejectCode::kReplicationUnavailable);
  CHECK(std::string(o1.rejection().message()).find("not confirmed replicated") != std::string::npos);
}

}  // namespace
