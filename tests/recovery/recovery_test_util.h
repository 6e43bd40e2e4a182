// Shared by the recovery tests: a bank engine in a temporary directory, a deterministic
// seeded workload, and the aggregates of a stopped engine.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <tuple>

#include <catch2/catch.hpp>

#include "rill/engine/engine.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/tests/support/temp_dir.h"

namespace rill::recovery_test {

using namespace rill::examples::bank;
using BankEngine = engine::Engine<BankDomain>;
using test::TempDir;

inline engine::EngineOptions Options(const std::string& dir) {
  engine::EngineOptions o;
  o.journal.directory = dir;
  o.journal.segment_size = 1 << 20;
  o.ring_size = 1024;
  o.processor.idempotency_window = 4096;
  o.log_to_stderr = false;
  return o;
}

inline std::unique_ptr<BankEngine> Open(const engine::EngineOptions& o) {
  auto r = BankEngine::Open(o);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return std::move(r).value();
}

// Commands [first, last) of one deterministic workload: 20 accounts opened by the first 20
// commands, then deposits, withdrawals and transfers drawn from `seed` and the command id,
// so a workload split over several runs issues exactly the commands of one uninterrupted run.
inline BankDomain::Command WorkloadCommand(std::uint64_t seed, std::uint64_t i) {
  constexpr std::uint64_t kAccounts = 20;
  if (i < kAccounts) return OpenAccount{.account = i + 1, .owner = 100 + i, .currency = 978};
  std::mt19937_64 rng(seed * 1'000'003 + i);
  const std::uint64_t a = rng() % kAccounts + 1, b = rng() % kAccounts + 1;
  const auto amount = static_cast<std::int64_t>(rng() % 500 + 1);
  switch (rng() % 3) {
    case 0:
      return Deposit{.account = a, .amount = amount};
    case 1:
      return Withdraw{.account = a, .amount = amount};
    default:
      return Transfer{.from = a, .to = b == a ? a % kAccounts + 1 : b, .amount = amount};
  }
}

inline void RunWorkload(BankEngine& e, std::uint64_t seed, std::uint64_t first, std::uint64_t last) {
  for (std::uint64_t i = first; i < last; ++i) e.execute(WorkloadCommand(seed, i), {.command_id = 1'000 + i});
}

using Aggregates = std::map<std::uint64_t, std::tuple<std::uint64_t, std::int64_t, bool>>;  // version, balance, closed

inline Aggregates Collect(BankEngine& e) {
  Aggregates out;
  REQUIRE(e.ForEachAggregate([&](std::uint64_t id, std::uint64_t version, const Account& a) {
             out[id] = {version, a.balance, a.closed};
           }).ok());
  return out;
}

inline std::uint64_t Digest(BankEngine& e) {
  auto d = e.state_digest();
  REQUIRE(d.ok());
  return *d;
}

}  // namespace rill::recovery_test
