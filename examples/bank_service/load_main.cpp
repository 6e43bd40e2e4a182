// rill-load: drives a running rill-bank-service over TCP and reports round-trip latency
// percentiles and throughput (load.h). Exit: 0 ok, 1 run failed or balances did not match,
// 2 usage error.
#include <cstdio>
#include <string>

#include "rill/examples/bank_service/args.h"
#include "rill/examples/bank_service/load.h"

namespace {

constexpr const char* kUsage =
    "usage: rill-load --port PORT [--host 127.0.0.1] [--connections 8] [--commands 100000] [--threads 1]\n"
    "                 [--accounts 1000] [--first-account 1] [--no-open] [--initial-balance 1000000]\n"
    "                 [--ack journaled|accepted|durable|applied|replicated] [--seed 1] [--no-verify] [--queries-only]\n"
    "  Opens the accounts (unless --no-open), runs a closed loop per connection (deposits,\n"
    "  withdrawals, transfers), prints p50/p99/p99.9 round trip and commands/s, then checks\n"
    "  every balance against the accepted outcomes (unless --no-verify). --queries-only: balance\n"
    "  queries instead of commands, the same-run baseline (server loop and TCP, no engine).\n"
    "Exit codes: 0 ok, 1 the run failed or balances did not match, 2 usage error.\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace rill::examples::bank_service;
  Args args("rill-load", argc, argv);
  LoadOptions o;
  std::uint64_t port = 0, connections = 8, threads = 1, initial = static_cast<std::uint64_t>(o.initial_balance);
  std::string ack = "journaled";
  if (args.Has("--help") || args.Has("-h")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  // Each query prints its own one-line error; && stops at the first. Zero commands would
  // measure nothing (and divide by zero seconds): at least 1.
  const bool ok = args.Text("--host", o.host) && args.Number("--port", port, 1, 65535) &&
                  args.Number("--connections", connections, 1, 10000) &&
                  args.Number("--commands", o.commands, 1, 1ULL << 40) && args.Number("--threads", threads, 1, 256) &&
                  args.Number("--accounts", o.accounts, 1, 1u << 24) &&
                  args.Number("--first-account", o.first_account, 1, 1ULL << 62) &&
                  args.Number("--initial-balance", initial, 0, 1ULL << 50) &&
                  args.Choice("--ack", ack, {"journaled", "accepted", "durable", "applied", "replicated"}) &&
                  args.Number("--seed", o.seed, 0, ~0ULL);
  o.open_accounts = !(ok && args.Has("--no-open"));
  o.verify = !(ok && args.Has("--no-verify"));
  o.queries_only = ok && args.Has("--queries-only");
  if (!ok || !args.Finish()) return 2;
  if (port == 0) {
    args.Fail("--port is required", "give the port rill-bank-service printed");
    return 2;
  }
  if (ack == "accepted") {
    o.ack = wire::Ack::Accepted;
  } else if (ack == "durable") {
    o.ack = wire::Ack::Durable;
  } else if (ack == "applied") {
    o.ack = wire::Ack::Applied;
  } else if (ack == "replicated") {
    o.ack = wire::Ack::Replicated;
  } else {
    o.ack = wire::Ack::Journaled;
  }
  o.port = static_cast<std::uint16_t>(port);
  o.connections = static_cast<int>(connections);
  o.threads = static_cast<int>(threads);
  o.initial_balance = static_cast<std::int64_t>(initial);

  auto report = RunLoad(o);
  if (!report.ok()) {
    std::fprintf(stderr, "rill-load: %s\n", report.status().ToString().c_str());
    return 1;
  }
  PrintReport(stdout, o, *report);
  return report->errors == 0 && report->mismatches == 0 ? 0 : 1;
}
