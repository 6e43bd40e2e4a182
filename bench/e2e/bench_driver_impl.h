// rill/bench/e2e/bench_driver_impl.h: RunEngineBench<W>, the end-to-end driver behind
// `rill bench` and `rill demo`, for any workload W (tools/workload.h). What it measures and
// checks is in bench_driver.h; this header is the template, instantiated in the tool's main().
//
//   rill::bench::BenchConfig c;
//   c.domain = "inventory";
//   c.dir = "/tmp/run/journal";                             // must not hold a journal yet
//   auto r = rill::bench::RunEngineBench<InventoryWorkload>(c, stdout);
//
// The run: W(WorkloadOptions{aggregates, producers, seed}); W.Setup() submitted first (not
// measured, every command must be accepted) with ids from tools::CommandIds; projector i
// holds W.AddReadModels(thread, i, ...) when W has it, else a tools::StateMirror of the
// aggregates; then each producer p sends W.MakeProducer(p).Next() with id CommandIds::Produced.
// Everything that does not depend on W is in driver_runtime.cpp, compiled once.
// Thread safety: RunEngineBench starts and joins its own threads; one run at a time per dir.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "rill/base/result.h"
#include "rill/bench/e2e/bench_config.h"
#include "rill/bench/e2e/bench_driver.h"
#include "rill/bench/e2e/driver_producer.h"
#include "rill/bench/e2e/driver_runtime.h"
#include "rill/bench/e2e/state_check.h"
#include "rill/engine/applied_view.h"
#include "rill/engine/engine.h"
#include "rill/projections/projector_thread.h"
#include "rill/tools/state_mirror.h"
#include "rill/tools/workload.h"

namespace rill::bench {

// Whether W brings its own read models for the bench's projectors (tools/workload.h).
template <typename W>
inline constexpr bool kHasReadModels = requires(const W& w, projections::ProjectorThread& thread,
                                                projections::ProjectorOptions options) {
  w.AddReadModels(thread, 0, std::move(options));
};

// Runs the configuration against a fresh journal in config.dir (created; must not hold a
// journal). Progress lines (setup, start) go to `progress` when given. Errors: InvalidArgument
// (config.Validate(), a directory that holds files), the engine's or projectors' start-up
// errors, Unavailable when a setup command is rejected.
template <tools::Workload W>
Result<EngineBenchReport> RunEngineBench(const BenchConfig& c, std::FILE* progress = nullptr) {
  using Domain = typename W::Domain;
  using Engine = engine::Engine<Domain>;
  if (Status s = driver::CheckRun(c); !s.ok()) return s;

  EngineBenchReport report;
  auto run = std::make_unique<driver::RunState>();
  driver::RunState* r = run.get();
  driver::StartReport(c, &report, r);
  if (Status s = driver::CreateDirectories(c); !s.ok()) return s;

  const W workload(tools::WorkloadOptions{.aggregates = c.aggregates, .producers = c.producers, .seed = c.seed});
  const std::vector<typename Domain::Command> setup = workload.Setup();
  const tools::CommandIds ids{.setup = setup.size(), .producers = c.producers};

  auto opened = Engine::Open(driver::EngineOptionsFor(c, static_cast<std::size_t>(c.aggregates) + 1024, r));
  if (!opened.ok()) return opened.status().WithContext("rill bench: opening the engine");
  std::unique_ptr<Engine> eng = std::move(opened).value();
  r->committed = [](const void* e) { return static_cast<const Engine*>(e)->committed_position(); };
  r->engine.store(eng.get(), std::memory_order_release);  // release: `committed` is set first

  // Projectors: the first feeds the applied(view) acknowledgement and the projection stage.
  engine::AppliedView view("bench.view");
  std::vector<std::unique_ptr<projections::ProjectorThread>> projectors;
  const projections::TypedProjector<tools::StateMirror<Domain>>* mirror = nullptr;  // projector 0's, if default
  for (int i = 0; i < c.projectors; ++i) {
    projections::ProjectorThreadOptions po = driver::ProjectorThreadOptionsFor(c, i, &eng->registry(), &report);
    po.counters = eng->counters_file();  // null with --counters off
    auto t = projections::ProjectorThread::Create(std::move(po));
    if (!t.ok()) return t.status().WithContext("rill bench: projector");
    projections::ProjectorOptions opts =
        i == 0 ? driver::FirstProjectorHooks(&view, r) : projections::ProjectorOptions{};
    if constexpr (kHasReadModels<W>) {
      workload.AddReadModels(**t, i, std::move(opts));
    } else {
      const auto* p = (*t)->template Add<tools::StateMirror<Domain>>(std::move(opts));
      if (i == 0) mirror = p;
    }
    projectors.push_back(std::move(t).value());
  }
  for (auto& t : projectors) {
    if (Status s = t->Start(); !s.ok()) return s.WithContext("rill bench: starting a projector");
  }

  // Setup (not measured), at kJournaled; every command must be accepted.
  if (progress) std::fprintf(progress, "setup: %zu commands\n", setup.size());
  std::int64_t setup_tally = 0;
  {
    driver::SetupCounter counter;
    std::vector<typename Engine::Submission> chunk;
    chunk.reserve(1024);
    for (std::size_t i = 0; i < setup.size(); i += chunk.capacity()) {
      chunk.clear();
      for (std::size_t j = i; j < std::min(setup.size(), i + chunk.capacity()); ++j) {
        chunk.push_back({{.command_id = ids.Setup(j)},
                         setup[j],
                         engine::AckLevel::kJournaled,
                         {&driver::SetupCounter::OnOutcome, &counter}});
        if constexpr (tools::kHasTally<W>) setup_tally += workload.Tally(setup[j]);
      }
      if (eng->submit_batch(chunk).status != engine::ClaimStatus::kOk)
        return Status::Unavailable("engine stopped during setup");
    }
    counter.WaitFor(setup.size());
    if (counter.failed.load() != 0)
      return Status::Unavailable(std::to_string(counter.failed.load()) + " of the workload's " +
                                 std::to_string(setup.size()) + " setup commands were rejected: Setup() must " +
                                 "give commands that are accepted in order");
  }
  report.setup_commands = setup.size();
  const std::uint64_t setup_position = eng->committed_position();
  for (auto& t : projectors) {
    for (const auto& p : t->projectors()) {
      if (Status s = p->WaitFor(setup_position, std::chrono::seconds(120)); !s.ok())
        return s.WithContext("rill bench: a projector did not catch up with the setup");
    }
  }
  // With replication, the measured part starts once the setup is replicated too: its
  // commands would otherwise wait behind the setup's tail.
  if (c.replication != nullptr) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (c.replication->replicated_position() < setup_position) {
      if (Status e = c.replication->final_error(); !e.ok()) return e.WithContext("rill bench: replicating the setup");
      if (std::chrono::steady_clock::now() > deadline)
        return Status::TimedOut("rill bench: the setup was not replicated within 120 s");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // once, before the measured part
    }
  }

  // The measured part.
  std::vector<std::unique_ptr<driver::Producer<W>>> producers;
  for (int p = 0; p < c.producers; ++p)
    producers.push_back(std::make_unique<driver::Producer<W>>(c, workload, ids, r, eng.get(), &view, p));
  const std::uint64_t full_before = eng->ring_full_count();
  r->measuring.store(true, std::memory_order_relaxed);
  const std::int64_t start_ns = driver::NowNs();
  const std::int64_t end_ns = start_ns + static_cast<std::int64_t>(c.seconds * 1e9);
  std::vector<std::thread> threads;
  for (int p = 0; p < c.producers; ++p)
    threads.emplace_back([&, p] { producers[static_cast<std::size_t>(p)]->Main(driver::CpuFor(c, 1 + p), end_ns); });
  if (progress)
    std::fprintf(progress, "running: %s loop, %d producer(s), %d projector(s), %.1f s\n",
                 c.open_loop() ? "open" : "closed", c.producers, c.projectors, c.seconds);
  r->go.store(true, std::memory_order_release);  // release: setup and construction before the producers start
  if (c.commands_per_producer == 0) {
    std::this_thread::sleep_until(std::chrono::steady_clock::time_point(std::chrono::nanoseconds(end_ns)));
    r->stop.store(true, std::memory_order_relaxed);
  }
  for (auto& t : threads) t.join();
  report.ring_full = eng->ring_full_count() - full_before;
  const std::uint64_t end_position = eng->committed_position();

  // Let the projectors catch up, then stop everything (the joins order their state before our reads).
  for (auto& t : projectors)
    for (const auto& p : t->projectors()) (void)p->WaitFor(end_position, std::chrono::seconds(120));
  r->measuring.store(false, std::memory_order_relaxed);

  std::vector<const driver::ProducerResult*> results;
  std::int64_t finished_ns = start_ns;
  for (const auto& p : producers) {
    results.push_back(&p->result());
    finished_ns = std::max(finished_ns, p->result().finished_ns);
  }
  std::vector<std::string> producer_notes;  // appended after the projectors stop (they warn into notes)
  const std::int64_t accepted_tally = setup_tally + driver::MergeProducers(results, &report, &producer_notes);
  report.seconds = static_cast<double>(finished_ns - start_ns) / 1e9;
  report.throughput_per_s = report.seconds > 0 ? static_cast<double>(report.completed) / report.seconds : 0;
  report.events = end_position - setup_position;

  for (auto& t : projectors) t->Stop();
  view.Close("the bench is over");
  report.notes.insert(report.notes.end(), producer_notes.begin(), producer_notes.end());
  eng->Stop();
  driver::FinishReport(*run, &report);  // writer-side figures: Stop joined the writer

  // State checks, on the stopped engine's aggregates.
  const Result<std::uint64_t> digest = eng->state_digest();
  if (!digest.ok()) {
    report.state_consistent = false;
    report.check_detail = "the engine's aggregates cannot be read: " + digest.status().ToString();
    return report;
  }
  StateCheck check = CheckWorkloadState(workload, tools::StateView<Domain>(*eng), accepted_tally);
  if (mirror != nullptr) {
    const std::uint64_t projected = mirror->model().digest();
    char what[128];
    std::snprintf(what, sizeof what, "state mirror digest %016llx, engine's %016llx",
                  static_cast<unsigned long long>(projected), static_cast<unsigned long long>(*digest));
    check.Add(projected == *digest, what);
  }
  if (!check.ran) check.detail = "no state check: the workload has no Tally/Total or CheckInvariants, and no projector";
  report.state_consistent = check.ok;
  report.check_detail = std::move(check.detail);
  return report;
}

}  // namespace rill::bench
