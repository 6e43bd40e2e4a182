// rill/bench/e2e/state_check.h: the workload's own checks (tools/workload.h hooks) on a state
// after a run, the same for the engine's driver and the mutex baseline: the conserved tally
// (Total of the state == the sum of Tally over every accepted command, setup included) and the
// invariants. A workload without either hook gets no check here, and the detail says so.
//
//   const std::int64_t accepted_tally = ...;          // summed as the outcomes came in
//   StateCheck s = CheckWorkloadState(workload, tools::StateView<D>(*stopped_engine), accepted_tally);
//   if (!s.ok) fail(s.detail);                         // "money: accepted commands add 5, ..."
//
// Thread safety: reads the state; call it once the state's owner stopped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "rill/tools/workload.h"

namespace rill::bench {

struct StateCheck {
  bool ok = true;
  bool ran = false;    // at least one hook was there to check
  std::string detail;  // each check that ran and what it compared, "; "-separated

  void Add(bool passed, const std::string& what) {
    ran = true;
    ok = ok && passed;
    if (!detail.empty()) detail += "; ";
    detail += what;
  }
};

template <tools::Workload W>
StateCheck CheckWorkloadState(const W& workload, const tools::StateView<typename W::Domain>& state,
                              std::int64_t accepted_tally) {
  StateCheck check;
  if constexpr (tools::kHasTally<W>) {
    const std::int64_t total = workload.Total(state);
    // Appends, not a chain of `+`: GCC 12 -O3 warns (-Warray-bounds) on the chain.
    std::string what(tools::TallyName<W>());
    what += ": accepted commands add ";
    what += std::to_string(accepted_tally);
    what += ", the aggregates hold ";
    what += std::to_string(total);
    check.Add(total == accepted_tally, what);
  }
  if constexpr (tools::kHasInvariants<W>) {
    const std::optional<std::string> violation = workload.CheckInvariants(state);
    check.Add(!violation, violation ? "invariant broken: " + *violation : std::string("invariants hold"));
  }
  return check;
}

}  // namespace rill::bench
