// rill/tools/bench/replication_baseline.h: the ceiling `rill bench --replicate` is measured
// against, in the same run: the cluster's own raw async-publish rate of 64 KiB messages (the
// replicator's unit of shipping, SCALE-OUT.md 3a) into a scratch stream with the same replicas
// and window, msg-ids on, no expectation headers. kReplicated throughput is bounded by it.
// Then the latency floor: publishes of `round_trip_bytes` one at a time (window 1) for
// `round_trip_seconds`, each timed from the publish to the stream's ack (the quorum stored it):
// a kReplicated acknowledgement can come no sooner.
//
//   auto raw = rill::tools::MeasureRawPublish({.urls = urls, .replicas = 3, .seconds = 3});
//   std::printf("%.1f MB/s\n", raw->megabytes_per_s);
//
// Thread safety: one call at a time per stream name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "rill/base/result.h"

namespace rill::tools {

struct RawPublishOptions {
  std::string urls;
  std::string stream = "RILL_BENCH_RAW";  // created, filled, then deleted
  int replicas = 3;
  std::size_t message_bytes = std::size_t{64} << 10;
  std::size_t window = 32;
  double seconds = 3.0;
  std::size_t round_trip_bytes = std::size_t{4} << 10;
  double round_trip_seconds = 1.0;  // 0: no round trips
};

struct RawPublishReport {
  std::uint64_t messages = 0;  // acknowledged by the stream
  double seconds = 0;
  double messages_per_s = 0;
  double megabytes_per_s = 0;               // 10^6 bytes
  std::vector<std::int64_t> round_trip_ns;  // one per round trip, in order
};

// Unavailable when the cluster cannot be reached or refuses the stream; the stream is deleted
// afterwards either way.
Result<RawPublishReport> MeasureRawPublish(const RawPublishOptions& options);

}  // namespace rill::tools
