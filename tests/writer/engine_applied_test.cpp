// The applied(view) acknowledgement end to end: an Engine writing a journal, a ProjectorThread
// following it with the balances read model, and an AppliedView wiring the two.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rill/engine/applied_view.h"
#include "rill/engine/engine.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/examples/bank/read_models/balances.h"
#include "rill/projections/projector_thread.h"
#include "rill/tests/support/temp_dir.h"

namespace {

using namespace rill::examples::bank;
using rill::engine::AckLevel;
using rill::engine::AppliedView;
using rill::engine::ClaimStatus;
using rill::engine::CommandOutcome;
using rill::engine::Completion;
using rill::engine::RejectCode;
using BankEngine = rill::engine::Engine<BankDomain>;
using BalancesProjector = rill::projections::TypedProjector<rill::projections::bank::Balances>;

// An engine, a projector thread following its journal, and a view fed by the projector.
struct Pipeline {
  explicit Pipeline(const std::string& dir) : view("balances") {
    rill::engine::EngineOptions o;
    o.journal.directory = dir;
    o.journal.segment_size = 1u << 20;
    o.ring_size = 64;
    o.processor.expected_aggregates = 1024;
    o.log_to_stderr = false;
    auto e = BankEngine::Open(o);
    REQUIRE(e.ok());
    engine = std::move(e).value();

    rill::projections::ProjectorThreadOptions to;
    to.name = "read side";
    to.journal_directory = dir;
    to.registry = &engine->registry();
    to.idle_wait_ns = 1'000'000;
    to.checkpoint_directory.clear();
    auto t = rill::projections::ProjectorThread::Create(to);
    REQUIRE(t.ok());
    projectors = std::move(t).value();
    rill::projections::ProjectorOptions po;
    po.on_applied = [this](std::uint64_t p) { view.Advance(p); };
    po.on_halted = [this](std::uint64_t p, const std::string& why) { view.Halt(p, why); };
    balances = projectors->Add<rill::projections::bank::Balances>(po);
    REQUIRE(projectors->Start().ok());
  }
  ~Pipeline() {
    engine->Stop();
    projectors->Stop();
  }

  AppliedView view;  // declared first: destroyed last, after the projector that feeds it
  std::unique_ptr<BankEngine> engine;
  std::unique_ptr<rill::projections::ProjectorThread> projectors;
  BalancesProjector* balances = nullptr;
};

}  // namespace

TEST_CASE("applied(view): when execute returns, the read model shows the command", "[engine][applied]") {
  rill::test::TempDir dir("rill-applied");
  Pipeline p(dir.path());
  REQUIRE(p.engine->execute(OpenAccount{1, 7, 978}, {1}, p.view).accepted());
  for (std::uint64_t i = 0; i < 200; ++i) {
    const CommandOutcome o = p.engine->execute(Deposit{1, 5}, {100 + i}, p.view);
    REQUIRE(o.accepted());
    // No wait_for, no retry: the acknowledgement itself is the guarantee.
    CHECK(p.balances->applied_position() >= o.position());
    REQUIRE(p.balances->model().Get(1)->balance == static_cast<std::int64_t>(5 * (i + 1)));
  }
}

TEST_CASE("applied(view): rejections are answered at once and a retry of an applied command is too",
          "[engine][applied]") {
  rill::test::TempDir dir("rill-applied");
  Pipeline p(dir.path());
  REQUIRE(p.engine->execute(OpenAccount{1, 7, 978}, {1}, p.view).accepted());
  CHECK(p.engine->execute(Withdraw{1, 50}, {2}, p.view).code() == RejectCode::kRuleViolated);
  const CommandOutcome first = p.engine->execute(Deposit{1, 50}, {3}, p.view);
  const CommandOutcome retry = p.engine->execute(Deposit{1, 50}, {3}, p.view);
  REQUIRE(retry.accepted());
  CHECK(retry.duplicate());
  CHECK(retry.position() == first.position());
  CHECK(p.balances->model().Get(1)->balance == 50);
}

TEST_CASE("applied(view): a view that closes before applying answers kViewUnavailable with the journaled position",
          "[engine][applied]") {
  rill::test::TempDir dir("rill-applied");
  Pipeline p(dir.path());
  REQUIRE(p.engine->execute(OpenAccount{1, 7, 978}, {1}, p.view).accepted());
  p.projectors->Stop();  // the read side is gone: nothing will apply the next command

  Completion done;
  REQUIRE(p.engine->submit(Deposit{1, 5}, {2}, p.view, done) == ClaimStatus::kOk);
  // Journaled, but not applied: the acknowledgement must still be outstanding.
  const CommandOutcome journaled = p.engine->execute(Deposit{1, 1}, {3}, AckLevel::kJournaled);
  REQUIRE(journaled.accepted());
  CHECK_FALSE(done.ready());
  p.view.Close("the read side stopped");
  const CommandOutcome& o = done.Wait();
  CHECK(o.code() == RejectCode::kViewUnavailable);
  CHECK(o.recorded());
  CHECK(o.position() == journaled.position() - 1);
}

TEST_CASE("applied(view) without a view is an invalid command", "[engine][applied]") {
  rill::test::TempDir dir("rill-applied");
  Pipeline p(dir.path());
  CHECK(p.engine->execute(OpenAccount{1, 7, 978}, {1}, AckLevel::kApplied).code() == RejectCode::kInvalidCommand);
  // Nothing was decided: the id is free and the account does not exist.
  CHECK(p.engine->execute(OpenAccount{1, 7, 978}, {1}).accepted());
}

TEST_CASE("on_batch reports each batch's timeline before its acknowledgements", "[engine][timing]") {
  rill::test::TempDir dir("rill-applied");
  rill::engine::EngineOptions o;
  o.journal.directory = dir.path();
  o.journal.segment_size = 1u << 20;
  o.ring_size = 64;
  o.processor.expected_aggregates = 1024;
  o.log_to_stderr = false;
  std::vector<rill::engine::BatchTiming> timings;  // written by the writer, read after each execute
  o.on_batch = [&timings](const rill::engine::BatchTiming& t) { timings.push_back(t); };
  auto e = BankEngine::Open(o);
  REQUIRE(e.ok());
  REQUIRE((*e)->execute(OpenAccount{1, 7, 978}, {1}).accepted());
  // The journaled ack is delivered after on_batch ran: the Completion's release/acquire orders it.
  REQUIRE(timings.size() == 1);
  CHECK(timings[0].commands == 1);
  CHECK(timings[0].dequeued_ns <= timings[0].decided_ns);
  CHECK(timings[0].decided_ns <= timings[0].committed_ns);
  (*e)->Stop();
}
