// rill/engine/command_slot.h: one slot of Engine<D>'s command ring: what a submitter writes
// (the command, its meta, where its outcome goes, at which ack level) and the writer reads.
// Its own file because both sides of the ring use it: the submitters (engine.h) and the writer
// loop (engine_writer_loop.h).
//
//   using Ring = rill::engine::MpscRing<rill::engine::CommandSlot<BankDomain>>;   // as Engine<D>
//
// Thread safety: a slot is written by the submitter (or the syncer, for a tick) that claimed
// it, and read by the writer after the ring's publish; the ring orders the two.
#pragma once

#include <cstdint>

#include "rill/engine/ack_level.h"
#include "rill/engine/applied_view.h"
#include "rill/engine/completion.h"
#include "rill/engine/domain.h"

namespace rill::engine {

// One ring slot: 16 (meta) + the command + 16 (target) + 32 bytes. Bank: 96 bytes.
template <typename D>
struct CommandSlot {
  CommandMeta meta;
  typename D::Command command{};
  CompletionTarget target;
  // The ring sequence the slot was written for: at shutdown, slots with a sequence the writer
  // never reached are the commands to answer with kShutdown.
  std::int64_t sequence = -1;
  AppliedView* view = nullptr;  // kApplied: the read model to wait for
  // steady_clock nanoseconds at submit when the engine keeps counters (the acknowledgement
  // latency histograms, engine_counters.h); 0 otherwise.
  std::int64_t submitted_ns = 0;
  AckLevel ack = AckLevel::kJournaled;
  // A wake-up from the journal's syncer (durable position moved), not a command; the durable
  // position it reports travels in meta.expected_version.
  bool tick = false;
};

}  // namespace rill::engine
