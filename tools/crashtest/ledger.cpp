#include "rill/tools/crashtest/ledger.h"

#include <algorithm>

namespace rill::tools::crashtest {
namespace {

std::string Id(std::uint64_t id) { return std::to_string(id); }

}  // namespace

std::string Ledger::Origin(std::uint64_t id) const {
  int p = 0;
  std::uint64_t k = 0;
  if (id == 0) return "no id";
  if (!ids_.Split(id, &p, &k)) return "setup #" + Id(id - 1);
  return "producer " + std::to_string(p) + "'s #" + Id(k);
}

std::optional<std::string> Ledger::Absorb(const WireRecord& r, int round) {
  if (r.kind == WireKind::kReady || r.kind == WireKind::kReconciled || r.kind == WireKind::kStandby)
    return std::nullopt;
  if (r.id == 0 || r.id > kMaxCommandId)
    return "the child used command id " + Id(r.id) + ", outside every id range of the crash test";
  if (r.kind != WireKind::kSent && r.kind != WireKind::kAck)
    return "the child wrote a record of unknown kind " + Id(static_cast<std::uint64_t>(r.kind));
  if (r.kind == WireKind::kAck && r.id > entries_.size())
    return "the child reported an acknowledgement of command " + Id(r.id) + ", which it never sent";
  if (r.id > entries_.size()) entries_.resize(std::max<std::uint64_t>(r.id, entries_.size() + entries_.size() / 2));
  Entry& e = entries_[r.id - 1];
  if (r.kind == WireKind::kSent) {
    e.level = r.level;
    if (!e.sent) {
      e.sent_round = round;
      int p = 0;
      std::uint64_t k = 0;
      if (ids_.Split(r.id, &p, &k)) {
        next_k_[static_cast<std::size_t>(p)] = std::max(next_k_[static_cast<std::size_t>(p)], k + 1);
        if (static_cast<std::size_t>(round) >= produced_in_.size()) produced_in_.resize(round + 1);
        produced_in_[static_cast<std::size_t>(round)] = true;
      }
    }
    e.sent = true;
    return std::nullopt;
  }
  if (!e.sent) return "the child reported an acknowledgement of command " + Id(r.id) + ", which it never sent";
  const bool accepted = r.code == engine::RejectCode::kNone;
  if (e.acked && e.accepted()) {
    if (!accepted)
      return "command " + Id(r.id) + " was acknowledged accepted at position " + Id(e.position) + " (round " +
             Id(static_cast<std::uint64_t>(e.acked_round)) + "), then its retry in round " +
             Id(static_cast<std::uint64_t>(round)) + " was rejected (" + engine::RejectCodeName(r.code) +
             "): the engine decided it again instead of answering with the original outcome";
    if (r.a != e.position || r.b != e.stream_version)
      return "command " + Id(r.id) + " was acknowledged at position " + Id(e.position) + " version " +
             Id(e.stream_version) + " (round " + Id(static_cast<std::uint64_t>(e.acked_round)) +
             "), then its retry at position " + Id(r.a) + " version " + Id(r.b) + ": applied twice";
  }
  e.acked = true;
  e.acked_round = round;
  e.code = r.code;
  e.level = r.level;
  e.duplicate = (r.flags & kFlagDuplicate) != 0;
  e.position = accepted ? r.a : 0;
  e.stream_version = accepted ? r.b : 0;
  e.event_count = accepted ? r.event_count : 0;
  if (e.durable()) max_durable_position_ = std::max(max_durable_position_, e.position);
  return std::nullopt;
}

RoundPlan Ledger::PlanRound(int round, std::mt19937_64& rng, std::size_t unacked, std::size_t acked) const {
  RoundPlan plan;
  plan.start = next_k_;
  for (std::uint64_t id = 1; id <= ids_.setup; ++id) {
    const Entry* e = Find(id);
    if (e == nullptr || !e->acked) plan.retries.push_back(WireRecord::Sent(id, engine::AckLevel::kJournaled, true));
  }
  // The last round whose child got to send commands of its own (one killed while opening, or
  // while resending, sent none).
  while (round > 0 &&
         (static_cast<std::size_t>(round) >= produced_in_.size() || !produced_in_[static_cast<std::size_t>(round)]))
    --round;
  if (round == 0) return plan;
  std::vector<std::uint64_t> lost, done;
  for (std::uint64_t id = ids_.setup + 1; id <= entries_.size(); ++id) {
    const Entry& e = entries_[id - 1];
    if (!e.sent || e.sent_round != round) continue;
    if (!e.acked) {
      lost.push_back(id);
    } else if (e.accepted()) {
      done.push_back(id);
    }
  }
  // A seeded sample (the seed replays it), resent in id order.
  std::shuffle(lost.begin(), lost.end(), rng);
  std::shuffle(done.begin(), done.end(), rng);
  lost.resize(std::min(lost.size(), unacked));
  done.resize(std::min(done.size(), acked));
  lost.insert(lost.end(), done.begin(), done.end());
  std::sort(lost.begin(), lost.end());
  for (const std::uint64_t id : lost) plan.retries.push_back(WireRecord::Sent(id, entries_[id - 1].level, true));
  return plan;
}

Ledger::Superseded Ledger::Supersede(std::uint64_t position, int round) {
  Superseded s;
  for (std::uint64_t id = 1; id <= entries_.size(); ++id) {
    Entry& e = entries_[id - 1];
    if (!e.accepted() || e.event_count == 0 || e.position <= position) continue;
    if (e.replicated()) {
      if (!s.violation)
        s.violation = "command " + Id(id) + " (" + Origin(id) + ") was acknowledged replicated at position " +
                      Id(e.position) + " in round " + Id(static_cast<std::uint64_t>(e.acked_round)) +
                      ", but the standby took over in round " + Id(static_cast<std::uint64_t>(round)) +
                      " at the stream's end, position " + Id(position) + ": a replicated acknowledgement was lost";
      continue;
    }
    e.acked = false;
    e.duplicate = false;
    e.code = engine::RejectCode::kNone;
    e.position = e.stream_version = 0;
    e.event_count = 0;
    e.acked_round = 0;
    ++s.dropped;
  }
  return s;
}

void Ledger::InjectFakeAck(int round, std::uint64_t position) {
  // Beyond every id sent so far: no child sent it, so no journal can hold it.
  const std::uint64_t id = entries_.size() + 1000;
  (void)Absorb(WireRecord::Sent(id, engine::AckLevel::kJournaled, false), round);
  WireRecord ack;
  ack.kind = WireKind::kAck;
  ack.id = id;
  ack.a = position;
  ack.b = 1;
  ack.event_count = 1;
  (void)Absorb(ack, round);
}

bool Ledger::InjectLostAck(int round) {
  for (Entry& e : entries_) {
    if (e.accepted() && e.acked_round <= round) {
      e.code = engine::RejectCode::kRuleViolated;
      lost_ack_injected_ = true;
      return true;
    }
  }
  return false;
}

}  // namespace rill::tools::crashtest
