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
// With o.replicate the engine runs under a replication Node (child_node.h, RunReplicatedChild):
// the node reconciles the journal with the stream, maybe follows as a standby (reported), and
// opens the engine when it becomes the writer; only then does the child read its round plan
// (the parent writes it on kReady, after it learned where the new writer continues).
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
#include "rill/engine/hot_standby.h"
#include "rill/tools/crashtest/child_io.h"
#include "rill/tools/crashtest/child_node.h"
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

// Producer p moved to where the last child stopped (plan.start[p]); the retried commands
// regenerated on the way (retries are in id order, so each producer's in k order). False, with
// the reason on err, when the plan names a command no producer had sent.
template <Workload W>
bool Regenerate(const CrashtestOptions& o, const W& workload, const RoundPlan& plan,
                std::vector<std::optional<typename W::Domain::Command>>* retried,
                std::vector<typename W::Producer>* producers, std::FILE* err) {
  using Command = typename W::Domain::Command;
  const std::vector<Command> setup = workload.Setup();
  const CommandIds ids{.setup = setup.size(), .producers = o.producers};
  retried->assign(plan.retries.size(), std::nullopt);
  producers->clear();
  producers->reserve(static_cast<std::size_t>(o.producers));
  for (int p = 0; p < o.producers; ++p) {
    producers->push_back(workload.MakeProducer(p));
    const std::uint64_t start = plan.start[static_cast<std::size_t>(p)];
    std::size_t r = 0;
    for (std::uint64_t k = 0; k < start; ++k) {
      Command c = producers->back().Next();
      int rp = 0;
      std::uint64_t rk = 0;
      while (r < retried->size() && (!ids.Split(plan.retries[r].id, &rp, &rk) || rp != p || rk < k)) ++r;
      if (r < retried->size() && rk == k) (*retried)[r++] = c;
    }
  }
  for (std::size_t r = 0; r < retried->size(); ++r) {
    const std::uint64_t id = plan.retries[r].id;
    if (id >= 1 && id <= setup.size()) (*retried)[r] = setup[id - 1];
    if (!(*retried)[r]) {
      std::fprintf(err, "%s crashtest child: the round plan retries command %llu, which no producer had sent\n",
                   o.program.c_str(), static_cast<unsigned long long>(id));
      return false;
    }
  }
  return true;
}

// What a child runs this round: the retried commands and each producer where the last child
// stopped (the round plan, regenerated).
template <Workload W>
struct RoundCommands {
  CommandIds ids;
  std::vector<std::optional<typename W::Domain::Command>> retried;
  std::vector<typename W::Producer> producers;
};

// Checks the plan (read or waited for) and regenerates it; false, with the reason on err.
template <Workload W>
bool PrepareRound(const CrashtestOptions& o, const W& workload, const Result<RoundPlan>& plan, RoundCommands<W>* round,
                  std::FILE* err) {
  if (!plan.ok() || plan->start.size() != static_cast<std::size_t>(o.producers)) {
    std::fprintf(err, "%s crashtest child: %s\n", o.program.c_str(),
                 plan.ok() ? "the round plan is for another number of producers" : plan.status().ToString().c_str());
    return false;
  }
  round->ids = CommandIds{.setup = workload.Setup().size(), .producers = o.producers};
  return Regenerate(o, workload, *plan, &round->retried, &round->producers, err);
}

// The read model: a StateMirror on the engine's journal, checkpointing (child_io.h).
template <typename D>
Result<std::unique_ptr<projections::ProjectorThread>> StartMirror(const CrashtestOptions& o,
                                                                  const engine::Engine<D>& engine) {
  Result<std::unique_ptr<projections::ProjectorThread>> mirror =
      projections::ProjectorThread::Create(ChildProjectorOptions(o, engine.registry()));
  if (mirror.ok()) {
    (*mirror)->template Add<StateMirror<D>>();
    if (Status s = (*mirror)->Start(); !s.ok()) return s;
  }
  return mirror;
}

// The retries (in order: setup first, aggregates are created before they are used), then the
// producer threads until the SIGKILL. Never returns.
template <Workload W>
void Produce(const CrashtestOptions& o, engine::Engine<typename W::Domain>& engine, const RoundPlan& plan,
             RoundCommands<W>& round) {
  auto& retried = round.retried;
  auto& producers = round.producers;
  const CommandIds& ids = round.ids;
  using Command = typename W::Domain::Command;
  const bool replicated = !o.replicate.empty();
  {
    auto done = std::make_unique<engine::Completion[]>(kWindow);
    for (std::size_t at = 0; at < retried.size(); at += kWindow) {
      const std::size_t n = std::min(kWindow, retried.size() - at);
      child_internal::RunWindow(engine, o.ack_fd, plan.retries.data() + at, retried.data() + at, n, done.get());
    }
  }
  std::vector<std::thread> threads;
  for (int p = 0; p < o.producers; ++p) {
    threads.emplace_back([&engine, &o, &ids, p, replicated, k = plan.start[static_cast<std::size_t>(p)],
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
          sent[i] = WireRecord::Sent(id, replicated ? ReplicatedRunLevel(p) : AckLevelFor(id), /*retry=*/false);
        }
        child_internal::RunWindow(engine, o.ack_fd, sent, commands, kWindow, done.get());
      }
    });
  }
  for (std::thread& t : threads) t.join();  // never: producers run until the SIGKILL
}

// The replicated child: the engine under a replication Node (child_node.h).
template <Workload W>
int RunReplicatedChild(const CrashtestOptions& o, std::FILE* err) {
  using D = typename W::Domain;
  std::unique_ptr<engine::Engine<D>> engine;  // set on the node's thread before it reports kWriter
  // The standby's state while it follows (engine/hot_standby.h): a takeover replays only what
  // it had not applied yet. A hot state the engine refuses (the journal was cut under it) fails
  // open: the node looks again, follows anew and starts a fresh one. Node thread only.
  std::unique_ptr<engine::HotStandby<D>> hot;
  auto on_standby = [&](const std::string& dir) {
    engine::EngineOptions eo = ChildEngineOptions(o);
    eo.journal.directory = dir;
    Result<std::unique_ptr<engine::HotStandby<D>>> started = engine::HotStandby<D>::Start(eo);
    if (!started.ok())
      std::fprintf(err, "crashtest child: no hot standby (a takeover replays the journal): %s\n",
                   started.status().ToString().c_str());
    hot = started.ok() ? std::move(started).value() : nullptr;
  };
  auto open = [&](const std::string& dir, engine::ReplicationProgress* progress) -> Status {
    engine::EngineOptions eo = ChildEngineOptions(o);
    eo.journal.directory = dir;
    eo.replication = progress;
    Result<std::unique_ptr<engine::Engine<D>>> opened =
        hot ? engine::Engine<D>::Open(eo, std::move(hot)) : engine::Engine<D>::Open(eo);
    if (!opened.ok()) {
      std::fprintf(err, "crashtest child: opening the writer on %s: %s\n", dir.c_str(),
                   opened.status().ToString().c_str());
      return opened.status();
    }
    engine = std::move(opened).value();
    return Status::OK();
  };
  auto close = [&] {
    if (engine) engine->Stop();  // fenced or the lease lost: the producers' next submit fails
  };
  Result<std::unique_ptr<ChildNode>> node = ChildNode::Start(o, open, close, on_standby);
  if (!node.ok()) {
    std::fprintf(err, "%s crashtest child: cannot start the replication node on %s: %s\n", o.program.c_str(),
                 o.journal.c_str(), node.status().ToString().c_str());
    return kChildCannotOpen;
  }
  const Result<WriterStart> writer = (*node)->WaitWriter(err);
  if (!writer.ok()) return kChildCannotOpen;
  Result<std::unique_ptr<projections::ProjectorThread>> mirror = StartMirror(o, *engine);
  if (!mirror.ok()) {
    std::fprintf(err, "%s crashtest child: the read model cannot follow the journal %s: %s\n", o.program.c_str(),
                 o.journal.c_str(), mirror.status().ToString().c_str());
    return kChildCannotOpen;
  }
  const WireRecord ready = WireRecord::Ready(engine->recovery().committed_position, engine->recovery().replayed_events,
                                             writer->epoch, writer->takeover);
  Report(o.ack_fd, &ready, 1);
  // The parent writes the plan once it read kReady (a takeover first forgets the old writer's
  // unreplicated acknowledgements, so they are not resent as answered ones).
  const Result<RoundPlan> plan = WaitRoundPlan(o.retry_file, 60'000);
  const W workload(CrashWorkloadOptions(static_cast<std::uint64_t>(o.aggregates), o.producers, o.seed));
  RoundCommands<W> round;
  if (!PrepareRound(o, workload, plan, &round, err)) return kChildBadOptions;
  Produce<W>(o, *engine, *plan, round);
  return 0;
}

template <Workload W>
int RunChild(const CrashtestOptions& o, std::FILE* err) {
  using D = typename W::Domain;
  DieWithParent();
  if (!CheckChildOptions(o, err)) return kChildBadOptions;
  if (!o.replicate.empty()) return RunReplicatedChild<W>(o, err);
  const Result<RoundPlan> plan = ReadRoundPlan(o.retry_file);
  const W workload(CrashWorkloadOptions(static_cast<std::uint64_t>(o.aggregates), o.producers, o.seed));
  RoundCommands<W> round;
  if (!PrepareRound(o, workload, plan, &round, err)) return kChildBadOptions;

  Result<std::unique_ptr<engine::Engine<D>>> opened = engine::Engine<D>::Open(ChildEngineOptions(o));
  if (!opened.ok()) {
    std::fprintf(err, "%s crashtest child: cannot open the journal %s: %s\n", o.program.c_str(), o.journal.c_str(),
                 opened.status().ToString().c_str());
    return kChildCannotOpen;
  }
  engine::Engine<D>& engine = **opened;
  Result<std::unique_ptr<projections::ProjectorThread>> mirror = StartMirror(o, engine);
  if (!mirror.ok()) {
    std::fprintf(err, "%s crashtest child: the read model cannot follow the journal %s: %s\n", o.program.c_str(),
                 o.journal.c_str(), mirror.status().ToString().c_str());
    return kChildCannotOpen;
  }
  const WireRecord ready = WireRecord::Ready(engine.recovery().committed_position, engine.recovery().replayed_events);
  Report(o.ack_fd, &ready, 1);
  Produce<W>(o, engine, *plan, round);
  return 0;
}

}  // namespace rill::tools::crashtest
