// rill/bench/e2e/bank_ledger.h: the bank domain's Decide + Evolve on a std::unordered_map,
// the state a team keeps before it has an engine. The baselines apply commands through it,
// so they run exactly the domain code rill runs (examples/bank), only around other plumbing.
//
//   rill::bench::BankLedger ledger;
//   auto d = ledger.Apply(cmd);          // accepted: d.events() with their streams and versions
//   ledger.TotalBalance();               // the money-conservation check
//
// Thread safety: none; one thread owns a ledger (the baselines' consumer thread).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <unordered_map>

#include "rill/examples/bank/bank_domain.h"

namespace rill::bench {

class BankLedger {
 public:
  using Domain = examples::bank::BankDomain;
  struct Entry {
    examples::bank::Account state;
    std::uint64_t version = engine::kNoStream;
  };
  struct Applied {
    Domain::Decision decision;
    // Per event of an accepted decision: the stream version it was written at.
    std::array<std::uint64_t, Domain::kMaxEvents> versions{};
  };

  explicit BankLedger(std::size_t expected_accounts = 0) { accounts_.reserve(expected_accounts); }

  Applied Apply(const examples::bank::Command& cmd, std::int64_t timestamp_ns = 0, std::uint64_t command_id = 0) {
    const auto streams = Domain::Streams(cmd);
    std::array<Domain::View, Domain::kMaxStreams> views;
    for (std::size_t i = 0; i < streams.count; ++i) {
      views[i].id = streams.ids[i];
      if (auto it = accounts_.find(streams.ids[i]); it != accounts_.end()) {
        views[i].version = it->second.version;
        views[i].state = &it->second.state;
      }
    }
    Applied out{Domain::Decide(cmd, std::span<const Domain::View>(views.data(), streams.count),
                               engine::DecideContext{timestamp_ns, command_id}),
                {}};
    if (!out.decision.accepted()) return out;
    const auto events = out.decision.events();
    for (std::size_t e = 0; e < events.size(); ++e) {
      Entry& entry = accounts_[events[e].stream_id];
      Domain::Evolve(entry.state, events[e].event);
      out.versions[e] = ++entry.version;
    }
    return out;
  }

  std::int64_t TotalBalance() const noexcept {
    std::int64_t sum = 0;
    for (const auto& [id, entry] : accounts_) sum += entry.state.balance;
    return sum;
  }
  const std::unordered_map<std::uint64_t, Entry>& accounts() const noexcept { return accounts_; }

 private:
  std::unordered_map<std::uint64_t, Entry> accounts_;
};

}  // namespace rill::bench
