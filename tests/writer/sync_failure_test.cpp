// The engine when a journal sync fails (journal/io.h injects the failure): a command waiting
// for a durable acknowledgement gets a failure outcome, never "durable"; durable_position()
// never passes the last successful sync; status() names the call and the file; nothing is
// synced again (no retry-then-claim, PostgreSQL's fsyncgate); and a restart keeps every
// command that was acknowledged durable.
//
// No timing: the tests wait for the syncer's failure on the control file (WaitDurable ends
// when the syncer gives up), or make every sync happen at Stop (interval policy, 1 hour).
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <string>

#include "bank_engine_util.h"
#include "rill/engine/engine.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/journal/control_file.h"
#include "rill/journal/io.h"
#include "rill/journal/segment_file.h"
#include "rill/tests/support/temp_dir.h"

namespace {

using namespace rill::examples::bank;
using rill::engine::AckLevel;
using rill::engine::ClaimStatus;
using rill::engine::CommandOutcome;
using rill::engine::Completion;
using rill::engine::RejectCode;
using rill::journal::io::Call;
using rill::journal::io::FaultInjector;
using rill::journal::io::FaultRule;
using BankEngine = rill::engine::Engine<BankDomain>;

rill::engine::EngineOptions Options(const std::string& dir, rill::journal::Durability durability,
                                    rill::journal::SyncMethod method) {
  rill::engine::EngineOptions o = rill::testing::SmallBankOptions(dir, durability);
  o.journal.sync_method = method;
  o.journal.sync_interval_ms = 3'600'000;  // kInterval: nothing syncs before Stop
  return o;
}
using rill::testing::OpenBank;

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

Call SyncCall(rill::journal::SyncMethod m) {
  return m == rill::journal::SyncMethod::kMsync ? Call::kMsync : Call::kFdatasync;
}

// Blocks until the journal's syncer has given up (true) or made `position` durable (false).
bool WaitForSyncFailure(const std::string& dir, std::uint64_t position) {
  auto control = rill::journal::ControlFile::OpenReadOnly(dir);
  REQUIRE(control.ok());
  if ((*control)->WaitDurable(position, -1)) return false;
  return (*control)->block().sync_failed.load(std::memory_order_acquire) != 0;
}

}  // namespace

TEST_CASE("a failed sync: no durable acknowledgement, status() says why, a restart keeps what was durable",
          "[writer][engine][fault][durability]") {
  const auto method = GENERATE(rill::journal::SyncMethod::kMsync, rill::journal::SyncMethod::kFdatasync);
  const Call call = SyncCall(method);
  CAPTURE(rill::journal::io::CallName(call));
  rill::test::TempDir tmp("rill-sync-failure");
  const std::string dir = tmp.Sub("j");
  const auto o = Options(dir, rill::journal::Durability::kBatch, method);
  const std::string segment = dir + "/" + rill::journal::SegmentFileName(0);
  std::uint64_t durable = 0;
  {
    FaultInjector faults;
    auto e = OpenBank(o);
    const CommandOutcome opened = e->execute(OpenAccount{1, 7, 978}, {1}, AckLevel::kDurable);
    REQUIRE(opened.accepted());
    durable = e->durable_position();
    REQUIRE(durable >= opened.position());

    faults.Add(FaultRule{.call = call, .path_contains = segment, .nth = 1, .error = EIO});
    Completion done;
    REQUIRE(e->submit(Deposit{1, 100}, {2}, AckLevel::kDurable, done) == ClaimStatus::kOk);
    REQUIRE(WaitForSyncFailure(dir, durable + 1));
    CHECK(e->durable_position() == durable);

    // The next command finds the journal failed; status() gives the cause in full.
    const CommandOutcome after = e->execute(Deposit{1, 1}, {3}, AckLevel::kJournaled);
    CHECK(after.code() == RejectCode::kJournalUnavailable);
    const rill::Status status = e->status();
    INFO(status.ToString());
    CHECK_FALSE(status.ok());
    CHECK(Contains(status.message(), rill::journal::io::CallName(call)));
    CHECK(Contains(status.message(), segment));
    CHECK(Contains(status.message(), std::strerror(EIO)));
    CHECK(e->durable_position() == durable);

    const std::uint64_t syncs = faults.calls(call, segment);
    e->Stop();
    // The durable waiter got a failure, never "durable"; nothing synced segment 0 again.
    REQUIRE(done.ready());
    CHECK(done.outcome().code() == RejectCode::kJournalUnavailable);
    CHECK_FALSE(done.outcome().accepted());
    CHECK(faults.calls(call, segment) == syncs);
    CHECK(e->durable_position() == durable);
  }
  auto e = OpenBank(o);  // the disk is healthy again
  CHECK(e->committed_position() >= durable);
  CHECK(e->execute(OpenAccount{1, 7, 978}, {1}).duplicate());  // acknowledged durable: kept
  e->Stop();
}

TEST_CASE("a sync that fails at Stop answers the pending durable acknowledgements with a failure",
          "[writer][engine][fault][durability][shutdown]") {
  const auto method = GENERATE(rill::journal::SyncMethod::kMsync, rill::journal::SyncMethod::kFdatasync);
  const Call call = SyncCall(method);
  CAPTURE(rill::journal::io::CallName(call));
  rill::test::TempDir tmp("rill-sync-failure");
  const std::string dir = tmp.Sub("j");
  const auto o = Options(dir, rill::journal::Durability::kInterval, method);  // syncs only when asked
  const std::string segment = dir + "/" + rill::journal::SegmentFileName(0);
  {
    FaultInjector faults;
    auto e = OpenBank(o);
    REQUIRE(e->execute(OpenAccount{1, 7, 978}, {1}, AckLevel::kJournaled).accepted());
    Completion done;
    REQUIRE(e->submit(Deposit{1, 100}, {2}, AckLevel::kDurable, done) == ClaimStatus::kOk);
    REQUIRE(e->execute(Deposit{1, 1}, {3}, AckLevel::kJournaled).accepted());  // so the deposit is committed
    const std::uint64_t durable = e->durable_position();
    CHECK(durable < e->committed_position());
    faults.Add(FaultRule{.call = call, .path_contains = segment, .nth = 1, .error = EIO});
    const std::uint64_t syncs = faults.calls(call, segment);
    e->Stop();  // its one Sync() fails; the journal's Close must not sync again
    REQUIRE(done.ready());
    CHECK(done.outcome().code() == RejectCode::kJournalUnavailable);
    CHECK(Contains(done.outcome().rejection().message(), "sync"));
    CHECK(faults.injected() == 1);
    CHECK(faults.calls(call, segment) == syncs + 1);
    CHECK(e->durable_position() == durable);
  }
  auto e = OpenBank(o);
  CHECK(e->committed_position() >= 3);  // journaled (page cache), so recovered
  e->Stop();
}

// Without CheckDurable's look at the journal's status (engine_writer_loop.h) the waiter is
// answered only at Stop(), or once another command arrives and finds the journal failed: this
// test then hangs, which is how it was seen to fail.
TEST_CASE("a failed sync releases the durable waiters at once, while the engine runs",
          "[writer][engine][fault][durability]") {
  rill::test::TempDir tmp("rill-sync-failure");
  const std::string dir = tmp.Sub("j");
  const auto o = Options(dir, rill::journal::Durability::kBatch, rill::journal::SyncMethod::kMsync);
  const std::string segment = dir + "/" + rill::journal::SegmentFileName(0);
  FaultInjector faults;
  auto e = OpenBank(o);
  REQUIRE(e->execute(OpenAccount{1, 7, 978}, {1}, AckLevel::kDurable).accepted());
  const std::uint64_t durable = e->durable_position();
  faults.Add(FaultRule{.call = Call::kMsync, .path_contains = segment, .nth = 1, .error = EIO});
  Completion done;
  REQUIRE(e->submit(Deposit{1, 100}, {2}, AckLevel::kDurable, done) == ClaimStatus::kOk);
  const CommandOutcome& o2 = done.Wait();  // no other command, no Stop: the failure must wake it
  CHECK(o2.code() == RejectCode::kJournalUnavailable);
  CHECK(Contains(o2.rejection().message(), "msync"));
  CHECK(e->durable_position() == durable);
  const rill::Status status = e->status();
  CHECK_FALSE(status.ok());
  CHECK(Contains(status.message(), segment));
  e->Stop();
}
