#include "rill/tools/crashtest/ledger.h"

#include <algorithm>

#include "rill/tools/crashtest/workload.h"

namespace rill::tools::crashtest {
namespace {

constexpr std::uint64_t kIndexMask = (std::uint64_t{1} << kRoundShift) - 1;

std::string Id(std::uint64_t id) { return std::to_string(id); }

bool SameCommand(const examples::bank::Command& a, const examples::bank::Command& b) {
  const WireRecord x = WireRecord::Sent(0, a, engine::AckLevel::kJournaled, false);
  const WireRecord y = WireRecord::Sent(0, b, engine::AckLevel::kJournaled, false);
  return x.command_kind == y.command_kind && x.a == y.a && x.b == y.b && x.c == y.c;
}

}  // namespace

Ledger::Entry* Ledger::Slot(std::uint64_t id, bool create) {
  const auto round = static_cast<std::size_t>(id >> kRoundShift);
  std::size_t index = static_cast<std::size_t>(id & kIndexMask);
  if (round == 0) {
    if (id == 0 || id > 2 * accounts_) return nullptr;
    index = static_cast<std::size_t>(id - 1);
  }
  if (round >= rounds_.size()) {
    if (!create) return nullptr;
    rounds_.resize(round + 1);
  }
  std::vector<Entry>& entries = rounds_[round];
  if (index >= entries.size()) {
    if (!create) return nullptr;
    entries.resize(std::max<std::size_t>(index + 1, entries.size() + entries.size() / 2));
  }
  return &entries[index];
}

const Ledger::Entry* Ledger::Find(std::uint64_t id) const noexcept {
  const Entry* e = const_cast<Ledger*>(this)->Slot(id, /*create=*/false);
  return e != nullptr && e->sent ? e : nullptr;
}

std::optional<std::size_t> Ledger::Index(std::uint64_t id) const noexcept {
  const auto round = static_cast<std::size_t>(id >> kRoundShift);
  if (Find(id) == nullptr) return std::nullopt;
  std::size_t base = 0;
  for (std::size_t r = 0; r < round; ++r) base += rounds_[r].size();
  return base + static_cast<std::size_t>(round == 0 ? id - 1 : id & kIndexMask);
}

std::size_t Ledger::capacity() const noexcept {
  std::size_t n = 0;
  for (const auto& r : rounds_) n += r.size();
  return n;
}

std::uint64_t Ledger::IdAt(std::size_t index) const noexcept {
  for (std::size_t r = 0; r < rounds_.size(); ++r) {
    if (index < rounds_[r].size()) return r == 0 ? index + 1 : WorkloadId(static_cast<int>(r), index);
    index -= rounds_[r].size();
  }
  return 0;
}

const Ledger::Entry* Ledger::EntryAt(std::size_t index) const noexcept {
  for (const auto& r : rounds_) {
    if (index < r.size()) return r[index].sent ? &r[index] : nullptr;
    index -= r.size();
  }
  return nullptr;
}

std::optional<std::string> Ledger::Absorb(const WireRecord& r, int round) {
  if (r.kind == WireKind::kReady) return std::nullopt;
  Entry* e = Slot(r.id, /*create=*/true);
  if (e == nullptr) return "the child used command id " + Id(r.id) + ", outside every id range of the crash test";
  if (r.kind == WireKind::kSent) {
    const examples::bank::Command cmd = r.command();
    if (e->sent && !SameCommand(e->command, cmd))
      return "command " + Id(r.id) + " was resent with another payload than it was first sent with";
    e->command = cmd;
    e->level = r.level;
    if (!e->sent) e->sent_round = round;
    e->sent = true;
    return std::nullopt;
  }
  if (r.kind != WireKind::kAck)
    return "the child wrote a record of unknown kind " + Id(static_cast<std::uint64_t>(r.kind));
  if (!e->sent) return "the child reported an acknowledgement of command " + Id(r.id) + ", which it never sent";
  const bool accepted = r.code == engine::RejectCode::kNone;
  if (e->acked && e->accepted()) {
    if (!accepted)
      return "command " + Id(r.id) + " was acknowledged accepted at position " + Id(e->position) + " (round " +
             Id(static_cast<std::uint64_t>(e->acked_round)) + "), then its retry in round " +
             Id(static_cast<std::uint64_t>(round)) + " was rejected (" + engine::RejectCodeName(r.code) +
             "): the engine decided it again instead of answering with the original outcome";
    if (r.a != e->position || r.b != e->stream_version)
      return "command " + Id(r.id) + " was acknowledged at position " + Id(e->position) + " version " +
             Id(e->stream_version) + " (round " + Id(static_cast<std::uint64_t>(e->acked_round)) +
             "), then its retry at position " + Id(r.a) + " version " + Id(r.b) + ": applied twice";
  }
  e->acked = true;
  e->acked_round = round;
  e->code = r.code;
  e->level = r.level;
  e->duplicate = (r.flags & kFlagDuplicate) != 0;
  e->position = accepted ? r.a : 0;
  e->stream_version = accepted ? r.b : 0;
  e->event_count = accepted ? static_cast<std::uint32_t>(r.c) : 0;
  if (e->durable()) max_durable_position_ = std::max(max_durable_position_, e->position);
  return std::nullopt;
}

std::vector<WireRecord> Ledger::PickRetries(int round, std::mt19937_64& rng, std::size_t unacked,
                                            std::size_t acked) const {
  std::vector<WireRecord> out;
  const std::vector<bench::BankCommand> setup = bench::SetupCommands(CrashWorkload(accounts_, 1, 0, 0));
  for (const bench::BankCommand& c : setup) {
    const Entry* e = Find(c.meta.command_id);
    if (e == nullptr || !e->acked)
      out.push_back(WireRecord::Sent(c.meta.command_id, c.command, engine::AckLevel::kJournaled, true));
  }
  // The last round whose child got to send anything (one killed while opening sent nothing).
  while (round > 0 &&
         (static_cast<std::size_t>(round) >= rounds_.size() || rounds_[static_cast<std::size_t>(round)].empty()))
    --round;
  if (round == 0) return out;
  std::vector<std::uint64_t> lost, done;
  const std::vector<Entry>& entries = rounds_[static_cast<std::size_t>(round)];
  for (std::size_t k = 0; k < entries.size(); ++k) {
    if (!entries[k].sent) continue;
    if (!entries[k].acked) {
      lost.push_back(WorkloadId(round, k));
    } else if (entries[k].accepted()) {
      done.push_back(WorkloadId(round, k));
    }
  }
  // A seeded sample (the seed replays it), resent in id order.
  std::shuffle(lost.begin(), lost.end(), rng);
  std::shuffle(done.begin(), done.end(), rng);
  lost.resize(std::min(lost.size(), unacked));
  done.resize(std::min(done.size(), acked));
  lost.insert(lost.end(), done.begin(), done.end());
  std::sort(lost.begin(), lost.end());
  for (const std::uint64_t id : lost) {
    const Entry* e = Find(id);
    out.push_back(WireRecord::Sent(id, e->command, e->level, true));
  }
  return out;
}

void Ledger::InjectFakeAck(int round, std::uint64_t position) {
  const std::size_t used =
      static_cast<std::size_t>(round) < rounds_.size() ? rounds_[static_cast<std::size_t>(round)].size() : 0;
  const std::uint64_t id = WorkloadId(round, used + 1000);
  (void)Absorb(WireRecord::Sent(id, examples::bank::Deposit{1, 1}, engine::AckLevel::kJournaled, false), round);
  WireRecord ack;
  ack.kind = WireKind::kAck;
  ack.id = id;
  ack.a = position;
  ack.b = 1;
  ack.c = 1;
  (void)Absorb(ack, round);
}

bool Ledger::InjectLostAck(int round) {
  for (auto& r : rounds_) {
    for (Entry& e : r) {
      if (e.accepted() && e.acked_round <= round) {
        e.code = engine::RejectCode::kRuleViolated;
        lost_ack_injected_ = true;
        return true;
      }
    }
  }
  return false;
}

}  // namespace rill::tools::crashtest
