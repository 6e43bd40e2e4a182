// rill/tools/crashtest/wire.h: what a crash test child tells its parent over the ack pipe, in
// fixed 32-byte records that name commands by id only.
//
//   WireRecord r = WireRecord::Sent(id, AckLevel::kDurable, /*retry=*/false);   // before submit
//   WireRecord a = WireRecord::Ack(id, outcome, AckLevel::kDurable);            // after the outcome
//
// No command travels: the workload is deterministic (tools/workload.h), so the parent
// regenerates the command of an id (crash_workload.h, CommandSource) the way the child
// generated it. The child writes a "sent" record before it submits a command and an "ack"
// record only after the outcome arrived, so whatever the parent reads is true: a command it
// never saw sent was never submitted; an ack it reads was delivered. Records go out in writes
// of at most kMaxRecordsPerWrite records (<= PIPE_BUF bytes), which a pipe keeps whole and
// unmixed even with several writer threads and a SIGKILL at any moment.
//
//    0      1       2      3       4             8             16            24            32
//   +------+-------+------+-------+-------------+-------------+-------------+-------------+
//   | kind | level | code | flags | event_count | id          | a           | b           |
//   +------+-------+------+-------+-------------+-------------+-------------+-------------+
//   kAck: a = position of the command's last event, b = primary stream's version after it.
//   kReady: a = committed position after recovery, b = events replayed.
//   kReconciled (replicated runs): id = kept through, a..b = positions moved aside.
// Thread safety: plain values.
#pragma once

#include <climits>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "rill/engine/ack_level.h"
#include "rill/engine/command_outcome.h"

namespace rill::tools::crashtest {

enum class WireKind : std::uint8_t {
  kSent = 1,   // id: submitted next (a retry sets kFlagRetry)
  kAck = 2,    // id, outcome: delivered at `level`
  kReady = 3,  // the engine opened (see the diagram for a, b); replicated: id = the writer's epoch
  // Replicated runs only (the child's replication Node):
  kReconciled = 4,  // the node reconciled its journal with the stream: id = kept through, a..b = moved
                    // aside (0, 0: nothing), kFlagInPlace when it restarts in place
  kStandby = 5,     // the node follows the stream as a standby (a = the journal's position then)
};

inline constexpr std::uint8_t kFlagRetry = 1;      // kSent: a command sent again after a crash
inline constexpr std::uint8_t kFlagDuplicate = 2;  // kAck: the engine answered with the original outcome
inline constexpr std::uint8_t kFlagInPlace = 4;    // kReconciled: restart in place
inline constexpr std::uint8_t kFlagTakeover = 8;   // kReady: the node became the writer from standby

struct WireRecord {
  WireKind kind = WireKind::kSent;
  engine::AckLevel level = engine::AckLevel::kJournaled;
  engine::RejectCode code = engine::RejectCode::kNone;  // kAck: kNone = accepted
  std::uint8_t flags = 0;
  std::uint32_t event_count = 0;  // kAck, accepted
  std::uint64_t id = 0;
  std::uint64_t a = 0, b = 0;

  static WireRecord Sent(std::uint64_t id, engine::AckLevel level, bool retry) noexcept {
    WireRecord r;
    r.kind = WireKind::kSent;
    r.level = level;
    r.flags = retry ? kFlagRetry : 0;
    r.id = id;
    return r;
  }

  static WireRecord Ack(std::uint64_t id, const engine::CommandOutcome& o, engine::AckLevel level) noexcept {
    WireRecord r;
    r.kind = WireKind::kAck;
    r.level = level;
    r.code = o.code();
    r.flags = o.duplicate() ? kFlagDuplicate : 0;
    r.id = id;
    if (o.accepted()) {
      r.event_count = o.event_count();
      r.a = o.position();
      r.b = o.stream_version();
    }
    return r;
  }

  static WireRecord Ready(std::uint64_t committed_position, std::uint64_t replayed_events, std::uint64_t epoch = 0,
                          bool takeover = false) noexcept {
    WireRecord r;
    r.kind = WireKind::kReady;
    r.flags = takeover ? kFlagTakeover : 0;
    r.id = epoch;
    r.a = committed_position;
    r.b = replayed_events;
    return r;
  }

  static WireRecord Reconciled(bool in_place, std::uint64_t kept_through, std::uint64_t first_moved,
                               std::uint64_t last_moved) noexcept {
    WireRecord r;
    r.kind = WireKind::kReconciled;
    r.flags = in_place ? kFlagInPlace : 0;
    r.id = kept_through;
    r.a = first_moved;
    r.b = last_moved;
    return r;
  }
};
static_assert(sizeof(WireRecord) == 32 && std::is_trivially_copyable_v<WireRecord>);
static_assert(offsetof(WireRecord, event_count) == 4 && offsetof(WireRecord, id) == 8);
static_assert(offsetof(WireRecord, a) == 16 && offsetof(WireRecord, b) == 24);

// Most records one write() may carry and still be atomic on a pipe.
inline constexpr std::size_t kMaxRecordsPerWrite = PIPE_BUF / sizeof(WireRecord);
static_assert(kMaxRecordsPerWrite >= 32, "a producer window must fit one atomic pipe write");

}  // namespace rill::tools::crashtest
