// rill/engine/hot_standby.h: a standby's aggregates kept up to date while it follows (SCALE-OUT.md
// 3c): a CommandProcessor fed by a thread that tails the local journal (written by a
// replication::Follower), so that a takeover replays only what the state has not applied yet.
//
//   node_options.on_standby = [&](const std::string& dir) {          // each standby period
//     EngineOptions eo = MakeOptions(dir);
//     hot = rill::engine::HotStandby<BankDomain>::Start(eo).value();  // discards the earlier one
//   };
//   node_options.open_writer = [&](const std::string& dir, ReplicationProgress* rep) -> Status {
//     EngineOptions eo = MakeOptions(dir); eo.replication = rep;
//     auto e = Engine<BankDomain>::Open(eo, std::move(hot));          // replays only the rest
//     ...
//   };
//
// The state is exactly what Engine::Open's replay gives (the same JournalReplayer, verified
// decoding, the determinism check): aggregates and the idempotency window (command ids and
// fingerprints travel in the event envelopes). It loads no snapshot (a follower's directory
// has none): it replays the journal from its start once, then follows it.
// Thread safety: Start/Stop/the destructor from the owner; getters from any thread. The
// processor belongs to the tailing thread until Engine::Open takes it (after joining it).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "rill/base/result.h"
#include "rill/base/status.h"
#include "rill/codecs/schema_registry.h"
#include "rill/engine/command_processor.h"
#include "rill/engine/engine_options.h"
#include "rill/engine/event_registry.h"
#include "rill/engine/journal_replay.h"
#include "rill/journal/journal_reader.h"

namespace rill::engine {

template <typename D>
class Engine;

template <typename D>
class HotStandby {
 public:
  // Uses options.journal.directory (it may not exist yet: the follower creates it), the
  // processor options and the domain's events (register_events or D::RegisterEvents).
  static Result<std::unique_ptr<HotStandby>> Start(const EngineOptions& options) {
    Result<codecs::SchemaRegistry> registry = BuildEventRegistry<D>(options);
    if (!registry.ok()) return registry.status();
    std::unique_ptr<HotStandby> h(new HotStandby(options, std::move(registry).value()));
    h->thread_ = std::thread([p = h.get()] { p->Run(); });
    return Result<std::unique_ptr<HotStandby>>(std::move(h));
  }

  ~HotStandby() { Stop(); }
  HotStandby(const HotStandby&) = delete;
  HotStandby& operator=(const HotStandby&) = delete;

  // Stops following (the state stays as it is; Engine::Open may still take it).
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  // The last position applied (0: none yet).
  std::uint64_t position() const noexcept {
    // Acquire: pairs with the tailing thread's release store after applying through it.
    return position_.load(std::memory_order_acquire);
  }
  std::uint64_t events_applied() const noexcept { return events_.load(std::memory_order_relaxed); }

  // OK once position() >= position; the final error; TimedOut.
  Status WaitFor(std::uint64_t position, std::int64_t timeout_ns) const {
    std::unique_lock<std::mutex> lock(mu_);
    const bool done = cv_.wait_for(lock, std::chrono::nanoseconds(timeout_ns), [&] {
      return position_.load(std::memory_order_acquire) >= position || !final_.ok();
    });
    if (!final_.ok()) return final_;
    if (done) return Status::OK();
    return Status::TimedOut("hot standby: position " + std::to_string(position) + " not applied in time (at " +
                            std::to_string(position_.load(std::memory_order_acquire)) + ")");
  }

  // Non-OK once the tailing thread stopped on an error (the journal unreadable, a record this
  // domain cannot decode): the state is then unusable for a takeover.
  Status final_error() const {
    std::lock_guard<std::mutex> lock(mu_);
    return final_;
  }

 private:
  friend class Engine<D>;

  HotStandby(const EngineOptions& options, codecs::SchemaRegistry registry)
      : options_(options),
        registry_(std::move(registry)),
        processor_(std::make_unique<CommandProcessor<D>>(options.processor)) {}

  // Engine::Open: stops the thread and takes the state. REQUIRES: final_error() is OK.
  std::unique_ptr<CommandProcessor<D>> TakeProcessor() {
    Stop();
    processor_->TransferOwnership();  // the join above is the happens-before edge
    return std::move(processor_);
  }

  bool Stopping() {
    std::lock_guard<std::mutex> lock(mu_);
    return stop_;
  }
  // Sleeps up to ns unless stopping; false when stopping.
  bool Pause(std::int64_t ns) {
    std::unique_lock<std::mutex> lock(mu_);
    return !cv_.wait_for(lock, std::chrono::nanoseconds(ns), [&] { return stop_; });
  }
  void Fail(Status s) {
    std::lock_guard<std::mutex> lock(mu_);
    final_ = std::move(s);
    cv_.notify_all();
  }

  void Run() {
    processor_->TransferOwnership();  // this thread owns the stores until TakeProcessor
    // The follower creates the journal when it starts: wait for it (a cold path: 10 ms polls).
    std::unique_ptr<journal::JournalReader> reader;
    while (!reader) {
      Result<std::unique_ptr<journal::JournalReader>> r =
          journal::JournalReader::Open({.directory = options_.journal.directory});
      if (r.ok()) {
        reader = std::move(r).value();
      } else if (!r.status().IsNotFound()) {
        return Fail(r.status().WithContext("hot standby"));
      } else if (!Pause(10'000'000)) {
        return;
      }
    }
    JournalReplayer<D> replayer(registry_, processor_.get());
    ReplayProgress progress;
    while (!Stopping()) {
      // Bounded steps, so that Stop is seen during a long catch-up.
      if (Status s = replayer.Run(*reader, {.max_records = 4096}, &progress); !s.ok())
        return Fail(s.WithContext("hot standby replay"));
      if (progress.end_of_batch && progress.last_position != position_.load(std::memory_order_relaxed)) {
        events_.store(progress.events, std::memory_order_relaxed);
        {
          std::lock_guard<std::mutex> lock(mu_);  // WaitFor's predicate reads under mu_
          position_.store(progress.last_position, std::memory_order_release);
        }
        cv_.notify_all();
      }
      // The futex wait wakes on the follower's next commit; 50 ms bounds how late Stop is seen.
      if (progress.reached_end) reader->WaitForCommit(50'000'000);
    }
  }

  const EngineOptions options_;
  codecs::SchemaRegistry registry_;
  std::unique_ptr<CommandProcessor<D>> processor_;
  std::thread thread_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool stop_ = false;
  Status final_;
  std::atomic<std::uint64_t> position_{0};
  std::atomic<std::uint64_t> events_{0};
};

}  // namespace rill::engine
