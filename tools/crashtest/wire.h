// rill/tools/crashtest/wire.h: what a crash test child tells its parent over the ack pipe, in
// fixed 40-byte records.
//
//   WireRecord r = WireRecord::Sent(id, cmd, AckLevel::kDurable, /*retry=*/false);   // before submit
//   WireRecord a = WireRecord::Ack(id, outcome, AckLevel::kDurable);                 // after the outcome
//   bank::Command cmd = r.command();                                                   // parent side
//
// The child writes a "sent" record before it submits a command and an "ack" record only after
// the outcome arrived, so whatever the parent reads is true: a command it never saw sent was
// never submitted; an ack it reads was delivered. Records go out in writes of at most
// kMaxRecordsPerWrite records (<= PIPE_BUF bytes), which a pipe keeps whole and unmixed even
// with several writer threads and a SIGKILL at any moment.
// Thread safety: plain values.
#pragma once

#include <climits>
#include <cstdint>
#include <type_traits>
#include <variant>

#include "rill/engine/ack_level.h"
#include "rill/engine/command_outcome.h"
#include "rill/examples/bank/bank_domain.h"

namespace rill::tools::crashtest {

enum class WireKind : std::uint8_t {
  kSent = 1,   // id, command: submitted next (a retry sets kFlagRetry)
  kAck = 2,    // id, outcome: delivered at `level`
  kReady = 3,  // the engine opened: a = committed position, b = replayed events, c = durable position
};

inline constexpr std::uint8_t kFlagRetry = 1;      // kSent: a command sent again after a crash
inline constexpr std::uint8_t kFlagDuplicate = 2;  // kAck: the engine answered with the original outcome

struct WireRecord {
  WireKind kind = WireKind::kSent;
  engine::AckLevel level = engine::AckLevel::kJournaled;
  engine::RejectCode code = engine::RejectCode::kNone;  // kAck: kNone = accepted
  std::uint8_t flags = 0;
  std::uint8_t command_kind = 0;  // kSent: the bank::Command variant index
  std::uint8_t unused[3] = {};
  std::uint64_t id = 0;
  // kSent: the command's fields (account or from, to or owner, amount or currency).
  // kAck: position, stream version, event count. kReady: see WireKind.
  std::uint64_t a = 0, b = 0;
  std::int64_t c = 0;

  static WireRecord Sent(std::uint64_t id, const examples::bank::Command& cmd, engine::AckLevel level, bool retry) {
    namespace bk = examples::bank;
    WireRecord r;
    r.kind = WireKind::kSent;
    r.level = level;
    r.flags = retry ? kFlagRetry : 0;
    r.command_kind = static_cast<std::uint8_t>(cmd.index());
    r.id = id;
    if (const auto* o = std::get_if<bk::OpenAccount>(&cmd)) {
      r.a = o->account, r.b = o->owner, r.c = o->currency;
    } else if (const auto* d = std::get_if<bk::Deposit>(&cmd)) {
      r.a = d->account, r.c = d->amount;
    } else if (const auto* w = std::get_if<bk::Withdraw>(&cmd)) {
      r.a = w->account, r.c = w->amount;
    } else if (const auto* t = std::get_if<bk::Transfer>(&cmd)) {
      r.a = t->from, r.b = t->to, r.c = t->amount;
    } else if (const auto* x = std::get_if<bk::CloseAccount>(&cmd)) {
      r.a = x->account, r.c = static_cast<std::int64_t>(x->reason);
    }
    return r;
  }

  static WireRecord Ack(std::uint64_t id, const engine::CommandOutcome& o, engine::AckLevel level) {
    WireRecord r;
    r.kind = WireKind::kAck;
    r.level = level;
    r.code = o.code();
    r.flags = o.duplicate() ? kFlagDuplicate : 0;
    r.id = id;
    if (o.accepted()) {
      r.a = o.position();
      r.b = o.stream_version();
      r.c = o.event_count();
    }
    return r;
  }

  // kSent: the command back. An unknown kind gives a CloseAccount of account 0, which the
  // parent's checks then reject as a command no child could have sent.
  examples::bank::Command command() const {
    namespace bk = examples::bank;
    switch (command_kind) {
      case 0:
        return bk::OpenAccount{a, b, static_cast<std::uint16_t>(c)};
      case 1:
        return bk::Deposit{a, c};
      case 2:
        return bk::Withdraw{a, c};
      case 3:
        return bk::Transfer{a, b, c};
      case 4:
        return bk::CloseAccount{a, static_cast<bk::CloseReason>(c)};
    }
    return bk::CloseAccount{};
  }
};
static_assert(sizeof(WireRecord) == 40 && std::is_trivially_copyable_v<WireRecord>);

// Most records one write() may carry and still be atomic on a pipe.
inline constexpr std::size_t kMaxRecordsPerWrite = PIPE_BUF / sizeof(WireRecord);
static_assert(kMaxRecordsPerWrite >= 32, "a producer window must fit one atomic pipe write");

}  // namespace rill::tools::crashtest
