// rill/engine/ack_level.h: how much must be true before a submitter hears back.
//
//   engine.execute(cmd, meta, rill::engine::AckLevel::kDurable);   // returns once synced
//   engine.execute(cmd, meta, rill::engine::AckLevel::kAccepted);  // decided, NOT yet journaled
//   engine.execute(cmd, meta, balances_view);                      // applied(view): the read model has it
//   engine.execute(cmd, meta, rill::engine::AckLevel::kReplicated); // a quorum of the replicated log has it
//
// The engine never acknowledges more than is true: an outcome delivered at kJournaled means
// the command's events are committed in the journal (readers see them; a killed process keeps
// them); at kDurable, that the journal has synced them per its durability policy. Rejections
// are delivered as soon as they are decided, whatever the level: they changed nothing.
// Thread safety: a plain value.
#pragma once

#include <cstdint>

namespace rill::engine {

enum class AckLevel : std::uint8_t {
  // Decided and applied in memory, before the batch is committed. NOT journaled: if the journal
  // then fails, or the process dies before the commit, the command is lost although it was
  // reported accepted. For callers that tolerate that in exchange for the lowest latency.
  kAccepted = 0,
  // The batch holding the command's events is committed to the journal (the default).
  kJournaled = 1,
  // The journal reports the command's last position durable: under Durability::kNone that is
  // the commit (journal/options.h: durable == committed); under kBatch / kInterval, after the
  // syncer's sync.
  kDurable = 2,
  // Journaled, and the read model behind an AppliedView (engine/applied_view.h) has applied the
  // command's last event: a query on that model issued after the outcome sees the command. Not
  // a sync: durable only under Durability::kNone's definition. Submit with the overloads that
  // take the view (engine.execute(cmd, meta, view)); the outcome is kViewUnavailable (events
  // journaled, model stopped) if the view halts or closes first.
  kApplied = 3,
  // Journaled, and a quorum of the replicated log (NATS JetStream, replication/) has stored the
  // command's last event: it survives the loss of this machine (replication/README.md says
  // exactly what each level keeps). Needs EngineOptions::replication; the outcome is
  // kReplicationUnavailable if this writer is fenced, or the replicator halts, first.
  kReplicated = 4,
  // kReplicated and kDurable both: also kept when the writer's machine loses power and the
  // log's quorum loses its page cache at once.
  kReplicatedDurable = 5,
};

constexpr const char* AckLevelName(AckLevel level) noexcept {
  switch (level) {
    case AckLevel::kAccepted:
      return "accepted";
    case AckLevel::kJournaled:
      return "journaled";
    case AckLevel::kDurable:
      return "durable";
    case AckLevel::kApplied:
      return "applied";
    case AckLevel::kReplicated:
      return "replicated";
    case AckLevel::kReplicatedDurable:
      return "replicated+durable";
  }
  return "unknown";
}

}  // namespace rill::engine
