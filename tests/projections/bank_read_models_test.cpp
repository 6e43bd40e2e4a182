// Tests of projections/bank/*: each read model against the reference computed by the test,
// over seeded random workloads (seed printed; rerun one with RILL_TEST_SEED=<n>).
#include <catch2/catch.hpp>

#include <array>

#include "projection_test_util.h"
#include "rill/examples/bank/read_models/balances.h"
#include "rill/examples/bank/read_models/statements.h"
#include "rill/examples/bank/read_models/top_accounts.h"
#include "rill/projections/projector_thread.h"

using namespace rill::projections;
using namespace std::chrono_literals;
using rill::projections::test::BankWorkload;
using rill::projections::test::JournalBuilder;
using rill::projections::test::Registry;
using rill::projections::test::TempDir;

namespace {

struct Views {
  std::unique_ptr<ProjectorThread> thread;
  TypedProjector<bank::Balances>* balances;
  TypedProjector<bank::TopAccounts>* top;
  TypedProjector<bank::Statements>* statements;
};

Views StartViews(const std::string& dir, std::size_t top_n) {
  ProjectorThreadOptions o;
  o.journal_directory = dir;
  o.registry = &Registry();
  o.max_batch_events = 64;
  o.idle_wait_ns = 2'000'000;
  Views v;
  v.thread = ProjectorThread::Create(o).value();
  v.balances = v.thread->Add<bank::Balances>();
  v.top = v.thread->Add<bank::TopAccounts>({}, bank::TopAccountsOptions{.n = top_n});
  v.statements = v.thread->Add<bank::Statements>();
  REQUIRE(v.thread->Start().ok());
  return v;
}

void CheckBalances(const bank::Balances& m, BankWorkload& w) {
  for (const auto& [id, ref] : w.accounts()) {
    const auto b = m.Get(id);
    REQUIRE(b.has_value());
    CHECK(b->balance == ref.balance);
    CHECK(b->version == ref.version);
    CHECK(static_cast<int>(b->state) == ref.state);
    CHECK(b->currency == ref.currency);
  }
  CHECK_FALSE(m.Get(77'777'777).has_value());
  CHECK_FALSE(m.Get(0).has_value());
}

void CheckTop(const bank::TopAccounts& m, BankWorkload& w, std::size_t n) {
  const auto want = w.Top(n);
  const bank::TopList got = m.Top();
  REQUIRE(got.count == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    CHECK(got.entries[i].account == want[i].first);
    CHECK(got.entries[i].balance == want[i].second);
  }
}

void CheckStatements(const bank::Statements& m, BankWorkload& w) {
  std::array<bank::Movement, bank::kStatementDepth> buf;
  for (const auto& [id, ref] : w.accounts()) {
    const std::size_t n = m.Recent(id, buf);
    REQUIRE(n == std::min(ref.movements.size(), bank::kStatementDepth));
    CHECK(m.MovementCount(id) == ref.movements.size());
    for (std::size_t i = 0; i < n; ++i) {
      const auto& want = ref.movements[ref.movements.size() - 1 - i];
      CHECK(buf[i].position == want.position);
      CHECK(buf[i].amount == want.amount);
      CHECK(buf[i].counterparty == want.counterparty);
      CHECK(buf[i].balance_after == want.balance_after);
      CHECK(static_cast<int>(buf[i].kind) == want.kind);
    }
  }
}

}  // namespace

TEST_CASE("bank read models match the reference over a seeded random workload", "[projections][bank]") {
  const std::uint64_t base = rill::projections::test::SeedFromEnvOr(20261123);
  for (std::uint64_t seed = base; seed < base + 3; ++seed) {
    INFO("seed " << seed);
    std::printf("bank read models: seed %llu\n", static_cast<unsigned long long>(seed));
    TempDir dir;
    JournalBuilder j(dir.path());
    BankWorkload w(j, seed);
    const std::size_t top_n = 1 + seed % 10;
    const std::uint64_t accounts = 20 + seed % 200;
    // Half written before the projector starts (catch-up), half while it runs (tailing).
    for (int i = 0; i < 1500; ++i) w.Step(accounts);
    Views v = StartViews(dir.path(), top_n);
    for (int i = 0; i < 1500; ++i) w.Step(accounts);
    REQUIRE(v.balances->WaitFor(j.last(), 60s).ok());
    REQUIRE(v.top->WaitFor(j.last(), 60s).ok());
    REQUIRE(v.statements->WaitFor(j.last(), 60s).ok());
    CheckBalances(v.balances->model(), w);
    CheckTop(v.top->model(), w, top_n);
    CheckStatements(v.statements->model(), w);
  }
}

TEST_CASE("top-N stays exact when the leaders fall and a rescan is needed", "[projections][bank][top]") {
  TempDir dir;
  JournalBuilder j(dir.path());
  BankWorkload w(j, 42);
  for (std::uint64_t a = 1; a <= 40; ++a) {
    w.Open(a);
    w.Move(a, static_cast<std::int64_t>(a * 100), 1, 0);
    j.Commit();
  }
  Views v = StartViews(dir.path(), 3);
  REQUIRE(v.top->WaitFor(j.last(), 60s).ok());
  CheckTop(v.top->model(), w, 3);
  // Drain the 20 richest accounts one by one: every candidate falls below the outsiders.
  for (std::uint64_t a = 40; a > 20; --a) {
    w.Move(a, -static_cast<std::int64_t>(a * 100 - 1), 2, 0);
    j.Commit();
    REQUIRE(v.top->WaitFor(j.last(), 60s).ok());
    CheckTop(v.top->model(), w, 3);
  }
  w.Close(20);
  j.Commit();
  REQUIRE(v.top->WaitFor(j.last(), 60s).ok());
  CheckTop(v.top->model(), w, 3);
}

TEST_CASE("statements keep only the last K movements, newest first", "[projections][bank][statements]") {
  TempDir dir;
  JournalBuilder j(dir.path());
  BankWorkload w(j, 43);
  w.Open(5);
  for (int i = 1; i <= 20; ++i) w.Move(5, i, 1, 0);
  j.Commit();
  Views v = StartViews(dir.path(), 1);
  REQUIRE(v.statements->WaitFor(j.last(), 60s).ok());
  std::array<bank::Movement, 3> few;
  REQUIRE(v.statements->model().Recent(5, few) == 3);
  CHECK(few[0].amount == 20);
  CHECK(few[2].amount == 18);
  CHECK(few[0].balance_after == 210);
  CHECK(v.statements->model().Recent(6, few) == 0);
  CheckStatements(v.statements->model(), w);
}
