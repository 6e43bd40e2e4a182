// The command line of rill's tools (RunToolMain, domain_tools.h; a tool's main() calls it
// through Main in tool_main.h). This is the only file that includes CLI11 (heavy to compile), so
// every subcommand's flags live here (past 400 lines on purpose: one TU pays for CLI11 once):
// it parses options into plain structs and calls the subcommands' functions, which live in
// their own files (tools/inspect/...), or the chosen domain's (DomainTools). Add a command group
// with its own Add<Group>(app, ...).
//
// Exit codes (tools/README.md): 0 ok, 1 problems found / the run failed, 2 usage error,
// 3 cannot read the input.
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "rill/base/crc32c.h"
#include "rill/tools/domain_tools.h"
#include "rill/tools/follow/follow_command.h"
#include "rill/tools/inspect/inspect_dump.h"
#include "rill/tools/inspect/inspect_info.h"
#include "rill/tools/inspect/inspect_stats.h"
#include "rill/tools/inspect/inspect_verify.h"
#include "rill/tools/metrics/metrics_command.h"
#include "rill/tools/recover/recover_command.h"
#include "rill/tools/top/top_command.h"

namespace rill::tools {
namespace {

// The tool's name in errors ("rill", "inventory-rill"): set once by RunToolMain.
std::string program_name = "rill";

// The domains this tool was built with, and the --domain flag that picks one of them.
class Domains {
 public:
  explicit Domains(std::vector<std::unique_ptr<DomainTools>> list) : list_(std::move(list)) {}
  std::vector<std::string> Names() const {
    std::vector<std::string> names;
    for (const auto& d : list_) names.push_back(d->name());
    return names;
  }
  std::string NameList() const {
    std::string s;
    for (const auto& d : list_) s += (s.empty() ? "" : ", ") + d->name();
    return s;
  }
  // The named domain; "" is the first (the tool's default).
  const DomainTools& Get(const std::string& name) const {
    for (const auto& d : list_)
      if (d->name() == name) return *d;
    return *list_.front();
  }
  const std::vector<std::unique_ptr<DomainTools>>& list() const noexcept { return list_; }

 private:
  std::vector<std::unique_ptr<DomainTools>> list_;
};

constexpr const char* kExitCodes =
    "\nExit codes: 0 ok, 1 problems found (damage, undecodable events), 2 usage error,\n"
    "3 cannot read the input (missing directory, not a journal, unknown schema).";

std::string Footer(const char* example) { return std::string("\nExample:\n  ") + example + "\n" + kExitCodes; }

constexpr std::uint64_t kMaxU64 = std::numeric_limits<std::uint64_t>::max();

// A whole number in [min, max], checked on the text before CLI11 converts it. CLI11 2.1.2 reads
// integers with strto(u)ll in base 0: "-1" wraps to 2^64-1 in an unsigned option, "010" is
// octal 8, "0x10" hex, and an overflow saturates, all silently; its Range and NonNegativeNumber
// print their bounds as doubles (a 309-digit maximum). This one accepts decimal digits only,
// rewrites the text to its canonical form (so "010" is 10, not 8), and says the allowed range.
// Attach it with ->transform(): ->check() marks a validator non-modifying, and the rewrite would
// be lost.
// `hint` ends the message: what else to do (e.g. "omit --limit for no limit").
CLI::Validator Whole(std::uint64_t min, std::uint64_t max, std::string hint = "") {
  std::string want = "give a whole number ";
  want +=
      max == kMaxU64 ? std::to_string(min) + " or more" : "from " + std::to_string(min) + " to " + std::to_string(max);
  if (!hint.empty()) want += " (" + hint + ")";
  std::string desc =
      max == kMaxU64 ? ">= " + std::to_string(min) : "in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  return CLI::Validator(
      [min, max, want](std::string& text) -> std::string {
        const auto quoted = "'" + text + "'";
        if (text.empty()) return "an empty value: " + want;
        bool digits = true;
        for (const char c : text) digits = digits && c >= '0' && c <= '9';
        if (!digits) {
          const bool negative = text.size() > 1 && text[0] == '-';
          return quoted + (negative ? " is negative: " : " is not a whole number: ") + want;
        }
        std::uint64_t v = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc() || end != text.data() + text.size() || v < min || v > max)
          return quoted + " is out of range: " + want;
        text = std::to_string(v);
        return {};
      },
      desc);
}

// A finite decimal number in [min, max] (seconds, rates). CLI::Range prints its bounds with
// std::to_string ("0.100000"), and NonNegativeNumber/PositiveNumber a double's max in 309 digits.
CLI::Validator Decimal(double min, double max, const char* unit, std::string hint = "") {
  char want[160];
  std::snprintf(want, sizeof want, "give a number of %s from %.15g to %.15g%s%s%s", unit, min, max,
                hint.empty() ? "" : " (", hint.c_str(), hint.empty() ? "" : ")");
  char desc[64];
  std::snprintf(desc, sizeof desc, "in [%.15g, %.15g]", min, max);
  return CLI::Validator(
      [min, max, want = std::string(want)](std::string& text) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v))
          return "'" + text + "' is not a number: " + want;
        if (v < min || v > max) return "'" + text + "' is out of range: " + want;
        return {};
      },
      desc);
}

// One of `choices`, named in the error (CLI::IsMember says only "x not in {a,b}").
CLI::Validator OneOf(std::vector<std::string> choices) {
  std::string list, desc;
  for (const std::string& c : choices) {
    list += (list.empty() ? "" : ", ") + c;
    desc += (desc.empty() ? "{" : ",") + c;
  }
  desc += "}";
  return CLI::Validator(
      [choices, list](std::string& text) -> std::string {
        for (const std::string& c : choices)
          if (text == c) return {};
        return "'" + text + "' is not a choice: give one of " + list;
      },
      desc);
}

// An empty value would silently mean "no filter" or "the default": refused, with what to give.
CLI::Validator NonEmpty(const char* what) {
  return CLI::Validator(
      [what = std::string(what)](std::string& text) -> std::string {
        return text.empty() ? "an empty value: give " + what : std::string();
      },
      "not empty");
}

// The error of a failed parse, as one line on stderr: "rill <sub...>: <what>: <what to do>".
// CLI11's own report is two lines and, for an unknown subcommand, only "A subcommand is
// required" without the word it did not know.
int PrintUsageError(const CLI::App& app, const CLI::ParseError& e) {
  // The deepest subcommand that was recognised is where the error is.
  const CLI::App* at = &app;
  std::string path = program_name;
  std::vector<std::string> rest = app.remaining();
  while (!at->get_subcommands().empty()) {
    at = at->get_subcommands().front();
    path += " " + at->get_name();
    if (std::vector<std::string> r = at->remaining(); !r.empty()) rest = std::move(r);
  }
  const std::string help = "run `" + path + " --help`";
  std::string what = e.what(), todo = help + " for its options";
  const bool no_subcommand = at->get_require_subcommand_min() > 0 && at->get_subcommands().empty();
  if (no_subcommand) {
    std::string known;
    for (const CLI::App* sub : at->get_subcommands([](const CLI::App*) { return true; }))
      known += (known.empty() ? "" : ", ") + sub->get_name();
    if (rest.empty()) {
      what = "a subcommand is required";
    } else if (rest.front().starts_with("-")) {
      what = "unknown option '" + rest.front() + "' (a subcommand is required first)";
    } else {
      what = "unknown subcommand '" + rest.front() + "'";
    }
    todo = "use one of " + known + " (" + help + ")";
  } else if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr && !rest.empty()) {
    what = rest.front().starts_with("-") ? "unknown option '" + rest.front() + "'"
                                         : "unexpected argument '" + rest.front() + "'";
  } else if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) != nullptr && what.ends_with(" missing")) {
    what = what.substr(0, what.find(':')) + " needs a value";  // not "--limit: 1 required UINT:>= 1 missing"
  } else if (dynamic_cast<const CLI::ValidationError*>(&e) != nullptr) {
    todo.clear();  // the validator's message already says what to give
  }
  std::fprintf(stderr, "%s: %s%s%s\n", path.c_str(), what.c_str(), todo.empty() ? "" : ": ", todo.c_str());
  return 2;
}

// --stream ID or KIND:ID (tools/inspect/stream_key.h), with what is wrong with another value.
CLI::Validator StreamSelectorValidator() {
  return CLI::Validator(
      [](std::string& v) -> std::string {
        if (inspect::ParseStreamSelector(v)) return "";
        const bool negative = v.rfind('-') != std::string::npos && v.find_first_of("0123456789") != std::string::npos &&
                              v[v.rfind(':') == std::string::npos ? 0 : v.rfind(':') + 1] == '-';
        return "'" + v + "' is " + (negative ? "negative" : "not a stream") +
               ": give its id (42) or KIND:ID (Order:17)";
      },
      "ID|KIND:ID");
}

// `rill demo --dir`: a path that exists must be a directory (RunDemo would otherwise fail deep
// in the engine's open; bench and crashtest check this themselves).
bool IsNonDirectory(const std::string& path) {
  struct stat st {};
  return !path.empty() && ::stat(path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode);
}

void AddVersion(CLI::App& app, const Domains& domains) {
  auto* version = app.add_subcommand("version", "Print the version, the build's capabilities and the domains");
  version->footer(Footer("rill version"));
  version->callback([&domains] {
    std::printf("%s (rill %s)\ncrc32c: %s\ndomains: %s\n", program_name.c_str(), RILL_VERSION,
                rill::crc32c::IsHardwareAccelerated() ? "sse4.2 (hardware)" : "portable (slicing-by-8)",
                domains.NameList().c_str());
  });
}

// --domain NAME on a subcommand: one of the tool's domains (the first when omitted).
CLI::Option* AddDomainOption(CLI::App* sub, const Domains& domains, std::string* name, const char* names = "--domain") {
  return sub
      ->add_option(names, *name, "The domain: " + domains.NameList() + " (default: " + domains.Names().front() + ")")
      ->check(OneOf(domains.Names()));
}

// The options structs outlive parsing: CLI11 writes into them, the callbacks read them.
struct InspectOptions {
  inspect::InfoOptions info;
  inspect::DumpOptions dump;
  inspect::VerifyOptions verify;
  inspect::StatsOptions stats;
  std::string stream;
};

void AddInspect(CLI::App& app, InspectOptions& o, int* exit_code) {
  namespace ti = inspect;
  auto* inspect = app.add_subcommand(
      "inspect", "Read a journal without the writer's lock (works beside a live writer, in another process)");
  inspect->require_subcommand(1);
  inspect->footer(Footer("rill inspect info /var/lib/bank/journal"));

  auto* info = inspect->add_subcommand(
      "info", "Segments, event counts per type, bytes per event, schema fingerprint, durability of the tail");
  info->add_option("DIR", o.info.dir, "Journal directory")->required()->check(NonEmpty("the journal's directory"));
  info->add_option("--checkpoints", o.info.checkpoints_dir,
                   "Where the projector checkpoints are (default: DIR/checkpoints)")
      ->check(NonEmpty("the checkpoint directory, or omit --checkpoints for DIR/checkpoints"));
  info->footer(Footer("rill inspect info /var/lib/bank/journal"));
  info->callback([&o, exit_code] { *exit_code = ti::RunInfo(o.info, stdout, stderr); });

  auto* dump = inspect->add_subcommand("dump", "Print events as text or JSON lines, decoded from the embedded schema");
  dump->add_option("DIR", o.dump.dir, "Journal directory")->required()->check(NonEmpty("the journal's directory"));
  dump->add_flag("--json", o.dump.json, "One JSON object per line: envelope fields, type and body");
  // The bounds' syntax and range are checked by RunDump and the view (journal_view.h), which
  // know the journal; an empty one would silently mean "unbounded".
  dump->add_option("--from", o.dump.from,
                   "First position, or ISO-8601 time (2026-11-23T01:02:03Z), inclusive; must not be after the "
                   "journal's last event (unless --follow) nor after --to")
      ->check(NonEmpty("a position (1200) or an ISO-8601 time (2026-11-23T01:02:03Z), or omit --from"));
  dump->add_option("--to", o.dump.to,
                   "Last position, or ISO-8601 time, inclusive; must not be before the journal's first event")
      ->check(NonEmpty("a position (1200) or an ISO-8601 time (2026-11-23T01:02:03Z), or omit --to"));
  auto* stream =
      dump->add_option("--stream", o.stream,
                       "Only this stream: its id, or KIND:ID (Order:17) when the domain has several aggregate kinds")
          ->check(StreamSelectorValidator());
  dump->add_option("--type", o.dump.type, "Only this event type (bank.Deposited, or rill.bank.Deposited)")
      ->check(NonEmpty("an event type such as bank.Deposited, or omit --type for every type"));
  dump->add_option("--limit", o.dump.limit, "Stop after N events (also ends --follow)")
      ->transform(Whole(1, kMaxU64, "omit --limit for no limit"));
  auto* follow =
      dump->add_flag("--follow,-f", o.dump.follow, "Keep printing events as the writer commits them (Ctrl-C stops)");
  dump->add_option("--follow-timeout", o.dump.follow_timeout_s, "With --follow: stop after SECONDS without a new event")
      ->check(Decimal(0.001, 31'536'000, "seconds", "omit it to follow until Ctrl-C"))
      ->needs(follow);
  dump->footer(Footer(
      "rill inspect dump /var/lib/bank/journal --json --type bank.Deposited --from 2026-11-23T01:00:00Z --limit 10\n"
      "  rill inspect dump /var/lib/bank/journal --stream 42 --follow"));
  dump->callback([&o, stream, exit_code] {
    if (stream->count() > 0) o.dump.stream = inspect::ParseStreamSelector(o.stream);
    *exit_code = ti::RunDump(o.dump, stdout, stderr);
  });

  auto* verify = inspect->add_subcommand(
      "verify", "Check every frame CRC, batch, position, event body and stream version; exit 0 only when intact");
  verify->add_option("DIR", o.verify.dir, "Journal directory")->required()->check(NonEmpty("the journal's directory"));
  verify->footer(Footer("rill inspect verify /var/lib/bank/journal && echo intact"));
  verify->callback([&o, exit_code] { *exit_code = ti::RunVerify(o.verify, stdout, stderr); });

  auto* stats = inspect->add_subcommand(
      "stats", "Events per type, busiest streams, batch size distribution, events per second over time");
  stats->add_option("DIR", o.stats.dir, "Journal directory")->required()->check(NonEmpty("the journal's directory"));
  stats->add_option("--top", o.stats.top, "How many of the busiest streams to show")->transform(Whole(1, 1'000'000));
  stats->footer(Footer("rill inspect stats /var/lib/bank/journal --top 5"));
  stats->callback([&o, exit_code] { *exit_code = ti::RunStats(o.stats, stdout, stderr); });
}

void AddDemo(CLI::App& app, const Domains& domains, DemoOptions& o, int* exit_code) {
  auto* demo = app.add_subcommand(
      "demo",
      "Run the domain's workload on the engine for a few seconds (with a projector), then inspect and replay "
      "its journal");
  AddDomainOption(demo, domains, &o.domain);
  demo->add_option("--dir", o.dir, "Where to write the journal (default: a temporary directory, removed afterwards)")
      ->check(NonEmpty("a directory, or omit --dir for a temporary one"));
  demo->add_flag("--keep", o.keep, "Keep the temporary journal and print where it is");
  demo->add_option("--seconds", o.seconds, "How long producers submit commands")
      ->check(Decimal(0.1, 3600.0, "seconds"));
  demo->add_option("--producers", o.producers, "Producer threads")->transform(Whole(1, 64));
  demo->add_option("--aggregates,--accounts", o.aggregates,
                   "How many aggregates the workload spreads over (bank: accounts)")
      ->transform(Whole(2, 1 << 24));
  demo->add_option("--durability", o.durability, "Journal durability policy")
      ->check(OneOf({"none", "batch", "interval"}));
  demo->footer(Footer("rill demo --seconds 5 --durability none --dir ./demo-data"));
  demo->callback([&domains, &o, exit_code] {
    if (IsNonDirectory(o.dir)) {  // RunDemo would fail later, deep in the engine's open
      std::fprintf(stderr, "rill demo: %s is not a directory: pass a directory (or a path to create) with --dir\n",
                   o.dir.c_str());
      *exit_code = 3;  // like a directory that cannot be created (tools/README.md)
      return;
    }
    const DomainTools& domain = domains.Get(o.domain);
    o.domain = domain.name();
    *exit_code = domain.Demo(o, stdout, stderr);
  });
}

void AddBench(CLI::App& app, const Domains& domains, BenchOptions& o, int* exit_code) {
  auto* b = app.add_subcommand(
      "bench", "Measure the engine end to end (throughput, latency percentiles, per stage), with same-run baselines");
  AddDomainOption(b, domains, &o.domain, "--domain,--workload");
  b->add_option("--producers", o.producers, "Producer threads")->transform(Whole(1, 256));
  b->add_option("--durability", o.durability, "Journal durability policy")->check(OneOf({"none", "batch", "interval"}));
  b->add_option("--projectors", o.projectors, "Projector threads (0 = none); the first one feeds --ack applied")
      ->transform(Whole(0, 64));
  b->add_option("--ring-size", o.ring_size, "Command ring slots (a power of two)")->transform(Whole(2, 1 << 30));
  b->add_option("--max-batch", o.max_batch, "Most commands per writer batch (0 = a quarter of the ring)")
      ->transform(Whole(0, 1 << 30));
  b->add_option("--counters", o.counters, "The engine's counters file for rill top (off: measure what it costs)")
      ->check(OneOf({"on", "off"}))
      ->capture_default_str();
  b->add_option("--pin", o.pin, "CPUs to pin to, e.g. 0,1: the writer, then producers, then projectors take turns")
      ->check(NonEmpty("a CPU list such as 0,1 or 0-3, or omit --pin"));
  b->add_option("--seconds", o.seconds, "Duration of the measured part")->check(Decimal(0.01, 3600.0, "seconds"));
  b->add_option("--ack", o.ack, "Acknowledgement level (replicated: needs --replicate)")
      ->check(OneOf({"accepted", "journaled", "durable", "applied", "replicated", "replicated+durable"}));
  b->add_option("--replicate", o.replicate,
                "Ship the journal to this NATS JetStream cluster (URLs, comma-separated) while the engine runs, "
                "then measure the cluster's raw publish rate as the same-run ceiling");
  b->add_option("--replicas", o.replicas, "Replicas of the bench's stream (with --replicate)")->capture_default_str();
  b->add_option("--dir", o.dir, "Journal directory (must be empty; default: a temporary one, removed afterwards)")
      ->check(NonEmpty("a directory, or omit --dir for a temporary one"));
  b->add_flag("--keep", o.keep, "Keep the temporary journal and print where it is");
  b->add_option("--inflight", o.inflight, "Closed loop: outstanding commands per producer (open loop: the most)")
      ->transform(Whole(1, 1 << 20));
  b->add_option("--rate", o.rate, "Open loop at this many commands/s in total (latency from the intended send time)")
      ->check(Decimal(1, 1e9, "commands/s", "omit --rate for a closed loop"));
  b->add_option("--aggregates,--accounts", o.aggregates,
                "How many aggregates the workload spreads over (bank: accounts)")
      ->transform(Whole(2, 1 << 24));
  b->add_option("--seed", o.seed, "Workload seed")->transform(Whole(0, kMaxU64));
  b->add_option("--commands", o.commands, "Each producer sends exactly N commands instead of --seconds")
      ->transform(Whole(1, kMaxU64, "omit --commands to run for --seconds"));
  b->add_flag("--baselines", o.baselines, "Also run the mutex and PostgreSQL (per transaction, COPY) baselines");
  b->add_option("--baseline-seconds", o.baseline_seconds, "Duration of each baseline (default: --seconds)")
      ->check(Decimal(0.01, 3600.0, "seconds"));
  b->add_option("--json", o.json, "Write the results as JSON to FILE ('-': stdout)")
      ->check(NonEmpty("a file name, or - for stdout"));
  b->add_option("--plot", o.plot, "Write the latency distribution (rill and the baselines) to FILE.png or FILE.svg")
      ->check(NonEmpty("a file name ending in .png or .svg"));
  b->footer(Footer(
      "rill bench --durability batch --ack durable --seconds 5 --baselines --json bench.json --plot latency.svg\n"
      "  rill bench --rate 1000000 --ack journaled --pin 0,1"));
  b->callback([&domains, &o, exit_code] {
    const DomainTools& domain = domains.Get(o.domain);
    o.domain = domain.name();
    *exit_code = domain.Bench(o, stdout, stderr);
  });
}

void AddRecover(CLI::App& app, RecoverOptions& o, int* exit_code) {
  auto* r = app.add_subcommand(
      "recover",
      "Show what the writer's recovery will do to a journal (dry run), or salvage a damaged one (--salvage)");
  r->add_option("DIR", o.dir, "Journal directory")->required();
  r->add_flag("--salvage", o.salvage,
              "Keep the valid prefix, move the damaged part and everything after it to DIR/aside-<time>/ (nothing "
              "is deleted), and say how many acknowledged events could not be kept");
  r->footer(
      Footer("rill recover /var/lib/bank/journal && rill recover /var/lib/bank/journal --salvage\n"
             "\nExit codes here: 0 nothing to do, or salvaged; 1 damaged (dry run) or salvage cannot help;\n"
             "2 usage error; 3 cannot read the input, or a writer holds the journal."));
  r->callback([&o, exit_code] { *exit_code = RunRecover(o, stdout, stderr); });
}

void AddTop(CLI::App& app, TopOptions& o, int* exit_code) {
  auto* t = app.add_subcommand(
      "top", "Watch a running rill process from outside: commands/s, rejections, batches, the journal, projector lag");
  t->add_option("DIR", o.dir, "Journal directory (its writer keeps DIR/counters)")
      ->required()
      ->check(NonEmpty("the journal's directory"));
  t->add_flag("--once", o.once, "One reading over --interval, then exit");
  t->add_flag("--json", o.json, "One JSON object per reading instead of the screen");
  t->add_option("--interval", o.interval_s, "Seconds between readings (the rates' window)")
      ->check(Decimal(0.05, 3600, "seconds"))
      ->capture_default_str();
  t->add_option("--iterations", o.iterations, "Stop after this many readings (default: until Ctrl-C)")
      ->check(CLI::Range(1, 1'000'000'000));
  t->footer(
      Footer("rill top /var/lib/bank/journal\n  rill top /var/lib/bank/journal --once --json\n"
             "\nExit codes here: 0 the process runs; 1 it is gone (its last values, marked STALE);\n"
             "2 usage error; 3 no counters file in DIR, or one this rill cannot read."));
  t->callback([&o, exit_code] { *exit_code = RunTop(o, stdout, stderr); });
}

void AddMetrics(CLI::App& app, MetricsOptions& o, int* exit_code) {
  auto* m = app.add_subcommand(
      "metrics", "Serve a running rill process's counters to Prometheus (text format over HTTP, at /metrics)");
  m->add_option("DIR", o.dir, "Journal directory (its writer keeps DIR/counters)")
      ->required()
      ->check(NonEmpty("the journal's directory"));
  m->add_option("--listen", o.listen, "host:port to serve on; port 0 picks a free one")
      ->check(NonEmpty("host:port, e.g. 127.0.0.1:9464"))
      ->capture_default_str();
  m->add_option("--seconds", o.seconds, "Stop after this many seconds (default: until SIGINT/SIGTERM)")
      ->check(Decimal(0.1, 1e9, "seconds"));
  m->footer(
      Footer("rill metrics /var/lib/bank/journal --listen 127.0.0.1:9464\n"
             "\nExit codes here: 0 stopped (signal, --seconds); 2 usage error; 3 no counters file in DIR\n"
             "(or one this rill cannot read), or the address cannot be bound (in use, no permission)."));
  m->callback([&o, exit_code] { *exit_code = RunMetrics(o, stdout, stderr); });
}

void AddReplay(CLI::App& app, const Domains& domains, ReplayOptions& o, int* exit_code) {
  auto* replay = app.add_subcommand(
      "replay", "Rebuild the aggregate state from a journal (as of its end, a position or a time) and summarize it");
  replay->add_option("DIR", o.dir, "Journal directory")->required()->check(NonEmpty("the journal's directory"));
  auto* domain_option = AddDomainOption(replay, domains, &o.domain);
  domain_option->description("The journal's domain: " + domains.NameList() +
                             " (default: the one whose schema reads the journal)");
  replay
      ->add_option("--until", o.until,
                   "Stop after this position, or at this ISO-8601 time (2026-11-23T01:02:03Z); must not be "
                   "before the journal's first event")
      ->check(NonEmpty("a position (1200) or an ISO-8601 time (2026-11-23T01:02:03Z), or omit --until"));
  replay->add_flag("--verify", o.verify, "Exit 1 at the first digest record that differs from the replayed state");
  replay->add_flag("--json", o.json, "One JSON object: counts per kind, speed, digest, state summary");
  replay
      ->add_option("--stream", o.stream,
                   "Also print this aggregate's version and state: its id, or KIND:ID (Order:17) when the domain "
                   "has several aggregate kinds")
      ->check(StreamSelectorValidator());
  replay->footer(
      Footer("rill replay /var/lib/bank/journal --until 2026-11-23T01:00:00Z --stream 42\n"
             "  rill replay /var/lib/bank/journal --verify --json"));
  replay->callback([&domains, &o, domain_option, exit_code] {
    const DomainTools* domain = &domains.Get(o.domain);
    if (domain_option->count() == 0) {
      // The journal says whose it is: the first domain whose schema reads it (else the first,
      // whose refusal names the journal's schema fingerprint).
      for (const auto& d : domains.list())
        if (d->ReadsJournal(o.dir)) {
          domain = d.get();
          break;
        }
    }
    o.domain = domain->name();
    *exit_code = domain->Replay(o, stdout, stderr);
  });
}

void AddCrashtest(CLI::App& app, const Domains& domains, crashtest::CrashtestOptions& o, int* exit_code) {
  auto* ct = app.add_subcommand(
      "crashtest",
      "Kill -9 the domain's workload at random moments, recover, and verify nothing acknowledged was lost");
  AddDomainOption(ct, domains, &o.domain);
  ct->add_option("--kills", o.kills, "Rounds: each child is killed with SIGKILL, then the journal is verified")
      ->transform(Whole(1, 100000));
  // 0 is CrashtestOptions' "pick one": given on the command line it would silently not replay.
  ct->add_option("--seed", o.seed, "Seed of the kill schedule and workload (default: random, printed)")
      ->transform(Whole(1, kMaxU64, "omit --seed for a random one"));
  ct->add_option("--durability", o.durability, "Journal durability policy (batch and interval: also a power loss)")
      ->check(OneOf({"none", "batch", "interval"}));
  ct->add_option("--dir", o.dir, "Where to put the journal (default: a temporary directory, removed afterwards)")
      ->check(NonEmpty("a directory, or omit --dir for a temporary one"));
  ct->add_flag("--keep", o.keep, "Keep the temporary directory and print where it is");
  ct->add_flag("--json", o.json, "One JSON object on stdout (per-round figures, result, first violation)");
  ct->add_option("--min-ms", o.min_ms, "Shortest run of a child between its start-up and the kill")
      ->transform(Whole(0, 600000));
  ct->add_option("--max-ms", o.max_ms, "Longest run of a child between its start-up and the kill")
      ->transform(Whole(0, 600000));
  ct->add_option("--producers", o.producers, "Producer threads in each child")->transform(Whole(1, 64));
  ct->add_option("--aggregates,--accounts", o.aggregates,
                 "How many aggregates the workload spreads over (few: commands contend; bank: accounts)")
      ->transform(Whole(2, 1000000));
  ct->add_option("--rate", o.rate, "Most commands per second a child submits (0: unlimited)")
      ->transform(Whole(0, 100'000'000));
  ct->add_option("--segment-kib", o.segment_kib,
                 "Journal segment size in KiB, a multiple of 4 (small: rounds cross segment rolls)")
      ->transform(Whole(64, 1024 * 1024));
  ct->add_option("--inject", o.inject, "Test the tester: fake-ack or lose-ack must end in a violation (exit 1)")
      ->check(OneOf({"fake-ack", "lose-ack"}));
  ct->add_option("--replicate", o.replicate,
                 "NATS urls (comma-separated): the writer runs as a replication Node on a stream of the run's own; "
                 "kills alternate restart in place and standby takeover")
      ->check(NonEmpty("one or more NATS URLs"));
  ct->add_option("--lease-ttl-ms", o.lease_ttl_ms, "With --replicate: the writer's lease TTL (default 1000)")
      ->transform(Whole(100, 600000));
  ct->add_option("--replicas", o.replicas, "With --replicate: replicas of the stream and its buckets")
      ->transform(Whole(1, 5));
  // The child mode: set by the parent on the re-executed binary's command line, not for users.
  ct->add_flag("--child", o.child)->group("");
  ct->add_option("--journal", o.journal)->group("");
  ct->add_option("--round", o.round)->group("");
  ct->add_option("--ack-fd", o.ack_fd)->group("");
  ct->add_option("--retry-file", o.retry_file)->group("");
  ct->add_option("--app", o.app)->group("");
  ct->add_option("--shard", o.shard)->group("");
  ct->add_option("--holder", o.holder)->group("");
  ct->footer(
      Footer("rill crashtest --kills 20 --durability batch\n"
             "  rill crashtest --kills 20 --durability batch --seed 42   # replay a printed seed\n"
             "  rill crashtest --replicate nats://127.0.0.1:4222 --kills 6   # writer kills, takeovers\n"
             "\nExit codes here: 0 every round verified, 1 a violation (the first is printed), 2 usage error,\n"
             "3 cannot start (directory, child process, or the first child cannot open a journal)."));
  ct->callback([&domains, &o, exit_code] {
    const DomainTools& domain = domains.Get(o.domain);
    o.domain = domain.name();
    o.program = program_name;  // names the tool in messages and the replay line
    *exit_code = domain.Crashtest(o, stdout, stderr);
  });
}

}  // namespace

void AddFollow(CLI::App& app, FollowOptions& o, int* exit_code) {
  auto* f = app.add_subcommand(
      "follow",
      "Follow a writer's replicated journal stream (NATS JetStream) into a local journal, byte for byte; "
      "inspect, replay and projectors then run on it");
  f->add_option("DIR", o.dir, "Local journal directory (created from the stream when missing)")
      ->required()
      ->check(NonEmpty("the local journal's directory"));
  f->add_option("--nats", o.nats_urls, "NATS server URLs, comma-separated (nats://host:4222,...)")
      ->required()
      ->check(NonEmpty("one or more NATS URLs"));
  f->add_option("--app", o.app, "The writer's application name (stream RILL_<app>_<shard>)")->capture_default_str();
  f->add_option("--shard", o.shard, "The writer's shard")->capture_default_str();
  f->add_option("--durability", o.durability, "The local journal's syncs")
      ->check(OneOf({"none", "batch", "interval"}))
      ->capture_default_str();
  f->add_option("--segment-size", o.segment_size, "Bytes per local segment file")->capture_default_str();
  f->add_option("--status-interval", o.status_interval_s, "Seconds between status lines")->capture_default_str();
  f->add_option("--seconds", o.seconds, "Stop after this many seconds (default: until SIGINT/SIGTERM)");
  f->footer(
      Footer("rill follow /var/lib/bank-replica/journal --nats nats://10.0.0.1:4222,nats://10.0.0.2:4222 --app bank\n"
             "\nExit codes here: 0 stopped (signal, --seconds); 1 the follower stopped for good (a gap,\n"
             "a damaged or foreign message, a local journal ahead of the stream); 2 usage error;\n"
             "3 cannot start (the local journal held by a writer, or not creatable). A missing stream or\n"
             "unreachable servers are waited for: the status line says why."));
  f->callback([&o, exit_code] { *exit_code = RunFollow(o, stdout, stderr); });
}

int RunToolMain(int argc, char** argv, const char* program, std::vector<std::unique_ptr<DomainTools>> list) {
  program_name = program;
  const Domains domains(std::move(list));
  CLI::App app{std::string(program) + ": rill's tools for " + domains.NameList() +
               " (rill: an embeddable engine for fast event-sourced CQRS services)"};
  app.require_subcommand(1);
  app.footer(kExitCodes);
  int exit_code = 0;
  // The options structs outlive parsing: CLI11 writes into them, the callbacks read them.
  auto inspect_options = std::make_unique<InspectOptions>();
  AddVersion(app, domains);
  AddInspect(app, *inspect_options, &exit_code);
  auto demo_options = std::make_unique<DemoOptions>();
  AddDemo(app, domains, *demo_options, &exit_code);
  auto bench_options = std::make_unique<BenchOptions>();
  AddBench(app, domains, *bench_options, &exit_code);
  auto crashtest_options = std::make_unique<crashtest::CrashtestOptions>();
  AddCrashtest(app, domains, *crashtest_options, &exit_code);
  auto replay_options = std::make_unique<ReplayOptions>();
  AddReplay(app, domains, *replay_options, &exit_code);
  auto recover_options = std::make_unique<RecoverOptions>();
  AddRecover(app, *recover_options, &exit_code);
  auto follow_options = std::make_unique<FollowOptions>();
  AddFollow(app, *follow_options, &exit_code);
  auto top_options = std::make_unique<TopOptions>();
  AddTop(app, *top_options, &exit_code);
  auto metrics_options = std::make_unique<MetricsOptions>();
  AddMetrics(app, *metrics_options, &exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help prints and exits 0
    return PrintUsageError(app, e);                  // every usage error: one line, exit 2
  }
  return exit_code;
}

}  // namespace rill::tools
