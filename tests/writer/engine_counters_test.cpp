// The engine's and its projectors' counters (engine/engine_counters.h,
// projections/projector_counters.h), read back through the counters file as `rill top` reads
// it: every decided command counted once by result and reason, batches, positions, and a
// projector's position and lag.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "bank_engine_util.h"
#include "rill/engine/engine.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/examples/bank/read_models/balances.h"
#include "rill/observability/counters_file.h"
#include "rill/observability/counters_reader.h"
#include "rill/projections/projector_counters.h"
#include "rill/projections/projector_thread.h"
#include "rill/tests/support/temp_dir.h"

namespace {

using namespace rill::examples::bank;
using rill::engine::AckLevel;
using rill::observability::CountersReader;
using rill::observability::CountersSnapshot;
using BankEngine = rill::engine::Engine<BankDomain>;

TEST_CASE("engine counters: commands by result and reason, batches and positions", "[counters]") {
  rill::test::TempDir tmp("rill-engine-counters");
  auto e = rill::testing::OpenBank(rill::testing::SmallBankOptions(tmp.path()));
  REQUIRE(e->counters_file() != nullptr);
  std::uint64_t id = 0;
  for (std::uint64_t a = 1; a <= 10; ++a)
    REQUIRE(e->execute(OpenAccount{.account = a, .owner = 1, .currency = 978}, {.command_id = ++id}).accepted());
  REQUIRE(e->execute(Deposit{.account = 1, .amount = 100}, {.command_id = ++id}).accepted());
  // Rejections: two not found, one rule (overdraft), one invalid amount.
  CHECK_FALSE(e->execute(Deposit{.account = 99, .amount = 5}, {.command_id = ++id}).accepted());
  CHECK_FALSE(e->execute(Withdraw{.account = 98, .amount = 5}, {.command_id = ++id}).accepted());
  CHECK_FALSE(e->execute(Withdraw{.account = 2, .amount = 5}, {.command_id = ++id}).accepted());
  CHECK_FALSE(e->execute(Deposit{.account = 1, .amount = 0}, {.command_id = ++id}).accepted());
  // Rejected before deciding: applied(view) without a view.
  CHECK_FALSE(e->execute(Deposit{.account = 1, .amount = 1}, {.command_id = ++id}, AckLevel::kApplied).accepted());

  auto reader = CountersReader::Open(tmp.path());
  REQUIRE(reader.ok());
  const CountersSnapshot s = reader->Read();
  CHECK_FALSE(s.stale);
  CHECK(s.program == "rill");
  CHECK(s.Value("rill_commands_total", "result=\"accepted\"") == 11);
  CHECK(s.Value("rill_commands_total", "result=\"rejected\"") == 5);
  CHECK(s.Value("rill_rejections_total", "reason=\"not_found\"") == 2);
  CHECK(s.Value("rill_rejections_total", "reason=\"rule_violated\"") == 1);
  CHECK(s.Value("rill_rejections_total", "reason=\"invalid_command\"") == 2);
  CHECK(s.Value("rill_rejections_total", "reason=\"concurrency_conflict\"") == 0);
  // One command per execute, one batch each.
  CHECK(s.Value("rill_batches_total") == 16);
  CHECK(s.Find("rill_batch_commands")->histogram_count() == 16);
  CHECK(s.Find("rill_batch_commands")->values[rill::observability::kHistogramBuckets] == 16);  // sum
  CHECK(s.Find("rill_batch_duration_seconds")->histogram_count() == 16);
  CHECK(s.Value("rill_ring_capacity") == 64);
  CHECK(s.Value("rill_journal_committed_position") == e->committed_position());
  CHECK(s.Value("rill_journal_durable_position") == e->committed_position());  // durability none
  CHECK(s.Value("rill_engine_failed") == 0);
  CHECK(s.heartbeat_ns >= s.created_ns);
  // Acknowledgement latency: the 11 accepted commands at kJournaled, none at other levels.
  const auto* journaled = s.Find("rill_ack_latency_seconds", "level=\"journaled\"");
  REQUIRE(journaled != nullptr);
  CHECK(journaled->histogram_count() == 11);
  CHECK(journaled->values[rill::observability::kHistogramBuckets] > 0);  // some nanoseconds
  CHECK(s.Find("rill_ack_latency_seconds", "level=\"durable\"")->histogram_count() == 0);
  CHECK(s.Find("rill_ack_latency_seconds", "level=\"replicated_durable\"") != nullptr);
}

TEST_CASE("engine counters: ack latency by level, durable acks after the sync", "[counters]") {
  rill::test::TempDir tmp("rill-engine-counters");
  auto e = rill::testing::OpenBank(rill::testing::SmallBankOptions(tmp.path(), rill::journal::Durability::kBatch));
  std::uint64_t id = 0;
  REQUIRE(e->execute(OpenAccount{.account = 1, .owner = 1, .currency = 978}, {.command_id = ++id}).accepted());
  for (int i = 0; i < 5; ++i)
    REQUIRE(e->execute(Deposit{.account = 1, .amount = 1}, {.command_id = ++id}, AckLevel::kDurable).accepted());
  for (int i = 0; i < 3; ++i)
    REQUIRE(e->execute(Deposit{.account = 1, .amount = 1}, {.command_id = ++id}, AckLevel::kAccepted).accepted());
  const CountersSnapshot s = CountersReader::Open(tmp.path())->Read();
  CHECK(s.Find("rill_ack_latency_seconds", "level=\"journaled\"")->histogram_count() == 1);
  CHECK(s.Find("rill_ack_latency_seconds", "level=\"durable\"")->histogram_count() == 5);
  CHECK(s.Find("rill_ack_latency_seconds", "level=\"accepted\"")->histogram_count() == 3);
  // The journal's own counters, as the control file has them.
  CHECK(s.Value("rill_journal_bytes_total") > 0);
  CHECK(s.Value("rill_journal_syncs_total") >= 1);  // the durable acks waited for syncs
  CHECK(s.Find("rill_journal_sync_seconds_total")->scale == 1e-9);
}

TEST_CASE("engine counters: off means no file", "[counters]") {
  rill::test::TempDir tmp("rill-engine-counters");
  auto o = rill::testing::SmallBankOptions(tmp.path());
  o.counters = false;
  auto e = rill::testing::OpenBank(o);
  CHECK(e->counters_file() == nullptr);
  REQUIRE(e->execute(OpenAccount{.account = 1, .owner = 1, .currency = 978}, {.command_id = 1}).accepted());
  CHECK(CountersReader::Open(tmp.path()).status().IsNotFound());
}

TEST_CASE("projector counters: position, lag, events and state in the engine's file", "[counters][concurrent]") {
  rill::test::TempDir tmp("rill-engine-counters");
  auto e = rill::testing::OpenBank(rill::testing::SmallBankOptions(tmp.path()));
  rill::projections::ProjectorThreadOptions po;
  po.name = "views";
  po.journal_directory = tmp.path();
  po.registry = &e->registry();
  po.counters = e->counters_file();
  auto t = rill::projections::ProjectorThread::Create(std::move(po));
  REQUIRE(t.ok());
  auto* balances = (*t)->Add<rill::projections::bank::Balances>();
  REQUIRE((*t)->Start().ok());
  std::uint64_t id = 0;
  for (std::uint64_t a = 1; a <= 20; ++a)
    REQUIRE(e->execute(OpenAccount{.account = a, .owner = 1, .currency = 978}, {.command_id = ++id}).accepted());
  const std::uint64_t end = e->committed_position();
  REQUIRE(balances->WaitFor(end, std::chrono::seconds(30)).ok());
  auto reader = CountersReader::Open(tmp.path());
  REQUIRE(reader.ok());
  // The projector publishes after its batch's WaitFor wake-up; poll briefly for the gauge.
  CountersSnapshot s = reader->Read();
  for (int i = 0; i < 3000 && s.Value("rill_projector_position", "projector=\"bank.balances\"") < end; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    s = reader->Read();
  }
  const std::string l = "projector=\"bank.balances\"";
  CHECK(s.Value("rill_projector_position", l) == end);
  CHECK(s.Value("rill_projector_lag_events", l) == 0);
  CHECK(s.Value("rill_projector_events_total", l) == 20);
  CHECK(s.Value("rill_projector_state", l) == 0);
  CHECK(s.Value("rill_projector_parked_events", l) == 0);
  CHECK(s.Value("rill_projector_applied_timestamp_seconds", l) > 0);
  (*t)->Stop();
}

}  // namespace

namespace {

TEST_CASE("snapshot counters: the snapshotter publishes each snapshot it writes", "[counters][concurrent]") {
  rill::test::TempDir tmp("rill-engine-counters");
  auto o = rill::testing::SmallBankOptions(tmp.path());
  o.snapshot.enabled = true;
  auto e = rill::testing::OpenBank(o);
  for (std::uint64_t a = 1; a <= 5; ++a)
    REQUIRE(e->execute(OpenAccount{.account = a, .owner = 1, .currency = 978}, {.command_id = a}).accepted());
  auto taken = e->TakeSnapshot(30'000'000'000);
  REQUIRE(taken.ok());
  const CountersSnapshot s = CountersReader::Open(tmp.path())->Read();
  CHECK(s.Value("rill_snapshots_total") == 1);
  CHECK(s.Value("rill_snapshot_position") == *taken);
  CHECK(s.Value("rill_snapshot_shadow_position") >= *taken);
  CHECK(s.Value("rill_snapshot_bytes") > 0);
  CHECK(s.Value("rill_snapshot_timestamp_seconds") >= static_cast<std::uint64_t>(s.created_ns));
  CHECK(s.Find("rill_replication_position") == nullptr);  // no replication configured
}

}  // namespace

namespace {

TEST_CASE("projector counters: lag is committed minus applied and never negative, with state and parked gauges",
          "[counters]") {
  rill::test::TempDir tmp("rill-engine-counters");
  auto file = rill::observability::CountersFile::Create(tmp.path(), "t");
  REQUIRE(file.ok());
  auto c = rill::projections::ProjectorCounters::Register(**file, "a \"quoted\" view");
  REQUIRE(c.ok());
  rill::projections::ProjectorSample sample;
  sample.applied_position = 5;
  sample.committed_position = 9;
  sample.events = 4;
  sample.state = rill::projections::ProjectorState::kHalted;
  sample.parked = 2;
  c->Publish(sample);
  const std::string l = "projector=\"a \\\"quoted\\\" view\"";
  CountersSnapshot s = CountersReader::Open(tmp.path())->Read();
  CHECK(s.Value("rill_projector_lag_events", l) == 4);
  CHECK(s.Value("rill_projector_state", l) == 1);
  CHECK(s.Value("rill_projector_parked_events", l) == 2);
  CHECK(s.Value("rill_projector_events_total", l) == 4);
  sample.applied_position = 12;  // a checkpoint ahead of what this thread saw committed
  c->Publish(sample);
  CHECK(CountersReader::Open(tmp.path())->Read().Value("rill_projector_lag_events", l) == 0);
}

}  // namespace
