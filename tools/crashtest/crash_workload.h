// rill/tools/crashtest/crash_workload.h: the one definition of what a crash test runs, shared by
// the child (which submits it) and the parent (which regenerates it to check the journal).
//
//   CommandSource<W> source(CrashWorkloadOptions(o.aggregates, o.producers, seed));
//   const W::Domain::Command* c = source.Find(id);   // the command the child sent under id
//
// The workload runs with `contended` set (few aggregates, small amounts: commands contend for
// the same streams and some are rejected, and a rejection must leave no trace). Ids are
// CommandIds (tools/workload.h); each producer's stream runs across all rounds (round_plan.h).
// Thread safety: CommandSource is a plain value for one thread; the rest are pure functions.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rill/engine/ack_level.h"
#include "rill/journal/options.h"
#include "rill/tools/workload.h"

namespace rill::tools::crashtest {

inline WorkloadOptions CrashWorkloadOptions(std::uint64_t aggregates, int producers, std::uint64_t seed) noexcept {
  return WorkloadOptions{.aggregates = aggregates, .producers = producers, .seed = seed, .contended = true};
}

// Half the commands ask for a durable ack (a synced journal under batch and interval), half
// for a journaled one; chosen from the id so a retry asks for the same. Setup: journaled.
inline engine::AckLevel AckLevelFor(std::uint64_t id) noexcept {
  return ((id * 0x9e3779b97f4a7c15ull) >> 63) != 0 ? engine::AckLevel::kDurable : engine::AckLevel::kJournaled;
}
// Replicated runs (--replicate), by producer: even producers ask for kReplicated (must survive
// every takeover), odd ones for kJournaled. A producer of its own, never waiting for the
// stream, keeps the journal ahead of it, so a kill usually leaves an unreplicated tail for the
// next takeover to move aside (a mix within each window would wait for the stream).
// A retry asks for the level its command was first sent with (the ledger keeps it).
inline engine::AckLevel ReplicatedRunLevel(int producer) noexcept {
  return producer % 2 == 0 ? engine::AckLevel::kReplicated : engine::AckLevel::kJournaled;
}
inline bool IsReplicatedLevel(engine::AckLevel level) noexcept {
  return level == engine::AckLevel::kReplicated || level == engine::AckLevel::kReplicatedDurable;
}

inline std::optional<journal::Durability> ParseDurability(std::string_view name) noexcept {
  if (name == "none") return journal::Durability::kNone;
  if (name == "batch") return journal::Durability::kBatch;
  if (name == "interval") return journal::Durability::kInterval;
  return std::nullopt;
}

// Syncs every 5 ms under the interval policy: short enough that durable acks keep coming in a
// round that lasts a few hundred milliseconds.
inline constexpr std::uint32_t kIntervalMs = 5;

// Where the children's read model (a StateMirror) keeps its checkpoints: beside the journal.
inline std::string CheckpointDirectory(const std::string& journal) {
  return (std::filesystem::path(journal).parent_path() / "checkpoints").string();
}

// The command behind each id, regenerated: the setup once, each producer's stream as far as
// the highest id asked for (kept, so each command is generated once per run).
template <Workload W>
class CommandSource {
 public:
  using Command = typename W::Domain::Command;

  explicit CommandSource(const WorkloadOptions& options) : workload_(options), setup_(workload_.Setup()) {
    ids_ = CommandIds{.setup = setup_.size(), .producers = options.producers};
    made_.resize(static_cast<std::size_t>(options.producers));
    producers_.reserve(static_cast<std::size_t>(options.producers));
    for (int p = 0; p < options.producers; ++p) producers_.push_back(workload_.MakeProducer(p));
  }

  const W& workload() const noexcept { return workload_; }
  const CommandIds& ids() const noexcept { return ids_; }
  const std::vector<Command>& setup() const noexcept { return setup_; }

  // nullptr for id 0. REQUIRES: the id is one the ledger knows (bounded by kMaxCommandId).
  const Command* Find(std::uint64_t id) {
    if (id == 0) return nullptr;
    int p = 0;
    std::uint64_t k = 0;
    if (!ids_.Split(id, &p, &k)) return &setup_[id - 1];
    std::vector<Command>& made = made_[static_cast<std::size_t>(p)];
    while (made.size() <= k) made.push_back(producers_[static_cast<std::size_t>(p)].Next());
    return &made[k];
  }

 private:
  W workload_;
  std::vector<Command> setup_;
  CommandIds ids_;
  std::vector<typename W::Producer> producers_;
  std::vector<std::vector<Command>> made_;  // per producer, by k
};

}  // namespace rill::tools::crashtest
