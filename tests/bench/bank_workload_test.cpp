// The bank's workload (examples/bank/bank_workload.h) as the tools use it: the setup opens and
// funds every account, producers' streams are deterministic per seed and producer, the mix
// follows its percentages, the command ids of tools::CommandIds never collide, and drawing a
// command allocates nothing.
#include "rill/examples/bank/bank_workload.h"

#include <catch2/catch.hpp>
#include <set>
#include <variant>

#include "rill/engine/command_processor.h"
#include "rill/tests/support/allocation_counter.h"

namespace bank = rill::examples::bank;
using bank::BankWorkload;
using Processor = rill::engine::CommandProcessor<bank::BankDomain>;
using rill::tools::CommandIds;
using rill::tools::WorkloadOptions;

namespace {

std::uint64_t Fingerprint(const bank::Command& c) { return Processor::FingerprintOf({}, c); }

}  // namespace

TEST_CASE("setup opens every account, then funds it", "[bench][workload]") {
  const BankWorkload w({.aggregates = 50}, BankWorkload::Mix{.initial_balance = 700});
  const auto setup = w.Setup();
  REQUIRE(setup.size() == 100);
  const CommandIds ids{.setup = setup.size(), .producers = 1};
  Processor p;
  std::int64_t tally = 0;
  struct {
    std::uint64_t next = 1;
    std::optional<std::uint64_t> operator()(std::span<const std::uint8_t>) { return next++; }
  } sink;
  for (std::size_t i = 0; i < setup.size(); ++i) {
    CHECK(std::holds_alternative<bank::OpenAccount>(setup[i]) == (i < 50));
    REQUIRE(p.Process({.command_id = ids.Setup(i)}, setup[i], 0, sink).accepted());
    tally += w.Tally(setup[i]);
  }
  CHECK(p.aggregate_count() == 50);
  CHECK(w.Total(rill::tools::StateView<bank::BankDomain>(p)) == 50 * 700);
  CHECK(tally == 50 * 700);
  CHECK(!w.CheckInvariants(rill::tools::StateView<bank::BankDomain>(p)).has_value());
}

TEST_CASE("streams are deterministic per seed and producer, with unique ids", "[bench][workload]") {
  const WorkloadOptions o{.aggregates = 20, .producers = 3, .seed = 99};
  const BankWorkload w(o);
  const CommandIds ids{.setup = w.Setup().size(), .producers = 3};
  std::set<std::uint64_t> seen;
  for (int p = 0; p < 3; ++p) {
    BankWorkload::Producer a = w.MakeProducer(p), b = BankWorkload(o).MakeProducer(p);
    for (std::uint64_t k = 0; k < 1000; ++k) {
      REQUIRE(Fingerprint(a.Next()) == Fingerprint(b.Next()));
      const std::uint64_t id = ids.Produced(p, k);
      REQUIRE(id > ids.setup);  // never collides with the setup's ids
      REQUIRE(seen.insert(id).second);
      int back_p = -1;
      std::uint64_t back_k = 0;
      REQUIRE(ids.Split(id, &back_p, &back_k));
      REQUIRE((back_p == p && back_k == k));
    }
  }
  // Another seed gives another stream.
  BankWorkload::Producer a = w.MakeProducer(0),
                         c = BankWorkload({.aggregates = 20, .producers = 3, .seed = 100}).MakeProducer(0);
  int same = 0;
  for (int k = 0; k < 100; ++k) same += Fingerprint(a.Next()) == Fingerprint(c.Next()) ? 1 : 0;
  CHECK(same < 10);
}

TEST_CASE("the mix follows the configured percentages and stays in range", "[bench][workload]") {
  const BankWorkload w({.aggregates = 7},
                       BankWorkload::Mix{.deposit_percent = 30, .withdraw_percent = 20, .max_amount = 50});
  BankWorkload::Producer s = w.MakeProducer(0);
  int deposits = 0, withdrawals = 0, transfers = 0;
  const int n = 20'000;
  for (int k = 0; k < n; ++k) {
    const bank::Command c = s.Next();
    if (const auto* d = std::get_if<bank::Deposit>(&c)) {
      ++deposits;
      REQUIRE((d->account >= 1 && d->account <= 7 && d->amount >= 1 && d->amount <= 50));
    } else if (const auto* wd = std::get_if<bank::Withdraw>(&c)) {
      ++withdrawals;
      REQUIRE((wd->account >= 1 && wd->account <= 7));
    } else {
      const auto& t = std::get<bank::Transfer>(c);
      ++transfers;
      REQUIRE((t.from >= 1 && t.from <= 7 && t.to >= 1 && t.to <= 7 && t.from != t.to));
    }
  }
  // Loose bounds: a count far off the mix means a broken generator, not bad luck.
  CHECK(deposits > n * 25 / 100);
  CHECK(deposits < n * 35 / 100);
  CHECK(withdrawals > n * 15 / 100);
  CHECK(withdrawals < n * 25 / 100);
  CHECK(transfers > n * 45 / 100);
  CHECK(transfers < n * 55 / 100);
}

TEST_CASE("drawing commands allocates nothing", "[bench][workload]") {
  const BankWorkload w({.aggregates = 1000, .producers = 2});
  BankWorkload::Producer s = w.MakeProducer(1);
  std::uint64_t sum = 0;
  const long before = rill::test::ThreadAllocations();
  for (int k = 0; k < 10'000; ++k) sum += Fingerprint(s.Next());
  CHECK(rill::test::ThreadAllocations() - before == 0);
  CHECK(sum > 0);
}
