// rill/tools/bench/replication_baseline.h: the ceiling `rill bench --replicate` is measured
// against, in the same run: the cluster's own raw async-publish rate of 64 KiB messages (the
// replicator's unit of shipping, SCALE-OUT.md 3a) into a scratch stream with the same replicas
// and window, msg-ids on, no expectation headers. kReplicated throughput is bounded by it.
//
//   auto raw = rill::tools::MeasureRawPublish({.urls = urls, .replicas = 3, .seconds = 3});
//   std::printf("%.1f MB/s\n", raw->megabytes_per_s);
//
// Thread safety: one call at a time per stream name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "rill/base/result.h"

namespace rill::tools {

struct RawPublishOptions {
  std::string urls;
  std::string stream = "RILL_BENCH_RAW";  // created, filled, then deleted
  int replicas = 3;
  std::size_t message_bytes = std::size_t{64} << 10;
  std::size_t window = 32;
  double seconds = 3.0;
};

struct RawPublishReport {
  std::uint64_t messages = 0;  // acknowledged by the stream
  double seconds = 0;
  double messages_per_s = 0;
  double megabytes_per_s = 0;  // 10^6 bytes
};

// Unavailable when the cluster cannot be reached or refuses the stream; the stream is deleted
// afterwards either way.
Result<RawPublishReport> MeasureRawPublish(const RawPublishOptions& options);

}  // namespace rill::tools
