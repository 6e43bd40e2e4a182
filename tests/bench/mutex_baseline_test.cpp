// The mutex baseline for any workload: every command sent gets exactly one outcome, the
// workload's checks hold on its final state (bank: money conserved, no negative balance), one
// producer with a window of one ends in the state a sequential replay of the same commands
// reaches, and a workload without hooks (the two-kind shop) runs through the same code.
#include "rill/bench/e2e/mutex_baseline.h"

#include <catch2/catch.hpp>

#include "rill/examples/bank/bank_workload.h"
#include "rill/examples/blog/blog_workload.h"
#include "rill/tests/bench/shop_workload.h"

using rill::bench::MutexBaselineOptions;
using rill::examples::bank::BankWorkload;

namespace {

struct CountingSink {
  std::uint64_t next = 1;
  std::optional<std::uint64_t> operator()(std::span<const std::uint8_t>) { return next++; }
};

}  // namespace

// Several producers (more threads than this machine's cores), a small window, small balances.
TEST_CASE("the mutex baseline answers every command and conserves money", "[bench][mutex]") {
  MutexBaselineOptions o{.aggregates = 31, .producers = 3, .seed = 5, .inflight = 8};
  o.commands_per_producer = 3000;
  o.encode_events = true;
  const BankWorkload w({.aggregates = 31, .producers = 3, .seed = 5},
                       BankWorkload::Mix{.initial_balance = 1000, .max_amount = 400});
  const auto r = rill::bench::RunMutexBaseline(w, o);
  INFO(r.check_detail);
  CHECK(r.commands == 3 * 3000);
  CHECK(r.latency.count() == r.commands);
  CHECK(r.accepted > 0);
  CHECK(r.rejected > 0);  // overdrafts on small balances are refused
  CHECK(r.state_consistent);
  CHECK(r.check_detail.find("money: accepted commands add") != std::string::npos);
  CHECK(r.check_detail.find("invariants hold") != std::string::npos);
  CHECK(r.events >= r.accepted);
  CHECK(r.encoded_bytes > 0);
}

// One producer, window 1: the order is the stream's, so a plain sequential replay of the same
// commands (same ids) must end in the same state.
TEST_CASE("with one producer the mutex baseline matches a sequential replay", "[bench][mutex]") {
  const MutexBaselineOptions o{
      .aggregates = 13, .producers = 1, .seed = 11, .inflight = 1, .commands_per_producer = 2000};
  const BankWorkload w({.aggregates = 13, .producers = 1, .seed = 11},
                       BankWorkload::Mix{.initial_balance = 500, .max_amount = 300});
  const auto r = rill::bench::RunMutexBaseline(w, o);

  rill::engine::CommandProcessor<rill::examples::bank::BankDomain> ref;
  CountingSink sink;
  const auto setup = w.Setup();
  const rill::tools::CommandIds ids{.setup = setup.size(), .producers = 1};
  for (std::size_t i = 0; i < setup.size(); ++i) (void)ref.Process({.command_id = ids.Setup(i)}, setup[i], 0, sink);
  BankWorkload::Producer s = w.MakeProducer(0);
  std::uint64_t accepted = 0;
  for (std::uint64_t k = 0; k < 2000; ++k)
    accepted += ref.Process({.command_id = ids.Produced(0, k)}, s.Next(), 0, sink).accepted() ? 1 : 0;
  CHECK(r.accepted == accepted);
  CHECK(r.commands == 2000);
  CHECK(r.digest == ref.digest());
}

TEST_CASE("a timed mutex baseline run stops and reports", "[bench][mutex]") {
  const auto r =
      rill::bench::RunMutexBaseline<BankWorkload>({.aggregates = 100, .producers = 2, .inflight = 16, .seconds = 0.1});
  CHECK(r.commands > 0);
  CHECK(r.latency.count() == r.commands);
  CHECK(r.state_consistent);
  CHECK(r.seconds > 0);
}

TEST_CASE("the mutex baseline runs the blog's workload and counts its comments", "[bench][mutex]") {
  const auto r = rill::bench::RunMutexBaseline<rill::examples::blog::BlogWorkload>(
      {.aggregates = 50, .producers = 2, .inflight = 8, .commands_per_producer = 1000});
  INFO(r.check_detail);
  CHECK(r.commands == 2000);
  CHECK(r.rejected == 0);
  CHECK(r.state_consistent);
  CHECK(r.check_detail.find("comments:") != std::string::npos);
}

TEST_CASE("a workload without hooks runs, and says no state check ran", "[bench][mutex]") {
  const auto r = rill::bench::RunMutexBaseline<rill::testing::shop::ShopWorkload>(
      {.aggregates = 20, .producers = 2, .inflight = 8, .commands_per_producer = 1500});
  CHECK(r.commands == 3000);
  CHECK(r.accepted > 0);
  CHECK(r.rejected > 0);  // ships and releases of orders that ended or never were placed
  CHECK(r.state_consistent);
  CHECK(r.check_detail.find("no state check") != std::string::npos);
}
