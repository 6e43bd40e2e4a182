// rill/tools/crashtest/child_io.h: the domain-independent parts of the crash test's child
// (child.h): its options, the engine and read-model settings it runs with, the pipe writes,
// and the pacing of its producers.
//
//   if (!CheckChildOptions(o, err)) return 2;
//   auto engine = Engine<D>::Open(ChildEngineOptions(o));
//   Report(o.ack_fd, records, n);       // one atomic pipe write
//
// Thread safety: Report and Pacer may be used from several producer threads (a Pacer each).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdio>

#include "rill/codecs/schema_registry.h"
#include "rill/engine/engine_options.h"
#include "rill/projections/projector_thread.h"
#include "rill/tools/crashtest/crashtest_command.h"
#include "rill/tools/crashtest/wire.h"

namespace rill::tools::crashtest {

// Commands in flight per producer: one pipe write before they are submitted, one after their
// outcomes arrived.
inline constexpr std::size_t kWindow = 32;
static_assert(kWindow <= kMaxRecordsPerWrite);

// Exit codes of a child that returns (it never stops by itself otherwise).
inline constexpr int kChildBadOptions = 2, kChildCannotOpen = 3, kChildPipeFailed = 4;

// Prints why and returns false for options the parent would never pass.
bool CheckChildOptions(const CrashtestOptions& o, std::FILE* err);
// The child's SIGKILL when the parent dies (a crashed crash test leaves no workload running).
void DieWithParent();

// One write() per call: whole records, <= PIPE_BUF bytes, so never split or interleaved.
// A failed write means the parent is gone: the child exits (kChildPipeFailed).
void Report(int fd, const WireRecord* records, std::size_t n);

engine::EngineOptions ChildEngineOptions(const CrashtestOptions& o);
// The read model's projector: checkpoints often (rounds last a few hundred milliseconds) into
// CheckpointDirectory(o.journal), which it creates.
projections::ProjectorThreadOptions ChildProjectorOptions(const CrashtestOptions& o,
                                                          const codecs::SchemaRegistry& registry);

// A producer's share of --rate, a window at a time (sleeps, never spins).
class Pacer {
 public:
  explicit Pacer(const CrashtestOptions& o);
  void Wait();

 private:
  std::chrono::nanoseconds period_;
  std::chrono::steady_clock::time_point next_;
};

}  // namespace rill::tools::crashtest
