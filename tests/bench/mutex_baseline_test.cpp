#include "rill/bench/e2e/mutex_baseline.h"

#include <catch2/catch.hpp>

#include "rill/bench/e2e/bank_ledger.h"

using rill::bench::MutexBaselineOptions;

// Several producers (more threads than this machine's cores), a small window: every command
// sent gets exactly one outcome, and the ledger's money equals what the outcomes say.
TEST_CASE("the mutex baseline answers every command and conserves money", "[bench][mutex]") {
  MutexBaselineOptions o;
  o.workload = {.accounts = 31, .producers = 3, .seed = 5, .initial_balance = 1000, .max_amount = 400};
  o.inflight = 8;
  o.commands_per_producer = 3000;
  o.encode_events = true;
  const auto r = rill::bench::RunMutexBaseline(o);
  CHECK(r.commands == 3 * 3000);
  CHECK(r.latency.count() == r.commands);
  CHECK(r.accepted > 0);
  CHECK(r.rejected > 0);  // overdrafts on small balances are refused
  CHECK(r.total_balance == r.expected_balance);
  CHECK(r.events >= r.accepted);
  CHECK(r.encoded_bytes > 0);
}

// One producer, window 1: the order is the stream's, so a plain sequential replay of the same
// commands must end in the same state.
TEST_CASE("with one producer the mutex baseline matches a sequential replay", "[bench][mutex]") {
  MutexBaselineOptions o;
  o.workload = {.accounts = 13, .producers = 1, .seed = 11, .initial_balance = 500, .max_amount = 300};
  o.inflight = 1;
  o.commands_per_producer = 2000;
  const auto r = rill::bench::RunMutexBaseline(o);

  rill::bench::BankLedger ref;
  for (const auto& c : rill::bench::SetupCommands(o.workload)) (void)ref.Apply(c.command);
  rill::bench::BankCommandStream s(o.workload, 0);
  std::uint64_t accepted = 0;
  for (int k = 0; k < 2000; ++k) accepted += ref.Apply(s.Next().command).decision.accepted() ? 1 : 0;
  CHECK(r.accepted == accepted);
  CHECK(r.commands == 2000);
  CHECK(r.total_balance == ref.TotalBalance());
}

TEST_CASE("a timed mutex baseline run stops and reports", "[bench][mutex]") {
  MutexBaselineOptions o;
  o.workload = {.accounts = 100, .producers = 2};
  o.inflight = 16;
  o.seconds = 0.1;
  const auto r = rill::bench::RunMutexBaseline(o);
  CHECK(r.commands > 0);
  CHECK(r.latency.count() == r.commands);
  CHECK(r.total_balance == r.expected_balance);
  CHECK(r.seconds > 0);
}
