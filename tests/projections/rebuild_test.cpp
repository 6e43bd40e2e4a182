// Tests of rebuild-with-swap (projections/projector_thread.cpp, RebuildStep): the shadow copy
// takes over at the live copy's exact position, and the old copy answers until then.
#include <catch2/catch.hpp>

#include <thread>

#include "projection_test_util.h"
#include "rill/examples/bank/read_models/balances.h"
#include "rill/projections/projector_thread.h"

using namespace rill::projections;
using namespace std::chrono_literals;
using rill::projections::test::BankWorkload;
using rill::projections::test::JournalBuilder;
using rill::projections::test::Registry;
using rill::projections::test::TempDir;

namespace {

// Polls the (cold, mutex-protected) progress with a sleep: bounded, not a busy spin.
RebuildProgress WaitForSwap(const Projector& p, std::uint64_t swaps) {
  for (int i = 0; i < 60'000; ++i) {
    RebuildProgress r = p.rebuild_progress();
    if (r.swaps >= swaps || !r.error.empty()) return r;
    std::this_thread::sleep_for(1ms);
  }
  return p.rebuild_progress();
}

}  // namespace

TEST_CASE("rebuild builds a shadow copy that takes over at the live position, while writes go on",
          "[projections][rebuild]") {
  TempDir dir;
  JournalBuilder j(dir.path());
  BankWorkload w(j, 21);
  for (int i = 0; i < 2000; ++i) w.Step(100);
  ProjectorThreadOptions o;
  o.journal_directory = dir.path();
  o.registry = &Registry();
  o.max_batch_events = 16;  // many small rebuild steps interleaved with live batches
  o.idle_wait_ns = 2'000'000;
  auto t = ProjectorThread::Create(o).value();
  auto* v = t->Add<bank::Balances>();
  REQUIRE(t->Start().ok());
  REQUIRE(v->WaitFor(j.last(), 60s).ok());
  const bank::Balances* before = &v->model();

  REQUIRE(v->RequestRebuild().ok());
  CHECK(v->RequestRebuild().IsInvalidArgument());  // one at a time
  for (int i = 0; i < 500; ++i) w.Step(100);       // while the shadow catches up
  const RebuildProgress r = WaitForSwap(*v, 1);
  REQUIRE(r.error.empty());
  CHECK(r.swaps == 1);
  CHECK_FALSE(r.running);
  CHECK(r.position == r.target);
  CHECK(&v->model() != before);  // the shadow took over
  REQUIRE(v->WaitFor(j.last(), 60s).ok());
  for (const auto& [id, ref] : w.accounts()) {
    CHECK(v->model().Get(id)->balance == ref.balance);
    CHECK(before->Get(id).has_value());  // the retired copy is still readable (not freed)
  }
}

TEST_CASE("a rebuild of a halted view is refused", "[projections][rebuild]") {
  TempDir dir;
  JournalBuilder j(dir.path());
  j.AddGarbage();
  j.Commit();
  ProjectorThreadOptions o;
  o.journal_directory = dir.path();
  o.registry = &Registry();
  o.idle_wait_ns = 2'000'000;
  auto t = ProjectorThread::Create(o).value();
  auto* v = t->Add<bank::Balances>();
  REQUIRE(t->Start().ok());
  REQUIRE(v->WaitFor(1, 60s).IsUnavailable());
  CHECK(v->RequestRebuild().IsInvalidArgument());
}
