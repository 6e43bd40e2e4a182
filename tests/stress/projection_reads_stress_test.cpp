// Stress: queries from several threads while a projector thread applies (run under tsan).
//
// Forbidden outcomes:
//   1. a torn balance record: for the single account whose every deposit is 1, balance !=
//      version - 1 (the open event is version 1);
//   2. a balance or version that goes backwards as seen by one query thread;
//   3. a torn statement: consecutive movements whose balances do not chain
//      (newer.balance_after - newer.amount != older.balance_after) or positions not decreasing;
//   4. a top-N list out of order;
//   5. a consistent read across two read models (balances and statements, same thread) that
//      sees them at different positions: the two accounts' sum must equal the constant total
//      in both models, and balances must agree with the statements' last balance_after;
//   6. wait_for returning OK before the view's applied position reached the target, or not
//      returning OK although the position was committed (the deadline is one minute).
// Allowed: a query outside ReadConsistent seeing a transfer half applied.
#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <thread>
#include <vector>

#include "../projections/projection_test_util.h"
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

TEST_CASE("queries never see torn or inconsistent read models while a projector applies", "[stress][projections]") {
  TempDir dir;
  JournalBuilder j(dir.path(), 4 << 20);
  BankWorkload w(j, 99);
  constexpr std::uint64_t kCounter = 1, kA = 2, kB = 3;
  constexpr std::int64_t kTotal = 1'000'000;
  w.Open(kCounter);
  w.Open(kA);
  w.Open(kB);
  w.Move(kA, kTotal, 1, 0);
  j.Commit();

  ProjectorThreadOptions o;
  o.journal_directory = dir.path();
  o.registry = &Registry();
  o.max_batch_events = 32;
  o.idle_wait_ns = 2'000'000;
  o.cpu = 0;
  auto t = ProjectorThread::Create(o).value();
  auto* balances = t->Add<bank::Balances>();
  auto* top = t->Add<bank::TopAccounts>();
  auto* statements = t->Add<bank::Statements>();
  REQUIRE(t->Start().ok());
  REQUIRE(balances->WaitFor(j.last(), 60s).ok());  // the accounts and the total exist
  REQUIRE(statements->WaitFor(j.last(), 60s).ok());

  std::atomic<bool> done{false};
  std::atomic<int> violations{0};
  std::atomic<int> kinds[7] = {};
  std::atomic<std::uint64_t> consistent_reads{0};
  std::atomic<int> ready{0};
  auto reader = [&] {
    bool first = true;
    std::uint64_t last_version = 0;
    std::array<bank::Movement, bank::kStatementDepth> m;
    while (!done.load(std::memory_order_relaxed)) {
      if (auto c = balances->model().Get(kCounter)) {
        if (c->balance != static_cast<std::int64_t>(c->version) - 1) {
          violations.fetch_add(1);
          kinds[1].fetch_add(1);
        }  // 1
        if (c->version < last_version) {
          violations.fetch_add(1);
          kinds[2].fetch_add(1);
        }  // 2
        last_version = c->version;
      }
      const std::size_t n = statements->model().Recent(kA, m);
      for (std::size_t i = 0; i + 1 < n; ++i) {  // 3
        if (m[i].balance_after - m[i].amount != m[i + 1].balance_after) violations.fetch_add(1);
        if (m[i].position <= m[i + 1].position) violations.fetch_add(1);
      }
      const bank::TopList tl = top->model().Top();
      for (std::size_t i = 0; i + 1 < tl.count; ++i)  // 4
        if (tl.entries[i].balance < tl.entries[i + 1].balance) violations.fetch_add(1);
      std::int64_t sum = 0, last_a = 0, stmt_a = 0;
      std::size_t sn = 0;
      t->ReadConsistent([&] {  // 5
        const auto a = balances->model().Get(kA), b = balances->model().Get(kB);
        sum = (a ? a->balance : 0) + (b ? b->balance : 0);
        last_a = a ? a->balance : 0;
        sn = statements->model().Recent(kA, std::span(m).first(1));
        stmt_a = sn ? m[0].balance_after : 0;
      });
      if (sum != kTotal) {
        violations.fetch_add(1);
        kinds[5].fetch_add(1);
      }
      if (sn && stmt_a != last_a) {
        violations.fetch_add(1);
        kinds[0].fetch_add(1);
      }
      consistent_reads.fetch_add(1, std::memory_order_relaxed);
      if (first) ready.fetch_add(1);  // the writes start once every reader is querying
      first = false;
    }
  };
  std::vector<std::thread> readers;
  for (int i = 0; i < 2; ++i) readers.emplace_back(reader);

  // Waiters (6): more threads than cores, each waits for a position that will be written.
  std::atomic<int> waits_ok{0};
  std::vector<std::thread> waiters;
  const std::uint64_t base = j.last();
  for (int i = 0; i < 4; ++i) {
    waiters.emplace_back([&, i] {
      const std::uint64_t target = base + 1 + static_cast<std::uint64_t>(i) * 3000;
      const rill::Status s = balances->WaitFor(target, 60s);
      if (s.ok() && balances->applied_position() >= target) {
        waits_ok.fetch_add(1);
      } else {
        violations.fetch_add(1);
        kinds[6].fetch_add(1);
      }
    });
  }

  while (ready.load() < 2) std::this_thread::yield();
  std::mt19937_64 rng(7);
  for (int i = 0; i < 6000; ++i) {
    w.Move(kCounter, 1, 1, 0);  // deposit of exactly 1: balance == version - 1 always
    const std::int64_t a = w.accounts()[kA].balance;
    const bool a_to_b = (rng() & 1) && a > 0;
    const std::uint64_t from = a_to_b ? kA : kB, to = a_to_b ? kB : kA;
    const std::int64_t have = w.accounts()[from].balance;
    if (have > 0) {
      const std::int64_t amount = 1 + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(have));
      w.Move(from, -amount, 3, to);
      w.Move(to, amount, 4, from);
    }
    j.Commit();
  }
  REQUIRE(balances->WaitFor(j.last(), 60s).ok());
  REQUIRE(statements->WaitFor(j.last(), 60s).ok());
  done.store(true);
  for (auto& r : readers) r.join();
  for (auto& x : waiters) x.join();
  for (int k = 0; k < 7; ++k) {
    INFO("forbidden outcome " << k << " (0: balances and statements disagree in a consistent read)");
    CHECK(kinds[k].load() == 0);
  }
  CHECK(violations.load() == 0);
  CHECK(waits_ok.load() == 4);
  CHECK(consistent_reads.load() > 0);
  CHECK(balances->model().Get(kCounter)->balance == 6000);
}
