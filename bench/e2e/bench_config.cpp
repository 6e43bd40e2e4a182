#include "rill/bench/e2e/bench_config.h"

#include <bit>
#include <charconv>

namespace rill::bench {
namespace {

std::optional<int> ParseInt(std::string_view s) {
  int v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

}  // namespace

std::optional<journal::Durability> ParseDurability(std::string_view name) noexcept {
  if (name == "none") return journal::Durability::kNone;
  if (name == "batch") return journal::Durability::kBatch;
  if (name == "interval") return journal::Durability::kInterval;
  return std::nullopt;
}

std::optional<engine::AckLevel> ParseAckLevel(std::string_view name) noexcept {
  if (name == "accepted") return engine::AckLevel::kAccepted;
  if (name == "journaled") return engine::AckLevel::kJournaled;
  if (name == "durable") return engine::AckLevel::kDurable;
  if (name == "applied") return engine::AckLevel::kApplied;
  if (name == "replicated") return engine::AckLevel::kReplicated;
  if (name == "replicated+durable") return engine::AckLevel::kReplicatedDurable;
  return std::nullopt;
}

std::optional<std::vector<int>> ParseCpuList(std::string_view list) {
  std::vector<int> cpus;
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    const std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (comma != std::string_view::npos && list.empty()) return std::nullopt;  // trailing comma
    const std::size_t dash = item.find('-');
    if (dash == std::string_view::npos) {
      const auto cpu = ParseInt(item);
      if (!cpu) return std::nullopt;
      cpus.push_back(*cpu);
      continue;
    }
    const auto lo = ParseInt(item.substr(0, dash)), hi = ParseInt(item.substr(dash + 1));
    if (!lo || !hi || *hi < *lo || *hi - *lo > 4096) return std::nullopt;
    for (int c = *lo; c <= *hi; ++c) cpus.push_back(c);
  }
  if (cpus.empty()) return std::nullopt;
  return cpus;
}

std::string BenchConfig::Validate() const {
  if (producers < 1 || producers > 256) return "--producers must be in [1, 256]";
  if (projectors < 0 || projectors > 64) return "--projectors must be in [0, 64]";
  if (ring_size < 2 || ring_size > (std::size_t{1} << 30) || !std::has_single_bit(ring_size))
    return "--ring-size must be a power of two in [2, 2^30]";
  if (max_batch > ring_size) return "--max-batch must not exceed --ring-size";
  if (inflight < 1 || inflight > (1 << 20)) return "--inflight must be in [1, 1048576]";
  if (commands_per_producer == 0 && !(seconds > 0)) return "--seconds must be positive";
  if (rate < 0) return "--rate must be positive (or 0 for a closed loop)";
  if (ack == engine::AckLevel::kApplied && projectors == 0)
    return "--ack applied needs a projector to wait for: --projectors 1 or more";
  if (aggregates < 1) return "--aggregates must be at least 1";
  if ((ack == engine::AckLevel::kReplicated || ack == engine::AckLevel::kReplicatedDurable) && replicate.empty())
    return "--ack replicated needs a NATS cluster to replicate to: --replicate nats://127.0.0.1:4222,...";
  if (replicas < 1 || replicas > 5) return "--replicas must be in [1, 5]";
  return {};
}

}  // namespace rill::bench
