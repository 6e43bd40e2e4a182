// rill/bench/e2e/driver_runtime.h: the parts of the end-to-end driver (bench_driver_impl.h)
// that do not depend on the domain, compiled once into rill::bench_e2e: the state the writer,
// the producers and projector 0 share, one outstanding command's slot, the engine's and the
// projectors' options, and the report's bookkeeping. Internal to the driver.
//
//   driver::RunState run;                                     // one per run
//   engine::EngineOptions eo = driver::EngineOptionsFor(config, &run);   // on_batch records stages
//   driver::InFlight slot;                                    // the completion target of one command
//   slot.Wait();                                              // spin, yield, then futex
//
// Thread safety: see each type; RunState's fields name the thread that owns them.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "rill/base/cache_line.h"
#include "rill/base/status.h"
#include "rill/bench/e2e/bench_config.h"
#include "rill/bench/e2e/bench_driver.h"
#include "rill/bench/e2e/latency_histogram.h"
#include "rill/engine/applied_view.h"
#include "rill/engine/command_outcome.h"
#include "rill/engine/engine_options.h"
#include "rill/projections/projector.h"
#include "rill/projections/projector_thread.h"

namespace rill::bench::driver {

inline std::int64_t NowNs() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A per-batch mark the writer leaves for projector 0: when its last position is applied, the
// batch's commands have been projected. Single producer (writer), single consumer (projector 0).
struct BatchMark {
  std::uint64_t end_position = 0;
  std::int64_t committed_ns = 0;
  std::uint32_t commands = 0;
};

class MarkQueue {
 public:
  static constexpr std::size_t kCapacity = std::size_t{1} << 16;
  MarkQueue() : marks_(kCapacity) {}
  // Writer thread. False when full (the mark is dropped and counted).
  bool Push(const BatchMark& m) noexcept {
    const std::uint64_t tail = tail_.load(std::memory_order_relaxed);
    // Acquire: the consumer is done reading the slot it released.
    if (tail - head_.load(std::memory_order_acquire) == kCapacity) return false;
    marks_[tail % kCapacity] = m;
    tail_.store(tail + 1, std::memory_order_release);  // release: the mark is written first
    return true;
  }
  // Projector 0's thread: fn(mark) for each mark with end_position <= position.
  template <typename Fn>
  void PopUpTo(std::uint64_t position, Fn&& fn) noexcept {
    std::uint64_t head = head_.load(std::memory_order_relaxed);
    const std::uint64_t tail = tail_.load(std::memory_order_acquire);  // pairs with Push's release
    while (head != tail && marks_[head % kCapacity].end_position <= position) {
      fn(marks_[head % kCapacity]);
      ++head;
    }
    head_.store(head, std::memory_order_release);  // release: slots read before reuse
  }

 private:
  std::vector<BatchMark> marks_;
  alignas(kFalseSharingRange) std::atomic<std::uint64_t> head_{0};
  alignas(kFalseSharingRange) std::atomic<std::uint64_t> tail_{0};
};

// Writer-thread state (on_batch and the callbacks it precedes); read after Engine::Stop.
struct WriterSide {
  bool measuring = false;         // copy of RunState::measuring, refreshed per batch
  std::int64_t dequeued_ns = 0;   // the current batch's
  bool record_ring_wait = false;  // acks delivered right after on_batch on this thread
  int pin_cpu = -1;
  bool pin_tried = false;
  Status pin_status;
  std::uint64_t batches = 0, batch_commands = 0;
  LatencyHistogram ring_wait, apply, commit;
};

struct RunState {
  std::atomic<bool> measuring{false};  // relaxed: gates statistics only
  std::atomic<bool> stop{false};       // relaxed: producers poll it between rounds
  std::atomic<bool> go{false};         // release/acquire: start barrier after setup
  std::atomic<std::uint64_t> duplicates{0};
  std::atomic<std::uint64_t> marks_dropped{0};
  // The engine, for on_batch's committed position: set (release) once it is open; `committed`
  // reads it through the engine's type, which only the template knows.
  std::atomic<const void*> engine{nullptr};
  std::uint64_t (*committed)(const void*) = nullptr;
  bool stamp_done = false;  // open loop: the callback stamps the outcome time
  WriterSide writer;
  MarkQueue marks;
  LatencyHistogram projection;  // projector 0's thread only
};

// One outstanding command. The callback writes the outcome fields, then publishes `state`.
struct alignas(kFalseSharingRange) InFlight {
  static constexpr std::uint32_t kPending = 0, kSleeping = 1, kDone = 2;
  std::atomic<std::uint32_t> state{kDone};
  bool accepted = false;
  engine::RejectCode code = engine::RejectCode::kNone;
  std::int64_t sent_ns = 0;    // latency origin: submit time (closed) or intended time (open)
  std::int64_t submit_ns = 0;  // when it entered the ring (ring wait)
  std::int64_t done_ns = 0;    // open loop: stamped by the callback
  std::int64_t tally = 0;      // the workload's Tally of the command (0 without the hook)
  RunState* run = nullptr;

  // The engine's completion callback (engine::CompletionTarget); runs on the writer or syncer.
  static void OnOutcome(void* context, const engine::CommandOutcome& o) noexcept;
  bool done() const noexcept { return state.load(std::memory_order_acquire) == kDone; }  // pairs with the exchange
  // Spins briefly, yields, then sleeps on the futex (never a long busy-spin: cores are few).
  void Wait() noexcept;
};

struct ProducerResult {
  std::uint64_t submitted = 0, completed = 0, accepted = 0, rejected = 0, failed = 0;
  std::int64_t tally = 0;  // sum of the accepted commands' Tally
  LatencyHistogram latency;
  Status pin_status;
  std::int64_t finished_ns = 0;
};

// Counts setup outcomes; waited on by the main thread (cold).
struct SetupCounter {
  std::atomic<std::uint64_t> done{0}, failed{0};
  static void OnOutcome(void* context, const engine::CommandOutcome& o) noexcept;
  // Sleeps until `n` outcomes arrived.
  void WaitFor(std::uint64_t n) const;
};

// The CPU of thread `slot` (0 the writer, then producers, then projectors); -1: unpinned.
int CpuFor(const BenchConfig& c, int slot);

// InvalidArgument when the configuration cannot run or config.dir is missing or not empty.
Status CheckRun(const BenchConfig& c);
// Creates config.dir (and its checkpoints/ when there are projectors).
Status CreateDirectories(const BenchConfig& c);
// Fills the report's configuration fields and the run's writer-side switches.
void StartReport(const BenchConfig& c, EngineBenchReport* report, RunState* run);

// The engine's options: the journal in config.dir, the ring, and on_batch recording the
// stages (and projection marks when there are projectors) into `run`.
engine::EngineOptions EngineOptionsFor(const BenchConfig& c, std::size_t expected_aggregates, RunState* run);
// Projector thread i: pinned after the producers, checkpoints in <dir>/checkpoints, warnings
// into the report's notes.
projections::ProjectorThreadOptions ProjectorThreadOptionsFor(const BenchConfig& c, int i,
                                                              const codecs::SchemaRegistry* registry,
                                                              EngineBenchReport* report);
// Projector 0's hooks: it feeds `view` (--ack applied) and pops the projection marks.
projections::ProjectorOptions FirstProjectorHooks(engine::AppliedView* view, RunState* run);

// Adds the producers' counts and latency into the report; returns the sum of their tallies.
// Notes about pinning go to `notes`.
std::int64_t MergeProducers(std::span<const ProducerResult* const> producers, EngineBenchReport* report,
                            std::vector<std::string>* notes);
// After Engine::Stop: the writer's figures, duplicates, acknowledged_once, threads and notes.
void FinishReport(RunState& run, EngineBenchReport* report);

}  // namespace rill::bench::driver
