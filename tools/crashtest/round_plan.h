// rill/tools/crashtest/round_plan.h: what a crash test child does before its producers run,
// handed over in a file (the child's --retry-file).
//
//   RoundPlan plan = ledger.PlanRound(round - 1, rng, 64, 8);     // parent
//   RILL_RETURN_IF_ERROR(WriteRoundPlan(path, plan));
//   Result<RoundPlan> p = ReadRoundPlan(path);                    // child
//
// Each producer's command stream runs across all rounds, as one client session that goes on
// after every crash: producer p of this child starts at its command start[p] (the previous
// child had sent up to start[p] - 1), so stateful producers (orders placed, then shipped) keep
// their state and every command id is used once. The retries are commands sent before (same
// ids, same ack level), resent first, in order.
//
//   u64 magic "RILLPLAN" | u32 producers | u32 reserved | u64 retries |
//   u64 start[producers] | WireRecord retry[retries]     (little-endian, this host's layout)
// Thread safety: plain values and functions over files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rill/base/result.h"
#include "rill/base/status.h"
#include "rill/tools/crashtest/wire.h"

namespace rill::tools::crashtest {

struct RoundPlan {
  std::vector<std::uint64_t> start;  // per producer: the first k it draws and sends
  std::vector<WireRecord> retries;   // kSent records, kFlagRetry set
};

Status WriteRoundPlan(const std::string& path, const RoundPlan& plan);
// Corruption when the file is not a whole plan.
Result<RoundPlan> ReadRoundPlan(const std::string& path);

}  // namespace rill::tools::crashtest
