// The crash test's verifier on journals written by the real engine, then broken on purpose:
// each kind of broken input must come out as a violation that names what is wrong. The
// commands are the workload's, regenerated from their ids, as in a real run.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>

#include "rill/projections/checkpoint.h"
#include "rill/projections/projector_thread.h"
#include "rill/tools/state_mirror.h"

#include "crashtest_test_util.h"
#include "test_workloads.h"

namespace {

using namespace rill::tools::crashtest;
using namespace rill::tools::crashtest::test;
using rill::engine::AckLevel;

// Stream versions after the run, by account.
std::map<std::uint64_t, std::uint64_t> Versions(BankEngine& e) {
  std::map<std::uint64_t, std::uint64_t> v;
  e.Stop();
  REQUIRE(
      e.ForEachAggregate([&](std::uint64_t id, std::uint64_t version, const bk::Account&) { v[id] = version; }).ok());
  return v;
}

// A journal the real engine wrote (the setup and producer 0's first `n` commands), closed,
// with each account's stream version: what the tamper tests start from.
struct WrittenJournal {
  explicit WrittenJournal(std::uint64_t n = 0) {
    auto e = OpenEngine(dir(), rill::journal::Durability::kNone);
    RunWorkload(*e, books, n);
    versions = Versions(*e);
  }
  std::string dir() const { return tmp.Sub("j"); }
  VerifyReport Verify() { return books.Verify(dir()); }
  // Reports `id` sent, as a child does before it submits.
  void Send(std::uint64_t id) { (void)books.ledger.Absorb(WireRecord::Sent(id, AckLevel::kJournaled, false), 1); }
  const bk::Command& Command(std::uint64_t id) { return *books.source.Find(id); }

  TempDir tmp{"rill-crashtest"};
  Books<BankWorkload> books;
  std::map<std::uint64_t, std::uint64_t> versions;
};

}  // namespace

TEST_CASE("verifier: a journal with every acknowledged command verifies", "[crashtest][verifier]") {
  TempDir tmp("rill-crashtest");
  Books<BankWorkload> books;
  auto e = OpenEngine(tmp.Sub("j"), rill::journal::Durability::kNone);
  // Past the engine's digest interval (4096 commands), so a digest record is checked too.
  RunWorkload(*e, books, 4500);
  e.reset();

  const VerifyReport r = books.Verify(tmp.Sub("j"));
  INFO(r.violation.value_or(""));
  CHECK(!r.violation);
  CHECK(r.acks_checked == r.commands);
  CHECK(r.acks_checked >= 2 * kAccounts);
  CHECK(r.rejections_checked >= 1);  // the contended mix overdraws now and then
  CHECK(r.digests_checked >= 1);
  CHECK(r.tally > 0);              // the money in the accounts
  CHECK(r.read_model_start == 0);  // no checkpoints given: folded from the start
}

TEST_CASE("verifier: an acknowledged command missing from the journal is a violation", "[crashtest][verifier]") {
  WrittenJournal j(50);
  j.books.ledger.InjectFakeAck(1, 3);  // acked, never journaled: what a lost write looks like
  const VerifyReport r = j.Verify();
  REQUIRE(r.violation);
  CHECK_THAT(*r.violation, Catch::Contains("is missing from the recovered journal"));
}

TEST_CASE("verifier: a command acknowledged as rejected but journaled is a violation", "[crashtest][verifier]") {
  WrittenJournal j(10);
  REQUIRE(j.books.ledger.InjectLostAck(1));
  const VerifyReport r = j.Verify();
  REQUIRE(r.violation);
  CHECK_THAT(*r.violation, Catch::Contains("acknowledged as rejected"));
}

TEST_CASE("verifier: an acknowledgement of another position than the journal's is a violation",
          "[crashtest][verifier]") {
  WrittenJournal j;
  const std::uint64_t id = FirstProduced<bk::Deposit>(j.books);
  {
    auto e = OpenEngine(j.dir(), rill::journal::Durability::kNone);
    j.Send(id);
    const rill::engine::CommandOutcome o = e->execute(j.Command(id), {.command_id = id});
    REQUIRE(o.accepted());
    // What a child would report if the engine acknowledged a position it did not write.
    const auto wrong = rill::engine::CommandOutcome::Accepted(o.position() + 1, o.stream_id(), o.stream_version(), 1);
    REQUIRE(!j.books.ledger.Absorb(WireRecord::Ack(id, wrong, AckLevel::kJournaled), 1));
  }
  const VerifyReport r = j.Verify();
  REQUIRE(r.violation);
  CHECK_THAT(*r.violation, Catch::Contains("was acknowledged at position"));
  CHECK_THAT(*r.violation, Catch::Contains("but the journal holds it at position"));
}

TEST_CASE("verifier: a command journaled twice is a violation", "[crashtest][verifier]") {
  WrittenJournal j;
  Books<BankWorkload>& b = j.books;
  const std::uint64_t id = FirstProduced<bk::Deposit>(b);
  auto e = OpenEngine(j.dir(), rill::journal::Durability::kNone);
  REQUIRE(Run(*e, b, id).accepted());
  const auto versions = Versions(*e);
  e.reset();
  const auto& deposit = std::get<bk::Deposit>(j.Command(id));
  {  // the same command applied again in a later batch: versions and money still add up
    Tamper<bk::BankDomain> t(j.dir());
    t.Add(bk::Deposited{deposit.amount}, deposit.account, versions.at(deposit.account) + 1, id, j.Command(id));
    t.Commit();
  }
  const VerifyReport r = j.Verify();
  REQUIRE(r.violation);
  CHECK_THAT(*r.violation, Catch::Contains("is journaled twice"));
}

TEST_CASE("verifier: a transfer journaled with one half is a violation", "[crashtest][verifier]") {
  WrittenJournal j;  // the setup only: every account holds its initial balance, so it is accepted
  const std::uint64_t id = FirstProduced<bk::Transfer>(j.books);
  const auto& t = std::get<bk::Transfer>(j.Command(id));
  j.Send(id);
  {
    Tamper<bk::BankDomain> tamper(j.dir());
    tamper.Add(bk::TransferSent{t.to, t.amount}, t.from, j.versions.at(t.from) + 1, id, j.Command(id));
    tamper.Commit();
  }
  const VerifyReport r = j.Verify();
  REQUIRE(r.violation);
  INFO(*r.violation);
  CHECK_THAT(*r.violation, Catch::Contains("Transfer{" + std::to_string(t.from) + ", " + std::to_string(t.to)));
  CHECK_THAT(*r.violation, Catch::Contains("but the domain decides"));
  CHECK_THAT(*r.violation, Catch::Contains("bank.TransferReceived{" + std::to_string(t.from) + ", " +
                                           std::to_string(t.amount) + "} on stream " + std::to_string(t.to)));
}

TEST_CASE("verifier: an event with another payload than the domain decides is a violation", "[crashtest][verifier]") {
  WrittenJournal j;
  const std::uint64_t id = FirstProduced<bk::Deposit>(j.books);
  const auto& d = std::get<bk::Deposit>(j.Command(id));
  j.Send(id);
  {
    Tamper<bk::BankDomain> t(j.dir());
    t.Add(bk::Deposited{d.amount + 1}, d.account, j.versions.at(d.account) + 1, id, j.Command(id));
    t.Commit();
  }
  const VerifyReport r = j.Verify();
  REQUIRE(r.violation);
  CHECK_THAT(*r.violation, Catch::Contains("as [bank.Deposited{" + std::to_string(d.amount + 1) + "}"));
  CHECK_THAT(*r.violation, Catch::Contains("decides [bank.Deposited{" + std::to_string(d.amount) + "}"));
}

TEST_CASE("verifier: another command's events under a command's id are a violation", "[crashtest][verifier]") {
  WrittenJournal j;
  const std::uint64_t id = FirstProduced<bk::Withdraw>(j.books);
  const auto& w = std::get<bk::Withdraw>(j.Command(id));
  j.Send(id);
  {  // what a withdrawal from another account would have journaled, under this id
    const std::uint64_t other = w.account % kAccounts + 1;
    Tamper<bk::BankDomain> t(j.dir());
    t.Add(bk::Withdrawn{w.amount}, other, j.versions.at(other) + 1, id, bk::Withdraw{other, w.amount});
    t.Commit();
  }
  const VerifyReport r = j.Verify();
  REQUIRE(r.violation);
  INFO(*r.violation);
  CHECK_THAT(*r.violation, Catch::Contains("but the domain decides"));
  // The journaled command fingerprint is another command's: the message says so.
  CHECK_THAT(*r.violation, Catch::Contains("fingerprint is not that of the command the workload generates"));
}

TEST_CASE("verifier: events of a command the domain rejects on the state before it are a violation",
          "[crashtest][verifier][kinds]") {
  namespace shop = rill::testing::shop;
  TempDir tmp("rill-crashtest");
  Books<ShopWorkload> books;
  {
    auto e = OpenEngineOf<shop::ShopDomain>(tmp.Sub("j"), rill::journal::Durability::kNone);
    RunWorkload(*e, books, 0);
  }
  // The first shipment, journaled although its order was never placed.
  const std::uint64_t id = FirstProduced<shop::Ship>(books);
  const auto& ship = std::get<shop::Ship>(*books.source.Find(id));
  (void)books.ledger.Absorb(WireRecord::Sent(id, AckLevel::kJournaled, false), 1);
  {
    Tamper<shop::ShopDomain> t(tmp.Sub("j"));
    t.Add(shop::OrderShipped{}, ship.order, 1, id, *books.source.Find(id));
    t.Add(shop::StockShipped{1}, 1, 2, id, *books.source.Find(id));
    t.Commit();
  }
  const VerifyReport r = books.Verify(tmp.Sub("j"));
  REQUIRE(r.violation);
  INFO(*r.violation);
  CHECK_THAT(*r.violation, Catch::Contains("Ship{" + std::to_string(ship.order) + "}"));
  CHECK_THAT(*r.violation, Catch::Contains("OrderShipped{} on rill::testing::shop::Order stream"));
  CHECK_THAT(*r.violation, Catch::Contains("but the domain rejects it on the state before it (not found: no order"));
}

TEST_CASE("verifier: an event of a command no child sent is a violation", "[crashtest][verifier]") {
  WrittenJournal j;
  const std::uint64_t id = FirstProduced<bk::Deposit>(j.books);
  const auto& d = std::get<bk::Deposit>(j.Command(id));
  {
    Tamper<bk::BankDomain> t(j.dir());
    t.Add(bk::Deposited{d.amount}, d.account, j.versions.at(d.account) + 1, id, j.Command(id));
    t.Commit();
  }
  const VerifyReport r = j.Verify();
  REQUIRE(r.violation);
  CHECK_THAT(*r.violation, Catch::Contains("which no child sent"));
}

TEST_CASE("verifier: a stream version gap is a violation", "[crashtest][verifier]") {
  WrittenJournal j;
  const std::uint64_t id = FirstProduced<bk::Deposit>(j.books);
  const auto& d = std::get<bk::Deposit>(j.Command(id));
  j.Send(id);
  {
    Tamper<bk::BankDomain> t(j.dir());
    t.Add(bk::Deposited{d.amount}, d.account, j.versions.at(d.account) + 2, id, j.Command(id));
    t.Commit();
  }
  // The engine's own replay refuses the gap first; either way it is reported.
  const VerifyReport r = j.Verify();
  REQUIRE(r.violation);
  CHECK_THAT(*r.violation, Catch::Contains("version"));
}

TEST_CASE("verifier: a digest record the journal's events do not fold to is a violation", "[crashtest][verifier]") {
  WrittenJournal j(5);
  const VerifyReport before = j.Verify();
  REQUIRE(!before.violation);
  {
    Tamper<bk::BankDomain> t(j.dir());
    t.AddDigest(12345, before.committed_position);
    t.Commit();
  }
  const VerifyReport r = j.Verify();
  REQUIRE(r.violation);
  CHECK_THAT(*r.violation,
             Catch::Contains("digest record at position " + std::to_string(before.committed_position + 1)));
}

TEST_CASE("verifier: a workload that is not deterministic is named", "[crashtest][verifier]") {
  WrittenJournal j(20);
  // The parent's workload with another seed: the same setup, other produced commands.
  CommandSource<BankWorkload> other(CrashWorkloadOptions(kAccounts, 1, kSeed + 1));
  const VerifyReport r = VerifyJournal<BankWorkload>(Options(j.dir()), j.books.ledger, other);
  REQUIRE(r.violation);
  INFO(*r.violation);
  CHECK_THAT(*r.violation, Catch::Contains("producer 0's #0"));
  CHECK_THAT(*r.violation, Catch::Contains("the workload is not deterministic"));
}

TEST_CASE("verifier: the workload's hooks are checked on the recovered state", "[crashtest][verifier]") {
  WrittenJournal j(30);
  SECTION("a tally the state does not add up to") {
    CommandSource<WrongTallyWorkload> source(CrashWorkloadOptions(kAccounts, 1, kSeed));
    const VerifyReport r = VerifyJournal<WrongTallyWorkload>(Options(j.dir()), j.books.ledger, source);
    REQUIRE(r.violation);
    CHECK_THAT(*r.violation, Catch::StartsWith("money is not conserved"));
  }
  SECTION("an invariant that does not hold") {
    CommandSource<BrokenInvariantWorkload> source(CrashWorkloadOptions(kAccounts, 1, kSeed));
    const VerifyReport r = VerifyJournal<BrokenInvariantWorkload>(Options(j.dir()), j.books.ledger, source);
    REQUIRE(r.violation);
    CHECK_THAT(*r.violation, Catch::Contains("invariant does not hold"));
    CHECK_THAT(*r.violation, Catch::Contains("past the test's limit of 3"));
  }
}

TEST_CASE("verifier: a domain with two kinds whose orders end verifies, and a restarted stream is checked",
          "[crashtest][verifier][kinds]") {
  namespace shop = rill::testing::shop;
  TempDir tmp("rill-crashtest");
  Books<ShopWorkload> books;
  auto e = OpenEngineOf<shop::ShopDomain>(tmp.Sub("j"), rill::journal::Durability::kNone);
  RunWorkload(*e, books, 600);
  e.reset();
  const VerifyReport ok = books.Verify(tmp.Sub("j"));
  INFO(ok.violation.value_or(""));
  REQUIRE(!ok.violation);
  CHECK(ok.rejections_checked >= 1);  // short of stock now and then

  // An order that ended (shipped or released), placed again: its stream starts over at version
  // 1; a journal that continues it at version 3 is refused.
  std::uint64_t ended = 0;
  for (std::uint64_t k = 0; ended == 0; ++k) {
    const auto* s = std::get_if<shop::Ship>(books.source.Find(books.source.ids().Produced(0, k)));
    const Ledger::Entry* acked = books.ledger.Find(books.source.ids().Produced(0, k));
    if (s != nullptr && acked != nullptr && acked->accepted()) ended = s->order;
  }
  const std::uint64_t id = books.source.ids().Produced(0, 600);  // sent, never decided
  (void)books.ledger.Absorb(WireRecord::Sent(id, AckLevel::kJournaled, false), 1);
  {
    Tamper<shop::ShopDomain> t(tmp.Sub("j"));
    t.Add(shop::OrderPlaced{1, 1}, ended, 3, id, *books.source.Find(id));
    t.Commit();
  }
  const VerifyReport bad = books.Verify(tmp.Sub("j"));
  REQUIRE(bad.violation);
  CHECK_THAT(*bad.violation, Catch::Contains("version"));
}

namespace {

// What a child's read model leaves behind: a StateMirror's checkpoint at the journal's end.
std::uint64_t MirrorCheckpoint(const std::string& journal, const std::string& dir, std::uint64_t end) {
  static const rill::codecs::SchemaRegistry registry = [] {
    rill::codecs::SchemaRegistryBuilder b;
    bk::BankDomain::RegisterEvents(b);
    return std::move(b).Build().value();
  }();
  rill::projections::ProjectorThreadOptions po;
  po.journal_directory = journal;
  po.registry = &registry;
  po.checkpoint_directory = dir;
  std::filesystem::create_directories(dir);
  auto t = rill::projections::ProjectorThread::Create(std::move(po)).value();
  auto* mirror = t->Add<rill::tools::StateMirror<bk::BankDomain>>();
  REQUIRE(t->Start().ok());
  REQUIRE(mirror->WaitFor(end, std::chrono::seconds(30)).ok());
  t->Stop();  // the final checkpoint
  return mirror->checkpoint_position();
}

}  // namespace

TEST_CASE("verifier: the read model resumes from the children's newest checkpoint, and a wrong one is caught",
          "[crashtest][verifier][read_model]") {
  WrittenJournal j(100);
  const std::string ckpt = j.tmp.Sub("checkpoints");
  VerifyOptions o = Options(j.dir());
  o.checkpoints = ckpt;
  o.scratch = j.tmp.Sub("scratch");
  const std::uint64_t first_end = j.Verify().committed_position;
  const std::uint64_t at = MirrorCheckpoint(j.dir(), ckpt, first_end);
  REQUIRE(at == first_end);
  {  // more commands after the checkpoint
    auto e = OpenEngine(j.dir(), rill::journal::Durability::kNone);
    for (std::uint64_t k = 100; k < 200; ++k) Run(*e, j.books, j.books.source.ids().Produced(0, k));
  }
  const VerifyReport resumed = VerifyJournal<BankWorkload>(o, j.books.ledger, j.books.source);
  INFO(resumed.violation.value_or(""));
  REQUIRE(!resumed.violation);
  CHECK(resumed.read_model_start == at);
  REQUIRE(resumed.committed_position > at);

  SECTION("a checkpoint that claims the end with an older state") {
    const rill::projections::CheckpointMeta expect{std::string(rill::tools::StateMirror<bk::BankDomain>::kName),
                                                   rill::tools::StateMirror<bk::BankDomain>::kVersion,
                                                   Tamper<bk::BankDomain>::Fingerprint(), 0};
    auto older = rill::projections::LoadNewestCheckpoint(ckpt, expect, ~std::uint64_t{0}, nullptr);
    REQUIRE(older);
    auto meta = expect;
    meta.position = resumed.committed_position;
    REQUIRE(rill::projections::WriteCheckpoint(ckpt, meta, older->payload).ok());
    const VerifyReport r = VerifyJournal<BankWorkload>(o, j.books.ledger, j.books.source);
    REQUIRE(r.violation);
    CHECK_THAT(*r.violation, Catch::Contains("has state digest"));
  }
  SECTION("a damaged checkpoint") {
    const std::string file = ckpt + "/" + std::string(rill::tools::StateMirror<bk::BankDomain>::kName) + "-" +
                             std::string(20 - std::to_string(at).size(), '0') + std::to_string(at) + ".ckpt";
    std::FILE* f = std::fopen(file.c_str(), "r+b");
    REQUIRE(f != nullptr);
    std::fseek(f, 70, SEEK_SET);
    const int c = std::fgetc(f);
    std::fseek(f, 70, SEEK_SET);
    std::fputc(c ^ 1, f);
    std::fclose(f);
    const VerifyReport r = VerifyJournal<BankWorkload>(o, j.books.ledger, j.books.source);
    REQUIRE(r.violation);
    CHECK_THAT(*r.violation, Catch::Contains("checkpoint was not usable"));
  }
}
