// rill/bench/e2e/driver_producer.h: one producer thread of the end-to-end driver, for a
// workload W (tools/workload.h): draws W's commands straight into its preallocated submission
// array, in a closed or open loop, and collects their outcomes. Internal to
// bench_driver_impl.h.
//
//   driver::Producer<W> p(config, workload, ids, &run, engine, &view, /*index=*/0);
//   std::thread t([&] { p.Main(cpu, end_ns); });   // waits for run.go, then loops
//
// Hot path: no allocation and no system call per command: the slots, the submissions and the
// workload's producer are built before the clock starts; a refill is one submit_batch.
// Thread safety: one thread runs Main; result() after it returned.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <thread>
#include <vector>

#include "rill/base/thread_affinity.h"
#include "rill/bench/e2e/bench_config.h"
#include "rill/bench/e2e/driver_runtime.h"
#include "rill/bench/e2e/open_loop.h"
#include "rill/engine/applied_view.h"
#include "rill/engine/engine.h"
#include "rill/tools/workload.h"

namespace rill::bench::driver {

template <tools::Workload W>
class Producer {
 public:
  using Engine = engine::Engine<typename W::Domain>;
  using Submission = typename Engine::Submission;

  // REQUIRES: `workload`, `run`, `engine` and `view` outlive the producer.
  Producer(const BenchConfig& c, const W& workload, tools::CommandIds ids, RunState* run, Engine* engine,
           engine::AppliedView* view, int index)
      : c_(c),
        workload_(workload),
        source_(workload.MakeProducer(index)),
        ids_(ids),
        index_(index),
        run_(run),
        engine_(engine),
        n_(static_cast<std::size_t>(c.inflight)),
        slots_(new InFlight[n_]),
        batch_(n_) {
    for (std::size_t i = 0; i < n_; ++i) slots_[i].run = run;
    for (Submission& s : batch_) {  // the same for every command: set once
      s.ack = c.ack;
      s.view = c.ack == engine::AckLevel::kApplied ? view : nullptr;
    }
  }

  void Main(int pin_cpu, std::int64_t end_hint_ns) {
    if (pin_cpu >= 0) result_.pin_status = PinCurrentThread(pin_cpu);
    // Acquire: pairs with the release that opens the measurement (setup done, engine ready).
    while (!run_->go.load(std::memory_order_acquire)) std::this_thread::yield();
    if (c_.open_loop()) {
      OpenLoop(end_hint_ns);
    } else {
      ClosedLoop();
    }
    result_.finished_ns = NowNs();
  }

  const ProducerResult& result() const { return result_; }

 private:
  bool MaySend() const noexcept {
    if (c_.commands_per_producer != 0) return result_.submitted < c_.commands_per_producer;
    return !run_->stop.load(std::memory_order_relaxed);
  }
  std::uint64_t Remaining() const noexcept {
    return c_.commands_per_producer != 0 ? c_.commands_per_producer - result_.submitted : ~std::uint64_t{0};
  }

  // Fills slots [head_ + outstanding_, ...) with k new commands and submits them at once.
  // `intended` gives each command's latency origin.
  template <typename IntendedFn>
  bool SubmitNew(std::size_t k, std::int64_t now, IntendedFn&& intended) {
    for (std::size_t j = 0; j < k; ++j) {
      InFlight& f = slots_[(head_ + outstanding_ + j) % n_];
      Submission& s = batch_[j];
      s.command = source_.Next();  // in place: the workload writes into the submission
      s.meta.command_id = ids_.Produced(index_, drawn_++);
      // Relaxed: the ring's publish (a release) orders it before the writer's exchange.
      f.state.store(InFlight::kPending, std::memory_order_relaxed);
      f.sent_ns = intended(j);
      f.submit_ns = now;
      if constexpr (tools::kHasTally<W>) f.tally = workload_.Tally(s.command);
      s.target = {&InFlight::OnOutcome, &f};
    }
    const engine::BatchSubmitResult r = engine_->submit_batch(std::span<const Submission>(batch_.data(), k));
    outstanding_ += r.submitted;
    result_.submitted += r.submitted;
    for (std::size_t j = r.submitted; j < k; ++j)  // never entered the ring: free again
      slots_[(head_ + outstanding_ + (j - r.submitted)) % n_].state.store(InFlight::kDone, std::memory_order_relaxed);
    return r.status == engine::ClaimStatus::kOk;
  }

  // Collects acknowledged commands from the oldest on; latency to `now` (closed) or to the
  // callback's stamp (open).
  void Collect(std::int64_t now) {
    while (outstanding_ != 0 && slots_[head_].done()) {
      const InFlight& f = slots_[head_];
      const std::int64_t done = run_->stamp_done ? f.done_ns : now;
      result_.latency.Record(OpenLoopLatency(f.sent_ns, done));
      ++result_.completed;
      if (f.accepted) {
        ++result_.accepted;
        result_.tally += f.tally;
      } else if (f.code == engine::RejectCode::kRuleViolated || f.code == engine::RejectCode::kNotFound ||
                 f.code == engine::RejectCode::kInvalidCommand || f.code == engine::RejectCode::kAlreadyExists) {
        ++result_.rejected;  // the domain's rules (insufficient funds, ...): a real service sees these
      } else {
        ++result_.failed;
      }
      head_ = (head_ + 1) % n_;
      --outstanding_;
    }
  }

  void ClosedLoop() {
    for (;;) {
      if (MaySend()) {
        const std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(n_ - outstanding_, Remaining()));
        if (k != 0) {
          const std::int64_t now = NowNs();
          if (!SubmitNew(k, now, [now](std::size_t) { return now; })) break;
        }
      }
      if (outstanding_ == 0) {
        if (!MaySend()) break;
        continue;
      }
      slots_[head_].Wait();
      Collect(NowNs());
    }
    Drain();
  }

  void OpenLoop(std::int64_t end_ns) {
    const double per_producer = c_.rate / c_.producers;
    const OpenLoopSchedule schedule(NowNs(), per_producer);
    for (;;) {
      const std::int64_t now = NowNs();
      Collect(now);
      const bool timed_out = c_.commands_per_producer == 0 && now >= end_ns;
      if (timed_out || !MaySend()) break;
      // Capped by a fixed command count, if any (submitted + Remaining() would wrap without one).
      std::uint64_t due = schedule.DueBy(now);
      if (c_.commands_per_producer != 0) due = std::min(due, c_.commands_per_producer);
      const std::size_t k =
          static_cast<std::size_t>(std::min<std::uint64_t>(due - result_.submitted, n_ - outstanding_));
      if (k != 0) {
        const std::uint64_t first = result_.submitted;
        if (!SubmitNew(k, now, [&](std::size_t j) { return schedule.Intended(first + j); })) break;
        continue;
      }
      if (outstanding_ == n_) {
        slots_[head_].Wait();  // every slot busy: the delay shows in the next commands' latency
        continue;
      }
      const std::int64_t wait = schedule.Intended(result_.submitted) - now;
      if (wait > 200'000) {
        std::this_thread::sleep_for(std::chrono::nanoseconds(wait - 100'000));
      } else {
        std::this_thread::yield();  // not a busy spin: lets the writer and projectors run
      }
    }
    Drain();
  }

  void Drain() {
    while (outstanding_ != 0) {
      slots_[head_].Wait();
      Collect(NowNs());
    }
  }

  const BenchConfig& c_;
  const W& workload_;
  typename W::Producer source_;
  const tools::CommandIds ids_;
  const int index_;
  RunState* run_;
  Engine* engine_;
  const std::size_t n_;
  std::unique_ptr<InFlight[]> slots_;
  std::vector<Submission> batch_;
  std::size_t head_ = 0, outstanding_ = 0;
  std::uint64_t drawn_ = 0;  // commands taken from source_: the next one's k in CommandIds
  ProducerResult result_;
};

}  // namespace rill::bench::driver
