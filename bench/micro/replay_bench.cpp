// Recovery figures (issue 8). Each runs once (they build their own journals).
//
// snapshot_stall/bank: the writer's longest batch (dequeue -> commit, EngineOptions::on_batch)
// while the snapshotter takes a snapshot every 200k events, against the same run without
// snapshots (snapshot_stall/bank_no_snapshots): the stall a snapshot adds to the writer. One
// producer keeps 1024 commands in flight (submit_batch); 2M commands over 100k accounts.
// Counters: max_batch_us, p999_batch_us, snapshots, max_snapshot_write_ms.
//
// restart/bank: a journal of RILL_RESTART_EVENTS events (default 10M) written by the engine
// (policy none, 100k accounts, deposits / withdrawals / transfers), with a snapshot taken
// near its end. Then Engine::Open is timed until commands are accepted, from the snapshot
// (restart_ms) and with snapshots ignored (full_replay_ms), with VerifyMode::kTail (the
// journal's Open verifies the last segment's CRCs; kFull would read every byte). The journal
// lives in RILL_RESTART_DIR when set (kept, e.g. for `rill replay --json`), else in a
// temporary directory removed afterwards. Needs ~1 GB of disk for 10M events.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "rill/engine/engine.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/tests/support/temp_dir.h"

namespace {

using namespace rill::examples::bank;
using BankEngine = rill::engine::Engine<BankDomain>;
constexpr std::uint64_t kAccounts = 100'000;

// Drives `commands` random commands through the engine, 1024 in flight; returns events.
std::uint64_t Drive(BankEngine& e, std::uint64_t commands, std::uint64_t first_id) {
  std::vector<BankEngine::Submission> batch(1024);
  std::vector<rill::engine::Completion> done(1024);
  std::mt19937_64 rng(42);
  std::uint64_t id = first_id, events = 0;
  for (std::uint64_t a = 0; a < kAccounts; a += batch.size()) {
    const std::size_t n = std::min<std::uint64_t>(batch.size(), kAccounts - a);
    for (std::size_t i = 0; i < n; ++i) {
      done[i].Reset();
      batch[i] = {{id++}, OpenAccount{a + i + 1, a + i, 978}, rill::engine::AckLevel::kJournaled, done[i].target()};
    }
    (void)e.submit_batch({batch.data(), n});
    for (std::size_t i = 0; i < n; ++i) events += done[i].Wait().event_count();
    for (std::size_t i = 0; i < n; ++i) {
      done[i].Reset();
      batch[i] = {{id++}, Deposit{a + i + 1, 1'000'000}, rill::engine::AckLevel::kJournaled, done[i].target()};
    }
    (void)e.submit_batch({batch.data(), n});
    for (std::size_t i = 0; i < n; ++i) events += done[i].Wait().event_count();
  }
  for (std::uint64_t c = 0; c < commands; c += batch.size()) {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const std::uint64_t a = rng() % kAccounts + 1, b = rng() % kAccounts + 1;
      const auto amount = static_cast<std::int64_t>(rng() % 100 + 1);
      BankDomain::Command cmd;
      switch (rng() % 10) {
        case 0:
        case 1:
        case 2:
        case 3:
          cmd = Deposit{a, amount};
          break;
        case 4:
        case 5:
        case 6:
          cmd = Withdraw{a, amount};
          break;
        default:
          cmd = Transfer{a, a == b ? a % kAccounts + 1 : b, amount};
      }
      done[i].Reset();
      batch[i] = {{id++}, cmd, rill::engine::AckLevel::kJournaled, done[i].target()};
    }
    (void)e.submit_batch(batch);
    for (auto& d : done) events += d.Wait().event_count();
  }
  return events;
}

rill::engine::EngineOptions BenchOptions(const std::string& dir) {
  rill::engine::EngineOptions o;
  o.journal.directory = dir;
  o.journal.verify = rill::journal::VerifyMode::kTail;
  o.processor.expected_aggregates = kAccounts;
  o.processor.idempotency_window = 1u << 20;
  o.log_to_stderr = true;
  return o;
}

void BM_SnapshotStall(benchmark::State& state, bool snapshots) {
  for (auto _ : state) {
    rill::test::TempDir dir("rill-stall-bench");
    auto o = BenchOptions(dir.path());
    o.snapshot.enabled = snapshots;
    o.snapshot.interval_events = 200'000;
    std::mutex mu;
    std::vector<std::int64_t> batch_ns;
    batch_ns.reserve(1 << 20);
    o.on_batch = [&](const rill::engine::BatchTiming& t) {
      std::lock_guard<std::mutex> lock(mu);  // uncontended: the writer thread only
      if (batch_ns.size() < batch_ns.capacity()) batch_ns.push_back(t.committed_ns - t.dequeued_ns);
    };
    auto opened = BankEngine::Open(o);
    if (!opened.ok()) {
      state.SkipWithError(opened.status().ToString().c_str());
      return;
    }
    const std::uint64_t events = Drive(**opened, 2'000'000, 1);
    const auto stats = (*opened)->snapshotter_stats();
    (*opened)->Stop();
    std::sort(batch_ns.begin(), batch_ns.end());
    state.counters["events"] = static_cast<double>(events);
    state.counters["batches"] = static_cast<double>(batch_ns.size());
    state.counters["max_batch_us"] = batch_ns.empty() ? 0 : static_cast<double>(batch_ns.back()) / 1e3;
    state.counters["p999_batch_us"] =
        batch_ns.empty() ? 0 : static_cast<double>(batch_ns[batch_ns.size() * 999 / 1000]) / 1e3;
    state.counters["snapshots"] = stats ? static_cast<double>(stats->snapshots) : 0;
    state.counters["max_snapshot_write_ms"] = stats ? static_cast<double>(stats->max_write_ns) / 1e6 : 0;
  }
}

void BM_Restart(benchmark::State& state) {
  const char* env_events = std::getenv("RILL_RESTART_EVENTS");
  const std::uint64_t want_events = env_events ? std::strtoull(env_events, nullptr, 10) : 10'000'000;
  const char* env_dir = std::getenv("RILL_RESTART_DIR");
  std::unique_ptr<rill::test::TempDir> tmp;
  std::string dir;
  if (env_dir != nullptr && *env_dir != '\0') {
    dir = env_dir;
  } else {
    tmp = std::make_unique<rill::test::TempDir>("rill-restart-bench");
    dir = tmp->Sub("journal");
  }
  for (auto _ : state) {
    std::uint64_t events = 0;
    {
      auto o = BenchOptions(dir);
      o.snapshot.enabled = true;
      o.snapshot.interval_events = 0;  // one, near the end
      auto opened = BankEngine::Open(o);
      if (!opened.ok()) {
        state.SkipWithError(opened.status().ToString().c_str());
        return;
      }
      // ~1.3 events per command; the snapshot lags the end by the last 1%.
      const std::uint64_t commands = want_events * 10 / 13;
      events = Drive(**opened, commands * 99 / 100, 1);
      if (auto s = (*opened)->TakeSnapshot(600'000'000'000); !s.ok()) {
        state.SkipWithError(s.status().ToString().c_str());
        return;
      }
      events += Drive(**opened, commands / 100, 1'000'000'000);
    }
    auto time_open = [&](bool load, rill::engine::RecoveryInfo* info) {
      auto o = BenchOptions(dir);
      o.snapshot.load = load;
      const auto t0 = std::chrono::steady_clock::now();
      auto opened = BankEngine::Open(o);
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (opened.ok()) *info = (*opened)->recovery();
      return ms;
    };
    rill::engine::RecoveryInfo snap, full;
    const double restart_ms = time_open(true, &snap);
    const double full_ms = time_open(false, &full);
    state.counters["journal_events"] = static_cast<double>(events);
    state.counters["restart_ms"] = restart_ms;
    state.counters["restart_open_journal_ms"] = static_cast<double>(snap.open_journal_ns) / 1e6;
    state.counters["restart_load_snapshot_ms"] = static_cast<double>(snap.load_snapshot_ns) / 1e6;
    state.counters["restart_replay_ms"] = static_cast<double>(snap.replay_ns) / 1e6;
    state.counters["restart_tail_events"] = static_cast<double>(snap.replayed_events);
    state.counters["full_replay_ms"] = full_ms;
    state.counters["full_replay_events_per_s"] =
        full.replay_ns > 0 ? static_cast<double>(full.replayed_events) / (static_cast<double>(full.replay_ns) / 1e9)
                           : 0;
  }
}

BENCHMARK_CAPTURE(BM_SnapshotStall, snapshots, true)->Name("snapshot_stall/bank")->Iterations(1)->UseRealTime();
BENCHMARK_CAPTURE(BM_SnapshotStall, no_snapshots, false)
    ->Name("snapshot_stall/bank_no_snapshots")
    ->Iterations(1)
    ->UseRealTime();
BENCHMARK(BM_Restart)->Name("restart/bank")->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
