#include "rill/bench/e2e/bench_report.h"

#include <cinttypes>

namespace rill::bench {
namespace {

using ull = unsigned long long;

void PrintLatencyLine(std::FILE* out, const char* label, const LatencySummary& s) {
  std::fprintf(out, "  %-16s p50 %9s  p90 %9s  p99 %9s  p99.9 %9s  max %9s\n", label, FormatNs(s.p50).c_str(),
               FormatNs(s.p90).c_str(), FormatNs(s.p99).c_str(), FormatNs(s.p999).c_str(), FormatNs(s.max).c_str());
}

void JsonLatency(std::FILE* out, const LatencySummary& s) {
  std::fprintf(out,
               "{\"p50\": %llu, \"p90\": %llu, \"p99\": %llu, \"p999\": %llu, \"max\": %llu, \"min\": %llu, "
               "\"mean\": %.1f, \"count\": %llu}",
               ull(s.p50), ull(s.p90), ull(s.p99), ull(s.p999), ull(s.max), ull(s.min), s.mean, ull(s.count));
}

}  // namespace

std::string DomainLabel(const BenchConfig& c) { return c.domain.empty() ? "unnamed domain" : c.domain; }

std::string FormatNs(std::uint64_t ns) {
  char buf[32];
  if (ns < 1'000) {
    std::snprintf(buf, sizeof buf, "%llu ns", ull(ns));
  } else if (ns < 1'000'000) {
    std::snprintf(buf, sizeof buf, "%.2f us", static_cast<double>(ns) / 1e3);
  } else if (ns < 1'000'000'000) {
    std::snprintf(buf, sizeof buf, "%.2f ms", static_cast<double>(ns) / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f s", static_cast<double>(ns) / 1e9);
  }
  return buf;
}

double Ratio(const EngineBenchReport& r, const BaselineResult& b) noexcept {
  return b.available && b.throughput_per_s > 0 ? r.throughput_per_s / b.throughput_per_s : 0;
}

void PrintSummary(const EngineBenchReport& r, std::span<const BaselineResult> baselines, std::FILE* out) {
  const BenchConfig& c = r.config;
  std::fprintf(out, "rill bench: %s, %s loop", DomainLabel(c).c_str(), c.open_loop() ? "open" : "closed");
  if (c.open_loop()) std::fprintf(out, " at %.0f commands/s offered", c.rate);
  std::fprintf(out, ", %d producer(s) x %d in flight, %d projector(s), durability %s, ack %s\n", c.producers,
               c.inflight, c.projectors, DurabilityName(c.durability), engine::AckLevelName(c.ack));
  std::fprintf(out, "  ring %zu, max batch %zu, %d threads on %d CPUs%s\n", c.ring_size, c.max_batch, r.threads, r.cpus,
               c.pin_cpus.empty() ? ", unpinned" : ", pinned");
  std::fprintf(out,
               "  %llu commands in %.2f s: %.0f commands/s (%llu accepted, %llu rejected by the rules, %llu failed)\n",
               ull(r.completed), r.seconds, r.throughput_per_s, ull(r.accepted), ull(r.rejected), ull(r.failed));
  std::fprintf(out, "  %llu events journaled; %llu batches, %.1f commands per batch; ring full %llu times\n",
               ull(r.events), ull(r.batches), r.mean_batch(), ull(r.ring_full));
  if (r.replication.on) {
    const auto& x = r.replication;
    std::fprintf(out,
                 "  replication to %s (stream %s, R%d): %llu messages, %.1f MB shipped, %llu duplicates, %llu resyncs; "
                 "replicated through %llu of %llu (%s)\n",
                 c.replicate.c_str(), x.stream.c_str(), c.replicas, ull(x.messages), static_cast<double>(x.bytes) / 1e6,
                 ull(x.duplicates), ull(x.resyncs), ull(x.replicated_position), ull(x.committed_position),
                 x.state.c_str());
  }
  std::fprintf(
      out, "latency (%s):\n",
      c.open_loop() ? "intended send -> acknowledgement, no coordinated omission" : "submit -> acknowledgement seen");
  PrintLatencyLine(out, "end to end", r.latency.Summarize());
  std::fprintf(out, "per stage (per command; apply, commit and projection are its batch's):\n");
  if (r.ring_wait_measured) {
    PrintLatencyLine(out, "ring wait", r.stages.ring_wait.Summarize());
  } else {
    std::fprintf(out, "  %-16s (measured with --ack journaled, or durable under durability none)\n", "ring wait");
  }
  PrintLatencyLine(out, "apply", r.stages.apply.Summarize());
  PrintLatencyLine(out, "journal commit", r.stages.commit.Summarize());
  if (c.projectors > 0) {
    PrintLatencyLine(out, "projection", r.stages.projection.Summarize());
  } else {
    std::fprintf(out, "  %-16s (no projector)\n", "projection");
  }
  std::fprintf(out, "checks: every command acknowledged once: %s; %s: %s\n", r.acknowledged_once ? "yes" : "NO",
               r.check_detail.c_str(), r.state_consistent ? "consistent" : "INCONSISTENT");
  for (const std::string& n : r.notes) std::fprintf(out, "note: %s\n", n.c_str());
  if (baselines.empty()) return;
  std::fprintf(out, "baselines (same run, same workload):\n");
  for (const BaselineResult& b : baselines) {
    if (!b.available) {
      std::fprintf(out, "  %-17s unavailable: %s\n", b.name.c_str(), b.reason.c_str());
      continue;
    }
    std::fprintf(out, "  %-17s %12.0f commands/s   p99 %9s   rill is %.1fx\n", b.name.c_str(), b.throughput_per_s,
                 FormatNs(b.latency.p99).c_str(), Ratio(r, b));
  }
}

void WriteJson(const EngineBenchReport& r, std::span<const BaselineResult> baselines, std::FILE* out) {
  const BenchConfig& c = r.config;
  std::fprintf(out, "{\n  \"tool\": \"rill bench\",\n");
  // "workload" holds the domain's name: the key predates tools generic over the domain.
  std::fprintf(out, "  \"config\": {\"workload\": \"%s\", \"mode\": \"%s\", \"producers\": %d, \"inflight\": %d, ",
               JsonEscape(DomainLabel(c)).c_str(), c.open_loop() ? "open" : "closed", c.producers, c.inflight);
  std::fprintf(out, "\"rate\": %.0f, \"projectors\": %d, \"durability\": \"%s\", \"ack\": \"%s\", ", c.rate,
               c.projectors, DurabilityName(c.durability), engine::AckLevelName(c.ack));
  // "accounts": the old name of "aggregates", kept for existing readers.
  std::fprintf(out,
               "\"ring_size\": %zu, \"max_batch\": %zu, \"seconds\": %.3f, \"aggregates\": %llu, \"accounts\": %llu, "
               "\"seed\": %llu, ",
               c.ring_size, c.max_batch, c.seconds, ull(c.aggregates), ull(c.aggregates), ull(c.seed));
  std::fprintf(out, "\"pin\": [");
  for (std::size_t i = 0; i < c.pin_cpus.size(); ++i) std::fprintf(out, "%s%d", i ? ", " : "", c.pin_cpus[i]);
  std::fprintf(out, "], \"cpus\": %d, \"threads\": %d},\n", r.cpus, r.threads);
  std::fprintf(out, "  \"throughput_per_s\": %.1f,\n  \"offered_per_s\": %.1f,\n  \"seconds\": %.6f,\n",
               r.throughput_per_s, r.offered_per_s, r.seconds);
  std::fprintf(out, "  \"latency_ns\": ");
  JsonLatency(out, r.latency.Summarize());
  std::fprintf(out, ",\n  \"stages_ns\": {\"ring_wait\": ");
  if (r.ring_wait_measured) {
    JsonLatency(out, r.stages.ring_wait.Summarize());
  } else {
    std::fprintf(out, "null");
  }
  std::fprintf(out, ", \"apply\": ");
  JsonLatency(out, r.stages.apply.Summarize());
  std::fprintf(out, ", \"journal_commit\": ");
  JsonLatency(out, r.stages.commit.Summarize());
  std::fprintf(out, ", \"projection\": ");
  if (c.projectors > 0) {
    JsonLatency(out, r.stages.projection.Summarize());
  } else {
    std::fprintf(out, "null");
  }
  std::fprintf(out, "},\n");
  std::fprintf(out,
               "  \"counts\": {\"setup\": %llu, \"submitted\": %llu, \"completed\": %llu, \"accepted\": %llu, "
               "\"rejected\": %llu, \"failed\": %llu, \"duplicates\": %llu, \"events\": %llu, \"batches\": %llu, "
               "\"mean_batch\": %.2f, \"ring_full\": %llu},\n",
               ull(r.setup_commands), ull(r.submitted), ull(r.completed), ull(r.accepted), ull(r.rejected),
               ull(r.failed), ull(r.duplicates), ull(r.events), ull(r.batches), r.mean_batch(), ull(r.ring_full));
  if (r.replication.on) {
    const auto& x = r.replication;
    std::fprintf(out,
                 "  \"replication\": {\"urls\": \"%s\", \"stream\": \"%s\", \"replicas\": %d, \"messages\": %llu, "
                 "\"bytes\": %llu, "
                 "\"duplicates\": %llu, \"resyncs\": %llu, \"replicated_position\": %llu, "
                 "\"committed_position\": %llu, \"state\": \"%s\"},\n",
                 JsonEscape(c.replicate).c_str(), JsonEscape(x.stream).c_str(), c.replicas, ull(x.messages),
                 ull(x.bytes), ull(x.duplicates), ull(x.resyncs), ull(x.replicated_position), ull(x.committed_position),
                 JsonEscape(x.state).c_str());
  }
  std::fprintf(out, "  \"checks\": {\"acknowledged_once\": %s, \"state_consistent\": %s, \"detail\": \"%s\"},\n",
               r.acknowledged_once ? "true" : "false", r.state_consistent ? "true" : "false",
               JsonEscape(r.check_detail).c_str());
  std::fprintf(out, "  \"notes\": [");
  for (std::size_t i = 0; i < r.notes.size(); ++i)
    std::fprintf(out, "%s\"%s\"", i ? ", " : "", JsonEscape(r.notes[i]).c_str());
  std::fprintf(out, "],\n  \"baselines\": {");
  for (std::size_t i = 0; i < baselines.size(); ++i) {
    const BaselineResult& b = baselines[i];
    std::fprintf(out, "%s\n    \"%s\": ", i ? "," : "", JsonEscape(b.name).c_str());
    if (!b.available) {
      std::fprintf(out, "{\"available\": false, \"reason\": \"%s\"}", JsonEscape(b.reason).c_str());
      continue;
    }
    std::fprintf(out,
                 "{\"available\": true, \"throughput_per_s\": %.1f, \"ratio\": %.3f, \"events_per_s\": %.1f, "
                 "\"commands\": %llu, \"seconds\": %.3f, \"detail\": \"%s\", \"latency_ns\": ",
                 b.throughput_per_s, Ratio(r, b), b.events_per_s, ull(b.commands), b.seconds,
                 JsonEscape(b.detail).c_str());
    JsonLatency(out, b.latency);
    std::fprintf(out, "}");
  }
  std::fprintf(out, "%s}\n}\n", baselines.empty() ? "" : "\n  ");
}

}  // namespace rill::bench
