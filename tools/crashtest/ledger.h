// rill/tools/crashtest/ledger.h: the parent's record of every command id the children sent and
// every outcome they were acknowledged, the input of the verifier. No commands: the parent
// regenerates a command from its id when it needs it (crash_workload.h, CommandSource).
//
//   Ledger ledger(CommandIds{.setup = workload.Setup().size(), .producers = 3});
//   if (auto v = ledger.Absorb(record, round)) fail(*v);    // each WireRecord from the pipe
//   const Ledger::Entry* e = ledger.Find(id);
//   RoundPlan plan = ledger.PlanRound(round, rng, 64, 8);   // what the next child does first
//
// Ids are the tools' (tools/workload.h, CommandIds): 1..S the setup, then producer p's k-th
// command S + 1 + k * producers + p, the same stream of commands across every round (each
// child resumes each producer where the previous one stopped, round_plan.h). So entries live
// in one dense array by id (no hashing of a million ids).
// Absorb checks what it can at once: an ack for a command never sent, and two
// acknowledgements of one id that disagree (a retry decided again instead of answered with
// the original outcome). The replicated run's kinds (kReconciled, kStandby) are not the ledger's.
// Thread safety: a plain value; one thread.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "rill/engine/ack_level.h"
#include "rill/engine/command_outcome.h"
#include "rill/tools/crashtest/round_plan.h"
#include "rill/tools/crashtest/wire.h"
#include "rill/tools/workload.h"

namespace rill::tools::crashtest {

// Ids above this are refused as garbage (2^40 commands: far beyond any run).
inline constexpr std::uint64_t kMaxCommandId = std::uint64_t{1} << 40;

class Ledger {
 public:
  struct Entry {
    engine::AckLevel level = engine::AckLevel::kJournaled;  // of the last submission
    engine::RejectCode code = engine::RejectCode::kNone;
    bool sent = false;
    bool acked = false;
    bool duplicate = false;  // the (last) ack said: original outcome, not applied again
    std::uint32_t event_count = 0;
    std::uint64_t position = 0;  // accepted: the journal position of the command's last event
    std::uint64_t stream_version = 0;
    int sent_round = 0, acked_round = 0;
    bool accepted() const noexcept { return acked && code == engine::RejectCode::kNone; }
    bool durable() const noexcept { return accepted() && level == engine::AckLevel::kDurable; }
    bool replicated() const noexcept {
      return accepted() && (level == engine::AckLevel::kReplicated || level == engine::AckLevel::kReplicatedDurable);
    }
  };

  // What Supersede found.
  struct Superseded {
    std::uint64_t dropped = 0;             // unreplicated acks past the takeover point: forgotten
    std::optional<std::string> violation;  // a replicated ack past it: lost
  };

  explicit Ledger(const CommandIds& ids) : ids_(ids), next_k_(static_cast<std::size_t>(ids.producers), 0) {}

  const CommandIds& ids() const noexcept { return ids_; }
  // nullptr for an id no child sent.
  const Entry* Find(std::uint64_t id) const noexcept {
    return id != 0 && id <= entries_.size() && entries_[id - 1].sent ? &entries_[id - 1] : nullptr;
  }
  // Ids 1..capacity() may have entries.
  std::uint64_t capacity() const noexcept { return entries_.size(); }
  // "setup #3" or "producer 1's #57": where an id comes from, for messages.
  std::string Origin(std::uint64_t id) const;

  // Records a WireRecord from round `round`'s child; the violation it proves, if any.
  std::optional<std::string> Absorb(const WireRecord& r, int round);

  // What the next child does (round_plan.h): each producer resumes after the last command it
  // had sent; first it resends every setup command without an ack (in id order, so aggregates
  // are created before they are used), up to `unacked` commands first sent in `round` (or the
  // last round before it that sent any) that were never acknowledged, and up to `acked` that
  // were (their retry must be answered with the original outcome).
  RoundPlan PlanRound(int round, std::mt19937_64& rng, std::size_t unacked, std::size_t acked) const;

  // A standby took over at `position` (the stream's end then: the new writer continues after
  // it). Every accepted ack past it was the old writer's unreplicated tail: a kReplicated one
  // there is a violation (it was lost); the others are forgotten (their commands count as
  // sent and never answered, so a retry may be decided anew), as SCALE-OUT.md 3c allows.
  Superseded Supersede(std::uint64_t position, int round);

  // For --inject (testing the tester): an accepted ack of a command no journal holds, and a
  // journaled command's ack turned into a rejection. False when there is nothing to alter.
  void InjectFakeAck(int round, std::uint64_t position);
  bool InjectLostAck(int round);
  bool lost_ack_injected() const noexcept { return lost_ack_injected_; }

  std::uint64_t max_durable_position() const noexcept { return max_durable_position_; }

 private:
  CommandIds ids_;
  std::vector<Entry> entries_;         // by id - 1
  std::vector<std::uint64_t> next_k_;  // per producer: 1 + the highest k sent
  std::vector<bool> produced_in_;      // by round: a produced command was first sent in it
  std::uint64_t max_durable_position_ = 0;
  bool lost_ack_injected_ = false;
};

}  // namespace rill::tools::crashtest
