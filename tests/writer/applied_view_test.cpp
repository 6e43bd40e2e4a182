// Tests of engine/applied_view.h alone: when a waiter is answered, with what, and exactly once.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "rill/engine/applied_view.h"

using rill::engine::AppliedView;
using rill::engine::AppliedWaiter;
using rill::engine::CommandOutcome;
using rill::engine::CompletionTarget;
using rill::engine::RejectCode;

namespace {

// Records every delivery: the outcome and the view's position at that moment.
struct Recorder {
  struct Delivery {
    CommandOutcome outcome;
    std::uint64_t view_position = 0;
    std::thread::id thread;
  };
  const AppliedView* view = nullptr;
  std::vector<Delivery> deliveries;

  static void Deliver(void* self, const CommandOutcome& o) noexcept {
    auto* r = static_cast<Recorder*>(self);
    r->deliveries.push_back({o, r->view->position(), std::this_thread::get_id()});
  }
  CompletionTarget target() { return {&Recorder::Deliver, this}; }
};

CommandOutcome At(std::uint64_t position) { return CommandOutcome::Accepted(position, 7, position, 1); }

}  // namespace

TEST_CASE("a waiter is answered once the view reaches its position, not before", "[applied_view]") {
  Recorder r;  // declared first: outlives the view, whose destructor answers what is left
  AppliedView view("balances");
  r.view = &view;
  view.NotifyWhenApplied(10, At(10), r.target());
  CHECK(r.deliveries.empty());
  CHECK(view.waiting() == 1);
  view.Advance(9);
  CHECK(r.deliveries.empty());
  view.Advance(10);
  REQUIRE(r.deliveries.size() == 1);
  CHECK(r.deliveries[0].outcome.accepted());
  CHECK(r.deliveries[0].outcome.position() == 10);
  CHECK(r.deliveries[0].view_position >= 10);
  view.Advance(20);
  CHECK(r.deliveries.size() == 1);  // exactly once
  CHECK(view.waiting() == 0);
}

TEST_CASE("a position already applied is answered at once, on the calling thread", "[applied_view]") {
  Recorder r;
  AppliedView view("balances");
  r.view = &view;
  view.Advance(100);
  view.NotifyWhenApplied(50, At(50), r.target());
  REQUIRE(r.deliveries.size() == 1);
  CHECK(r.deliveries[0].thread == std::this_thread::get_id());
  CHECK(view.waiting() == 0);
}

TEST_CASE("positions never go backwards", "[applied_view]") {
  AppliedView view("balances");
  view.Advance(30);
  view.Advance(20);  // an owner seeding the view with an older position: ignored
  CHECK(view.position() == 30);
}

TEST_CASE("a batch of waiters is answered in position order as the view advances", "[applied_view]") {
  Recorder r;  // declared first: outlives the view, whose destructor answers what is left
  AppliedView view("balances");
  r.view = &view;
  std::vector<AppliedWaiter> batch;
  for (std::uint64_t p : {5, 3, 8, 200, 4}) batch.push_back({p, r.target(), At(p)});
  view.NotifyBatch(batch);
  view.Advance(4);
  REQUIRE(r.deliveries.size() == 2);
  CHECK(r.deliveries[0].outcome.position() == 3);
  CHECK(r.deliveries[1].outcome.position() == 4);
  view.Advance(100);
  REQUIRE(r.deliveries.size() == 4);
  CHECK(r.deliveries[2].outcome.position() == 5);
  CHECK(r.deliveries[3].outcome.position() == 8);
  CHECK(view.waiting() == 1);
}

TEST_CASE("a backlog larger than one delivery chunk is answered in full", "[applied_view]") {
  Recorder r;  // declared first: outlives the view, whose destructor answers what is left
  AppliedView view("balances");
  r.view = &view;
  std::vector<AppliedWaiter> batch;
  for (std::uint64_t p = 1; p <= 1000; ++p) batch.push_back({p, r.target(), At(p)});
  view.NotifyBatch(batch);
  view.Advance(999);
  CHECK(r.deliveries.size() == 999);
  view.Advance(1000);
  CHECK(r.deliveries.size() == 1000);
}

TEST_CASE("a halted view answers kViewUnavailable, keeping the journaled position", "[applied_view]") {
  Recorder r;  // declared first: outlives the view, whose destructor answers what is left
  AppliedView view("balances");
  r.view = &view;
  view.Advance(5);
  view.NotifyWhenApplied(9, At(9), r.target());
  view.Halt(7, "event at 7 failed: no such account");
  REQUIRE(r.deliveries.size() == 1);
  const CommandOutcome& o = r.deliveries[0].outcome;
  CHECK_FALSE(o.accepted());
  CHECK(o.recorded());
  CHECK(o.code() == RejectCode::kViewUnavailable);
  CHECK(o.position() == 9);
  CHECK(o.stream_version() == 9);
  CHECK(std::string(o.rejection().message()).find("halted at 7") != std::string::npos);
  CHECK(view.closed());

  // Later waiters: unavailable at once, unless their position was applied before the halt.
  view.NotifyWhenApplied(12, At(12), r.target());
  view.NotifyWhenApplied(4, At(4), r.target());
  REQUIRE(r.deliveries.size() == 3);
  CHECK(r.deliveries[1].outcome.code() == RejectCode::kViewUnavailable);
  CHECK(r.deliveries[2].outcome.accepted());
}

TEST_CASE("destroying a view answers its waiters", "[applied_view]") {
  AppliedView witness("witness");  // the recorder reads a position from a view that outlives the deliveries
  Recorder r{&witness, {}};
  {
    AppliedView view("doomed");
    view.NotifyWhenApplied(3, At(3), r.target());
    view.NotifyWhenApplied(4, At(4), r.target());
    CHECK(r.deliveries.empty());
  }
  REQUIRE(r.deliveries.size() == 2);
  for (const auto& d : r.deliveries) {
    CHECK(d.outcome.code() == RejectCode::kViewUnavailable);
    CHECK(std::string(d.outcome.rejection().message()).find("closed") != std::string::npos);
  }
}
