// rill/tools/crashtest/child.h: the crash test's child process: the workload W on the real
// Engine<W::Domain>, with a StateMirror read model that checkpoints, until the parent kills it.
//
//   // <tool> crashtest --domain D --child --journal DIR --round 3 --ack-fd 3 --retry-file F ...
//   return RunChild<W>(options, stderr);   // returns only on an error
//
// Reads the round plan (round_plan.h), regenerates the retried commands and moves each
// producer to where the previous child stopped, opens the engine on the journal (recovering
// it) and the read model's projector (loading its newest checkpoint), reports kReady, resends
// the retries (same ids) and waits for their outcomes, then runs `producers` threads that each
// submit windows of commands and report them over the ack fd (wire.h): "sent" before a window
// is submitted, "ack" after its outcomes arrived. It never stops by itself. Per command: one
// Next(), no allocation and no system call (two pipe writes per window of kWindow).
// Exit codes when it does return (child_io.h): 3 the engine or the read model cannot open the
// journal (printed on err), 2 bad options or plan, 4 the ack pipe failed.
// Thread safety: the whole process.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "rill/engine/completion.h"
#include "rill/engine/engine.h"
#include "rill/tools/crashtest/child_io.h"
#include "rill/tools/crashtest/crash_workload.h"
#include "rill/tools/crashtest/round_plan.h"
#include "rill/tools/state_mirror.h"
#include "rill/tools/workload.h"

namespace rill::tools::crashtest {

namespace child_internal {

// Submits `n` commands (ids and levels in `sent`), reporting them sent before and acked after.
template <typename E, typename Command>
void RunWindow(E& engine, int fd, const WireRecord* sent, const std::optional<Command>* commands, std::size_t n,
               engine::Completion* done) {
  Report(fd, sent, n);
  for (std::size_t i = 0; i < n; ++i) {
    if (engine.submit(*commands[i], {.command_id = sent[i].id}, sent[i].level, done[i]) != engine::ClaimStatus::kOk)
      ::_exit(kChildPipeFailed);  // the engine stopped: only Stop does that, and the child never calls it
  }
  WireRecord acks[kWindow];
  for (std::size_t i = 0; i < n; ++i) acks[i] = WireRecord::Ack(sent[i].id, done[i].Wait(), sent[i].level);
  Report(fd, acks, n);
}

}  // namespace child_internal

template <Workload W>
int RunChild(const CrashtestOptions& o, std::FILE* err) {
  using D = typename W::Domain;
  using Command = typename D::Command;
  DieWithParent();
  if (!CheckChildOptions(o, err)) return kChildBadOptions;
  const Result<RoundPlan> plan = ReadRoundPlan(o.retry_file);
  if (!plan.ok() || plan->start.size() != static_cast<std::size_t>(o.producers)) {
    std::fprintf(err, "%s crashtest child: %s\n", o.program.c_str(),
                 plan.ok() ? "the round plan is for another number of producers" : plan.status().ToString().c_str());
    return kChildBadOptions;
  }
  const W workload(CrashWorkloadOptions(static_cast<std::uint64_t>(o.aggregates), o.producers, o.seed));
  const std::vector<Command> setup = workload.Setup();
  const CommandIds ids{.setup = setup.size(), .producers = o.producers};

  // Each producer moves to where the last child stopped; the retried commands are
  // regenerated on the way (retries are in id order, so each producer's in k order).
  std::vector<std::optional<Command>> retried(plan->retries.size());
  std::vector<typename W::Producer> producers;
  producers.reserve(static_cast<std::size_t>(o.producers));
  for (int p = 0; p < o.producers; ++p) {
    producers.push_back(workload.MakeProducer(p));
    const std::uint64_t start = plan->start[static_cast<std::size_t>(p)];
    std::size_t r = 0;
    for (std::uint64_t k = 0; k < start; ++k) {
      Command c = producers.back().Next();
      int rp = 0;
      std::uint64_t rk = 0;
      while (r < retried.size() && (!ids.Split(plan->retries[r].id, &rp, &rk) || rp != p || rk < k)) ++r;
      if (r < retried.size() && rk == k) retried[r++] = c;
    }
  }
  for (std::size_t r = 0; r < retried.size(); ++r) {
    const std::uint64_t id = plan->retries[r].id;
    if (id >= 1 && id <= setup.size()) retried[r] = setup[id - 1];
    if (!retried[r]) {
      std::fprintf(err, "%s crashtest child: the round plan retries command %llu, which no producer had sent\n",
                   o.program.c_str(), static_cast<unsigned long long>(id));
      return kChildBadOptions;
    }
  }

  Result<std::unique_ptr<engine::Engine<D>>> opened = engine::Engine<D>::Open(ChildEngineOptions(o));
  if (!opened.ok()) {
    std::fprintf(err, "%s crashtest child: cannot open the journal %s: %s\n", o.program.c_str(), o.journal.c_str(),
                 opened.status().ToString().c_str());
    return kChildCannotOpen;
  }
  engine::Engine<D>& engine = **opened;
  Result<std::unique_ptr<projections::ProjectorThread>> mirror =
      projections::ProjectorThread::Create(ChildProjectorOptions(o, engine.registry()));
  if (mirror.ok()) {
    (*mirror)->template Add<StateMirror<D>>();
    if (Status s = (*mirror)->Start(); !s.ok()) mirror = s;
  }
  if (!mirror.ok()) {
    std::fprintf(err, "%s crashtest child: the read model cannot follow the journal %s: %s\n", o.program.c_str(),
                 o.journal.c_str(), mirror.status().ToString().c_str());
    return kChildCannotOpen;
  }
  const WireRecord ready = WireRecord::Ready(engine.recovery().committed_position, engine.recovery().replayed_events);
  Report(o.ack_fd, &ready, 1);

  // Retries first, in order (setup first: aggregates are created before they are used).
  {
    auto done = std::make_unique<engine::Completion[]>(kWindow);
    for (std::size_t at = 0; at < retried.size(); at += kWindow) {
      const std::size_t n = std::min(kWindow, retried.size() - at);
      child_internal::RunWindow(engine, o.ack_fd, plan->retries.data() + at, retried.data() + at, n, done.get());
    }
  }

  std::vector<std::thread> threads;
  for (int p = 0; p < o.producers; ++p) {
    threads.emplace_back([&engine, &o, &ids, p, k = plan->start[static_cast<std::size_t>(p)],
                          producer = std::move(producers[static_cast<std::size_t>(p)])]() mutable {
      auto done = std::make_unique<engine::Completion[]>(kWindow);
      WireRecord sent[kWindow];
      std::optional<Command> commands[kWindow];
      Pacer pacer(o);
      for (;;) {
        pacer.Wait();
        for (std::size_t i = 0; i < kWindow; ++i) {
          const std::uint64_t id = ids.Produced(p, k++);
          commands[i].emplace(producer.Next());
          sent[i] = WireRecord::Sent(id, AckLevelFor(id), /*retry=*/false);
        }
        child_internal::RunWindow(engine, o.ack_fd, sent, commands, kWindow, done.get());
      }
    });
  }
  for (std::thread& t : threads) t.join();  // never: producers run until the SIGKILL
  return 0;
}

}  // namespace rill::tools::crashtest
