// rill/tools/crashtest/workload.h: the one definition of the crash test's bank workload, shared
// by the child (which runs it) and the parent (which resends its setup commands).
//
//   bench::BankWorkloadOptions w = CrashWorkload(accounts, producers, seed, round);
//   bench::BankCommandStream s(w, producer);   // ids: WorkloadCommandId(round, accounts, c)
//
// Few accounts and a small initial balance, so transfers contend for the same streams and some
// withdrawals and transfers are rejected for insufficient funds (rejections must leave no trace
// in the journal). Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "rill/bench/e2e/bank_workload.h"
#include "rill/engine/ack_level.h"
#include "rill/journal/options.h"
#include "rill/tools/crashtest/ledger.h"

namespace rill::tools::crashtest {

inline bench::BankWorkloadOptions CrashWorkload(std::uint64_t accounts, int producers, std::uint64_t seed, int round) {
  bench::BankWorkloadOptions w;
  w.accounts = accounts;
  w.producers = producers;
  // Another command mix per round (and per seed), still reproducible from the seed.
  w.seed = seed * 0x9e3779b97f4a7c15ull + static_cast<std::uint64_t>(round);
  w.deposit_percent = 30;
  w.withdraw_percent = 25;
  w.initial_balance = 50'000;
  w.max_amount = 10'000;
  return w;
}

// BankCommandStream numbers producer p's k-th command 2N + 1 + k * producers + p; the crash
// test moves that into the round's id space, so ids never repeat across rounds.
inline std::uint64_t WorkloadCommandId(int round, std::uint64_t accounts, std::uint64_t stream_id) noexcept {
  return Ledger::WorkloadId(round, stream_id - 2 * accounts - 1);
}

// Half the commands ask for a durable ack (a synced journal under batch and interval), half
// for a journaled one; chosen from the id so a retry asks for the same.
inline engine::AckLevel AckLevelFor(std::uint64_t id) noexcept {
  return ((id * 0x9e3779b97f4a7c15ull) >> 63) != 0 ? engine::AckLevel::kDurable : engine::AckLevel::kJournaled;
}

inline std::optional<journal::Durability> ParseDurability(std::string_view name) noexcept {
  if (name == "none") return journal::Durability::kNone;
  if (name == "batch") return journal::Durability::kBatch;
  if (name == "interval") return journal::Durability::kInterval;
  return std::nullopt;
}

// Syncs every 5 ms under the interval policy: short enough that durable acks keep coming in a
// round that lasts a few hundred milliseconds.
inline constexpr std::uint32_t kIntervalMs = 5;

}  // namespace rill::tools::crashtest
