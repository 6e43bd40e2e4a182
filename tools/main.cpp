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
#include "rill/tools/demo/demo_command.h"
#include "rill/tools/inspect/inspect_dump.h"
#include "rill/tools/inspect/inspect_info.h"
#include "rill/tools/inspect/inspect_stats.h"
#include "rill/tools/inspect/inspect_verify.h"

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
      "demo", "Run the pipeline for a few seconds (ring -> writer -> journal -> tailer), then inspect its journal");
  demo->add_option("--dir", o.dir, "Where to write the journal (default: a temporary directory, removed afterwards)");
  demo->add_flag("--keep", o.keep, "Keep the temporary journal and print where it is");
  demo->add_option("--seconds", o.seconds, "How long producers submit commands")->check(CLI::Range(0.1, 3600.0));
  demo->add_option("--producers", o.producers, "Producer threads")->check(CLI::Range(1, 64));
  demo->add_option("--durability", o.durability, "Journal durability policy")
      ->check(CLI::IsMember({"none", "batch", "interval"}));
  demo->footer(Footer("rill demo --seconds 5 --durability none --dir ./demo-data"));
  demo->callback([&o, exit_code] { *exit_code = rill::tools::RunDemo(o, stdout, stderr); });
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

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;  // --help exits 0; every usage error exits 2
  }
  return exit_code;
}
