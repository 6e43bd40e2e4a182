#include "rill/tools/bench/bench_command.h"

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <system_error>
#include <vector>

#include "rill/bench/e2e/bench_report.h"
#include "rill/bench/e2e/postgres_server.h"
#include "rill/bench/e2e/script_path.h"
#include "rill/tools/bench/bench_replication.h"

// The source tree's copy (tools/CMakeLists.txt); installed tools find theirs under share/rill.
#ifndef RILL_SOURCE_PLOT_LATENCY_SCRIPT
#define RILL_SOURCE_PLOT_LATENCY_SCRIPT nullptr
#endif

namespace rill::tools {
namespace {

namespace fs = std::filesystem;
constexpr int kExitOk = 0, kExitFailed = 1, kExitUsage = 2, kExitCannotWrite = 3;
constexpr bench::ScriptLocation kPlotScript{
    .env = "RILL_PLOT_LATENCY_SCRIPT", .source_path = RILL_SOURCE_PLOT_LATENCY_SCRIPT, .name = "plot-latency.sh"};

// A fresh directory under $TMPDIR (or /tmp), removed on destruction unless kept.
class ScratchDir {
 public:
  explicit ScratchDir(const char* prefix) {
    std::string tmpl = (fs::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~ScratchDir() {
    if (!path_.empty() && !keep_) {
      std::error_code ec;
      fs::remove_all(path_, ec);
    }
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }
  void Keep() { keep_ = true; }

 private:
  std::string path_;
  bool keep_ = false;
};

// Parses the string options into a BenchConfig; an empty string means OK, else the usage error.
std::string ToConfig(const BenchOptions& o, bench::BenchConfig* c) {
  const auto durability = bench::ParseDurability(o.durability);
  if (!durability) return "--durability must be none, batch or interval, not '" + o.durability + "'";
  const auto ack = bench::ParseAckLevel(o.ack);
  if (!ack)
    return "--ack must be accepted, journaled, durable, applied, replicated or replicated+durable, not '" + o.ack + "'";
  c->domain = o.domain;
  c->durability = *durability;
  c->ack = *ack;
  if (!o.pin.empty()) {
    const auto cpus = bench::ParseCpuList(o.pin);
    if (!cpus) return "--pin wants a CPU list such as 0,1 or 0-3, not '" + o.pin + "'";
    c->pin_cpus = *cpus;
  }
  c->producers = o.producers;
  c->projectors = o.projectors;
  c->ring_size = o.ring_size;
  c->max_batch = o.max_batch;
  c->counters = o.counters == "on";
  c->seconds = o.seconds;
  c->keep = o.keep;
  c->inflight = o.inflight;
  c->rate = o.rate;
  c->aggregates = o.aggregates;
  c->seed = o.seed;
  c->commands_per_producer = o.commands;
  c->replicate = o.replicate;
  c->replicas = o.replicas;
  if (!o.plot.empty() && !o.plot.ends_with(".png") && !o.plot.ends_with(".svg"))
    return "--plot must name a .png or .svg file, not '" + o.plot + "'";
  if (o.baseline_seconds < 0) return "--baseline-seconds must not be negative";
  return c->Validate();
}

bench::BaselineResult Unavailable(const char* name, std::string reason) {
  bench::BaselineResult b;
  b.name = name;
  b.reason = std::move(reason);
  return b;
}

struct Baselines {
  std::vector<bench::BaselineResult> results;
  std::vector<std::pair<std::string, bench::LatencyHistogram>> histograms;  // for the plot
};

bench::BaselineResult FromMutex(const bench::MutexBaselineReport& m) {
  bench::BaselineResult mr;
  mr.name = "mutex";
  mr.available = true;
  mr.throughput_per_s = m.throughput_per_s;
  mr.events_per_s = m.seconds > 0 ? static_cast<double>(m.events) / m.seconds : 0;
  mr.seconds = m.seconds;
  mr.commands = m.commands;
  mr.latency = m.latency.Summarize();
  mr.detail = (m.state_consistent ? "" : "INCONSISTENT: ") + m.check_detail;
  return mr;
}

bench::BaselineResult FromPostgres(const std::string& name, const bench::PostgresBaselineReport& p) {
  bench::BaselineResult pr;
  pr.name = name;
  pr.available = true;
  pr.throughput_per_s = p.commands_per_s;
  pr.events_per_s = p.events_per_s;
  pr.seconds = p.seconds;
  pr.commands = p.commands;
  pr.latency = p.latency.Summarize();
  pr.detail = std::to_string(p.transactions) + " transactions, " + std::to_string(p.events) + " rows, 1 client" +
              (p.state_consistent ? "" : "; INCONSISTENT: " + p.check_detail);
  return pr;
}

// The same workload (aggregates, producers, seed) on the mutex design, then on a throwaway
// PostgreSQL (per transaction, then COPY); a baseline that cannot run says why.
Baselines RunBaselines(const bench::BenchConfig& c, double seconds, const BenchSteps& steps, std::FILE* progress) {
  Baselines out;
  std::fprintf(progress, "baseline mutex: %.1f s...\n", seconds);
  std::fflush(progress);
  bench::MutexBaselineOptions mo;
  mo.aggregates = c.aggregates;
  mo.producers = c.producers;
  mo.seed = c.seed;
  mo.inflight = c.inflight;
  mo.seconds = seconds;
  mo.commands_per_producer = c.commands_per_producer;
  mo.pin_threads = !c.pin_cpus.empty();
  const bench::MutexBaselineReport m = steps.mutex(mo);
  out.results.push_back(FromMutex(m));
  out.histograms.emplace_back("mutex", m.latency);

  // PostgreSQL: as root its files belong to the postgres user; a directory of its own in /tmp.
  ScratchDir pg_dir("rill-bench-pg");
  if (pg_dir.path().empty()) {
    out.results.push_back(Unavailable("postgres_per_txn", "cannot create a temporary directory"));
    out.results.push_back(Unavailable("postgres_copy", "cannot create a temporary directory"));
    return out;
  }
  std::fprintf(progress, "baseline postgres: starting a throwaway server...\n");
  std::fflush(progress);
  auto server = bench::PostgresServer::Start({.directory = pg_dir.path()});
  if (!server.ok()) {
    const std::string why = "PostgreSQL could not be started: " + server.status().ToString();
    std::fprintf(progress, "%s; running the rest\n", why.c_str());
    out.results.push_back(Unavailable("postgres_per_txn", why));
    out.results.push_back(Unavailable("postgres_copy", why));
    return out;
  }
  for (const bench::PostgresMode mode : {bench::PostgresMode::kPerTxn, bench::PostgresMode::kCopy}) {
    const std::string name = std::string("postgres_") + bench::PostgresModeName(mode);
    std::fprintf(progress, "baseline %s: %.1f s...\n", name.c_str(), seconds);
    std::fflush(progress);
    bench::PostgresBaselineOptions po;
    po.conninfo = (*server)->conninfo();
    po.mode = mode;
    po.aggregates = c.aggregates;
    po.producers = c.producers;
    po.seed = c.seed;
    po.seconds = seconds;
    po.commands = c.commands_per_producer;
    auto p = steps.postgres(po);
    if (!p.ok()) {
      out.results.push_back(Unavailable(name.c_str(), p.status().ToString()));
      continue;
    }
    out.results.push_back(FromPostgres(name, *p));
    out.histograms.emplace_back(name, p->latency);
  }
  if (Status s = (*server)->Stop(); !s.ok()) std::fprintf(progress, "warning: %s\n", s.ToString().c_str());
  return out;
}

std::string PlotScript(const BenchOptions& o) {
  if (!o.plot_script.empty()) return o.plot_script;
  return bench::FindScript(kPlotScript);
}

std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (const char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return q + "'";
}

// Writes each distribution's points and runs the gnuplot script. False (with a message) when
// no plot was written.
bool Plot(const BenchOptions& o, const bench::EngineBenchReport& r, const Baselines& b, std::FILE* err) {
  const std::string script = PlotScript(o);
  std::error_code ec;
  if (!fs::is_regular_file(script, ec)) {
    std::fprintf(err, "rill bench: no plot written: the plot script %s does not exist (%s)\n", script.c_str(),
                 o.plot_script.empty() ? bench::ScriptSearchNote(kPlotScript).c_str() : "--plot-script");
    return false;
  }
  ScratchDir data("rill-bench-plot");
  if (data.path().empty()) {
    std::fprintf(err, "rill bench: cannot create a temporary directory for the plot data\n");
    return false;
  }
  std::string args;
  auto write = [&](const std::string& name, const bench::LatencyHistogram& h) {
    if (h.count() == 0) return;
    const std::string file = data.path() + "/" + name + ".dat";
    std::FILE* f = std::fopen(file.c_str(), "w");
    if (f == nullptr) return;
    h.WritePlotData(f);
    std::fclose(f);
    args += ' ';  // two appends: `" " + std::string` trips GCC 12's -Wrestrict false positive
    args += ShellQuote(file + ":" + name);
  };
  write("rill", r.latency);
  for (const auto& [name, h] : b.histograms) write(name, h);
  char title[256];
  std::snprintf(title, sizeof title, "rill bench: %s, %s loop, durability %s, ack %s, %d CPUs",
                bench::DomainLabel(r.config).c_str(), r.config.open_loop() ? "open" : "closed",
                bench::DurabilityName(r.config.durability), engine::AckLevelName(r.config.ack), r.cpus);
  const std::string cmd = ShellQuote(script) + " " + ShellQuote(o.plot) + " " + ShellQuote(title) + args;
  const int status = std::system(cmd.c_str());
  if (status != 0) {
    std::fprintf(err, "rill bench: no plot written (%s exited with %d)\n", script.c_str(), status);
    return false;
  }
  return true;
}

}  // namespace

int RunBenchWith(const BenchOptions& options, const BenchSteps& steps, std::FILE* out, std::FILE* err) {
  bench::BenchConfig config;
  if (std::string why = ToConfig(options, &config); !why.empty()) {
    std::fprintf(err, "rill bench: %s\n", why.c_str());
    return kExitUsage;
  }

  std::unique_ptr<ScratchDir> scratch;
  if (options.dir.empty()) {
    scratch = std::make_unique<ScratchDir>("rill-bench");
    if (scratch->path().empty()) {
      std::fprintf(err, "rill bench: cannot create a temporary directory in %s: use --dir DIR\n",
                   fs::temp_directory_path().c_str());
      return kExitCannotWrite;
    }
    if (options.keep) scratch->Keep();
    config.dir = scratch->path() + "/journal";
  } else {
    std::error_code ec;
    if (fs::exists(options.dir, ec) && !fs::is_directory(options.dir, ec)) {
      std::fprintf(err, "rill bench: %s is not a directory: pass a directory (or a path to create) with --dir\n",
                   options.dir.c_str());
      return kExitCannotWrite;
    }
    if (fs::exists(options.dir, ec) && !fs::is_empty(options.dir, ec)) {
      std::fprintf(err, "rill bench: %s is not empty: the bench journals into a fresh directory\n",
                   options.dir.c_str());
      return kExitCannotWrite;
    }
    config.dir = options.dir;
  }

  // With --json -, stdout carries the JSON alone.
  const bool json_stdout = options.json == "-";
  std::FILE* text = json_stdout ? err : out;
  std::unique_ptr<BenchReplication> replication;
  if (!config.replicate.empty()) {
    auto started = BenchReplication::Start(config);
    if (!started.ok()) {
      std::fprintf(err, "rill bench: %s\n", started.status().ToString().c_str());
      return started.status().IsInvalidArgument() ? kExitUsage : kExitFailed;
    }
    replication = std::move(started).value();
    config.replication = replication->progress();
  }
  auto report = steps.run(config, text);
  if (!report.ok()) {
    std::fprintf(err, "rill bench: %s\n", report.status().ToString().c_str());
    return report.status().IsInvalidArgument() ? kExitUsage : kExitFailed;
  }
  if (replication) replication->Finish(&*report, text);

  Baselines baselines;
  const double baseline_seconds = options.baseline_seconds > 0 ? options.baseline_seconds : config.seconds;
  if (options.baselines) baselines = RunBaselines(config, baseline_seconds, steps, text);
  if (replication) baselines.results.push_back(replication->RawPublishBaseline(*report, baseline_seconds, text));
  bench::PrintSummary(*report, baselines.results, text);

  int exit_code = report->ok() ? kExitOk : kExitFailed;
  if (!options.json.empty()) {
    std::FILE* f = json_stdout ? out : std::fopen(options.json.c_str(), "w");
    if (f == nullptr) {
      std::fprintf(err, "rill bench: cannot write %s\n", options.json.c_str());
      exit_code = kExitCannotWrite;
    } else {
      bench::WriteJson(*report, baselines.results, f);
      if (!json_stdout) {
        std::fclose(f);
        std::fprintf(text, "JSON written to %s\n", options.json.c_str());
      }
    }
  }
  if (!options.plot.empty() && Plot(options, *report, baselines, err))
    std::fprintf(text, "latency plot written to %s\n", options.plot.c_str());
  if (scratch && options.keep) std::fprintf(text, "journal kept in %s\n", config.dir.c_str());
  if (!report->ok()) std::fprintf(err, "rill bench: the run's checks failed (see above)\n");
  return exit_code;
}

}  // namespace rill::tools
