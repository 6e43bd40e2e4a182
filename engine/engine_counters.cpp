#include "rill/engine/engine_counters.h"

namespace rill::engine {

namespace {

// Prometheus label values for the rejection reasons (snake_case, stable: dashboards use them).
constexpr std::array<const char*, EngineCounters::kCodes> kReasonLabel = {
    "",  // kNone: not a rejection
    "rule_violated",
    "not_found",
    "already_exists",
    "concurrency_conflict",
    "duplicate_command_mismatch",
    "journal_unavailable",
    "shutdown",
    "invalid_command",
    "internal_error",
    "view_unavailable",
    "replication_unavailable",
};
static_assert(kReasonLabel.size() == EngineCounters::kCodes, "a label per RejectCode");

}  // namespace

Result<std::unique_ptr<EngineCounters>> EngineCounters::Create(const std::string& journal_directory,
                                                               std::string_view program, std::int64_t ring_capacity,
                                                               bool replication) {
  Result<std::unique_ptr<observability::CountersFile>> file =
      observability::CountersFile::Create(journal_directory, program);
  if (!file.ok()) return file.status();
  std::unique_ptr<EngineCounters> c(new EngineCounters(std::move(*file)));
  RILL_RETURN_IF_ERROR(c->Register(ring_capacity, replication));
  return c;
}

Status EngineCounters::Register(std::int64_t ring_capacity, bool replication) {
  observability::CountersFile& f = *file_;
  RILL_RETURN_IF_ERROR(observability::Assign(
      f.AddCounter("rill_commands_total", "result=\"accepted\"", "commands the writer decided, by result"),
      by_code_[0]));
  RILL_RETURN_IF_ERROR(observability::Assign(
      f.AddCounter("rill_commands_total", "result=\"rejected\"", "commands the writer decided, by result"), rejected_));
  for (std::size_t code = 1; code < kCodes; ++code) {
    std::string labels = "reason=\"";
    labels.append(kReasonLabel[code]).append("\"");
    RILL_RETURN_IF_ERROR(observability::Assign(
        f.AddCounter("rill_rejections_total", labels, "rejected commands, by reason"), by_code_[code]));
  }
  RILL_RETURN_IF_ERROR(observability::Assign(
      f.AddCounter("rill_batches_total", "", "writer batches (one journal commit each)"), batches_));
  RILL_RETURN_IF_ERROR(observability::Assign(
      f.AddHistogram("rill_batch_commands", "", "commands per writer batch", "", 1.0), batch_commands_));
  RILL_RETURN_IF_ERROR(observability::Assign(
      f.AddHistogram("rill_batch_duration_seconds", "", "a batch from the ring to its journal commit", "seconds", 1e-9),
      batch_duration_));
  observability::Gauge capacity;
  RILL_RETURN_IF_ERROR(
      observability::Assign(f.AddGauge("rill_ring_capacity", "", "command ring slots", "commands"), capacity));
  capacity.Set(static_cast<std::uint64_t>(ring_capacity));
  RILL_RETURN_IF_ERROR(observability::Assign(
      f.AddCounter("rill_ring_full_total", "", "submissions that found the ring full"), ring_full_));
  RILL_RETURN_IF_ERROR(observability::Assign(
      f.AddGauge("rill_journal_committed_position", "", "last committed journal position"), committed_));
  RILL_RETURN_IF_ERROR(observability::Assign(
      f.AddCounter("rill_journal_bytes_total", "", "bytes of committed journal batches"), journal_bytes_));
  RILL_RETURN_IF_ERROR(
      observability::Assign(f.AddCounter("rill_journal_syncs_total", "", "syncs the journal's syncer made"), syncs_));
  RILL_RETURN_IF_ERROR(observability::Assign(
      f.AddCounterScaled("rill_journal_sync_seconds_total", "", "time spent in those syncs", "seconds", 1e-9),
      sync_seconds_));
  RILL_RETURN_IF_ERROR(observability::Assign(
      f.AddGauge("rill_journal_durable_position", "", "last journal position known durable"), durable_));
  RILL_RETURN_IF_ERROR(observability::Assign(
      f.AddGauge("rill_acks_waiting", "level=\"durable\"", "acknowledgements waiting, by ack level"),
      durable_waiting_));
  RILL_RETURN_IF_ERROR(observability::Assign(
      f.AddGauge("rill_acks_waiting", "level=\"replicated\"", "acknowledgements waiting, by ack level"),
      replicated_waiting_));
  for (const AckLevel level : {AckLevel::kAccepted, AckLevel::kJournaled, AckLevel::kDurable, AckLevel::kReplicated,
                               AckLevel::kReplicatedDurable}) {
    std::string labels = "level=\"";
    labels.append(level == AckLevel::kReplicatedDurable ? "replicated_durable" : AckLevelName(level)).append("\"");
    RILL_RETURN_IF_ERROR(observability::Assign(
        f.AddHistogram("rill_ack_latency_seconds", labels, "from submit to the outcome, by ack level", "seconds", 1e-9),
        ack_latency_[static_cast<std::size_t>(level)]));
  }
  RILL_RETURN_IF_ERROR(observability::Assign(
      f.AddGauge("rill_engine_failed", "", "1 when the journal failed and commands are refused"), failed_));
  if (replication) {
    RILL_RETURN_IF_ERROR(observability::Assign(
        f.AddGauge("rill_replication_position", "", "last journal position the replicated log confirmed"),
        replicated_));
  }
  return Status::OK();
}

void EngineCounters::Publish(const BatchCounts& b) noexcept {
  std::uint64_t rejected = 0;
  for (std::size_t code = 0; code < kCodes; ++code) {
    if (outcomes_[code] == 0) continue;
    by_code_[code].Add(outcomes_[code]);
    if (code != 0) rejected += outcomes_[code];
    outcomes_[code] = 0;
  }
  if (rejected != 0) rejected_.Add(rejected);
  batches_.Add(1);
  batch_commands_.Record(b.commands);
  batch_duration_.Record(static_cast<std::uint64_t>(b.committed_ns - b.dequeued_ns));
  ring_full_.Set(b.ring_full);
  committed_.Set(b.committed_position);
  durable_.Set(b.durable_position);
  journal_bytes_.Set(b.journal_bytes);
  syncs_.Set(b.syncs);
  sync_seconds_.Set(b.sync_ns);
  durable_waiting_.Set(b.durable_waiting);
  replicated_waiting_.Set(b.replicated_waiting);
  failed_.Set(b.failed ? 1 : 0);
  replicated_.Set(b.replicated_position);
  file_->Heartbeat(b.now_ns);
}

Result<SnapshotCounters> SnapshotCounters::Register(observability::CountersFile& f) {
  SnapshotCounters c;
  RILL_RETURN_IF_ERROR(
      observability::Assign(f.AddCounter("rill_snapshots_total", "", "snapshots written"), c.snapshots_));
  RILL_RETURN_IF_ERROR(observability::Assign(
      f.AddGauge("rill_snapshot_position", "", "journal position of the newest snapshot"), c.position_));
  RILL_RETURN_IF_ERROR(observability::Assign(
      f.AddGauge("rill_snapshot_timestamp_seconds", "", "when the newest snapshot was written", "seconds", 1e-9),
      c.time_));
  RILL_RETURN_IF_ERROR(
      observability::Assign(f.AddGauge("rill_snapshot_write_seconds", "",
                                       "encode, write, fsync and rename of the newest snapshot", "seconds", 1e-9),
                            c.write_));
  RILL_RETURN_IF_ERROR(
      observability::Assign(f.AddGauge("rill_snapshot_bytes", "", "size of the newest snapshot", "bytes"), c.bytes_));
  RILL_RETURN_IF_ERROR(observability::Assign(
      f.AddGauge("rill_snapshot_shadow_position", "", "journal position the snapshotter's shadow copy has applied"),
      c.shadow_));
  return c;
}

void SnapshotCounters::Written(std::uint64_t position, std::int64_t realtime_ns, std::int64_t write_ns,
                               std::uint64_t bytes) noexcept {
  snapshots_.Add(1);
  position_.Set(position);
  time_.Set(static_cast<std::uint64_t>(realtime_ns));
  write_.Set(static_cast<std::uint64_t>(write_ns));
  bytes_.Set(bytes);
}

}  // namespace rill::engine
