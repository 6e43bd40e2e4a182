// rill/bench/e2e/bank_workload.h: the bank workload of `rill bench`: a deterministic (seeded)
// stream of bank commands, so rill, the mutex baseline and PostgreSQL get the same commands.
//
//   rill::bench::BankWorkloadOptions w{.accounts = 100'000, .producers = 2, .seed = 7};
//   for (const BankCommand& c : SetupCommands(w)) submit(c);   // opens + initial deposits, once
//   BankCommandStream s(w, /*producer=*/0);                    // one per producer thread
//   BankCommand c = s.Next();                                  // c.meta.command_id is unique
//   engine.Submit(c.meta, c.command);
//
// Setup: OpenAccount for accounts 1..N (all in one currency, owner = account), then a Deposit
// of initial_balance to each, so withdrawals and transfers mostly succeed. After that each
// producer draws deposits, withdrawals and transfers in the configured mix (percentages of
// the remainder are transfers), on uniformly chosen accounts, amounts uniform in
// [1, max_amount]. A withdrawal or transfer may be rejected for insufficient funds: a real
// ledger sees those too.
// Command ids: setup commands are 1..2N; producer p's k-th command (k from 0) has id
// 2N + 1 + k * producers + p, so ids are unique across producers and runs are reproducible.
// Next() is a few multiplies (splitmix64), no allocation: fast enough to feed the engine.
// Thread safety: a stream belongs to one thread; distinct streams are independent.
#pragma once

#include <cstdint>
#include <vector>

#include "rill/base/splitmix64.h"
#include "rill/engine/domain.h"
#include "rill/examples/bank/bank_domain.h"

namespace rill::bench {

struct BankWorkloadOptions {
  std::uint64_t accounts = 10'000;  // >= 2 (a transfer needs two)
  int producers = 1;
  std::uint64_t seed = 1;
  int deposit_percent = 30;
  int withdraw_percent = 20;  // transfers: 100 - deposit - withdraw
  std::int64_t initial_balance = 1'000'000;
  std::int64_t max_amount = 10'000;
  std::uint16_t currency = 978;
};

struct BankCommand {
  engine::CommandMeta meta;
  examples::bank::Command command;
};

// The opens and initial deposits, in the order they must be applied (2 * accounts commands).
std::vector<BankCommand> SetupCommands(const BankWorkloadOptions& options);

// What an accepted command adds to the sum of all balances (deposit +, withdraw -,
// transfer 0): the money-conservation check of every baseline.
std::int64_t NetDeposit(const examples::bank::Command& command) noexcept;

class BankCommandStream {
 public:
  // REQUIRES: 0 <= producer < options.producers, options.accounts >= 2.
  BankCommandStream(const BankWorkloadOptions& options, int producer);

  BankCommand Next() noexcept {
    BankCommand c;
    c.meta.command_id = next_id_;
    next_id_ += id_stride_;
    const std::uint64_t r = Random();
    const auto pick = static_cast<int>(r % 100);
    const std::uint64_t account = 1 + (r >> 8) % accounts_;
    const std::int64_t amount = 1 + static_cast<std::int64_t>(Random() % max_amount_);
    if (pick < deposit_percent_) {
      c.command = examples::bank::Deposit{account, amount};
    } else if (pick < deposit_withdraw_percent_) {
      c.command = examples::bank::Withdraw{account, amount};
    } else {
      // Any account but `account`: an offset in [1, N-1] from it, wrapping around.
      const std::uint64_t offset = 1 + (r >> 40) % (accounts_ - 1);
      const std::uint64_t to = 1 + (account - 1 + offset) % accounts_;
      c.command = examples::bank::Transfer{account, to, amount};
    }
    return c;
  }

 private:
  std::uint64_t Random() noexcept { return rng_.Next(); }

  SplitMix64 rng_;
  std::uint64_t next_id_;
  std::uint64_t id_stride_;
  std::uint64_t accounts_;
  std::uint64_t max_amount_;
  int deposit_percent_;
  int deposit_withdraw_percent_;
};

}  // namespace rill::bench
