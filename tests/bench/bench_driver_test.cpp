// The end-to-end driver, RunEngineBench<W>, on short runs (a fixed number of commands per
// producer, so nothing depends on time), for three workloads through the same code: the bank
// (money conserved, invariants), the blog (comments counted) and the two-kind shop (no hooks:
// the StateMirror projector's digest equals the engine's). Every submitted command is
// acknowledged exactly once and the figures add up; a workload whose Tally is wrong fails the
// check. No timing assertions.
#include "rill/bench/e2e/bench_driver_impl.h"

#include <catch2/catch.hpp>

#include "rill/examples/bank/bank_workload.h"
#include "rill/examples/blog/blog_workload.h"
#include "rill/tests/bench/shop_workload.h"
#include "rill/tests/support/temp_dir.h"

using namespace rill::bench;
using rill::examples::bank::BankWorkload;
using rill::examples::blog::BlogWorkload;
using rill::testing::shop::ShopWorkload;

namespace {

BenchConfig Small(const rill::test::TempDir& dir) {
  BenchConfig c;
  c.dir = dir.Sub("journal");
  c.aggregates = 500;
  c.producers = 2;
  c.inflight = 16;
  c.ring_size = 256;
  c.commands_per_producer = 3'000;
  c.segment_size = 4u << 20;
  return c;
}

void CheckConsistent(const EngineBenchReport& r, std::uint64_t expected_commands) {
  INFO(r.check_detail);
  for (const auto& n : r.notes) UNSCOPED_INFO("note: " << n);
  CHECK(r.submitted == expected_commands);
  CHECK(r.completed == expected_commands);
  CHECK(r.duplicates == 0);
  CHECK(r.acknowledged_once);
  CHECK(r.failed == 0);
  CHECK(r.accepted + r.rejected == r.completed);
  CHECK(r.state_consistent);
  CHECK(r.latency.count() == expected_commands);
  CHECK(r.batch_commands == expected_commands);  // every measured command went through one batch
  CHECK(r.stages.apply.count() == expected_commands);
  CHECK(r.stages.commit.count() == expected_commands);
  CHECK(r.ok());
}

}  // namespace

TEST_CASE("closed loop, bank, ack journaled: counts and money add up", "[bench][driver]") {
  rill::test::TempDir dir("rill-bench-driver");
  const BenchConfig c = Small(dir);
  auto r = RunEngineBench<BankWorkload>(c);
  REQUIRE(r.ok());
  CheckConsistent(*r, 6'000);
  CHECK(r->setup_commands == 1'000);
  CHECK(r->ring_wait_measured);
  CHECK(r->stages.ring_wait.count() == r->accepted);
  CHECK(r->events >= r->accepted);  // a transfer journals two events
  // The bank's hooks ran; its own read models are on the projectors, so no mirror check.
  CHECK(r->check_detail.find("money: accepted commands add") != std::string::npos);
  CHECK(r->check_detail.find("invariants hold") != std::string::npos);
  CHECK(r->check_detail.find("state mirror") == std::string::npos);
}

TEST_CASE("ack applied waits for the balances projector - projection stage is measured", "[bench][driver]") {
  rill::test::TempDir dir("rill-bench-driver");
  BenchConfig c = Small(dir);
  c.ack = rill::engine::AckLevel::kApplied;
  c.projectors = 2;
  auto r = RunEngineBench<BankWorkload>(c);
  REQUIRE(r.ok());
  CheckConsistent(*r, 6'000);
  CHECK(!r->ring_wait_measured);
  CHECK(r->stages.projection.count() + r->projection_marks_dropped > 0);
}

TEST_CASE("durability batch with ack durable, no projector", "[bench][driver]") {
  rill::test::TempDir dir("rill-bench-driver");
  BenchConfig c = Small(dir);
  c.durability = rill::journal::Durability::kBatch;
  c.ack = rill::engine::AckLevel::kDurable;
  c.projectors = 0;
  c.commands_per_producer = 1'000;
  auto r = RunEngineBench<BankWorkload>(c);
  REQUIRE(r.ok());
  CheckConsistent(*r, 2'000);
  CHECK(r->stages.projection.count() == 0);
}

TEST_CASE("open loop sends exactly the commands it was asked for", "[bench][driver]") {
  rill::test::TempDir dir("rill-bench-driver");
  BenchConfig c = Small(dir);
  c.rate = 200'000;  // 0.5 ms of sends per 100 commands: short, whatever the machine does
  c.commands_per_producer = 1'000;
  auto r = RunEngineBench<BankWorkload>(c);
  REQUIRE(r.ok());
  CheckConsistent(*r, 2'000);
  CHECK(r->offered_per_s == 200'000);
}

TEST_CASE("a timed open loop never sends ahead of its schedule", "[bench][driver]") {
  // Regression: without a fixed command count the cap wrapped around and the producers sent
  // as fast as the ring allowed, measuring latency from intended times still in the future.
  rill::test::TempDir dir("rill-bench-driver");
  BenchConfig c = Small(dir);
  c.commands_per_producer = 0;
  c.seconds = 0.2;
  c.rate = 20'000;  // 4,000 commands in 0.2 s at most, whatever the machine does
  auto r = RunEngineBench<BankWorkload>(c);
  REQUIRE(r.ok());
  INFO("submitted " << r->submitted << " in " << r->seconds << " s");
  CHECK(r->acknowledged_once);
  // Never more than the schedule allows over the time the run took (+1 per producer: command 0
  // is due at the start); a slow machine only sends fewer.
  CHECK(static_cast<double>(r->submitted) <= c.rate * r->seconds + 2.0 * c.producers);
}

TEST_CASE("blog workload: accepted comments equal the aggregates' comment counts", "[bench][driver]") {
  rill::test::TempDir dir("rill-bench-driver");
  BenchConfig c = Small(dir);
  c.projectors = 3;  // post details, comment counts, recent published
  auto r = RunEngineBench<BlogWorkload>(c);
  REQUIRE(r.ok());
  CheckConsistent(*r, 6'000);
  CHECK(r->rejected == 0);  // every draw of the blog workload is valid
  CHECK(r->check_detail.find("comments: accepted commands add") != std::string::npos);
}

TEST_CASE("a workload without hooks: the StateMirror projectors equal the engine", "[bench][driver]") {
  rill::test::TempDir dir("rill-bench-driver");
  BenchConfig c = Small(dir);
  c.aggregates = 50;
  c.projectors = 2;
  c.ack = rill::engine::AckLevel::kApplied;  // waits for projector 0, the mirror
  auto r = RunEngineBench<ShopWorkload>(c);
  REQUIRE(r.ok());
  CheckConsistent(*r, 6'000);
  CHECK(r->setup_commands == 50);
  CHECK(r->accepted > 0);
  CHECK(r->rejected > 0);  // ends of orders that already ended or were never placed
  CHECK(r->check_detail.find("state mirror digest") != std::string::npos);
}

TEST_CASE("without hooks or projectors no state check runs, and the report says so", "[bench][driver]") {
  rill::test::TempDir dir("rill-bench-driver");
  BenchConfig c = Small(dir);
  c.projectors = 0;
  c.commands_per_producer = 500;
  auto r = RunEngineBench<ShopWorkload>(c);
  REQUIRE(r.ok());
  CheckConsistent(*r, 1'000);
  CHECK(r->check_detail.find("no state check") != std::string::npos);
}

namespace {

// The bank's workload with a Tally that miscounts deposits: the check must catch it.
struct MiscountingBank : BankWorkload {
  using BankWorkload::BankWorkload;
  std::int64_t Tally(const rill::examples::bank::Command& c) const noexcept {
    return BankWorkload::Tally(c) + (std::holds_alternative<rill::examples::bank::Deposit>(c) ? 1 : 0);
  }
};

}  // namespace

TEST_CASE("a workload whose tally does not add up fails the state check", "[bench][driver]") {
  rill::test::TempDir dir("rill-bench-driver");
  BenchConfig c = Small(dir);
  c.commands_per_producer = 500;
  auto r = RunEngineBench<MiscountingBank>(c);
  REQUIRE(r.ok());
  INFO(r->check_detail);
  CHECK(r->acknowledged_once);
  CHECK(!r->state_consistent);
  CHECK(!r->ok());
  CHECK(r->check_detail.find("money: accepted commands add") != std::string::npos);
}

TEST_CASE("a directory that already holds files is refused", "[bench][driver]") {
  rill::test::TempDir dir("rill-bench-driver");
  BenchConfig c = Small(dir);
  c.dir = dir.path();
  std::FILE* f = std::fopen(dir.Sub("something").c_str(), "w");
  REQUIRE(f != nullptr);
  std::fclose(f);
  auto r = RunEngineBench<BankWorkload>(c);
  REQUIRE(!r.ok());
  CHECK(r.status().IsInvalidArgument());
  CHECK(r.status().ToString().find("not empty") != std::string::npos);
}
