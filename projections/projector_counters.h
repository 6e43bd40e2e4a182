// rill/projections/projector_counters.h: what a projector thread publishes in the counters file
// (observability/) for each of its read models: applied position, lag behind the journal in
// events and in time, events applied, state, parked and skipped events. Published by the
// projector thread at each batch end and when it goes idle: a few release stores, no lock.
// Thread safety: Register from the controlling thread before Start; Publish from the projector
// thread only.
#pragma once

#include <cstdint>
#include <string>

#include "rill/base/result.h"
#include "rill/observability/counters_file.h"

namespace rill::projections {

// rill_projector_state values.
enum class ProjectorState : std::uint64_t { kRunning = 0, kHalted = 1, kRebuilding = 2 };

struct ProjectorSample {
  std::uint64_t applied_position = 0;
  std::uint64_t committed_position = 0;   // the journal's, as the thread last saw it
  std::uint64_t events = 0;               // applied since the thread started
  std::int64_t applied_timestamp_ns = 0;  // CLOCK_REALTIME batch time of the last applied event
  ProjectorState state = ProjectorState::kRunning;
  std::uint64_t parked = 0;
  std::uint64_t skipped = 0;
};

class ProjectorCounters {
 public:
  // Registers the metrics of the read model `projector` (label projector="<name>").
  static Result<ProjectorCounters> Register(observability::CountersFile& file, const std::string& projector);
  void Publish(const ProjectorSample& s) noexcept;

 private:
  observability::Gauge position_, lag_, applied_ts_, state_, parked_;
  observability::Counter events_, skipped_;
};

}  // namespace rill::projections
