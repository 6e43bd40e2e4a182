#include "rill/bench/e2e/bank_workload.h"

#include <cassert>

namespace rill::bench {

namespace bank = examples::bank;

std::vector<BankCommand> SetupCommands(const BankWorkloadOptions& options) {
  std::vector<BankCommand> out;
  out.reserve(2 * options.accounts);
  std::uint64_t id = 1;
  for (std::uint64_t a = 1; a <= options.accounts; ++a) {
    out.push_back({{.command_id = id++}, bank::OpenAccount{a, a, options.currency}});
  }
  for (std::uint64_t a = 1; a <= options.accounts; ++a) {
    out.push_back({{.command_id = id++}, bank::Deposit{a, options.initial_balance}});
  }
  return out;
}

std::int64_t NetDeposit(const bank::Command& command) noexcept {
  if (const auto* d = std::get_if<bank::Deposit>(&command)) return d->amount;
  if (const auto* w = std::get_if<bank::Withdraw>(&command)) return -w->amount;
  return 0;
}

BankCommandStream::BankCommandStream(const BankWorkloadOptions& options, int producer)
    // Distinct, well-mixed seeds per producer: splitmix64 decorrelates adjacent states.
    : rng_(options.seed * 0x2545f4914f6cdd1dull + static_cast<std::uint64_t>(producer) * 0x9e3779b97f4a7c15ull),
      next_id_(2 * options.accounts + 1 + static_cast<std::uint64_t>(producer)),
      id_stride_(static_cast<std::uint64_t>(options.producers)),
      accounts_(options.accounts),
      max_amount_(static_cast<std::uint64_t>(options.max_amount > 0 ? options.max_amount : 1)),
      deposit_percent_(options.deposit_percent),
      deposit_withdraw_percent_(options.deposit_percent + options.withdraw_percent) {
  assert(options.accounts >= 2 && "a transfer needs two accounts");
  assert(producer >= 0 && producer < options.producers);
}

}  // namespace rill::bench
