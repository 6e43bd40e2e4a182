#include "rill/tools/crashtest/child.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "rill/bench/e2e/bank_workload.h"
#include "rill/engine/engine.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/tools/crashtest/wire.h"
#include "rill/tools/crashtest/workload.h"

namespace rill::tools::crashtest {
namespace {

using BankEngine = engine::Engine<examples::bank::BankDomain>;

constexpr std::size_t kWindow = 32;  // commands in flight per producer; one pipe write each way
static_assert(kWindow <= kMaxRecordsPerWrite);

// One write() per call: whole records, <= PIPE_BUF bytes, so never split or interleaved.
// A failed write means the parent is gone: nothing left to report to.
void Report(int fd, const WireRecord* records, std::size_t n) {
  const auto* p = reinterpret_cast<const char*>(records);
  std::size_t left = n * sizeof(WireRecord);
  while (left > 0) {
    const ssize_t w = ::write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) ::_exit(4);
    p += w;
    left -= static_cast<std::size_t>(w);
  }
}

std::vector<WireRecord> ReadRetries(const std::string& path, std::FILE* err, bool* ok) {
  std::vector<WireRecord> out;
  *ok = true;
  if (path.empty()) return out;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    std::fprintf(err, "rill crashtest child: cannot open the retry file %s: %s\n", path.c_str(), std::strerror(errno));
    *ok = false;
    return out;
  }
  WireRecord r;
  while (std::fread(&r, sizeof r, 1, f) == 1) out.push_back(r);
  std::fclose(f);
  return out;
}

// Submits `n` commands (ids and levels given), reporting them sent before and acked after.
void RunWindow(BankEngine& engine, int fd, const WireRecord* sent, std::size_t n, engine::Completion* done) {
  Report(fd, sent, n);
  for (std::size_t i = 0; i < n; ++i) {
    if (engine.submit(sent[i].command(), {.command_id = sent[i].id}, sent[i].level, done[i]) !=
        engine::ClaimStatus::kOk)
      ::_exit(4);  // the engine stopped: only Stop does that, and the child never calls it
  }
  WireRecord acks[kWindow];
  for (std::size_t i = 0; i < n; ++i) acks[i] = WireRecord::Ack(sent[i].id, done[i].Wait(), sent[i].level);
  Report(fd, acks, n);
}

void Producer(BankEngine& engine, const CrashtestOptions& o, int p) {
  bench::BankCommandStream stream(CrashWorkload(static_cast<std::uint64_t>(o.accounts), o.producers, o.seed, o.round),
                                  p);
  auto done = std::make_unique<engine::Completion[]>(kWindow);
  WireRecord sent[kWindow];
  // Pacing: this producer's share of --rate, a window at a time (sleeps, never spins).
  const auto window_period =
      std::chrono::nanoseconds(o.rate > 0 ? static_cast<std::int64_t>(1e9 * kWindow * o.producers / o.rate) : 0);
  auto next_window = std::chrono::steady_clock::now();
  for (;;) {
    if (window_period.count() > 0) {
      next_window += window_period;
      std::this_thread::sleep_until(next_window);
    }
    for (WireRecord& r : sent) {
      const bench::BankCommand c = stream.Next();
      const std::uint64_t id = WorkloadCommandId(o.round, static_cast<std::uint64_t>(o.accounts), c.meta.command_id);
      r = WireRecord::Sent(id, c.command, AckLevelFor(id), /*retry=*/false);
    }
    RunWindow(engine, o.ack_fd, sent, kWindow, done.get());
  }
}

}  // namespace

int RunChild(const CrashtestOptions& o, std::FILE* err) {
  // Die with the parent (a crashed or interrupted crash test leaves no workload running).
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  const std::optional<journal::Durability> durability = ParseDurability(o.durability);
  if (!durability || o.journal.empty() || o.ack_fd < 0 || o.round < 1 || o.producers < 1 || o.accounts < 2) {
    std::fprintf(err, "rill crashtest child: bad options (this mode is started by `rill crashtest` itself)\n");
    return 2;
  }
  bool ok = false;
  const std::vector<WireRecord> retries = ReadRetries(o.retry_file, err, &ok);
  if (!ok) return 3;

  engine::EngineOptions eo;
  eo.journal.directory = o.journal;
  eo.journal.segment_size = std::size_t{o.segment_kib} * 1024;
  eo.journal.durability = *durability;
  eo.journal.sync_interval_ms = kIntervalMs;
  eo.processor.expected_aggregates = static_cast<std::size_t>(o.accounts);
  eo.log_to_stderr = true;  // recovery's report goes to the round's log file
  Result<std::unique_ptr<BankEngine>> opened = BankEngine::Open(eo);
  if (!opened.ok()) {
    std::fprintf(err, "rill crashtest child: cannot open the journal %s: %s\n", o.journal.c_str(),
                 opened.status().ToString().c_str());
    return 3;
  }
  BankEngine& engine = **opened;
  WireRecord ready;
  ready.kind = WireKind::kReady;
  ready.a = engine.recovery().committed_position;
  ready.b = engine.recovery().replayed_events;
  ready.c = static_cast<std::int64_t>(engine.durable_position());
  Report(o.ack_fd, &ready, 1);

  // Retries first, in order (setup: opens before deposits), a window at a time.
  {
    auto done = std::make_unique<engine::Completion[]>(kWindow);
    for (std::size_t at = 0; at < retries.size(); at += kWindow) {
      const std::size_t n = std::min(kWindow, retries.size() - at);
      RunWindow(engine, o.ack_fd, retries.data() + at, n, done.get());
    }
  }

  std::vector<std::thread> producers;
  for (int p = 0; p < o.producers; ++p) producers.emplace_back([&engine, &o, p] { Producer(engine, o, p); });
  for (std::thread& t : producers) t.join();  // never: producers run until the SIGKILL
  return 0;
}

}  // namespace rill::tools::crashtest
