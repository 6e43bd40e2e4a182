// rill/examples/bank/bank_workload.h: the bank's workload for rill's tools (tools/workload.h):
// a seeded stream of bank commands, plus the bank's checks and read models as hooks.
//
//   rill::tools::WorkloadOptions o{.aggregates = 100'000, .producers = 2, .seed = 7};
//   BankWorkload w(o);
//   for (const Command& c : w.Setup()) submit(c);   // opens + initial deposits, once
//   BankWorkload::Producer p = w.MakeProducer(0);    // one per producer thread
//   Command c = p.Next();                            // a few multiplies, no allocation
//
// Setup: OpenAccount for accounts 1..N (one currency, owner = account), then a Deposit of the
// initial balance to each, so withdrawals and transfers mostly succeed. Then each producer draws
// deposits, withdrawals and transfers (the rest of the mix) on uniformly chosen accounts, amounts
// uniform in [1, max_amount]; a withdrawal or transfer may be rejected for insufficient funds,
// as a real ledger's are. `contended` (the crash test): a smaller initial balance, more
// withdrawals, so rejections are common.
// Hooks: money is conserved (Tally/Total), no balance below zero (CheckInvariants), the three
// read models on bench projectors, and a summary of open and closed accounts.
// Thread safety: the workload is read-only; a Producer belongs to one thread.
#pragma once

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rill/base/splitmix64.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/examples/bank/read_models/balances.h"
#include "rill/examples/bank/read_models/statements.h"
#include "rill/examples/bank/read_models/top_accounts.h"
#include "rill/projections/projector_thread.h"
#include "rill/tools/workload.h"

namespace rill::examples::bank {

class BankWorkload {
 public:
  using Domain = BankDomain;
  static constexpr std::string_view kTallyName = "money";

  struct Mix {
    int deposit_percent = 30;
    int withdraw_percent = 20;  // transfers: the rest
    std::int64_t initial_balance = 1'000'000;
    std::int64_t max_amount = 10'000;
  };
  static constexpr std::uint16_t kCurrency = 978;

  class Producer {
   public:
    Command Next() noexcept {
      const std::uint64_t r = rng_.Next();
      const auto pick = static_cast<int>(r % 100);
      const std::uint64_t account = 1 + (r >> 8) % accounts_;
      const std::int64_t amount = 1 + static_cast<std::int64_t>(rng_.Next() % max_amount_);
      if (pick < mix_.deposit_percent) return Deposit{account, amount};
      if (pick < mix_.deposit_percent + mix_.withdraw_percent) return Withdraw{account, amount};
      // Any account but `account`: an offset in [1, N-1] from it, wrapping around.
      const std::uint64_t offset = 1 + (r >> 40) % (accounts_ - 1);
      return Transfer{account, 1 + (account - 1 + offset) % accounts_, amount};
    }

   private:
    friend class BankWorkload;
    Producer(std::uint64_t seed, int producer, std::uint64_t accounts, const Mix& mix) noexcept
        // Distinct, well-mixed seeds per producer: splitmix64 decorrelates adjacent states.
        : rng_(seed * 0x2545f4914f6cdd1dull + static_cast<std::uint64_t>(producer) * 0x9e3779b97f4a7c15ull),
          accounts_(accounts),
          max_amount_(static_cast<std::uint64_t>(mix.max_amount > 0 ? mix.max_amount : 1)),
          mix_(mix) {}
    SplitMix64 rng_;
    std::uint64_t accounts_;
    std::uint64_t max_amount_;
    Mix mix_;
  };

  // REQUIRES: options.aggregates >= 2 (a transfer needs two accounts).
  explicit BankWorkload(const tools::WorkloadOptions& options)
      : BankWorkload(options, options.contended ? Mix{30, 25, 50'000, 10'000} : Mix{}) {}
  BankWorkload(const tools::WorkloadOptions& options, const Mix& mix)
      : accounts_(options.aggregates < 2 ? 2 : options.aggregates), seed_(options.seed), mix_(mix) {}

  std::vector<Command> Setup() const {
    std::vector<Command> out;
    out.reserve(2 * accounts_);
    for (std::uint64_t a = 1; a <= accounts_; ++a) out.push_back(OpenAccount{a, a, kCurrency});
    for (std::uint64_t a = 1; a <= accounts_; ++a) out.push_back(Deposit{a, mix_.initial_balance});
    return out;
  }
  Producer MakeProducer(int producer) const noexcept { return Producer(seed_, producer, accounts_, mix_); }

  // Money: what an accepted command adds to the sum of all balances.
  std::int64_t Tally(const Command& command) const noexcept {
    if (const auto* d = std::get_if<Deposit>(&command)) return d->amount;
    if (const auto* w = std::get_if<Withdraw>(&command)) return -w->amount;
    return 0;
  }
  std::int64_t Total(const tools::StateView<Domain>& state) const {
    // Wrapping (unsigned) sums: the conservation check holds modulo 2^64 even if a sum overflows.
    std::uint64_t sum = 0;
    state.ForEach(
        [&](std::uint64_t, std::uint64_t, const Account& a) { sum += static_cast<std::uint64_t>(a.balance); });
    return static_cast<std::int64_t>(sum);
  }
  std::optional<std::string> CheckInvariants(const tools::StateView<Domain>& state) const {
    std::optional<std::string> violation;
    state.ForEach([&](std::uint64_t id, std::uint64_t version, const Account& a) {
      if (a.balance < 0 && !violation) {
        char s[128];
        std::snprintf(s, sizeof s, "account %" PRIu64 " (version %" PRIu64 ") has a negative balance %" PRId64, id,
                      version, a.balance);
        violation = s;
      }
    });
    return violation;
  }
  void AddReadModels(projections::ProjectorThread& thread, int projector, projections::ProjectorOptions po) const {
    switch (projector % 3) {
      case 0:
        thread.Add<projections::bank::Balances>(std::move(po));
        break;
      case 1:
        thread.Add<projections::bank::TopAccounts>(std::move(po));
        break;
      default:
        thread.Add<projections::bank::Statements>(std::move(po));
        break;
    }
  }
  std::string Describe(const Account& a) const {
    char s[128];
    std::snprintf(s, sizeof s, "balance %" PRId64 ", currency %u, owner %" PRIu64 "%s", a.balance,
                  static_cast<unsigned>(a.currency), a.owner, a.closed ? ", closed" : "");
    return s;
  }
  std::vector<std::pair<std::string, std::int64_t>> Summary(const tools::StateView<Domain>& state) const {
    std::int64_t open = 0, closed = 0, total = 0;
    bool overflowed = false;
    state.ForEach([&](std::uint64_t, std::uint64_t, const Account& a) {
      ++(a.closed ? closed : open);
      overflowed = __builtin_add_overflow(total, a.balance, &total) || overflowed;
    });
    std::vector<std::pair<std::string, std::int64_t>> out = {
        {"open", open}, {"closed", closed}, {"total_balance", total}};
    if (overflowed) out.emplace_back("total_overflowed", 1);  // total_balance then wrapped
    return out;
  }

 private:
  std::uint64_t accounts_;
  std::uint64_t seed_;
  Mix mix_;
};

static_assert(tools::Workload<BankWorkload>);

}  // namespace rill::examples::bank
