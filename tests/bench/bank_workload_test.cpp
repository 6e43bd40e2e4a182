#include "rill/bench/e2e/bank_workload.h"

#include <catch2/catch.hpp>
#include <set>
#include <variant>

#include "rill/bench/e2e/bank_ledger.h"
#include "rill/engine/command_processor.h"
#include "rill/tests/support/allocation_counter.h"

namespace bank = rill::examples::bank;
using rill::bench::BankCommandStream;
using rill::bench::BankWorkloadOptions;

TEST_CASE("setup opens every account, then funds it", "[bench][workload]") {
  const BankWorkloadOptions w{.accounts = 50, .initial_balance = 700};
  const auto setup = rill::bench::SetupCommands(w);
  REQUIRE(setup.size() == 100);
  rill::bench::BankLedger ledger;
  for (std::size_t i = 0; i < setup.size(); ++i) {
    CHECK(setup[i].meta.command_id == i + 1);
    CHECK(std::holds_alternative<bank::OpenAccount>(setup[i].command) == (i < 50));
    REQUIRE(ledger.Apply(setup[i].command).decision.accepted());
  }
  CHECK(ledger.accounts().size() == 50);
  CHECK(ledger.TotalBalance() == 50 * 700);
}

TEST_CASE("streams are deterministic per seed and producer, with unique ids", "[bench][workload]") {
  const BankWorkloadOptions w{.accounts = 20, .producers = 3, .seed = 99};
  std::set<std::uint64_t> ids;
  for (int p = 0; p < 3; ++p) {
    BankCommandStream a(w, p), b(w, p);
    for (int k = 0; k < 1000; ++k) {
      const auto x = a.Next(), y = b.Next();
      REQUIRE(x.meta.command_id == y.meta.command_id);
      REQUIRE(rill::engine::CommandProcessor<rill::bench::BankLedger::Domain>::FingerprintOf({}, x.command) ==
              rill::engine::CommandProcessor<rill::bench::BankLedger::Domain>::FingerprintOf({}, y.command));
      REQUIRE(x.meta.command_id > 2 * w.accounts);  // never collides with the setup's ids
      REQUIRE(ids.insert(x.meta.command_id).second);
    }
  }
  // Another seed gives another stream.
  BankCommandStream a(w, 0), c({.accounts = 20, .producers = 3, .seed = 100}, 0);
  int same = 0;
  for (int k = 0; k < 100; ++k) {
    same += rill::engine::CommandProcessor<rill::bench::BankLedger::Domain>::FingerprintOf({}, a.Next().command) ==
                    rill::engine::CommandProcessor<rill::bench::BankLedger::Domain>::FingerprintOf({}, c.Next().command)
                ? 1
                : 0;
  }
  CHECK(same < 10);
}

TEST_CASE("the mix follows the configured percentages and stays in range", "[bench][workload]") {
  const BankWorkloadOptions w{.accounts = 7, .deposit_percent = 30, .withdraw_percent = 20, .max_amount = 50};
  BankCommandStream s(w, 0);
  int deposits = 0, withdrawals = 0, transfers = 0;
  const int n = 20'000;
  for (int k = 0; k < n; ++k) {
    const auto c = s.Next();
    if (const auto* d = std::get_if<bank::Deposit>(&c.command)) {
      ++deposits;
      REQUIRE((d->account >= 1 && d->account <= 7 && d->amount >= 1 && d->amount <= 50));
    } else if (const auto* wd = std::get_if<bank::Withdraw>(&c.command)) {
      ++withdrawals;
      REQUIRE((wd->account >= 1 && wd->account <= 7));
    } else {
      const auto& t = std::get<bank::Transfer>(c.command);
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
  BankCommandStream s({.accounts = 1000, .producers = 2}, 1);
  std::uint64_t sum = 0;
  const long before = rill::test::ThreadAllocations();
  for (int k = 0; k < 10'000; ++k) sum += s.Next().meta.command_id;
  CHECK(rill::test::ThreadAllocations() - before == 0);
  CHECK(sum > 0);
}
