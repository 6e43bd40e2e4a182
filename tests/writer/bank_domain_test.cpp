// The bank ledger's rules, each accepted and rejected case, through the generic command
// processor (so versions and records are checked too), plus transfer atomicity at the level of
// decide itself.
#include <catch2/catch.hpp>
#include <cstdint>

#include "rill/engine/command_processor.h"
#include "rill/examples/bank/bank_domain.h"
#include "writer_test_util.h"

namespace {

using namespace rill::examples::bank;
using rill::engine::CommandMeta;
using rill::engine::CommandOutcome;
using rill::engine::CommandProcessor;
using rill::engine::RejectCode;

struct Ledger {
  CommandProcessor<BankDomain> p;
  rill::testing::VectorSink sink;
  std::uint64_t next_id = 1;

  CommandOutcome Run(const Command& cmd) { return p.Process(CommandMeta{next_id++}, cmd, 1'000, sink); }
  const Account& Get(std::uint64_t id) {
    const auto i = p.store().Find(id);
    REQUIRE(i != decltype(p)::Store::kNone);
    return p.store().state(i);
  }
  std::uint64_t Version(std::uint64_t id) { return p.store().version(p.store().Find(id)); }
  void Open(std::uint64_t id, std::int64_t balance = 0, std::uint16_t currency = 978) {
    REQUIRE(Run(OpenAccount{id, 100 + id, currency}).accepted());
    if (balance > 0) REQUIRE(Run(Deposit{id, balance}).accepted());
  }
};

void RequireRejected(const CommandOutcome& o, RejectCode code, Reason reason) {
  INFO(o.rejection().message());
  REQUIRE_FALSE(o.accepted());
  REQUIRE(o.code() == code);
  REQUIRE(o.rejection().domain_code == static_cast<std::uint32_t>(reason));
  REQUIRE_FALSE(o.rejection().message().empty());
}

}  // namespace

TEST_CASE("bank: open account records AccountOpened and starts the stream at version 1", "[writer][bank]") {
  Ledger l;
  const CommandOutcome o = l.Run(OpenAccount{7, 42, 978});
  REQUIRE(o.accepted());
  CHECK(o.stream_id() == 7);
  CHECK(o.stream_version() == 1);
  CHECK(o.position() == 1);
  CHECK(o.event_count() == 1);
  CHECK(l.Get(7).owner == 42);
  CHECK(l.Get(7).currency == 978);
  CHECK(l.Get(7).balance == 0);
  CHECK_FALSE(l.Get(7).closed);
}

TEST_CASE("bank: opening an existing account id is rejected", "[writer][bank]") {
  Ledger l;
  l.Open(7);
  RequireRejected(l.Run(OpenAccount{7, 1, 978}), RejectCode::kAlreadyExists, Reason::kAccountExists);
  CHECK(l.sink.records.size() == 1);
}

TEST_CASE("bank: currency 0 is an invalid command", "[writer][bank]") {
  Ledger l;
  RequireRejected(l.Run(OpenAccount{7, 1, 0}), RejectCode::kInvalidCommand, Reason::kInvalidCurrency);
  CHECK(l.p.store().Find(7) == CommandProcessor<BankDomain>::Store::kNone);
}

TEST_CASE("bank: deposit and withdraw move the balance and bump the version", "[writer][bank]") {
  Ledger l;
  l.Open(1);
  REQUIRE(l.Run(Deposit{1, 500}).accepted());
  const CommandOutcome o = l.Run(Withdraw{1, 200});
  REQUIRE(o.accepted());
  CHECK(o.stream_version() == 3);
  CHECK(l.Get(1).balance == 300);
  SECTION("withdrawing the whole balance is allowed") {
    REQUIRE(l.Run(Withdraw{1, 300}).accepted());
    CHECK(l.Get(1).balance == 0);
  }
}

TEST_CASE("bank: withdrawal beyond the balance is rejected and changes nothing", "[writer][bank]") {
  Ledger l;
  l.Open(1, 100);
  const auto records = l.sink.records.size();
  const CommandOutcome o = l.Run(Withdraw{1, 250});
  RequireRejected(o, RejectCode::kRuleViolated, Reason::kInsufficientFunds);
  CHECK(o.rejection().message() == "account 1: balance 100 is less than 250");
  CHECK(l.Get(1).balance == 100);
  CHECK(l.Version(1) == 2);
  CHECK(l.sink.records.size() == records);
}

TEST_CASE("bank: non-positive amounts are invalid commands", "[writer][bank]") {
  Ledger l;
  l.Open(1, 100);
  l.Open(2);
  RequireRejected(l.Run(Deposit{1, 0}), RejectCode::kInvalidCommand, Reason::kNonPositiveAmount);
  RequireRejected(l.Run(Withdraw{1, -5}), RejectCode::kInvalidCommand, Reason::kNonPositiveAmount);
  RequireRejected(l.Run(Transfer{1, 2, 0}), RejectCode::kInvalidCommand, Reason::kNonPositiveAmount);
  CHECK(l.Get(1).balance == 100);
}

TEST_CASE("bank: commands on unknown accounts are rejected as not found", "[writer][bank]") {
  Ledger l;
  l.Open(1, 100);
  RequireRejected(l.Run(Deposit{9, 10}), RejectCode::kNotFound, Reason::kUnknownAccount);
  RequireRejected(l.Run(Withdraw{9, 10}), RejectCode::kNotFound, Reason::kUnknownAccount);
  RequireRejected(l.Run(CloseAccount{9, CloseReason::Dormant}), RejectCode::kNotFound, Reason::kUnknownAccount);
  RequireRejected(l.Run(Transfer{9, 1, 10}), RejectCode::kNotFound, Reason::kUnknownAccount);
  const CommandOutcome o = l.Run(Transfer{1, 9, 10});
  RequireRejected(o, RejectCode::kNotFound, Reason::kUnknownAccount);
  CHECK(o.rejection().message() == "account 9 does not exist");
  CHECK(l.Get(1).balance == 100);
  // A rejected command records nothing, and leaves no entry behind for an unknown stream.
  CHECK(l.p.store().Find(9) == CommandProcessor<BankDomain>::Store::kNone);
}

TEST_CASE("bank: deposit that would overflow the balance is rejected", "[writer][bank]") {
  Ledger l;
  l.Open(1, INT64_MAX - 5);
  l.Open(2, 10);
  RequireRejected(l.Run(Deposit{1, 6}), RejectCode::kRuleViolated, Reason::kBalanceOverflow);
  RequireRejected(l.Run(Transfer{2, 1, 6}), RejectCode::kRuleViolated, Reason::kBalanceOverflow);
  REQUIRE(l.Run(Deposit{1, 5}).accepted());
  CHECK(l.Get(1).balance == INT64_MAX);
  CHECK(l.Get(2).balance == 10);
}

TEST_CASE("bank: transfer moves money between two accounts in one command", "[writer][bank]") {
  Ledger l;
  l.Open(1, 1'000);
  l.Open(2, 50);
  const CommandOutcome o = l.Run(Transfer{1, 2, 300});
  REQUIRE(o.accepted());
  CHECK(o.event_count() == 2);
  CHECK(o.stream_id() == 1);
  CHECK(o.stream_version() == 3);
  CHECK(o.position() == l.sink.records.size());
  CHECK(l.Get(1).balance == 700);
  CHECK(l.Get(2).balance == 350);
  CHECK(l.Version(2) == 3);
}

TEST_CASE("bank: transfer rule violations are rejected and move nothing", "[writer][bank]") {
  Ledger l;
  l.Open(1, 100);
  l.Open(2, 100);
  l.Open(3, 100, 840);  // USD
  l.Open(4);
  REQUIRE(l.Run(CloseAccount{4, CloseReason::CustomerRequest}).accepted());
  const auto records = l.sink.records.size();
  RequireRejected(l.Run(Transfer{1, 1, 10}), RejectCode::kInvalidCommand, Reason::kSameAccount);
  RequireRejected(l.Run(Transfer{1, 2, 101}), RejectCode::kRuleViolated, Reason::kInsufficientFunds);
  RequireRejected(l.Run(Transfer{1, 3, 10}), RejectCode::kRuleViolated, Reason::kCurrencyMismatch);
  RequireRejected(l.Run(Transfer{1, 4, 10}), RejectCode::kRuleViolated, Reason::kAccountClosed);
  RequireRejected(l.Run(Transfer{4, 1, 10}), RejectCode::kRuleViolated, Reason::kAccountClosed);
  CHECK(l.sink.records.size() == records);
  CHECK(l.Get(1).balance == 100);
  CHECK(l.Get(2).balance == 100);
  CHECK(l.Get(3).balance == 100);
}

TEST_CASE("bank: transfer decides both events or none", "[writer][bank][atomicity]") {
  using View = BankDomain::View;
  const Account rich{1'000, 1, 978, false};
  const Account poor{10, 2, 978, false};
  const View views[2] = {View{1, 5, &rich}, View{2, 3, &poor}};
  const rill::engine::DecideContext ctx{1, 99};

  const BankDomain::Decision ok = BankDomain::Decide(Transfer{1, 2, 500}, views, ctx);
  REQUIRE(ok.accepted());
  REQUIRE(ok.events().size() == 2);
  CHECK(ok.events()[0].stream_id == 1);
  CHECK(std::get<TransferSent>(ok.events()[0].event).amount == 500);
  CHECK(std::get<TransferSent>(ok.events()[0].event).to_account == 2);
  CHECK(ok.events()[1].stream_id == 2);
  CHECK(std::get<TransferReceived>(ok.events()[1].event).amount == 500);
  CHECK(std::get<TransferReceived>(ok.events()[1].event).from_account == 1);

  const View reversed[2] = {View{2, 3, &poor}, View{1, 5, &rich}};
  const BankDomain::Decision no = BankDomain::Decide(Transfer{2, 1, 500}, reversed, ctx);
  REQUIRE_FALSE(no.accepted());  // a rejection carries no events at all
  CHECK(no.rejection().code == RejectCode::kRuleViolated);
}

TEST_CASE("bank: an account closes only at zero balance, once, and its id is never reused", "[writer][bank]") {
  Ledger l;
  l.Open(1, 100);
  const CommandOutcome not_zero = l.Run(CloseAccount{1, CloseReason::CustomerRequest});
  RequireRejected(not_zero, RejectCode::kRuleViolated, Reason::kBalanceNotZero);
  CHECK_FALSE(l.Get(1).closed);
  REQUIRE(l.Run(Withdraw{1, 100}).accepted());
  REQUIRE(l.Run(CloseAccount{1, CloseReason::Dormant}).accepted());
  CHECK(l.Get(1).closed);
  RequireRejected(l.Run(CloseAccount{1, CloseReason::Dormant}), RejectCode::kRuleViolated, Reason::kAccountClosed);
  RequireRejected(l.Run(Deposit{1, 5}), RejectCode::kRuleViolated, Reason::kAccountClosed);
  RequireRejected(l.Run(Withdraw{1, 5}), RejectCode::kRuleViolated, Reason::kAccountClosed);
  RequireRejected(l.Run(OpenAccount{1, 5, 978}), RejectCode::kAlreadyExists, Reason::kAccountExists);
}
