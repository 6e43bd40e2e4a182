// rill/examples/bank_service/load.h: the load generator behind `rill-load`: N connections,
// each a closed loop (send a command, wait for its reply, record the round trip), a random
// mix of deposits, withdrawals and transfers over a set of accounts; then, optionally, a check
// that every account's balance in the service equals what the accepted outcomes imply.
//
//   rill::examples::bank_service::LoadOptions o;
//   o.port = service->port(); o.connections = 8; o.commands = 5000;
//   auto report = rill::examples::bank_service::RunLoad(o);
//   if (report.ok() && report->mismatches == 0) PrintReport(stdout, o, *report);
//
// Latency is measured per request from just before the write to just after the reply was
// verified (steady_clock), in a closed loop: it is the service's round trip at the offered
// concurrency, not an open-loop latency at a fixed rate (bench/e2e/latency_histogram.h).
// Thread safety: RunLoad runs its own io_context and threads; one call at a time per options.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "rill/base/result.h"
#include "rill/bench/e2e/latency_histogram.h"
#include "rill/examples/bank_service/protocol.h"

namespace rill::examples::bank_service {

struct LoadOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  int connections = 8;
  std::uint64_t commands = 100'000;  // in total, spread over the connections
  std::uint64_t accounts = 1000;     // ids first_account .. first_account + accounts - 1
  std::uint64_t first_account = 1;
  bool open_accounts = true;  // open them (and deposit initial_balance) first
  std::int64_t initial_balance = 1'000'000;
  std::int64_t max_amount = 1000;  // amounts are uniform in [1, max_amount]
  wire::Ack ack = wire::Ack::Journaled;
  int threads = 1;  // client io threads
  std::uint64_t seed = 1;
  bool verify = true;  // compare every balance with the accepted outcomes
  // Baseline: balance queries only (same framing, server loop and connections, no engine
  // submit): the round trip the engine's part is measured against.
  bool queries_only = false;
};

struct LoadReport {
  std::uint64_t commands = 0;  // replies received in the measured phase
  std::uint64_t accepted = 0;
  std::uint64_t rejected = 0;  // the domain said no (insufficient funds...): still a round trip
  std::uint64_t errors = 0;    // Error replies or broken connections
  double seconds = 0;
  double commands_per_second = 0;
  bench::LatencySummary latency;  // ns
  std::uint64_t verified_accounts = 0;
  std::uint64_t mismatches = 0;
  std::string first_mismatch;  // "account 7: service 1200, expected 1300"
};

// InvalidArgument for bad options; Unavailable when it cannot connect or set up the accounts.
Result<LoadReport> RunLoad(const LoadOptions& options);
void PrintReport(std::FILE* out, const LoadOptions& options, const LoadReport& report);

}  // namespace rill::examples::bank_service
