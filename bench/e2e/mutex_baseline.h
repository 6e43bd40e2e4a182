// rill/bench/e2e/mutex_baseline.h: `rill bench --baselines`' "mutex" baseline, the design a
// team writes first, for any workload W (tools/workload.h): producers push commands into one
// std::deque under one std::mutex and wake the consumer with a std::condition_variable; one
// consumer thread pops a command, decides and applies it with the domain's own code, and hands
// the outcome back to its producer under the same mutex, waking it with its own condition
// variable. Same workload, same commands and ids, same domain code as rill; only the plumbing
// differs.
//
//   rill::bench::MutexBaselineOptions o{.aggregates = 100'000, .producers = 2, .inflight = 64, .seconds = 3};
//   MutexBaselineReport r = rill::bench::RunMutexBaseline<InventoryWorkload>(o);
//   std::printf("%.0f commands/s, p99 %llu ns\n", r.throughput_per_s, r.latency.Percentile(99));
//
// The state is an engine::CommandProcessor<D>, what rill's writer runs per command (validate,
// idempotency window, aggregate store, decide, encode, evolve), with a sink in place of the
// journal: it counts each encoded record, and with encode_events also copies it into a buffer
// as the writer copies it into its journal. Closed loop, like the driver's: each producer keeps
// up to `inflight` commands outstanding, and records each one's latency from just before it was
// queued to when the producer saw its outcome. Setup commands are applied before the clock
// starts. Runs for `seconds`, or until each producer has sent `commands_per_producer` (the count
// wins when both are set). No thread spins: every wait is on a condition variable. The
// workload's checks (state_check.h) run on the final state.
// Thread safety: RunMutexBaseline starts and joins its own threads.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "rill/base/thread_affinity.h"
#include "rill/bench/e2e/latency_histogram.h"
#include "rill/bench/e2e/state_check.h"
#include "rill/engine/command_processor.h"
#include "rill/tools/workload.h"

namespace rill::bench {

struct MutexBaselineOptions {
  std::uint64_t aggregates = 10'000;  // tools::WorkloadOptions, as the driver's
  int producers = 1;                  // producer threads
  std::uint64_t seed = 1;
  int inflight = 64;  // >= 1: outstanding commands per producer
  double seconds = 1.0;
  std::uint64_t commands_per_producer = 0;  // > 0: a fixed count instead of a duration
  // Also copy each encoded record into a buffer, as rill's writer copies it into its journal;
  // off by default: the design a team writes first keeps state in memory only (the processor
  // encodes the events either way).
  bool encode_events = false;
  bool pin_threads = false;  // consumer on CPU 0, producer i on CPU (i + 1) % CPUs
};

struct MutexBaselineReport {
  std::uint64_t commands = 0;  // completed (every sent command gets an outcome)
  std::uint64_t accepted = 0, rejected = 0;
  std::uint64_t events = 0;  // in the timed part
  double seconds = 0;        // from the producers' start to the last outcome
  double throughput_per_s = 0;
  LatencyHistogram latency;  // submit -> outcome seen by the producer, ns
  std::uint64_t encoded_bytes = 0;
  // The workload's checks on the final state (state_check.h), and the state's digest.
  bool state_consistent = true;
  std::string check_detail;
  std::uint64_t digest = 0;
};

namespace mutex_baseline {

template <typename Command>
struct Request {
  Command command;
  std::uint64_t command_id = 0;
  int producer = 0;
  std::int64_t submit_ns = 0;
  std::int64_t tally = 0;  // the workload's Tally, summed when accepted
};

struct Completion {
  std::int64_t submit_ns = 0;
  std::int64_t tally = 0;
  bool accepted = false;
};

// A producer's side of the handshake: its outcomes, guarded by the one shared mutex.
struct Mailbox {
  std::condition_variable cv;
  std::deque<Completion> done;
};

struct ProducerTally {
  std::uint64_t accepted = 0, rejected = 0;
  std::int64_t tally = 0;
};

// Everything the threads share. The one mutex guards queue, shutdown and every mailbox.
template <typename Command>
struct Shared {
  std::mutex mu;
  std::condition_variable work_cv;
  std::deque<Request<Command>> queue;
  bool shutdown = false;
  std::vector<Mailbox> mailboxes;
  std::atomic<bool> stop{false};  // duration over: producers stop sending (read unlocked)
  explicit Shared(int producers) : mailboxes(static_cast<std::size_t>(producers)) {}
};

inline std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline void MaybePin(bool pin, int cpu) {
  // Pinning is best effort for a baseline: an unavailable CPU leaves the thread unpinned.
  if (pin) (void)PinCurrentThread(cpu % AvailableCpuCount());
}

// The journal's stand-in: numbers the records, counts them, and with `copy` copies them into a
// ring of bytes (no allocation, no system call) as the writer's append would.
struct Sink {
  bool copy = false;
  std::uint64_t records = 0, bytes = 0, next_position = 1, offset = 0;
  std::vector<std::uint8_t> buffer;
  std::optional<std::uint64_t> operator()(std::span<const std::uint8_t> record) {
    ++records;
    bytes += record.size();
    if (copy) {
      if (offset + record.size() > buffer.size()) offset = 0;
      if (record.size() <= buffer.size()) std::memcpy(buffer.data() + offset, record.data(), record.size());
      offset += record.size();
    }
    return next_position++;
  }
};

}  // namespace mutex_baseline

// `workload` gives the commands (its Setup, then MakeProducer(p) per producer thread); its
// options should match `options` (producers in particular, for the command ids).
template <tools::Workload W>
MutexBaselineReport RunMutexBaseline(const W& workload, const MutexBaselineOptions& options) {
  namespace mb = mutex_baseline;
  using Command = typename W::Domain::Command;
  using Processor = engine::CommandProcessor<typename W::Domain>;
  const int producers = options.producers < 1 ? 1 : options.producers;
  const auto n = static_cast<std::size_t>(producers);
  MutexBaselineReport report;

  Processor processor({.expected_aggregates = static_cast<std::size_t>(options.aggregates) + 1024});
  mb::Sink sink;
  sink.copy = options.encode_events;
  if (sink.copy) sink.buffer.resize(std::size_t{1} << 20);
  const std::vector<Command> setup = workload.Setup();
  const tools::CommandIds ids{.setup = setup.size(), .producers = producers};
  std::int64_t tally = 0;
  for (std::size_t i = 0; i < setup.size(); ++i) {
    if (processor.Process({.command_id = ids.Setup(i)}, setup[i], mb::NowNs(), sink).accepted()) {
      if constexpr (tools::kHasTally<W>) tally += workload.Tally(setup[i]);
    }
  }
  const std::uint64_t setup_records = sink.records, setup_bytes = sink.bytes;

  processor.TransferOwnership();  // to the consumer thread (its start orders the setup before)
  mb::Shared<Command> sh(producers);
  std::vector<LatencyHistogram> latencies(n);
  std::vector<mb::ProducerTally> tallies(n);
  std::thread consumer([&] {
    mb::MaybePin(options.pin_threads, 0);
    std::unique_lock lk(sh.mu);
    for (;;) {
      sh.work_cv.wait(lk, [&] { return !sh.queue.empty() || sh.shutdown; });
      if (sh.queue.empty()) return;  // shut down and drained
      const mb::Request<Command> req = std::move(sh.queue.front());
      sh.queue.pop_front();
      lk.unlock();
      // Only this thread touches the processor, so the domain code runs outside the lock.
      const bool accepted =
          processor.Process({.command_id = req.command_id}, req.command, mb::NowNs(), sink).accepted();
      lk.lock();
      mb::Mailbox& box = sh.mailboxes[static_cast<std::size_t>(req.producer)];
      box.done.push_back({req.submit_ns, req.tally, accepted});
      box.cv.notify_one();
    }
  });

  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      mb::MaybePin(options.pin_threads, p + 1);
      typename W::Producer source = workload.MakeProducer(p);
      mb::Mailbox& box = sh.mailboxes[static_cast<std::size_t>(p)];
      LatencyHistogram& latency = latencies[static_cast<std::size_t>(p)];
      mb::ProducerTally& mine = tallies[static_cast<std::size_t>(p)];
      const auto window = static_cast<std::size_t>(options.inflight < 1 ? 1 : options.inflight);
      std::vector<mb::Request<Command>> batch;
      batch.reserve(window);
      std::deque<mb::Completion> got;
      std::uint64_t sent = 0;
      std::size_t outstanding = 0;
      const auto may_send = [&] {
        return options.commands_per_producer > 0 ? sent < options.commands_per_producer
                                                 : !sh.stop.load(std::memory_order_relaxed);
      };
      for (;;) {
        batch.clear();
        while (outstanding + batch.size() < window && may_send()) {
          mb::Request<Command>& r = batch.emplace_back();
          r.command = source.Next();
          r.command_id = ids.Produced(p, sent++);
          r.producer = p;
          if constexpr (tools::kHasTally<W>) r.tally = workload.Tally(r.command);
        }
        {
          std::unique_lock lk(sh.mu);
          const std::int64_t now = mb::NowNs();
          for (mb::Request<Command>& r : batch) {
            r.submit_ns = now;
            sh.queue.push_back(r);
          }
          if (!batch.empty()) sh.work_cv.notify_one();
          outstanding += batch.size();
          if (outstanding == 0) return;
          box.cv.wait(lk, [&] { return !box.done.empty(); });
          got.swap(box.done);
        }
        const std::int64_t now = mb::NowNs();
        for (const mb::Completion& c : got) {
          latency.Record(static_cast<std::uint64_t>(now - c.submit_ns));
          if (c.accepted) {
            ++mine.accepted;
            mine.tally += c.tally;
          } else {
            ++mine.rejected;
          }
        }
        outstanding -= got.size();
        got.clear();
      }
    });
  }
  if (options.commands_per_producer == 0) {
    std::this_thread::sleep_for(std::chrono::duration<double>(options.seconds));
    sh.stop.store(true, std::memory_order_relaxed);
  }
  for (std::thread& t : threads) t.join();
  // Every producer has seen all its outcomes, so the queue is empty: this only ends the consumer.
  const auto end = std::chrono::steady_clock::now();
  {
    std::lock_guard lk(sh.mu);
    sh.shutdown = true;
  }
  sh.work_cv.notify_one();
  consumer.join();
  processor.TransferOwnership();  // back to this thread, for the checks (the join orders it)

  report.seconds = std::chrono::duration<double>(end - start).count();
  for (std::size_t p = 0; p < n; ++p) {
    report.latency.Merge(latencies[p]);
    report.accepted += tallies[p].accepted;
    report.rejected += tallies[p].rejected;
    tally += tallies[p].tally;
  }
  report.commands = report.accepted + report.rejected;
  report.events = sink.records - setup_records;
  report.encoded_bytes = sink.bytes - setup_bytes;
  report.throughput_per_s = report.seconds > 0 ? static_cast<double>(report.commands) / report.seconds : 0;
  const StateCheck check = CheckWorkloadState(workload, tools::StateView<typename W::Domain>(processor), tally);
  report.state_consistent = check.ok;
  report.check_detail = check.ran ? check.detail : "no state check: the workload has no Tally/Total or CheckInvariants";
  report.digest = processor.digest();
  return report;
}

// The workload built from the options (aggregates, producers, seed).
template <tools::Workload W>
MutexBaselineReport RunMutexBaseline(const MutexBaselineOptions& options) {
  const W workload(
      tools::WorkloadOptions{.aggregates = options.aggregates, .producers = options.producers, .seed = options.seed});
  return RunMutexBaseline(workload, options);
}

}  // namespace rill::bench
