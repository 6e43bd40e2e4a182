// rill/tests/replication/fault_workload.h: the bank engine and a kReplicated workload for the
// fault tests (fault_*_test.cpp): an engine with a replicator and a lag bound, and a thread
// that keeps `window` kReplicated deposits in flight and records when each was acknowledged,
// so a test can say which acks came while a fault lasted.
//
//   auto engine = OpenFaultEngine(dir, rep->get(), /*max_replication_lag=*/2000);
//   ReplicatedLoad load(*engine, **rep, /*first_command_id=*/1000);
//   ... inject the fault ...
//   load.Stop();
//   for (const ReplicatedLoad::Ack& a : load.acks()) ...
//
// Thread safety: ReplicatedLoad's methods from the test's thread; acks() after Stop().
#pragma once

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "rill/engine/engine.h"
#include "rill/examples/bank/bank_domain.h"

namespace rill::test {

using FaultBankEngine = engine::Engine<examples::bank::BankDomain>;
inline constexpr std::uint64_t kFaultAccounts = 16;

// A bank engine on `dir` acknowledging replicated through `replication`.
inline std::unique_ptr<FaultBankEngine> OpenFaultEngine(const std::string& dir,
                                                        engine::ReplicationProgress* replication,
                                                        std::uint64_t max_replication_lag) {
  engine::EngineOptions o;
  o.journal.directory = dir;
  o.journal.segment_size = 1u << 20;
  o.ring_size = 256;
  o.processor.expected_aggregates = 256;
  o.log_to_stderr = false;
  o.replication = replication;
  o.max_replication_lag = max_replication_lag;
  auto e = FaultBankEngine::Open(o);
  if (!e.ok()) FAIL("opening the engine: " << e.status().ToString());
  return std::move(e).value();
}

// Opens accounts 1..kFaultAccounts at `ack` (kJournaled when the cluster may be down).
inline void OpenFaultAccounts(FaultBankEngine& e, std::uint64_t& next_id, engine::AckLevel ack) {
  for (std::uint64_t a = 1; a <= kFaultAccounts; ++a) {
    const engine::CommandOutcome o = e.execute(examples::bank::OpenAccount{a, a, 978}, {.command_id = next_id++}, ack);
    if (!o.accepted()) FAIL("opening account " << a << ": " << o.rejection().message());
  }
}

// Waits up to `seconds` for an outcome (Completion::Wait has no timeout).
inline bool WaitReady(const engine::Completion& c, int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!c.ready() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return c.ready();
}

class ReplicatedLoad {
 public:
  struct Ack {
    std::uint64_t position = 0;
    // The replicator's replicated position read right after the ack arrived: never below
    // `position` when the engine acknowledges only what a quorum stored.
    std::uint64_t replicated_seen = 0;
    std::chrono::steady_clock::time_point submitted, acked;
  };

  // Command ids from first_command_id up (the caller keeps its own below it); `progress` is
  // the engine's replicator.
  ReplicatedLoad(FaultBankEngine& e, const engine::ReplicationProgress& progress, std::uint64_t first_command_id,
                 int window = 32)
      : engine_(e), progress_(progress), next_id_(first_command_id), window_(window), thread_([this] { Run(); }) {}
  // Also on a failed REQUIRE: stopping the engine answers what waits, so the thread ends.
  ~ReplicatedLoad() {
    running_.store(false, std::memory_order_relaxed);
    if (thread_.joinable()) engine_.Stop();
    if (thread_.joinable()) thread_.join();
  }
  ReplicatedLoad(const ReplicatedLoad&) = delete;
  ReplicatedLoad& operator=(const ReplicatedLoad&) = delete;

  // Ends the workload once its commands in flight have their outcomes (they may wait for
  // replication: call it when the cluster can acknowledge again).
  void Stop() {
    running_.store(false, std::memory_order_relaxed);
    if (thread_.joinable()) thread_.join();
  }
  // Acks so far (relaxed: a figure for progress while running; exact after Stop()).
  std::uint64_t acked_count() const { return acked_count_.load(std::memory_order_relaxed); }
  const std::vector<Ack>& acks() const { return acks_; }  // after Stop()
  // Acks whose position was beyond the replicated position seen right after (must be 0).
  std::uint64_t AckedUnreplicated() const {
    std::uint64_t n = 0;
    for (const Ack& a : acks_) n += a.position > a.replicated_seen ? 1 : 0;
    return n;
  }
  std::uint64_t refused() const { return refused_; }          // after Stop()
  std::uint64_t next_command_id() const { return next_id_; }  // after Stop()

 private:
  void Run() {
    std::vector<engine::Completion> done(static_cast<std::size_t>(window_));
    std::vector<std::chrono::steady_clock::time_point> sent(done.size());
    while (running_.load(std::memory_order_relaxed)) {
      int n = 0;
      for (; n < window_; ++n) {
        const std::uint64_t id = next_id_++;
        sent[n] = std::chrono::steady_clock::now();
        if (engine_.submit(examples::bank::Deposit{1 + id % kFaultAccounts, 1}, {.command_id = id},
                           engine::AckLevel::kReplicated, done[n]) != engine::ClaimStatus::kOk)
          break;
      }
      int refused_now = 0;
      for (int i = 0; i < n; ++i) {
        const engine::CommandOutcome& o = done[i].Wait();
        if (o.accepted()) {
          acks_.push_back({o.position(), progress_.replicated_position(), sent[i], std::chrono::steady_clock::now()});
          acked_count_.fetch_add(1, std::memory_order_relaxed);
        } else {
          ++refused_now;
        }
      }
      refused_ += static_cast<std::uint64_t>(refused_now);
      // Past the lag bound (or stopped) everything is refused at once: do not spin on it.
      if (refused_now == n) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  FaultBankEngine& engine_;
  const engine::ReplicationProgress& progress_;
  std::uint64_t next_id_;  // the thread's
  const int window_;
  std::atomic<bool> running_{true};
  std::atomic<std::uint64_t> acked_count_{0};
  std::vector<Ack> acks_;  // the thread's until joined
  std::uint64_t refused_ = 0;
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace rill::test
