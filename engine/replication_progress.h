// rill/engine/replication_progress.h: what the engine needs to know of a journal replicator
// (rill::replication::Replicator implements it) to acknowledge at AckLevel::kReplicated.
//
//   auto replicator = rill::replication::Replicator::Start(options);        // ships the journal
//   EngineOptions o; o.replication = replicator->get();                     // not owned
//   engine.execute(cmd, meta, rill::engine::AckLevel::kReplicated);         // after a quorum stored it
//
// The engine stays free of any transport: it reads one position, and is woken when it moves.
// Thread safety: replicated_position() and final_error() from any thread; SetWake from the
// engine's owner (at start and at stop); the replicator calls the wake function from its threads.
#pragma once

#include <cstdint>
#include <functional>

#include "rill/base/status.h"

namespace rill::engine {

class ReplicationProgress {
 public:
  virtual ~ReplicationProgress() = default;
  // Every journal position <= this one is stored by a quorum of the replicated log (0: none).
  // Never decreases. Acquire: what it covers is final.
  virtual std::uint64_t replicated_position() const noexcept = 0;
  // The engine registers its wake-up at start; the replicator calls it after each advance of
  // replicated_position() and once when final_error() becomes non-OK. The engine detaches with
  // SetWake({}) in Stop: once SetWake returns, the previous function is never called again
  // (the replicator calls it under a mutex that SetWake also takes).
  virtual void SetWake(std::function<void()> wake) = 0;
  // OK while replicating or retrying (a transient outage is not final). Non-OK once it stopped
  // for good: fenced by another writer, or halted on a mismatch. The engine then fails every
  // command still waiting for kReplicated with this reason.
  virtual Status final_error() const = 0;
  // The writer thread, right after each commit: there are new batches to ship. Must be cheap
  // (the writer's path): the replicator wakes its thread only when it sleeps waiting for acks.
  // The default does nothing (a replicator then finds new batches when it next looks).
  virtual void OnCommitted() noexcept {}
};

}  // namespace rill::engine
