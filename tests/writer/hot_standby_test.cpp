// engine/hot_standby.h: a standby's aggregates kept up to date by tailing a journal that another
// writer appends to, then handed to Engine::Open, which replays only the rest. The state must be
// exactly what a full replay gives (the state digest), with the idempotency window carried.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "rill/engine/hot_standby.h"
#include "rill/tests/support/temp_dir.h"
#include "rill/tests/writer/bank_engine_util.h"

namespace {

using namespace rill::examples::bank;
using rill::engine::AckLevel;
using rill::testing::BankEngine;
using rill::testing::OpenBank;
using rill::testing::SmallBankOptions;
using Hot = rill::engine::HotStandby<BankDomain>;

constexpr std::int64_t kSecond = 1'000'000'000;

std::unique_ptr<Hot> StartHot(const std::string& dir) {
  auto h = Hot::Start(SmallBankOptions(dir));
  INFO(h.status().ToString());
  REQUIRE(h.ok());
  return std::move(h).value();
}

// Deposits into accounts 1..8 (opened by the caller), with ids from `next_id`.
void Write(BankEngine& e, std::uint64_t& next_id, int deposits) {
  for (int i = 0; i < deposits; ++i) {
    const std::uint64_t account = 1 + static_cast<std::uint64_t>(i) % 8;
    REQUIRE(e.execute(Deposit{account, 1 + static_cast<std::int64_t>(i % 5)}, {next_id++}, AckLevel::kJournaled)
                .accepted());
  }
}

std::uint64_t FullReplayDigest(const std::string& dir) {
  auto e = OpenBank(SmallBankOptions(dir));
  const std::uint64_t d = e->recovery().state_digest;
  e->Stop();
  return d;
}

TEST_CASE("a hot standby follows a live journal and a takeover replays only the rest", "[engine][hot_standby]") {
  rill::test::TempDir tmp;
  const std::string dir = tmp.path();
  std::uint64_t next_id = 1;
  auto hot = StartHot(dir);  // before the journal exists: it waits for it
  std::uint64_t end = 0;
  {
    auto writer = OpenBank(SmallBankOptions(dir));
    for (std::uint64_t a = 1; a <= 8; ++a) REQUIRE(writer->execute(OpenAccount{a, 7, 978}, {next_id++}).accepted());
    Write(*writer, next_id, 2000);  // the standby tails while the writer appends
    const auto last = writer->execute(Deposit{1, 3}, {next_id++}, AckLevel::kJournaled);
    REQUIRE(last.accepted());
    end = last.position();
    REQUIRE(hot->WaitFor(end, 10 * kSecond).ok());
    CHECK(hot->events_applied() >= 2009);
    hot->Stop();                  // it stops applying here (the state stays)...
    Write(*writer, next_id, 50);  // ...so these are the rest a takeover must replay
    writer->Stop();
  }
  const std::uint64_t at_takeover = hot->position();
  REQUIRE(at_takeover == end);
  auto promoted = BankEngine::Open(SmallBankOptions(dir), std::move(hot));
  INFO(promoted.status().ToString());
  REQUIRE(promoted.ok());
  const auto& info = (*promoted)->recovery();
  CHECK(info.hot_standby_position == at_takeover);
  // Only the rest (50 deposits, and digest records if any): a replay from the start gives 2059.
  CHECK(info.replayed_events >= 50);
  CHECK(info.replayed_events <= info.committed_position - at_takeover);
  CHECK(info.snapshot_path.empty());
  // The idempotency window came along: an old command id with its payload is a duplicate.
  const auto again = (*promoted)->execute(Deposit{1, 3}, {next_id - 51}, AckLevel::kJournaled);
  CHECK(again.duplicate());
  const std::uint64_t digest = (*promoted)->recovery().state_digest;
  (*promoted)->Stop();
  CHECK(digest == FullReplayDigest(dir));
}

TEST_CASE("a hot standby ahead of the journal is refused at takeover", "[engine][hot_standby]") {
  rill::test::TempDir tmp;
  const std::string leader = tmp.Sub("leader"), other = tmp.Sub("other");
  std::uint64_t next_id = 1;
  for (const std::string& dir : {leader, other}) {
    auto writer = OpenBank(SmallBankOptions(dir));
    for (std::uint64_t a = 1; a <= 8; ++a) REQUIRE(writer->execute(OpenAccount{a, 7, 978}, {next_id++}).accepted());
    Write(*writer, next_id, dir == leader ? 100 : 10);
    writer->Stop();
  }
  auto hot = StartHot(leader);
  REQUIRE(hot->WaitFor(108, 10 * kSecond).ok());
  // Handed to a journal that ends before it (as after its tail was moved aside).
  auto promoted = BankEngine::Open(SmallBankOptions(other), std::move(hot));
  REQUIRE_FALSE(promoted.ok());
  CHECK(promoted.status().IsFailedPrecondition());
  CHECK_THAT(promoted.status().ToString(), Catch::Contains("moved aside"));
}

TEST_CASE("a hot standby that stopped on an error is refused at takeover", "[engine][hot_standby]") {
  rill::test::TempDir tmp;
  std::uint64_t next_id = 1;
  {
    auto writer = OpenBank(SmallBankOptions(tmp.path()));
    REQUIRE(writer->execute(OpenAccount{1, 7, 978}, {next_id++}).accepted());
    writer->Stop();
  }
  // Another domain's events: the standby cannot decode the bank journal.
  rill::engine::EngineOptions o = SmallBankOptions(tmp.path());
  o.register_events = [](rill::codecs::SchemaRegistryBuilder&) {};
  auto h = Hot::Start(o);
  REQUIRE(h.ok());
  auto hot = std::move(h).value();
  for (int i = 0; i < 500 && hot->final_error().ok(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE_FALSE(hot->final_error().ok());
  auto promoted = BankEngine::Open(SmallBankOptions(tmp.path()), std::move(hot));
  REQUIRE_FALSE(promoted.ok());
  CHECK_THAT(promoted.status().ToString(), Catch::Contains("hot standby"));
}

}  // namespace
