#include "rill/projections/projector_counters.h"

namespace rill::projections {

Result<ProjectorCounters> ProjectorCounters::Register(observability::CountersFile& file, const std::string& projector) {
  std::string labels = "projector=\"";
  for (const char c : projector) {  // Prometheus label values escape backslash and quote
    if (c == '\\' || c == '"') labels.push_back('\\');
    labels.push_back(c == '\n' ? ' ' : c);
  }
  labels.push_back('"');
  ProjectorCounters c;
  RILL_RETURN_IF_ERROR(observability::Assign(
      file.AddGauge("rill_projector_position", labels, "last journal position applied"), c.position_));
  RILL_RETURN_IF_ERROR(observability::Assign(
      file.AddGauge("rill_projector_lag_events", labels, "journal positions committed but not yet applied", "events"),
      c.lag_));
  RILL_RETURN_IF_ERROR(observability::Assign(file.AddGauge("rill_projector_applied_timestamp_seconds", labels,
                                                           "batch time of the last applied event", "seconds", 1e-9),
                                             c.applied_ts_));
  RILL_RETURN_IF_ERROR(observability::Assign(
      file.AddGauge("rill_projector_state", labels, "0 running, 1 halted, 2 rebuilding"), c.state_));
  RILL_RETURN_IF_ERROR(observability::Assign(
      file.AddGauge("rill_projector_parked_events", labels, "events parked by FailurePolicy::kPark", "events"),
      c.parked_));
  RILL_RETURN_IF_ERROR(
      observability::Assign(file.AddCounter("rill_projector_events_total", labels, "events applied"), c.events_));
  RILL_RETURN_IF_ERROR(observability::Assign(
      file.AddCounter("rill_projector_skipped_events_total", labels, "events skipped by FailurePolicy::kSkip"),
      c.skipped_));
  return c;
}

void ProjectorCounters::Publish(const ProjectorSample& s) noexcept {
  position_.Set(s.applied_position);
  lag_.Set(s.committed_position > s.applied_position ? s.committed_position - s.applied_position : 0);
  applied_ts_.Set(static_cast<std::uint64_t>(s.applied_timestamp_ns));
  state_.Set(static_cast<std::uint64_t>(s.state));
  parked_.Set(s.parked);
  events_.Set(s.events);
  skipped_.Set(s.skipped);
}

}  // namespace rill::projections
