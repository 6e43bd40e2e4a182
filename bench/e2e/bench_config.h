// rill/bench/e2e/bench_config.h: what one `rill bench` run measures: the engine's knobs, the
// load (closed or open loop), how many aggregates the workload spreads over and where the
// journal goes. The domain is not here: it is the workload type W of RunEngineBench<W>.
//
//   rill::bench::BenchConfig c;
//   c.domain = "inventory";                              // its name, for the report
//   c.durability = rill::journal::Durability::kBatch;   // acknowledged after group commit
//   c.ack = rill::engine::AckLevel::kDurable;
//   c.rate = 1'000'000;                                  // open loop; 0 = closed loop
//   if (std::string why = c.Validate(); !why.empty()) usage_error(why);
//   auto report = rill::bench::RunEngineBench<InventoryWorkload>(c);   // bench_driver_impl.h
//
// Thread safety: plain values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rill/engine/ack_level.h"
#include "rill/engine/replication_progress.h"
#include "rill/journal/options.h"

namespace rill::bench {

constexpr const char* DurabilityName(journal::Durability d) noexcept {
  switch (d) {
    case journal::Durability::kNone:
      return "none";
    case journal::Durability::kBatch:
      return "batch";
    case journal::Durability::kInterval:
      return "interval";
  }
  return "unknown";
}

std::optional<journal::Durability> ParseDurability(std::string_view name) noexcept;
std::optional<engine::AckLevel> ParseAckLevel(std::string_view name) noexcept;
// "0,1", "0-3", "2,0-1": CPUs in the order threads take them. nullopt on a malformed list.
std::optional<std::vector<int>> ParseCpuList(std::string_view list);

struct BenchConfig {
  // The domain's name (the tool's --domain), for the summary and the JSON; the workload itself
  // is RunEngineBench's template argument.
  std::string domain;
  int producers = 1;
  journal::Durability durability = journal::Durability::kNone;
  std::uint32_t sync_interval_ms = 10;  // durability interval
  // Projector threads (each with one read model of the workload); 0 = none. The first one
  // feeds the applied(view) acknowledgement and the projection stage figures.
  int projectors = 1;
  std::size_t ring_size = 16384;  // a power of two
  std::size_t max_batch = 0;      // 0: the engine's default (a quarter of the ring)
  // CPUs to pin to, taken in this order: the writer, each producer, each projector (wrapping
  // around the list). Empty: no pinning.
  std::vector<int> pin_cpus;
  double seconds = 3.0;
  engine::AckLevel ack = engine::AckLevel::kJournaled;
  std::string dir;    // journal parent directory; empty: a temporary directory
  bool keep = false;  // keep the temporary directory
  // Closed loop: each producer keeps up to `inflight` commands outstanding. Open loop: the
  // most outstanding per producer before it must wait (a stall then shows in latency).
  int inflight = 256;
  double rate = 0;                     // open loop: commands/s offered in total (split evenly); 0 = closed loop
  std::uint64_t aggregates = 100'000;  // tools::WorkloadOptions::aggregates: how many the commands spread over
  std::uint64_t seed = 1;
  // > 0: each producer sends exactly this many commands (tests), instead of `seconds`.
  std::uint64_t commands_per_producer = 0;
  std::size_t segment_size = std::size_t{256} << 20;
  // Projectors decode with DecodeTrusted: safe because the bench always journals into a fresh
  // directory that only this process's engine wrote (codecs/decoder.h).
  bool projector_verify = false;
  // The engine's counters file (EngineOptions::counters) and the projectors' counters in it:
  // off to measure what they cost (rill bench --counters off).
  bool counters = true;
  // Replication (replication/): NATS URLs to ship the journal to ("": none), the stream's
  // replicas, and the replicator the tool started for the run (tools/bench), which the
  // engine acknowledges kReplicated against.
  std::string replicate;
  int replicas = 3;
  engine::ReplicationProgress* replication = nullptr;

  bool open_loop() const noexcept { return rate > 0; }
  // Empty when the configuration can run; else what is wrong (a usage error).
  std::string Validate() const;
};

}  // namespace rill::bench
