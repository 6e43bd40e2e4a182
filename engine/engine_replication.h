// rill/engine/engine_replication.h: Engine<D>'s replicated acknowledgements (AckLevel::
// kReplicated, kReplicatedDurable) and the replication lag bound. The replicator
// (EngineOptions::replication, a ReplicationProgress) ships the journal on its own thread; the
// engine only reads its replicated position and is woken when it moves:
//   - the writer queues a committed kReplicated command (replicated_, in commit order) and
//     delivers it once replicated_position() covers its last event (CheckReplicated, after
//     each batch while the queue is not empty);
//   - the replicator calls OnReplicated after each advance: when the writer waits for it, a
//     tick slot on the ring wakes the writer (the same tick the syncer uses for durability);
//   - the replicator's final error (fenced by another writer, a halted mismatch) fails what
//     waits with kReplicationUnavailable, and from then on every command: this writer no
//     longer writes (replication/README.md, "Takeover");
//   - RefreshReplicationGate, once per batch: past max_replication_lag positions not yet
//     replicated, commands are answered kReplicationUnavailable instead of growing the tail.
//
// Include engine.h, not this file (see engine_writer_loop.h).
// Thread safety: the writer thread only, except OnReplicated (the replicator's thread).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "rill/engine/engine.h"

namespace rill::engine {

// The replicator's thread, after its replicated position advanced (or it stopped for good).
template <typename D>
inline void Engine<D>::OnReplicated() {
  // Seq_cst fence: a Dekker pair with CheckReplicated's fence. The replicator stored its
  // position before calling us; the writer stores replicated_waiting_ before loading that
  // position: either it sees the new position, or we see that it waits and tick.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (!replicated_waiting_.load(std::memory_order_relaxed)) return;
  PublishTick(0);  // no durable position: it only wakes the writer, whose loop calls CheckReplicated
}

template <typename D>
inline void Engine<D>::CheckReplicated() {
  // Relaxed store + seq_cst fence: see OnReplicated.
  replicated_waiting_.store(true, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  const std::int64_t now = counters_ ? SteadyNs() : 0;
  replicated_.PopUpTo(replication_->replicated_position(), [this, now](PendingAck& p) {
    p.target.Deliver(p.outcome);
    if (counters_) counters_->RecordAck(p.ack, p.submitted_ns, now);
  });
  if (!replicated_.empty() && !replication_failed_) {
    // The replicator publishes its final error before its last wake-up, so the fence above
    // makes it visible here when that wake-up found us not waiting yet.
    if (Status s = replication_->final_error(); !s.ok()) {
      replication_failed_ = true;
      replication_failure_ = std::move(s);
      Log("replication stopped: " + replication_failure_.ToString() +
          "; rejecting commands with kReplicationUnavailable; restart this process (as a standby if "
          "another writer took over)");
    }
  }
  if (replication_failed_ && !replicated_.empty()) {
    RejectPendingReplicated(CommandOutcome::Rejected(
        Rejection::Format(RejectCode::kReplicationUnavailable, 0, "journaled at this writer, not replicated: %s",
                          std::string(replication_failure_.message()).c_str())));
  }
  // Relaxed: only the writer stores it; a stale true costs the replicator one useless tick.
  if (replicated_.empty()) replicated_waiting_.store(false, std::memory_order_relaxed);
}

// Once per writer batch: refuse new commands while the replicator is too far behind, or for
// good once it failed.
template <typename D>
inline void Engine<D>::RefreshReplicationGate() {
  if (!replication_failed_) {
    if (Status s = replication_->final_error(); !s.ok()) {
      replication_failed_ = true;
      replication_failure_ = std::move(s);
      Log("replication stopped: " + replication_failure_.ToString() +
          "; rejecting commands with kReplicationUnavailable");
    }
  }
  const std::uint64_t bound = options_.max_replication_lag;
  replication_refusing_ =
      replication_failed_ || (bound != 0 && next_position_ >= replication_->replicated_position() + bound);
}

template <typename D>
inline void Engine<D>::RejectPendingReplicated(const CommandOutcome& outcome) {
  replicated_.PopAll([&outcome](PendingAck& p) { p.target.Deliver(outcome); });
}

template <typename D>
inline CommandOutcome Engine<D>::ReplicationUnavailable() const {
  if (replication_failed_)
    return CommandOutcome::Rejected(Rejection::Format(RejectCode::kReplicationUnavailable, 0, "this writer stopped: %s",
                                                      std::string(replication_failure_.message()).c_str()));
  return CommandOutcome::Rejected(Rejection::Format(
      RejectCode::kReplicationUnavailable, 0, "%llu positions wait for replication (max_replication_lag %llu)",
      static_cast<unsigned long long>(next_position_ - replication_->replicated_position()),
      static_cast<unsigned long long>(options_.max_replication_lag)));
}

// At Stop: the replicator runs on (it follows the journal, not the engine), so what waits
// may still be replicated; wait a bounded time, then answer the rest honestly.
template <typename D>
inline void Engine<D>::FinishReplicatedAtShutdown() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(options_.replication_stop_wait_ns);
  for (;;) {
    replicated_.PopUpTo(replication_->replicated_position(), [](PendingAck& p) { p.target.Deliver(p.outcome); });
    if (replicated_.empty() || !replication_->final_error().ok() || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // a cold path: once, at Stop
  }
  RejectPendingReplicated(CommandOutcome::Rejected(Rejection(
      RejectCode::kReplicationUnavailable, 0, "journaled, not confirmed replicated before the engine stopped")));
}

}  // namespace rill::engine
