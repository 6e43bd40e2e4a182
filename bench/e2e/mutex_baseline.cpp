#include "rill/bench/e2e/mutex_baseline.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "rill/base/thread_affinity.h"
#include "rill/bench/e2e/bank_ledger.h"
#include "rill/codecs/encoder.h"

namespace rill::bench {
namespace {

std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Request {
  BankCommand cmd;
  int producer = 0;
  std::int64_t submit_ns = 0;
};

struct Completion {
  std::int64_t submit_ns = 0;
  std::int64_t net = 0;  // NetDeposit of the command, counted when accepted
  bool accepted = false;
};

// A producer's side of the handshake: its outcomes, guarded by the one shared mutex.
struct Mailbox {
  std::condition_variable cv;
  std::deque<Completion> done;
};

struct ProducerTally {
  std::uint64_t accepted = 0, rejected = 0;
  std::int64_t net = 0;
};

// Everything the threads share. The one mutex guards queue, shutdown and every mailbox.
struct Shared {
  std::mutex mu;
  std::condition_variable work_cv;
  std::deque<Request> queue;
  bool shutdown = false;
  std::vector<Mailbox> mailboxes;
  std::atomic<bool> stop{false};  // duration over: producers stop sending (read unlocked)
  explicit Shared(int producers) : mailboxes(static_cast<std::size_t>(producers)) {}
};

void MaybePin(bool pin, int cpu) {
  if (!pin) return;
  // Pinning is best effort for a baseline: an unavailable CPU leaves the thread unpinned.
  (void)PinCurrentThread(cpu % AvailableCpuCount());
}

void RunConsumer(Shared& sh, BankLedger& ledger, const MutexBaselineOptions& o, std::uint64_t& events,
                 std::uint64_t& encoded_bytes) {
  MaybePin(o.pin_threads, 0);
  codecs::Encoder encoder;
  std::unique_lock lk(sh.mu);
  for (;;) {
    sh.work_cv.wait(lk, [&] { return !sh.queue.empty() || sh.shutdown; });
    if (sh.queue.empty()) return;  // shut down and drained
    const Request req = sh.queue.front();
    sh.queue.pop_front();
    lk.unlock();

    // Only this thread touches the ledger, so the domain code runs outside the lock.
    const std::int64_t now = NowNs();
    const BankLedger::Applied applied = ledger.Apply(req.cmd.command, now, req.cmd.meta.command_id);
    const bool accepted = applied.decision.accepted();
    if (accepted) {
      const auto evs = applied.decision.events();
      events += evs.size();
      if (o.encode_events) {
        for (std::size_t e = 0; e < evs.size(); ++e) {
          encoded_bytes +=
              BankLedger::Domain::Encode(
                  encoder, codecs::EnvelopeFields{evs[e].stream_id, applied.versions[e], now, req.cmd.meta.command_id},
                  evs[e].event)
                  .size();
        }
      }
    }

    lk.lock();
    Mailbox& mb = sh.mailboxes[static_cast<std::size_t>(req.producer)];
    mb.done.push_back({req.submit_ns, NetDeposit(req.cmd.command), accepted});
    mb.cv.notify_one();
  }
}

void RunProducer(Shared& sh, const MutexBaselineOptions& o, int p, LatencyHistogram& latency, ProducerTally& tally) {
  MaybePin(o.pin_threads, p + 1);
  BankCommandStream stream(o.workload, p);
  Mailbox& mb = sh.mailboxes[static_cast<std::size_t>(p)];
  const auto window = static_cast<std::size_t>(o.inflight < 1 ? 1 : o.inflight);
  std::vector<Request> batch;
  batch.reserve(window);
  std::deque<Completion> got;
  std::uint64_t sent = 0;
  std::size_t outstanding = 0;
  const auto may_send = [&] {
    return o.commands_per_producer > 0 ? sent < o.commands_per_producer : !sh.stop.load(std::memory_order_relaxed);
  };
  for (;;) {
    batch.clear();
    while (outstanding + batch.size() < window && may_send()) {
      batch.push_back({stream.Next(), p, 0});
      ++sent;
    }
    {
      std::unique_lock lk(sh.mu);
      const std::int64_t now = NowNs();
      for (Request& r : batch) {
        r.submit_ns = now;
        sh.queue.push_back(r);
      }
      if (!batch.empty()) sh.work_cv.notify_one();
      outstanding += batch.size();
      if (outstanding == 0) return;
      mb.cv.wait(lk, [&] { return !mb.done.empty(); });
      got.swap(mb.done);
    }
    const std::int64_t now = NowNs();
    for (const Completion& c : got) {
      latency.Record(static_cast<std::uint64_t>(now - c.submit_ns));
      if (c.accepted) {
        ++tally.accepted;
        tally.net += c.net;
      } else {
        ++tally.rejected;
      }
    }
    outstanding -= got.size();
    got.clear();
  }
}

}  // namespace

MutexBaselineReport RunMutexBaseline(const MutexBaselineOptions& options) {
  MutexBaselineOptions o = options;
  if (o.workload.producers < 1) o.workload.producers = 1;
  const auto n = static_cast<std::size_t>(o.workload.producers);
  MutexBaselineReport report;

  BankLedger ledger(o.workload.accounts);
  for (const BankCommand& c : SetupCommands(o.workload)) {
    if (ledger.Apply(c.command, 0, c.meta.command_id).decision.accepted()) {
      report.expected_balance += NetDeposit(c.command);
    }
  }

  Shared sh(o.workload.producers);
  std::vector<LatencyHistogram> latencies(n);
  std::vector<ProducerTally> tallies(n);
  std::uint64_t events = 0, encoded_bytes = 0;
  std::thread consumer([&] { RunConsumer(sh, ledger, o, events, encoded_bytes); });

  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> producers;
  for (int p = 0; p < o.workload.producers; ++p) {
    producers.emplace_back([&, p] {
      RunProducer(sh, o, p, latencies[static_cast<std::size_t>(p)], tallies[static_cast<std::size_t>(p)]);
    });
  }
  if (o.commands_per_producer == 0) {
    std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
    sh.stop.store(true, std::memory_order_relaxed);
  }
  for (std::thread& t : producers) t.join();
  // Every producer has seen all its outcomes, so the queue is empty: this only ends the consumer.
  const auto end = std::chrono::steady_clock::now();
  {
    std::lock_guard lk(sh.mu);
    sh.shutdown = true;
  }
  sh.work_cv.notify_one();
  consumer.join();

  report.seconds = std::chrono::duration<double>(end - start).count();
  for (std::size_t p = 0; p < n; ++p) {
    report.latency.Merge(latencies[p]);
    report.accepted += tallies[p].accepted;
    report.rejected += tallies[p].rejected;
    report.expected_balance += tallies[p].net;
  }
  report.commands = report.accepted + report.rejected;
  report.events = events;
  report.encoded_bytes = encoded_bytes;
  report.throughput_per_s = report.seconds > 0 ? static_cast<double>(report.commands) / report.seconds : 0;
  report.total_balance = ledger.TotalBalance();
  return report;
}

}  // namespace rill::bench
