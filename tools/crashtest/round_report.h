// rill/tools/crashtest/round_report.h: what one crash test round did and found, and how the
// run prints it (a line per round, or one JSON object).
//
//   PrintRound(out, round, durability);               // "round  3: killed 120 ms after ready: ..."
//   PrintJson(out, options, seed, rounds, journal, seconds, ok);
//
// Thread safety: plain values and functions.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "rill/base/json_escape.h"
#include "rill/journal/options.h"
#include "rill/tools/crashtest/crashtest_command.h"
#include "rill/tools/crashtest/damage_round.h"
#include "rill/tools/crashtest/power_loss.h"
#include "rill/tools/crashtest/verifier.h"

namespace rill::tools::crashtest {

struct PowerLossResult {
  bool tried = false;
  std::string skipped;  // why there was no simulation this round
  PowerLossCut cut;
  VerifyReport report;
};

// A replicated run's round (replicated_rounds.h): how its writer started, what the stream held.
struct ReplicatedRound {
  bool on = false;
  std::string kind;  // "first", "in place", "takeover"
  char node = 'a';   // the writer's node
  std::uint64_t epoch = 0;
  std::uint64_t continued_after = 0;  // the writer's committed position when it opened
  std::uint64_t replayed = 0;         // events its engine replayed at open (hot standby: only the rest)
  double ready_after_kill_ms = -1;    // takeover: the previous writer's kill -> this one's engine open
  double takeover_ms = -1;            // takeover: the previous writer's kill -> this one's first accepted ack
  std::uint64_t forgotten = 0;        // takeover: unreplicated acks of the old writer past continued_after
  std::uint64_t stream_end = 0, stream_messages = 0;
  std::uint64_t stream_compared = 0;     // stream records compared with this writer's journal
  std::uint64_t replicated_checked = 0;  // replicated acks found on the stream
  std::uint64_t aside_checked = 0;       // moved-aside records (all so far) found absent from the stream
  // The standby started in this round (the next round's writer): its reconcile.
  char standby_node = 0;
  std::uint64_t moved_first = 0, moved_last = 0;  // positions it moved aside (0, 0: none)
  std::string aside_directory;
};

struct Round {
  int number = 0;
  bool from_spawn = false;  // killed counting from the spawn (maybe during recovery)
  double ready_ms = 0, killed_ms = 0;
  bool ready = false;
  std::uint64_t child_recovered = 0;  // the child's committed position after its Open
  std::uint64_t sent = 0, retried = 0, acked = 0, durable = 0, rejected = 0, duplicates = 0;
  std::uint64_t replicated = 0;  // accepted at AckLevel::kReplicated(+durable)
  VerifyReport verify;
  PowerLossResult power;
  DamageResult damage;  // one round in four: a bit flipped below the durable position, on a copy
  std::optional<std::string> violation;
  std::string log;
  ReplicatedRound rep;
};

void PrintRound(std::FILE* out, const Round& r, journal::Durability durability);
// summary_json: extra top-level members, e.g. a replicated run's "replicated":{...} ("" none).
void PrintJson(std::FILE* out, const CrashtestOptions& o, std::uint64_t seed, const std::vector<Round>& rounds,
               const std::string& journal, double seconds, bool ok, const std::string& summary_json = "");
using rill::JsonEscape;  // base/json_escape.h

}  // namespace rill::tools::crashtest
