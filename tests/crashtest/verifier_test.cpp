// The crash test's verifier on journals written by the real engine, then broken on purpose:
// each kind of broken input must come out as a violation that names what is wrong.
#include "rill/tools/crashtest/verifier.h"

#include <catch2/catch.hpp>
#include <functional>
#include <map>
#include <string>

#include "crashtest_test_util.h"

namespace {

using namespace rill::tools::crashtest;
using namespace rill::tools::crashtest::test;
namespace fb = ::rill::bank;

VerifyOptions Options(const std::string& dir) {
  return {.journal = dir,
          .segment_kib = kSegmentKib,
          .durability = rill::journal::Durability::kNone,
          .synced_position = std::nullopt};
}

// Stream versions after the run, by account.
std::map<std::uint64_t, std::uint64_t> Versions(BankEngine& e) {
  std::map<std::uint64_t, std::uint64_t> v;
  e.Stop();
  REQUIRE(
      e.ForEachAggregate([&](std::uint64_t id, std::uint64_t version, const bk::Account&) { v[id] = version; }).ok());
  return v;
}

// A journal the real engine wrote (the seeded workload, then `more`), closed, with each
// account's stream version: what the tamper tests below start from.
struct WrittenJournal {
  explicit WrittenJournal(const std::function<void(BankEngine&, Ledger&)>& more = {}) {
    auto e = OpenEngine(dir(), rill::journal::Durability::kNone);
    RunWorkload(*e, ledger, 0);
    if (more) more(*e, ledger);
    versions = Versions(*e);
  }
  std::string dir() const { return tmp.Sub("j"); }
  VerifyReport Verify() const { return VerifyJournal(Options(dir()), ledger); }

  TempDir tmp{"rill-crashtest"};
  Ledger ledger{kAccounts};
  std::map<std::uint64_t, std::uint64_t> versions;
};

}  // namespace

TEST_CASE("verifier: a journal with every acknowledged command verifies", "[crashtest][verifier]") {
  TempDir tmp("rill-crashtest");
  Ledger ledger(kAccounts);
  auto e = OpenEngine(tmp.Sub("j"), rill::journal::Durability::kNone);
  RunWorkload(*e, ledger, 300);
  // A withdrawal that must be rejected: more than all the money there is.
  const auto rejected = Run(*e, ledger, Ledger::WorkloadId(1, 1000), bk::Withdraw{1, 1'000'000'000});
  REQUIRE(!rejected.accepted());
  e.reset();

  const VerifyReport r = VerifyJournal(Options(tmp.Sub("j")), ledger);
  INFO(r.violation.value_or(""));
  CHECK(!r.violation);
  CHECK(r.acks_checked >= 2 * kAccounts);
  CHECK(r.rejections_checked >= 1);
  CHECK(r.commands == r.acks_checked);
  CHECK(r.total_balance > 0);
}

TEST_CASE("verifier: an acknowledged command missing from the journal is a violation", "[crashtest][verifier]") {
  TempDir tmp("rill-crashtest");
  Ledger ledger(kAccounts);
  auto e = OpenEngine(tmp.Sub("j"), rill::journal::Durability::kNone);
  RunWorkload(*e, ledger, 50);
  e.reset();
  ledger.InjectFakeAck(1, 3);  // acked, never journaled: what a lost write looks like
  const VerifyReport r = VerifyJournal(Options(tmp.Sub("j")), ledger);
  REQUIRE(r.violation);
  CHECK_THAT(*r.violation, Catch::Contains("is missing from the recovered journal"));
}

TEST_CASE("verifier: a command acknowledged as rejected but journaled is a violation", "[crashtest][verifier]") {
  TempDir tmp("rill-crashtest");
  Ledger ledger(kAccounts);
  auto e = OpenEngine(tmp.Sub("j"), rill::journal::Durability::kNone);
  RunWorkload(*e, ledger, 10);
  e.reset();
  REQUIRE(ledger.InjectLostAck(1));
  const VerifyReport r = VerifyJournal(Options(tmp.Sub("j")), ledger);
  REQUIRE(r.violation);
  CHECK_THAT(*r.violation, Catch::Contains("acknowledged as rejected"));
}

TEST_CASE("verifier: a command journaled twice is a violation", "[crashtest][verifier]") {
  const std::uint64_t deposit_id = Ledger::WorkloadId(1, 0);
  WrittenJournal j([&](BankEngine& e, Ledger& ledger) {
    REQUIRE(Run(e, ledger, deposit_id, bk::Deposit{2, 500}).accepted());
  });
  {  // the same command applied again in a later batch: versions and money still add up
    Tamper t(j.dir());
    t.Add<fb::Deposited>(2, j.versions.at(2) + 1, deposit_id,
                         [](flatbuffers::FlatBufferBuilder& b) { return fb::CreateDeposited(b, 500); });
    t.Commit();
  }
  const VerifyReport r = j.Verify();
  REQUIRE(r.violation);
  CHECK_THAT(*r.violation, Catch::Contains("is journaled twice"));
}

TEST_CASE("verifier: a transfer journaled with one half is a violation", "[crashtest][verifier]") {
  WrittenJournal j;
  const std::uint64_t id = Ledger::WorkloadId(1, 5);
  (void)j.ledger.Absorb(WireRecord::Sent(id, bk::Transfer{1, 2, 100}, rill::engine::AckLevel::kJournaled, false), 1);
  {
    Tamper t(j.dir());
    t.Add<fb::TransferSent>(1, j.versions.at(1) + 1, id,
                            [](flatbuffers::FlatBufferBuilder& b) { return fb::CreateTransferSent(b, 2, 100); });
    t.Commit();
  }
  const VerifyReport r = j.Verify();
  REQUIRE(r.violation);
  CHECK_THAT(*r.violation, Catch::Contains("transfer 100 from account 1 to 2"));
}

TEST_CASE("verifier: an event of a command no child sent is a violation", "[crashtest][verifier]") {
  WrittenJournal j;
  {
    Tamper t(j.dir());
    t.Add<fb::Deposited>(3, j.versions.at(3) + 1, Ledger::WorkloadId(1, 77),
                         [](flatbuffers::FlatBufferBuilder& b) { return fb::CreateDeposited(b, 1); });
    t.Commit();
  }
  const VerifyReport r = j.Verify();
  REQUIRE(r.violation);
  CHECK_THAT(*r.violation, Catch::Contains("which no child sent"));
}

TEST_CASE("verifier: a stream version gap is a violation", "[crashtest][verifier]") {
  WrittenJournal j;
  const std::uint64_t id = Ledger::WorkloadId(1, 9);
  (void)j.ledger.Absorb(WireRecord::Sent(id, bk::Deposit{3, 10}, rill::engine::AckLevel::kJournaled, false), 1);
  {
    Tamper t(j.dir());
    t.Add<fb::Deposited>(3, j.versions.at(3) + 2, id,
                         [](flatbuffers::FlatBufferBuilder& b) { return fb::CreateDeposited(b, 10); });
    t.Commit();
  }
  // The engine's own replay refuses the gap first; either way it is reported.
  const VerifyReport r = j.Verify();
  REQUIRE(r.violation);
  CHECK_THAT(*r.violation, Catch::Contains("version"));
}

TEST_CASE("ledger: a retry answered with another outcome is a violation", "[crashtest][ledger]") {
  Ledger ledger(kAccounts);
  const std::uint64_t id = Ledger::WorkloadId(1, 3);
  REQUIRE(!ledger.Absorb(WireRecord::Sent(id, bk::Deposit{1, 5}, rill::engine::AckLevel::kJournaled, false), 1));
  REQUIRE(!ledger.Absorb(
      WireRecord::Ack(id, rill::engine::CommandOutcome::Accepted(40, 1, 7, 1), rill::engine::AckLevel::kJournaled), 1));
  REQUIRE(!ledger.Absorb(WireRecord::Sent(id, bk::Deposit{1, 5}, rill::engine::AckLevel::kJournaled, true), 2));
  const auto twice = ledger.Absorb(
      WireRecord::Ack(id, rill::engine::CommandOutcome::Accepted(90, 1, 12, 1), rill::engine::AckLevel::kJournaled), 2);
  REQUIRE(twice);
  CHECK_THAT(*twice, Catch::Contains("applied twice"));
  const auto other =
      ledger.Absorb(WireRecord::Sent(id, bk::Deposit{1, 6}, rill::engine::AckLevel::kJournaled, true), 3);
  REQUIRE(other);
  CHECK_THAT(*other, Catch::Contains("another payload"));
  const auto never =
      ledger.Absorb(WireRecord::Ack(Ledger::WorkloadId(1, 4), rill::engine::CommandOutcome::Accepted(1, 1, 1, 1),
                                    rill::engine::AckLevel::kJournaled),
                    1);
  REQUIRE(never);
  CHECK_THAT(*never, Catch::Contains("never sent"));
}
