// `rill bench --replicate`: see bench_replication.h.
#include "rill/tools/bench/bench_replication.h"

#include <unistd.h>

#include <chrono>
#include <string>

#include "rill/bench/e2e/latency_histogram.h"
#include "rill/replication/message_format.h"
#include "rill/tools/bench/replication_baseline.h"

namespace rill::tools {

Result<std::unique_ptr<BenchReplication>> BenchReplication::Start(const bench::BenchConfig& config) {
  replication::ReplicatorOptions o;
  o.journal_directory = config.dir;
  o.nats_urls = config.replicate;
  o.app = "bench";
  // A stream per run: the bench journals into a fresh directory, so it ships from position 1.
  o.shard = std::to_string(::getpid()) + "_" +
            std::to_string(std::chrono::system_clock::now().time_since_epoch() / std::chrono::milliseconds(1));
  o.replicas = config.replicas;
  auto r = replication::Replicator::Start(o);
  if (!r.ok()) return r.status().WithContext("rill bench --replicate");
  return std::unique_ptr<BenchReplication>(new BenchReplication(config, o.shard, std::move(r).value()));
}

void BenchReplication::Finish(bench::EngineBenchReport* report, std::FILE* progress) {
  const std::uint64_t committed = replicator_->stats().committed_position;
  if (progress)
    std::fprintf(progress, "replication: waiting for position %llu...\n", static_cast<unsigned long long>(committed));
  const Status waited = replicator_->WaitReplicated(committed, 60'000'000'000);
  replicator_->Stop();
  const replication::ReplicatorStats s = replicator_->stats();
  auto& x = report->replication;
  x.on = true;
  x.messages = s.messages;
  x.bytes = s.bytes;
  x.duplicates = s.duplicates;
  x.resyncs = s.resyncs;
  x.replicated_position = s.replicated_position;
  x.committed_position = committed;
  x.stream = replication::StreamName("bench", shard_);
  x.state = waited.ok() ? "caught up" : waited.ToString();
  if (!waited.ok()) {
    report->state_consistent = false;
    report->notes.push_back("the replicator did not ship the whole journal: " + waited.ToString());
  }
}

bench::BaselineResult BenchReplication::RawPublishBaseline(const bench::EngineBenchReport& report, double seconds,
                                                           std::FILE* progress) const {
  bench::BaselineResult b;
  b.name = "nats_raw_publish";
  if (progress)
    std::fprintf(progress, "baseline nats raw publish (64 KiB, window 32): %.1f s, then 1 s of 4 KiB round trips...\n",
                 seconds);
  RawPublishOptions o;
  o.urls = config_.replicate;
  o.replicas = config_.replicas;
  o.seconds = seconds;
  auto raw = MeasureRawPublish(o);
  if (!raw.ok()) {
    b.reason = raw.status().ToString();
    return b;
  }
  const std::uint64_t commands = report.setup_commands + report.completed;
  const double bytes_per_command =
      commands != 0 ? static_cast<double>(report.replication.bytes) / static_cast<double>(commands) : 0;
  const double bytes_per_event =
      report.replication.committed_position != 0
          ? static_cast<double>(report.replication.bytes) / static_cast<double>(report.replication.committed_position)
          : 0;
  b.available = bytes_per_command > 0;
  if (!b.available) b.reason = "the run shipped nothing to compare with";
  b.seconds = raw->seconds;
  b.commands = raw->messages;
  b.throughput_per_s = bytes_per_command > 0 ? raw->megabytes_per_s * 1e6 / bytes_per_command : 0;
  b.events_per_s = bytes_per_event > 0 ? raw->megabytes_per_s * 1e6 / bytes_per_event : 0;
  char detail[200];
  std::snprintf(detail, sizeof detail,
                "%.0f messages/s = %.1f MB/s raw; as this run's commands at %.0f journal bytes each (ratio: the "
                "fraction of this ceiling reached)",
                raw->messages_per_s, raw->megabytes_per_s, bytes_per_command);
  b.detail = detail;
  // The cluster's own publish -> ack latency, one message at a time: the floor under any
  // kReplicated acknowledgement (the row's latency columns; it has no throughput to compare).
  bench::LatencyHistogram round_trips;
  for (const std::int64_t ns : raw->round_trip_ns) round_trips.Record(static_cast<std::uint64_t>(ns));
  b.latency = round_trips.Summarize();
  std::snprintf(detail, sizeof detail,
                "; %zu round trips of 4 KiB one at a time: p50 %.2f ms, p99 %.2f ms, max %.2f ms",
                raw->round_trip_ns.size(), static_cast<double>(b.latency.p50) / 1e6,
                static_cast<double>(b.latency.p99) / 1e6, static_cast<double>(b.latency.max) / 1e6);
  b.detail += detail;
  if (progress) std::fprintf(progress, "nats round trips (the latency floor of kReplicated)%s\n", detail + 1);
  return b;
}

}  // namespace rill::tools
