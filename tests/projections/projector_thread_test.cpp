// Tests of projections/projector_thread.cpp: following a journal, wait_for on a live view, the
// on_applied hook, failure policies, lag, pinning fallback.
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <thread>

#include "projection_test_util.h"
#include "rill/base/thread_affinity.h"
#include "rill/examples/bank/read_models/balances.h"
#include "rill/projections/projector_thread.h"

using namespace rill::projections;
using namespace std::chrono_literals;
using rill::projections::test::BankWorkload;
using rill::projections::test::JournalBuilder;
using rill::projections::test::Registry;
using rill::projections::test::TempDir;

namespace {

ProjectorThreadOptions Options(const std::string& dir, std::vector<std::string>* warnings = nullptr) {
  ProjectorThreadOptions o;
  o.name = "test";
  o.journal_directory = dir;
  o.registry = &Registry();
  o.idle_wait_ns = 2'000'000;
  auto mu = std::make_shared<std::mutex>();
  if (warnings)
    o.warn = [warnings, mu](const std::string& w) {
      std::lock_guard<std::mutex> lock(*mu);
      warnings->push_back(w);
    };
  return o;
}

ProjectorOptions Policy(FailurePolicy p, std::size_t max_parked = 1024) {
  ProjectorOptions o;
  o.on_failure = p;
  o.max_parked = max_parked;
  return o;
}

ProjectorOptions OnApplied(std::function<void(std::uint64_t)> fn) {
  ProjectorOptions o;
  o.on_applied = std::move(fn);
  return o;
}

// Opens accounts 1..3 and deposits 10 in each: 6 events in 3 batches.
std::uint64_t Prefix(JournalBuilder& j, BankWorkload& w) {
  for (std::uint64_t a = 1; a <= 3; ++a) {
    w.Open(a);
    w.Move(a, 10, 1, 0);
    j.Commit();
  }
  return j.last();
}

}  // namespace

TEST_CASE("wait_for on a view returns once the projector applied a later write, and times out before",
          "[projections][wait_for][runner]") {
  TempDir dir;
  JournalBuilder j(dir.path());
  BankWorkload w(j, 1);
  Prefix(j, w);
  auto t = ProjectorThread::Create(Options(dir.path())).value();
  auto* balances = t->Add<bank::Balances>();
  REQUIRE(t->Start().ok());
  REQUIRE(balances->WaitFor(j.last(), 60s).ok());
  CHECK(balances->model().Get(2)->balance == 10);

  const std::uint64_t next = j.last() + 1;
  CHECK(balances->WaitFor(next, 30ms).IsTimedOut());  // not written yet: cannot be applied

  // The reader waits on its own thread; this thread owns the journal writer and appends.
  rill::Status waited = rill::Status::Unavailable("not run");
  std::int64_t seen_balance = 0;
  std::thread reader([&] {
    waited = balances->WaitFor(next, 60s);
    if (waited.ok()) seen_balance = balances->model().Get(2)->balance;
  });
  w.Move(2, 5, 1, 0);
  j.Commit();
  reader.join();
  REQUIRE(waited.ok());
  CHECK(seen_balance == 15);  // read-your-writes
  CHECK(balances->lag().events == 0);
}

TEST_CASE("on_applied reports each batch's position, in order, ending at the last one",
          "[projections][runner][applied_hook]") {
  TempDir dir;
  JournalBuilder j(dir.path());
  BankWorkload w(j, 2);
  for (int i = 0; i < 200; ++i) w.Step(20);
  std::vector<std::uint64_t> seen;  // only the projector thread appends, until WaitFor returns
  auto o = Options(dir.path());
  o.max_batch_events = 16;
  auto t = ProjectorThread::Create(o).value();
  auto* v = t->Add<bank::Balances>(OnApplied([&](std::uint64_t p) { seen.push_back(p); }));
  REQUIRE(t->Start().ok());
  REQUIRE(v->WaitFor(j.last(), 60s).ok());
  t->Stop();
  REQUIRE(!seen.empty());
  CHECK(std::is_sorted(seen.begin(), seen.end()));
  CHECK(std::adjacent_find(seen.begin(), seen.end()) == seen.end());
  CHECK(seen.back() == j.last());
  CHECK(seen.size() > 1);  // published per batch, not once at the end
}

TEST_CASE("several projectors share one thread and each follows the journal", "[projections][runner]") {
  TempDir dir;
  JournalBuilder j(dir.path());
  BankWorkload w(j, 3);
  for (int i = 0; i < 300; ++i) w.Step(30);
  auto t = ProjectorThread::Create(Options(dir.path())).value();
  auto* a = t->Add<bank::Balances>();
  auto* b = t->Add<bank::Balances>();
  REQUIRE(t->Start().ok());
  REQUIRE(a->WaitFor(j.last(), 60s).ok());
  REQUIRE(b->WaitFor(j.last(), 60s).ok());
  for (const auto& [id, ref] : w.accounts()) {
    CHECK(a->model().Get(id)->balance == ref.balance);
    CHECK(b->model().Get(id)->balance == ref.balance);
  }
}

TEST_CASE("trusted decoding (verify = false) gives the same read model", "[projections][runner]") {
  TempDir dir;
  JournalBuilder j(dir.path());
  BankWorkload w(j, 4);
  for (int i = 0; i < 300; ++i) w.Step(30);
  auto o = Options(dir.path());
  o.verify = false;
  auto t = ProjectorThread::Create(o).value();
  auto* a = t->Add<bank::Balances>();
  REQUIRE(t->Start().ok());
  REQUIRE(a->WaitFor(j.last(), 60s).ok());
  for (const auto& [id, ref] : w.accounts()) CHECK(a->model().Get(id)->balance == ref.balance);
}

TEST_CASE("failure policy halt (the default) stops at the bad event and names its position", "[projections][failure]") {
  TempDir dir;
  JournalBuilder j(dir.path());
  BankWorkload w(j, 5);
  Prefix(j, w);
  const std::uint64_t bad = j.last() + 1;
  j.AddGarbage();
  j.Commit();
  w.Move(1, 1, 1, 0);
  j.Commit();
  auto t = ProjectorThread::Create(Options(dir.path())).value();
  std::uint64_t halted_at = 0;  // written on the projector thread before WaitFor returns
  std::string halted_why;
  ProjectorOptions po;
  po.on_halted = [&](std::uint64_t p, const std::string& why) {
    halted_at = p;
    halted_why = why;
  };
  auto* v = t->Add<bank::Balances>(po);
  REQUIRE(t->Start().ok());
  const rill::Status s = v->WaitFor(j.last(), 60s);
  REQUIRE(s.IsUnavailable());
  CHECK(s.ToString().find("position " + std::to_string(bad)) != std::string::npos);
  CHECK(v->halted());
  CHECK(v->applied_position() == bad - 1);
  CHECK(v->model().Get(1)->balance == 10);                                // the event after the bad one was not applied
  CHECK(v->halt_status().ToString().find("kSkip") != std::string::npos);  // says what to do
  CHECK(v->WaitFor(bad - 1, 0ns).ok());
  CHECK(v->lag().events >= 2);
  CHECK(v->lag().ns > 0);   // behind: now - the last applied batch's (2023) timestamp
  CHECK(halted_at == bad);  // the engine's hook for failing applied(view) commands
  CHECK(halted_why == v->halt_status().message());
}

TEST_CASE("failure policy skip counts the bad event and goes on", "[projections][failure]") {
  TempDir dir;
  JournalBuilder j(dir.path());
  BankWorkload w(j, 6);
  Prefix(j, w);
  j.AddGarbage();
  j.Commit();
  w.Move(1, 1, 1, 0);
  j.Commit();
  auto t = ProjectorThread::Create(Options(dir.path())).value();
  auto* v = t->Add<bank::Balances>(Policy(FailurePolicy::kSkip));
  REQUIRE(t->Start().ok());
  REQUIRE(v->WaitFor(j.last(), 60s).ok());
  CHECK(v->skipped() == 1);
  CHECK(v->parked().empty());
  CHECK(v->model().Get(1)->balance == 11);
}

TEST_CASE("failure policy park records position and error, then goes on, and a full park list halts",
          "[projections][failure]") {
  TempDir dir;
  JournalBuilder j(dir.path());
  BankWorkload w(j, 7);
  Prefix(j, w);
  const std::uint64_t bad1 = j.last() + 1;
  j.AddGarbage();
  j.Commit();
  // A well-formed event the model must refuse: money moved on an account never opened.
  const std::uint64_t bad2 =
      j.Add<rill::bank::Deposited>(999, 2, [](auto& f) { return rill::bank::CreateDeposited(f, 5); });
  j.Commit();
  w.Move(1, 1, 1, 0);
  j.Commit();

  auto t = ProjectorThread::Create(Options(dir.path())).value();
  auto* parked = t->Add<bank::Balances>(Policy(FailurePolicy::kPark));
  auto* small = t->Add<bank::Balances>(Policy(FailurePolicy::kPark, 1));
  REQUIRE(t->Start().ok());
  REQUIRE(parked->WaitFor(j.last(), 60s).ok());
  const auto p = parked->parked();
  REQUIRE(p.size() == 2);
  CHECK(p[0].position == bad1);
  CHECK(p[0].error.find("does not decode") != std::string::npos);
  CHECK(p[1].position == bad2);
  CHECK(p[1].error.find("not open") != std::string::npos);
  CHECK(parked->model().Get(1)->balance == 11);

  const rill::Status s = small->WaitFor(j.last(), 60s);
  REQUIRE(s.IsUnavailable());
  CHECK(s.ToString().find("max_parked") != std::string::npos);
  CHECK(small->applied_position() == bad2 - 1);
}

TEST_CASE("pinning to a CPU that does not exist warns and runs unpinned", "[projections][runner][pinning]") {
  TempDir dir;
  JournalBuilder j(dir.path());
  BankWorkload w(j, 8);
  Prefix(j, w);
  std::vector<std::string> warnings;
  auto o = Options(dir.path(), &warnings);
  o.cpu = rill::AvailableCpuCount() + 1000;
  auto t = ProjectorThread::Create(o).value();
  auto* v = t->Add<bank::Balances>();
  REQUIRE(t->Start().ok());
  CHECK_FALSE(t->pinned());
  CHECK_FALSE(t->pin_status().ok());
  REQUIRE(v->WaitFor(j.last(), 60s).ok());  // and it still works
  t->Stop();
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("unpinned") != std::string::npos);
}

TEST_CASE("pinning to CPU 0 pins", "[projections][runner][pinning]") {
  TempDir dir;
  JournalBuilder j(dir.path());
  auto o = Options(dir.path());
  o.cpu = 0;
  auto t = ProjectorThread::Create(o).value();
  t->Add<bank::Balances>();
  REQUIRE(t->Start().ok());
  CHECK(t->pinned());
}

TEST_CASE("creating a projector thread without a registry is an error that says what to do", "[projections][runner]") {
  ProjectorThreadOptions o;
  o.journal_directory = "/nonexistent";
  auto t = ProjectorThread::Create(o);
  REQUIRE_FALSE(t.ok());
  CHECK(t.status().ToString().find("registry") != std::string::npos);
}
