// rill/examples/bank/bank_domain.h: the bank ledger, rill's reference domain. Accounts hold a
// balance in minor units (cents) of one currency; money moves by deposit, withdrawal and
// transfer, never below zero.
//
//   using namespace rill::examples::bank;
//   rill::engine::CommandProcessor<BankDomain> writer;
//   writer.Process({.command_id = 1}, OpenAccount{.account = 7, .owner = 42, .currency = 978}, now, sink);
//   writer.Process({.command_id = 2}, Deposit{.account = 7, .amount = 10'000}, now, sink);
//   auto o = writer.Process({.command_id = 3}, Transfer{.from = 7, .to = 8, .amount = 500}, now, sink);
//   // o.rejection().code == kNotFound: account 8 does not exist
//
// Rules (each has a test in tests/writer/bank_domain_test.cpp):
// - OpenAccount: the id must be unused, also by a closed account (kAlreadyExists); currency
//   must be non-zero (kInvalidCommand).
// - Deposit / Withdraw: amount > 0 (kInvalidCommand); the account exists (kNotFound) and is
//   open (kRuleViolated, kAccountClosed); a withdrawal never overdraws (kInsufficientFunds);
//   a deposit never overflows the balance (kBalanceOverflow).
// - Transfer: amount > 0 and from != to (kInvalidCommand); both accounts exist (kNotFound)
//   and are open (kAccountClosed); same currency (kCurrencyMismatch); no overdraft of `from`,
//   no overflow of `to`. Both events (TransferSent on from, TransferReceived on to) or none.
// - CloseAccount: the account exists and is open; its balance must be zero
//   (kBalanceNotZero): money is never destroyed by closing, move it out first.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <type_traits>
#include <variant>

#include "bank_events.h"  // generated from bank.fbs: the events, their codec and registration
#include "rill/codecs/decoder.h"
#include "rill/codecs/encoder.h"
#include "rill/codecs/schema_registry.h"
#include "rill/engine/decision.h"
#include "rill/engine/domain.h"
#include "rill/engine/fingerprint.h"

namespace rill::examples::bank {

namespace fb = ::rill::bank;  // the FlatBuffers tables (bank.fbs)
using CloseReason = fb::CloseReason;

// ---- Commands (trivially copyable, no padding-sensitive hashing: see Fingerprint) ----
struct OpenAccount {
  std::uint64_t account = 0;
  std::uint64_t owner = 0;
  std::uint16_t currency = 0;  // ISO 4217 numeric, e.g. 978 = EUR
};
struct Deposit {
  std::uint64_t account = 0;
  std::int64_t amount = 0;
};
struct Withdraw {
  std::uint64_t account = 0;
  std::int64_t amount = 0;
};
struct Transfer {
  std::uint64_t from = 0;
  std::uint64_t to = 0;
  std::int64_t amount = 0;
};
struct CloseAccount {
  std::uint64_t account = 0;
  CloseReason reason = CloseReason::CustomerRequest;
};
using Command = std::variant<OpenAccount, Deposit, Withdraw, Transfer, CloseAccount>;

// ---- State: one account, 24 bytes ----
struct Account {
  std::int64_t balance = 0;
  std::uint64_t owner = 0;
  std::uint16_t currency = 0;
  bool closed = false;
};

// Rejection::domain_code values of this domain.
enum class Reason : std::uint32_t {
  kNone = 0,
  kInsufficientFunds,
  kAccountClosed,
  kBalanceNotZero,
  kCurrencyMismatch,
  kBalanceOverflow,
  kNonPositiveAmount,
  kSameAccount,
  kInvalidCurrency,
  kUnknownAccount,
  kAccountExists,
};

struct BankDomain : BankEvents {  // Event, RegisterEvents, Encode, FromDecoded: from bank.fbs
  using Command = bank::Command;
  using State = Account;
  static constexpr std::size_t kMaxStreams = 2;
  static constexpr std::size_t kMaxEvents = 2;
  using Decision = engine::Decision<Event, kMaxEvents>;
  using View = engine::AggregateView<Account>;

  static engine::StreamList<kMaxStreams> Streams(const Command& cmd) noexcept {
    if (const Transfer* t = std::get_if<Transfer>(&cmd)) return {t->from, t->to};
    // Every command but a transfer names one account (clang: no member template used here
    // before its definition, -Wundefined-inline).
    return {std::visit(
        [](const auto& c) -> std::uint64_t {
          if constexpr (std::is_same_v<std::decay_t<decltype(c)>, Transfer>) {
            return c.from;
          } else {
            return c.account;
          }
        },
        cmd)};
  }

  static Decision Decide(const Command& cmd, std::span<const View> aggs, const engine::DecideContext& ctx) noexcept {
    return std::visit([&](const auto& c) { return DecideOne(c, aggs, ctx); }, cmd);
  }

  static void Evolve(Account& a, const Event& event) noexcept {
    std::visit([&](const auto& e) { EvolveOne(a, e); }, event);
  }

 private:
  // Rejections are built out of line: snprintf and the message stay off the hot path. `fmt`
  // takes a as %llu, then x and y as %lld (unused ones are ignored).
  [[gnu::cold, gnu::noinline]] static Decision Reject(engine::RejectCode code, Reason reason, const char* fmt,
                                                      std::uint64_t a, std::int64_t x = 0,
                                                      std::int64_t y = 0) noexcept {
    char message[engine::Rejection::kMessageCapacity];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    std::snprintf(message, sizeof message, fmt, static_cast<unsigned long long>(a), static_cast<long long>(x),
                  static_cast<long long>(y));
#pragma GCC diagnostic pop
    return Decision::Reject(engine::Rejection(code, static_cast<std::uint32_t>(reason), message));
  }
  // The common checks of an account a command moves money on.
  static std::optional<Decision> CheckOpen(const View& v) noexcept {
    if (!v.exists()) [[unlikely]]
      return Reject(engine::RejectCode::kNotFound, Reason::kUnknownAccount, "account %llu does not exist", v.id);
    if (v.state->closed) [[unlikely]]
      return Reject(engine::RejectCode::kRuleViolated, Reason::kAccountClosed, "account %llu is closed", v.id);
    return std::nullopt;
  }
  static std::optional<Decision> CheckAmount(std::int64_t amount, std::uint64_t account) noexcept {
    if (amount <= 0) [[unlikely]]
      return Reject(engine::RejectCode::kInvalidCommand, Reason::kNonPositiveAmount,
                    "account %llu: amount %lld must be positive", account, amount);
    return std::nullopt;
  }

  static Decision DecideOne(const OpenAccount& c, std::span<const View> aggs, const engine::DecideContext&) noexcept {
    if (aggs[0].exists())
      return Reject(engine::RejectCode::kAlreadyExists, Reason::kAccountExists, "account %llu already exists",
                    c.account);
    if (c.currency == 0)
      return Reject(engine::RejectCode::kInvalidCommand, Reason::kInvalidCurrency,
                    "account %llu: currency 0 is not an ISO 4217 code", c.account);
    Decision d;
    d.Emit(c.account, AccountOpened{c.owner, c.currency});
    return d;
  }
  static Decision DecideOne(const Deposit& c, std::span<const View> aggs, const engine::DecideContext&) noexcept {
    if (auto r = CheckAmount(c.amount, c.account)) return *r;
    if (auto r = CheckOpen(aggs[0])) return *r;
    if (aggs[0].state->balance > INT64_MAX - c.amount) [[unlikely]]
      return Reject(engine::RejectCode::kRuleViolated, Reason::kBalanceOverflow,
                    "account %llu: balance %lld plus %lld overflows", c.account, aggs[0].state->balance, c.amount);
    Decision d;
    d.Emit(c.account, Deposited{c.amount});
    return d;
  }
  static Decision DecideOne(const Withdraw& c, std::span<const View> aggs, const engine::DecideContext&) noexcept {
    if (auto r = CheckAmount(c.amount, c.account)) return *r;
    if (auto r = CheckOpen(aggs[0])) return *r;
    if (aggs[0].state->balance < c.amount)
      return Reject(engine::RejectCode::kRuleViolated, Reason::kInsufficientFunds,
                    "account %llu: balance %lld is less than %lld", c.account, aggs[0].state->balance, c.amount);
    Decision d;
    d.Emit(c.account, Withdrawn{c.amount});
    return d;
  }
  static Decision DecideOne(const Transfer& c, std::span<const View> aggs, const engine::DecideContext&) noexcept {
    if (auto r = CheckAmount(c.amount, c.from)) return *r;
    if (c.from == c.to) [[unlikely]]
      return Reject(engine::RejectCode::kInvalidCommand, Reason::kSameAccount,
                    "account %llu: a transfer needs two different accounts", c.from);
    if (auto r = CheckOpen(aggs[0])) return *r;
    if (auto r = CheckOpen(aggs[1])) return *r;
    const Account& from = *aggs[0].state;
    const Account& to = *aggs[1].state;
    if (from.currency != to.currency) [[unlikely]]
      return Reject(engine::RejectCode::kRuleViolated, Reason::kCurrencyMismatch,
                    "account %llu: currency %lld differs from the target account's %lld", c.from, from.currency,
                    to.currency);
    if (from.balance < c.amount)
      return Reject(engine::RejectCode::kRuleViolated, Reason::kInsufficientFunds,
                    "account %llu: balance %lld is less than %lld", c.from, from.balance, c.amount);
    if (to.balance > INT64_MAX - c.amount) [[unlikely]]
      return Reject(engine::RejectCode::kRuleViolated, Reason::kBalanceOverflow,
                    "account %llu: balance %lld plus %lld overflows", c.to, to.balance, c.amount);
    Decision d;
    d.Emit(c.from, TransferSent{c.to, c.amount});
    d.Emit(c.to, TransferReceived{c.from, c.amount});
    return d;
  }
  static Decision DecideOne(const CloseAccount& c, std::span<const View> aggs, const engine::DecideContext&) noexcept {
    if (auto r = CheckOpen(aggs[0])) return *r;
    if (aggs[0].state->balance != 0)
      return Reject(engine::RejectCode::kRuleViolated, Reason::kBalanceNotZero,
                    "account %llu still holds %lld: withdraw or transfer it before closing", c.account,
                    aggs[0].state->balance);
    Decision d;
    d.Emit(c.account, AccountClosed{c.reason});
    return d;
  }

  static void EvolveOne(Account& a, const AccountOpened& e) noexcept {
    a = Account{};
    a.owner = e.owner_id;
    a.currency = e.currency;
  }
  static void EvolveOne(Account& a, const Deposited& e) noexcept { a.balance += e.amount; }
  static void EvolveOne(Account& a, const Withdrawn& e) noexcept { a.balance -= e.amount; }
  static void EvolveOne(Account& a, const TransferSent& e) noexcept { a.balance -= e.amount; }
  static void EvolveOne(Account& a, const TransferReceived& e) noexcept { a.balance += e.amount; }
  static void EvolveOne(Account& a, const AccountClosed&) noexcept { a.closed = true; }
};

static_assert(engine::CheckDomain<BankDomain>());
static_assert(sizeof(Command) <= 32, "bank commands are meant to fit a small ring slot");

}  // namespace rill::examples::bank
