// The crash test's ledger (ids and outcomes as the children report them) and the round plan
// it hands the next child: where each producer resumes, and what to resend.
#include "rill/tools/crashtest/ledger.h"

#include <catch2/catch.hpp>
#include <random>

#include "rill/engine/command_outcome.h"
#include "rill/tests/support/temp_dir.h"
#include "rill/tools/crashtest/round_plan.h"

namespace {

using namespace rill::tools::crashtest;
using rill::engine::AckLevel;
using rill::engine::CommandOutcome;
using rill::engine::RejectCode;
using rill::engine::Rejection;

constexpr rill::tools::CommandIds kIds{.setup = 4, .producers = 2};

}  // namespace

TEST_CASE("ledger: a retry answered with another outcome is a violation", "[crashtest][ledger]") {
  Ledger ledger(kIds);
  const std::uint64_t id = kIds.Produced(1, 3);
  REQUIRE(!ledger.Absorb(WireRecord::Sent(id, AckLevel::kJournaled, false), 1));
  REQUIRE(!ledger.Absorb(WireRecord::Ack(id, CommandOutcome::Accepted(40, 1, 7, 1), AckLevel::kJournaled), 1));
  REQUIRE(!ledger.Absorb(WireRecord::Sent(id, AckLevel::kJournaled, true), 2));
  const auto twice =
      ledger.Absorb(WireRecord::Ack(id, CommandOutcome::Accepted(90, 1, 12, 1), AckLevel::kJournaled), 2);
  REQUIRE(twice);
  CHECK_THAT(*twice, Catch::Contains("applied twice"));
  const auto decided_again =
      ledger.Absorb(WireRecord::Ack(id, CommandOutcome::Rejected(Rejection(RejectCode::kRuleViolated, 0, "no")),
                                    AckLevel::kJournaled),
                    3);
  REQUIRE(decided_again);
  CHECK_THAT(*decided_again, Catch::Contains("decided it again"));
  const auto never = ledger.Absorb(
      WireRecord::Ack(kIds.Produced(0, 9), CommandOutcome::Accepted(1, 1, 1, 1), AckLevel::kJournaled), 1);
  REQUIRE(never);
  CHECK_THAT(*never, Catch::Contains("never sent"));
  CHECK(ledger.Absorb(WireRecord::Sent(0, AckLevel::kJournaled, false), 1));
  CHECK(ledger.Absorb(WireRecord::Sent(kMaxCommandId + 1, AckLevel::kJournaled, false), 1));
}

TEST_CASE("ledger: the next child resumes each producer after its last sent command and resends the lost ones",
          "[crashtest][ledger]") {
  Ledger ledger(kIds);
  std::mt19937_64 rng(1);
  RoundPlan first = ledger.PlanRound(0, rng, 64, 8);
  CHECK(first.start == std::vector<std::uint64_t>{0, 0});
  REQUIRE(first.retries.size() == 4);  // the whole setup, in id order
  CHECK(first.retries[0].id == 1);
  CHECK(first.retries[3].id == 4);
  CHECK((first.retries[0].flags & kFlagRetry) != 0);

  // Round 1: the setup acked; producer 0 sent k 0..5 (k 4 and 5 never acked), producer 1 k 0..1.
  for (std::uint64_t id = 1; id <= 4; ++id) {
    REQUIRE(!ledger.Absorb(WireRecord::Sent(id, AckLevel::kJournaled, true), 1));
    REQUIRE(!ledger.Absorb(WireRecord::Ack(id, CommandOutcome::Accepted(id, id, 1, 1), AckLevel::kJournaled), 1));
  }
  std::uint64_t position = 10;
  for (std::uint64_t k = 0; k < 6; ++k) {
    const std::uint64_t id = kIds.Produced(0, k);
    REQUIRE(!ledger.Absorb(WireRecord::Sent(id, AckLevel::kDurable, false), 1));
    if (k < 4)
      REQUIRE(!ledger.Absorb(WireRecord::Ack(id, CommandOutcome::Accepted(++position, 1, k + 2, 1), AckLevel::kDurable),
                             1));
  }
  for (std::uint64_t k = 0; k < 2; ++k)
    REQUIRE(!ledger.Absorb(WireRecord::Sent(kIds.Produced(1, k), AckLevel::kJournaled, false), 1));
  CHECK(ledger.max_durable_position() == position);
  CHECK(ledger.Origin(kIds.Produced(1, 1)) == "producer 1's #1");
  CHECK(ledger.Origin(2) == "setup #1");

  const RoundPlan plan = ledger.PlanRound(1, rng, 64, 8);
  CHECK(plan.start == std::vector<std::uint64_t>{6, 2});
  // Lost: producer 0's k 4, 5 and producer 1's k 0, 1; acked: producer 0's k 0..3. In id order.
  REQUIRE(plan.retries.size() == 8);
  for (std::size_t i = 1; i < plan.retries.size(); ++i) CHECK(plan.retries[i - 1].id < plan.retries[i].id);
  CHECK(plan.retries.front().level == AckLevel::kDurable);  // as first sent

  // A round that sent nothing of its own (killed while opening) plans from the one before.
  const RoundPlan after_empty = ledger.PlanRound(2, rng, 1, 0);
  CHECK(after_empty.start == plan.start);
  CHECK(after_empty.retries.size() == 1);
}

TEST_CASE("round plan: written and read back whole - anything else is refused", "[crashtest][ledger]") {
  rill::test::TempDir tmp("rill-crashtest");
  RoundPlan plan;
  plan.start = {3, 0, 17};
  plan.retries = {WireRecord::Sent(9, AckLevel::kDurable, true), WireRecord::Sent(12, AckLevel::kJournaled, true)};
  REQUIRE(WriteRoundPlan(tmp.Sub("plan"), plan).ok());
  const auto back = ReadRoundPlan(tmp.Sub("plan"));
  REQUIRE(back.ok());
  CHECK(back->start == plan.start);
  REQUIRE(back->retries.size() == 2);
  CHECK(back->retries[1].id == 12);
  CHECK(back->retries[0].level == AckLevel::kDurable);
  {  // one byte more: not a whole plan
    std::FILE* f = std::fopen(tmp.Sub("plan").c_str(), "ab");
    std::fputc(0, f);
    std::fclose(f);
  }
  CHECK(ReadRoundPlan(tmp.Sub("plan")).status().IsCorruption());
  CHECK(!ReadRoundPlan(tmp.Sub("missing")).ok());
}
