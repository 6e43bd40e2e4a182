// rill/tools/crashtest/ledger.h: the parent's record of every command the children sent and
// every outcome they were acknowledged, the input of the verifier.
//
//   Ledger ledger(/*accounts=*/64);
//   if (auto v = ledger.Absorb(record, round)) fail(*v);    // each WireRecord from the pipe
//   const Ledger::Entry* e = ledger.Find(id);
//   auto retries = ledger.PickRetries(round, rng, 64, 8);   // the next child sends these first
//
// Command ids: 1..2*accounts for the setup, (round << kRoundShift) + k for the k-th workload
// command of a round, so entries live in dense per-round arrays (no hashing of a million ids).
// Absorb checks what it can at once: an ack for a command never sent, a retry with another
// payload, and two acknowledgements of one id that disagree (a retry decided again instead of
// answered with the original outcome).
// Thread safety: a plain value; one thread.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "rill/bench/e2e/bank_workload.h"
#include "rill/engine/ack_level.h"
#include "rill/engine/command_outcome.h"
#include "rill/tools/crashtest/wire.h"

namespace rill::tools::crashtest {

inline constexpr int kRoundShift = 36;

class Ledger {
 public:
  struct Entry {
    examples::bank::Command command;
    engine::AckLevel level = engine::AckLevel::kJournaled;  // of the last submission
    bool sent = false;
    bool acked = false;
    bool duplicate = false;  // the (last) ack said: original outcome, not applied again
    engine::RejectCode code = engine::RejectCode::kNone;
    std::uint32_t event_count = 0;
    std::uint64_t position = 0;  // accepted: the journal position of the command's last event
    std::uint64_t stream_version = 0;
    int sent_round = 0, acked_round = 0;
    bool accepted() const noexcept { return acked && code == engine::RejectCode::kNone; }
    bool durable() const noexcept { return accepted() && level == engine::AckLevel::kDurable; }
  };

  explicit Ledger(std::uint64_t accounts) : accounts_(accounts), rounds_(1) {}

  static std::uint64_t WorkloadId(int round, std::uint64_t k) noexcept {
    return (static_cast<std::uint64_t>(round) << kRoundShift) + k;
  }

  // nullptr for an id no child sent.
  const Entry* Find(std::uint64_t id) const noexcept;
  // A dense index in [0, capacity()) for every id Find knows (for the verifier's side tables).
  std::optional<std::size_t> Index(std::uint64_t id) const noexcept;
  std::size_t capacity() const noexcept;
  std::uint64_t IdAt(std::size_t index) const noexcept;
  const Entry* EntryAt(std::size_t index) const noexcept;

  // Records a WireRecord from round `round`'s child; the violation it proves, if any.
  std::optional<std::string> Absorb(const WireRecord& r, int round);

  // What the next child resends first: every setup command without an ack (in id order, so
  // accounts are opened before they are funded), up to `unacked` workload commands of `round`
  // (or of the last round before it that sent any) that were sent but never acknowledged, and
  // up to `acked` that were (their retry must be answered with the original outcome).
  std::vector<WireRecord> PickRetries(int round, std::mt19937_64& rng, std::size_t unacked, std::size_t acked) const;

  // For --inject (testing the tester): an accepted ack of a command no journal holds, and a
  // journaled command's ack turned into a rejection. False when there is nothing to alter.
  void InjectFakeAck(int round, std::uint64_t position);
  bool InjectLostAck(int round);
  bool lost_ack_injected() const noexcept { return lost_ack_injected_; }

  std::uint64_t accounts() const noexcept { return accounts_; }
  std::uint64_t max_durable_position() const noexcept { return max_durable_position_; }

 private:
  Entry* Slot(std::uint64_t id, bool create);

  std::uint64_t accounts_;
  std::vector<std::vector<Entry>> rounds_;  // [0]: setup ids 1..2N at index id-1
  std::uint64_t max_durable_position_ = 0;
  bool lost_ack_injected_ = false;
};

}  // namespace rill::tools::crashtest
