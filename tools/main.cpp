// rill: the command-line tool. This is the only file that includes CLI11 (heavy to compile):
// it parses options into plain structs and calls the subcommands' functions, which live in
// their own files (tools/inspect/...). Add a command group with its own Add<Group>(app, &exit).
//
// Exit codes (tools/README.md): 0 ok, 1 problems found / the run failed, 2 usage error,
// 3 cannot read the input.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "rill/base/crc32c.h"
#include "rill/tools/bench/bench_command.h"
#include "rill/tools/crashtest/crashtest_command.h"
#include "rill/tools/demo/demo_command.h"
#include "rill/tools/inspect/inspect_dump.h"
#include "rill/tools/inspect/inspect_info.h"
#include "rill/tools/inspect/inspect_stats.h"
#include "rill/tools/inspect/inspect_verify.h"
#include "rill/tools/replay/replay_command.h"

namespace {

constexpr const char* kExitCodes =
    "\nExit codes: 0 ok, 1 problems found (damage, undecodable events), 2 usage error,\n"
    "3 cannot read the input (missing directory, not a journal, unknown schema).";

std::string Footer(const char* example) { return std::string("\nExample:\n  ") + example + "\n" + kExitCodes; }

void AddVersion(CLI::App& app) {
  auto* version = app.add_subcommand("version", "Print the version and the build's capabilities");
  version->footer(Footer("rill version"));
  version->callback([] {
    std::printf("rill %s\ncrc32c: %s\n", RILL_VERSION,
                rill::crc32c::IsHardwareAccelerated() ? "sse4.2 (hardware)" : "portable (slicing-by-8)");
  });
}

// The options structs outlive parsing: CLI11 writes into them, the callbacks read them.
struct InspectOptions {
  rill::tools::inspect::InfoOptions info;
  rill::tools::inspect::DumpOptions dump;
  rill::tools::inspect::VerifyOptions verify;
  rill::tools::inspect::StatsOptions stats;
  std::uint64_t stream = 0;
};

void AddInspect(CLI::App& app, InspectOptions& o, int* exit_code) {
  namespace ti = rill::tools::inspect;
  auto* inspect = app.add_subcommand(
      "inspect", "Read a journal without the writer's lock (works beside a live writer, in another process)");
  inspect->require_subcommand(1);
  inspect->footer(Footer("rill inspect info /var/lib/bank/journal"));

  auto* info = inspect->add_subcommand(
      "info", "Segments, event counts per type, bytes per event, schema fingerprint, durability of the tail");
  info->add_option("DIR", o.info.dir, "Journal directory")->required();
  info->add_option("--checkpoints", o.info.checkpoints_dir,
                   "Where the projector checkpoints are (default: DIR/checkpoints)");
  info->footer(Footer("rill inspect info /var/lib/bank/journal"));
  info->callback([&o, exit_code] { *exit_code = ti::RunInfo(o.info, stdout, stderr); });

  auto* dump = inspect->add_subcommand("dump", "Print events as text or JSON lines, decoded from the embedded schema");
  dump->add_option("DIR", o.dump.dir, "Journal directory")->required();
  dump->add_flag("--json", o.dump.json, "One JSON object per line: envelope fields, type and body");
  dump->add_option("--from", o.dump.from, "First position, or ISO-8601 time (2026-11-23T01:02:03Z), inclusive");
  dump->add_option("--to", o.dump.to, "Last position, or ISO-8601 time, inclusive");
  auto* stream = dump->add_option("--stream", o.stream, "Only this stream (aggregate) id");
  dump->add_option("--type", o.dump.type, "Only this event type (bank.Deposited, or rill.bank.Deposited)");
  dump->add_option("--limit", o.dump.limit, "Stop after N events (also ends --follow)");
  dump->add_flag("--follow,-f", o.dump.follow, "Keep printing events as the writer commits them (Ctrl-C stops)");
  dump->add_option("--follow-timeout", o.dump.follow_timeout_s, "With --follow: stop after SECONDS without a new event")
      ->check(CLI::NonNegativeNumber);
  dump->footer(Footer(
      "rill inspect dump /var/lib/bank/journal --json --type bank.Deposited --from 2026-11-23T01:00:00Z --limit 10\n"
      "  rill inspect dump /var/lib/bank/journal --stream 42 --follow"));
  dump->callback([&o, stream, exit_code] {
    if (stream->count() > 0) o.dump.stream = o.stream;
    *exit_code = ti::RunDump(o.dump, stdout, stderr);
  });

  auto* verify = inspect->add_subcommand(
      "verify", "Check every frame CRC, batch, position, event body and stream version; exit 0 only when intact");
  verify->add_option("DIR", o.verify.dir, "Journal directory")->required();
  verify->footer(Footer("rill inspect verify /var/lib/bank/journal && echo intact"));
  verify->callback([&o, exit_code] { *exit_code = ti::RunVerify(o.verify, stdout, stderr); });

  auto* stats = inspect->add_subcommand(
      "stats", "Events per type, busiest streams, batch size distribution, events per second over time");
  stats->add_option("DIR", o.stats.dir, "Journal directory")->required();
  stats->add_option("--top", o.stats.top, "How many of the busiest streams to show")->check(CLI::PositiveNumber);
  stats->footer(Footer("rill inspect stats /var/lib/bank/journal --top 5"));
  stats->callback([&o, exit_code] { *exit_code = ti::RunStats(o.stats, stdout, stderr); });
}

void AddDemo(CLI::App& app, rill::tools::DemoOptions& o, int* exit_code) {
  auto* demo = app.add_subcommand(
      "demo",
      "Run the bank workload on the engine for a few seconds (with a balances projector), then inspect and replay "
      "its journal");
  demo->add_option("--dir", o.dir, "Where to write the journal (default: a temporary directory, removed afterwards)");
  demo->add_flag("--keep", o.keep, "Keep the temporary journal and print where it is");
  demo->add_option("--seconds", o.seconds, "How long producers submit commands")->check(CLI::Range(0.1, 3600.0));
  demo->add_option("--producers", o.producers, "Producer threads")->check(CLI::Range(1, 64));
  demo->add_option("--accounts", o.accounts, "Bank accounts")->check(CLI::Range(2, 1 << 24));
  demo->add_option("--durability", o.durability, "Journal durability policy")
      ->check(CLI::IsMember({"none", "batch", "interval"}));
  demo->footer(Footer("rill demo --seconds 5 --durability none --dir ./demo-data"));
  demo->callback([&o, exit_code] { *exit_code = rill::tools::RunDemo(o, stdout, stderr); });
}

void AddBench(CLI::App& app, rill::tools::BenchOptions& o, int* exit_code) {
  auto* b = app.add_subcommand(
      "bench", "Measure the engine end to end (throughput, latency percentiles, per stage), with same-run baselines");
  b->add_option("--workload", o.workload, "bank or blog")->check(CLI::IsMember({"bank", "blog"}));
  b->add_option("--producers", o.producers, "Producer threads")->check(CLI::Range(1, 256));
  b->add_option("--durability", o.durability, "Journal durability policy")
      ->check(CLI::IsMember({"none", "batch", "interval"}));
  b->add_option("--projectors", o.projectors, "Projector threads (0 = none); the first one feeds --ack applied")
      ->check(CLI::Range(0, 64));
  b->add_option("--ring-size", o.ring_size, "Command ring slots (a power of two)");
  b->add_option("--max-batch", o.max_batch, "Most commands per writer batch (0 = a quarter of the ring)");
  b->add_option("--pin", o.pin, "CPUs to pin to, e.g. 0,1: the writer, then producers, then projectors take turns");
  b->add_option("--seconds", o.seconds, "Duration of the measured part")->check(CLI::Range(0.01, 3600.0));
  b->add_option("--ack", o.ack, "Acknowledgement level")
      ->check(CLI::IsMember({"accepted", "journaled", "durable", "applied"}));
  b->add_option("--dir", o.dir, "Journal directory (must be empty; default: a temporary one, removed afterwards)");
  b->add_flag("--keep", o.keep, "Keep the temporary journal and print where it is");
  b->add_option("--inflight", o.inflight, "Closed loop: outstanding commands per producer (open loop: the most)")
      ->check(CLI::Range(1, 1 << 20));
  b->add_option("--rate", o.rate, "Open loop at this many commands/s in total (latency from the intended send time)")
      ->check(CLI::PositiveNumber);
  b->add_option("--accounts", o.accounts, "Bank accounts (blog: posts)")->check(CLI::Range(2, 1 << 24));
  b->add_option("--seed", o.seed, "Workload seed");
  b->add_option("--commands", o.commands, "Each producer sends exactly N commands instead of --seconds");
  b->add_flag("--baselines", o.baselines, "Also run the mutex and PostgreSQL (per transaction, COPY) baselines");
  b->add_option("--baseline-seconds", o.baseline_seconds, "Duration of each baseline (default: --seconds)")
      ->check(CLI::Range(0.01, 3600.0));
  b->add_option("--json", o.json, "Write the results as JSON to FILE ('-': stdout)");
  b->add_option("--plot", o.plot, "Write the latency distribution (rill and the baselines) to FILE.png or FILE.svg");
  b->footer(Footer(
      "rill bench --durability batch --ack durable --seconds 5 --baselines --json bench.json --plot latency.svg\n"
      "  rill bench --rate 1000000 --ack journaled --pin 0,1"));
  b->callback([&o, exit_code] { *exit_code = rill::tools::RunBench(o, stdout, stderr); });
}

void AddReplay(CLI::App& app, rill::tools::ReplayOptions& o, int* exit_code) {
  auto* replay = app.add_subcommand(
      "replay", "Rebuild the aggregate state from a journal (as of its end, a position or a time) and summarize it");
  replay->add_option("DIR", o.dir, "Journal directory")->required();
  replay->add_option("--domain", o.domain, "The journal's domain")->check(CLI::IsMember({"bank", "blog"}));
  replay->add_option("--until", o.until, "Stop after this position, or at this ISO-8601 time (2026-11-23T01:02:03Z)");
  replay->add_flag("--verify", o.verify, "Exit 1 at the first digest record that differs from the replayed state");
  replay->add_flag("--json", o.json, "One JSON object: counts, speed, digest, state summary");
  static std::uint64_t account_id = 0;  // outlives parsing, like the options structs
  auto* account = replay->add_option("--account", account_id, "Bank: also print this account's balance");
  replay->footer(
      Footer("rill replay /var/lib/bank/journal --until 2026-11-23T01:00:00Z --account 42\n"
             "  rill replay /var/lib/bank/journal --verify --json"));
  replay->callback([&o, account, exit_code] {
    if (account->count() > 0) o.account = account_id;
    *exit_code = rill::tools::RunReplay(o, stdout, stderr);
  });
}

void AddCrashtest(CLI::App& app, rill::tools::crashtest::CrashtestOptions& o, int* exit_code) {
  auto* ct = app.add_subcommand(
      "crashtest", "Kill -9 a bank workload at random moments, recover, and verify nothing acknowledged was lost");
  ct->add_option("--kills", o.kills, "Rounds: each child is killed with SIGKILL, then the journal is verified")
      ->check(CLI::Range(1, 100000));
  ct->add_option("--seed", o.seed, "Seed of the kill schedule and workload (default: random, printed)");
  ct->add_option("--durability", o.durability, "Journal durability policy (batch and interval: also a power loss)")
      ->check(CLI::IsMember({"none", "batch", "interval"}));
  ct->add_option("--dir", o.dir, "Where to put the journal (default: a temporary directory, removed afterwards)");
  ct->add_flag("--keep", o.keep, "Keep the temporary directory and print where it is");
  ct->add_flag("--json", o.json, "One JSON object on stdout (per-round figures, result, first violation)");
  ct->add_option("--min-ms", o.min_ms, "Shortest run of a child between its start-up and the kill")
      ->check(CLI::Range(0, 600000));
  ct->add_option("--max-ms", o.max_ms, "Longest run of a child between its start-up and the kill")
      ->check(CLI::Range(0, 600000));
  ct->add_option("--producers", o.producers, "Producer threads in each child")->check(CLI::Range(1, 64));
  ct->add_option("--accounts", o.accounts, "Bank accounts the workload moves money between")
      ->check(CLI::Range(2, 1000000));
  ct->add_option("--rate", o.rate, "Most commands per second a child submits (0: unlimited)")
      ->check(CLI::NonNegativeNumber);
  ct->add_option("--segment-kib", o.segment_kib, "Journal segment size (small: rounds cross segment rolls)");
  ct->add_option("--inject", o.inject, "Test the tester: fake-ack or lose-ack must end in a violation (exit 1)")
      ->check(CLI::IsMember({"fake-ack", "lose-ack"}));
  // The child mode: set by the parent on the re-executed binary's command line, not for users.
  ct->add_flag("--child", o.child)->group("");
  ct->add_option("--journal", o.journal)->group("");
  ct->add_option("--round", o.round)->group("");
  ct->add_option("--ack-fd", o.ack_fd)->group("");
  ct->add_option("--retry-file", o.retry_file)->group("");
  ct->footer(
      Footer("rill crashtest --kills 20 --durability batch\n"
             "  rill crashtest --kills 20 --durability batch --seed 42   # replay a printed seed\n"
             "\nExit codes here: 0 every round verified, 1 a violation (the first is printed), 2 usage error,\n"
             "3 cannot start (directory, child process, or the first child cannot open a journal)."));
  ct->callback([&o, exit_code] { *exit_code = rill::tools::crashtest::RunCrashtest(o, stdout, stderr); });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"rill: an embeddable engine for fast event-sourced CQRS services"};
  app.require_subcommand(1);
  app.footer(kExitCodes);
  int exit_code = 0;
  auto inspect_options = std::make_unique<InspectOptions>();
  AddVersion(app);
  AddInspect(app, *inspect_options, &exit_code);
  rill::tools::DemoOptions demo_options;
  AddDemo(app, demo_options, &exit_code);
  auto bench_options = std::make_unique<rill::tools::BenchOptions>();
  AddBench(app, *bench_options, &exit_code);
  auto crashtest_options = std::make_unique<rill::tools::crashtest::CrashtestOptions>();
  AddCrashtest(app, *crashtest_options, &exit_code);
  rill::tools::ReplayOptions replay_options;
  AddReplay(app, replay_options, &exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;  // --help exits 0; every usage error exits 2
  }
  return exit_code;
}
