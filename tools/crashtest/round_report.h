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

struct Round {
  int number = 0;
  bool from_spawn = false;  // killed counting from the spawn (maybe during recovery)
  double ready_ms = 0, killed_ms = 0;
  bool ready = false;
  std::uint64_t child_recovered = 0;  // the child's committed position after its Open
  std::uint64_t sent = 0, retried = 0, acked = 0, durable = 0, rejected = 0, duplicates = 0;
  VerifyReport verify;
  PowerLossResult power;
  DamageResult damage;  // one round in four: a bit flipped below the durable position, on a copy
  std::optional<std::string> violation;
  std::string log;
};

void PrintRound(std::FILE* out, const Round& r, journal::Durability durability);
void PrintJson(std::FILE* out, const CrashtestOptions& o, std::uint64_t seed, const std::vector<Round>& rounds,
               const std::string& journal, double seconds, bool ok);

}  // namespace rill::tools::crashtest
