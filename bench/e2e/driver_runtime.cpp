#include "rill/bench/e2e/driver_runtime.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <thread>

#include "rill/base/futex.h"
#include "rill/base/thread_affinity.h"
#include "rill/engine/wait_strategy.h"

namespace rill::bench::driver {

namespace fs = std::filesystem;
using engine::AckLevel;

void InFlight::OnOutcome(void* context, const engine::CommandOutcome& o) noexcept {
  auto* f = static_cast<InFlight*>(context);
  RunState& run = *f->run;
  f->accepted = o.accepted();
  f->code = o.rejection().code;
  if (run.stamp_done) f->done_ns = NowNs();
  // Only acknowledgements the writer delivers right after on_batch of their own batch.
  if (run.writer.record_ring_wait && f->accepted && run.writer.measuring)
    run.writer.ring_wait.Record(
        static_cast<std::uint64_t>(std::max<std::int64_t>(0, run.writer.dequeued_ns - f->submit_ns)));
  // Release: the fields above before the producer sees kDone. The producer may reuse the
  // slot right after, so only the word's address is touched below (as engine::Completion).
  const std::uint32_t prev = f->state.exchange(kDone, std::memory_order_release);
  if (prev == kDone) [[unlikely]] {
    run.duplicates.fetch_add(1, std::memory_order_relaxed);
  } else if (prev == kSleeping) {
    FutexWakeAll(f->state);
  }
}

void InFlight::Wait() noexcept {
  for (int i = 0; i < 128; ++i) {
    if (done()) return;
    engine::detail::CpuRelax();
  }
  for (int i = 0; i < 8; ++i) {
    if (done()) return;
    std::this_thread::yield();
  }
  for (;;) {
    std::uint32_t s = state.load(std::memory_order_acquire);
    if (s == kDone) return;
    // Acquire on both paths: a failure may mean kDone, whose fields we then read.
    if (s == kPending &&
        !state.compare_exchange_strong(s, kSleeping, std::memory_order_acquire, std::memory_order_acquire))
      continue;
    FutexWait(state, kSleeping, -1);
  }
}

void SetupCounter::OnOutcome(void* context, const engine::CommandOutcome& o) noexcept {
  auto* s = static_cast<SetupCounter*>(context);
  if (!o.accepted()) s->failed.fetch_add(1, std::memory_order_relaxed);
  s->done.fetch_add(1, std::memory_order_release);  // release: pairs with the waiter's acquire
}

void SetupCounter::WaitFor(std::uint64_t n) const {
  while (done.load(std::memory_order_acquire) < n) std::this_thread::sleep_for(std::chrono::microseconds(200));
}

int CpuFor(const BenchConfig& c, int slot) {
  if (c.pin_cpus.empty()) return -1;
  return c.pin_cpus[static_cast<std::size_t>(slot) % c.pin_cpus.size()];
}

Status CheckRun(const BenchConfig& c) {
  if (std::string why = c.Validate(); !why.empty()) return Status::InvalidArgument(why);
  if (c.dir.empty()) return Status::InvalidArgument("BenchConfig::dir: the journal directory is required");
  std::error_code ec;
  if (fs::exists(c.dir, ec) && !fs::is_empty(c.dir, ec))
    return Status::InvalidArgument(c.dir + " is not empty: the bench journals into a fresh directory");
  return Status::OK();
}

Status CreateDirectories(const BenchConfig& c) {
  std::error_code ec;
  fs::create_directories(c.dir, ec);
  if (ec) return Status::IOError("cannot create the journal directory " + c.dir + ": " + ec.message());
  if (c.projectors > 0) {
    fs::create_directories(fs::path(c.dir) / "checkpoints", ec);
    if (ec) return Status::IOError("cannot create " + c.dir + "/checkpoints: " + ec.message());
  }
  return Status::OK();
}

void StartReport(const BenchConfig& c, EngineBenchReport* report, RunState* run) {
  report->config = c;
  report->journal_dir = c.dir;
  report->cpus = AvailableCpuCount();
  run->stamp_done = c.open_loop();
  run->writer.pin_cpu = CpuFor(c, 0);
  // Acknowledgements the writer delivers right after on_batch of their own batch.
  run->writer.record_ring_wait =
      c.ack == AckLevel::kJournaled || (c.ack == AckLevel::kDurable && c.durability == journal::Durability::kNone);
  report->ring_wait_measured = run->writer.record_ring_wait;
  report->offered_per_s = c.rate;
}

engine::EngineOptions EngineOptionsFor(const BenchConfig& c, std::size_t expected_aggregates, RunState* run) {
  engine::EngineOptions eo;
  eo.journal.directory = c.dir;
  eo.journal.durability = c.durability;
  eo.journal.sync_interval_ms = c.sync_interval_ms;
  eo.journal.segment_size = c.segment_size;
  eo.ring_size = c.ring_size;
  eo.max_batch = c.max_batch;
  eo.replication = c.replication;
  eo.processor.expected_aggregates = expected_aggregates;
  eo.log_to_stderr = true;
  eo.counters = c.counters;
  eo.counters_program = "rill bench";
  const bool marks = c.projectors > 0;
  eo.on_batch = [r = run, marks](const engine::BatchTiming& t) {
    WriterSide& w = r->writer;
    if (!w.pin_tried) [[unlikely]] {
      w.pin_tried = true;  // the writer is the engine's thread: pin it from inside, once
      if (w.pin_cpu >= 0) w.pin_status = PinCurrentThread(w.pin_cpu);
    }
    w.measuring = r->measuring.load(std::memory_order_relaxed);
    w.dequeued_ns = t.dequeued_ns;
    if (!w.measuring || t.commands == 0) return;
    ++w.batches;
    w.batch_commands += t.commands;
    w.apply.RecordN(static_cast<std::uint64_t>(t.decided_ns - t.dequeued_ns), t.commands);
    w.commit.RecordN(static_cast<std::uint64_t>(t.committed_ns - t.decided_ns), t.commands);
    if (marks) {
      // Acquire: pairs with the release store after Open (the engine pointer is set).
      const void* e = r->engine.load(std::memory_order_acquire);
      if (e != nullptr && !r->marks.Push({r->committed(e), t.committed_ns, t.commands}))
        r->marks_dropped.fetch_add(1, std::memory_order_relaxed);
    }
  };
  return eo;
}

projections::ProjectorThreadOptions ProjectorThreadOptionsFor(const BenchConfig& c, int i,
                                                              const codecs::SchemaRegistry* registry,
                                                              EngineBenchReport* report) {
  projections::ProjectorThreadOptions po;
  po.name = "bench-projector-" + std::to_string(i);
  po.journal_directory = c.dir;
  po.registry = registry;
  po.cpu = CpuFor(c, 1 + c.producers + i);
  po.verify = c.projector_verify;
  po.checkpoint_directory = (fs::path(c.dir) / "checkpoints").string();
  po.warn = [report](const std::string& w) { report->notes.push_back("projector: " + w); };
  return po;
}

projections::ProjectorOptions FirstProjectorHooks(engine::AppliedView* view, RunState* run) {
  projections::ProjectorOptions opts;
  opts.on_applied = [view, r = run](std::uint64_t p) {
    view->Advance(p);
    if (!r->measuring.load(std::memory_order_relaxed)) return;
    const std::int64_t now = NowNs();
    r->marks.PopUpTo(p, [&](const BatchMark& m) {
      r->projection.RecordN(static_cast<std::uint64_t>(std::max<std::int64_t>(0, now - m.committed_ns)), m.commands);
    });
  };
  opts.on_halted = [view](std::uint64_t p, const std::string& why) { view->Halt(p, why); };
  return opts;
}

std::int64_t MergeProducers(std::span<const ProducerResult* const> producers, EngineBenchReport* report,
                            std::vector<std::string>* notes) {
  std::int64_t tally = 0;
  for (const ProducerResult* pr : producers) {
    report->submitted += pr->submitted;
    report->completed += pr->completed;
    report->accepted += pr->accepted;
    report->rejected += pr->rejected;
    report->failed += pr->failed;
    tally += pr->tally;
    report->latency.Merge(pr->latency);
    if (!pr->pin_status.ok()) notes->push_back("producer not pinned: " + pr->pin_status.ToString());
  }
  return tally;
}

void FinishReport(RunState& run, EngineBenchReport* report) {
  const BenchConfig& c = report->config;
  report->stages.ring_wait = std::move(run.writer.ring_wait);
  report->stages.apply = std::move(run.writer.apply);
  report->stages.commit = std::move(run.writer.commit);
  report->stages.projection = std::move(run.projection);
  report->batches = run.writer.batches;
  report->batch_commands = run.writer.batch_commands;
  report->duplicates = run.duplicates.load();
  report->projection_marks_dropped = run.marks_dropped.load();
  if (!run.writer.pin_status.ok()) report->notes.push_back("writer not pinned: " + run.writer.pin_status.ToString());
  report->acknowledged_once = report->duplicates == 0 && report->completed == report->submitted;
  report->threads = 1 + c.producers + c.projectors + (c.durability == journal::Durability::kNone ? 0 : 1);
  if (report->threads > report->cpus)
    report->notes.push_back(std::to_string(report->threads) + " threads on " + std::to_string(report->cpus) +
                            " CPUs: oversubscribed (threads wait on futexes, none busy-spins for long)");
}

}  // namespace rill::bench::driver
