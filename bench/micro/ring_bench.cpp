// ring_1p1c/<impl>, ring_1p1c_batch/rill, ring_3p1c/<impl>, ring_pingpong/<impl>: the command
// ring against the queues a user could pick instead, all moving the same 64-byte command,
// measured in the same run (BENCHMARKING.md: ratios, not absolute figures).
//
//   rill         rill::engine::SpscRing (1p1c, pingpong) / MpscRing (3p1c), default PhasedBackoff
//   boost_spsc   boost::lockfree::spsc_queue (1p1c and pingpong only)
//   boost_queue  boost::lockfree::queue (lock-free MPMC)
//   mutex        std::mutex + std::condition_variable + std::deque, bounded, one item per lock
//
// Every iteration starts fresh threads and moves a fixed number of commands; wall time
// (UseRealTime) covers start to the consumer's last item. Two-thread cases pin the producer
// to CPU 0 and the consumer to CPU 1; the baselines spin (with pause) while pinned. The 3p1c
// case runs four threads on two cores, unpinned: nobody busy-spins there (rill uses its
// default phased backoff, the baselines yield).
// On this shared 2-vCPU VM a figure moves 3-10x within seconds (spinning baselines suffer
// most when a core is taken away); add --benchmark_enable_random_interleaving=true so the
// repetitions of rill and its baselines alternate instead of running in separate windows.
#include <benchmark/benchmark.h>

#include <atomic>
#include <boost/lockfree/queue.hpp>
#include <boost/lockfree/spsc_queue.hpp>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "rill/base/thread_affinity.h"
#include "rill/engine/batch_consumer.h"
#include "rill/engine/ring_buffer.h"

namespace {

using rill::engine::BatchConsumer;
using rill::engine::Claim;

// The command every implementation moves: 64 bytes, trivially copyable.
struct Command {
  std::uint64_t id;
  std::uint64_t payload[7];
};
static_assert(sizeof(Command) == 64);

constexpr std::size_t kCapacity = 4096;  // 256 KiB of slots: fits L2 beside everything else
constexpr std::int64_t k1p1cItems = 1 << 21;
constexpr std::int64_t k3p1cItemsPerProducer = 1 << 17;
constexpr int kProducers3p1c = 3;
constexpr std::int64_t kBatch = 64;  // ring_1p1c_batch: slots per claim

void Fill(Command& c, std::uint64_t i) noexcept {
  c.id = i;
  for (std::uint64_t k = 0; k < 7; ++k) c.payload[k] = i + k;
}
// The consumer reads the whole command, as a real handler would decode it.
std::uint64_t Digest(const Command& c) noexcept { return c.id + c.payload[6]; }

void Pin(int cpu) {
  if (rill::Status s = rill::PinCurrentThread(cpu); !s.ok()) {
    static std::once_flag warned;
    std::call_once(warned, [&] { std::fprintf(stderr, "warning: %s; running unpinned\n", s.ToString().c_str()); });
  }
}

void Relax() noexcept { rill::engine::detail::CpuRelax(); }

// One 1p1c round: consume on CPU 1, produce on CPU 0, wait for both.
template <typename Consume, typename Produce>
void RunPinnedPair(Consume&& consume, Produce&& produce) {
  std::thread consumer([&] {
    Pin(1);
    consume();
  });
  std::thread producer([&] {
    Pin(0);
    produce();
  });
  producer.join();
  consumer.join();
}

// The rill consumer: batches until the producer shuts the ring down and it is drained.
template <typename Ring>
void ConsumeAll(Ring& ring, std::uint64_t& sum) {
  BatchConsumer c(ring);
  c.run([&](Command& cmd, std::int64_t, bool) { sum += Digest(cmd); });
}

// The same sum whatever the implementation: sum over i of Digest(Fill(i)) = 2*i + 6.
std::uint64_t ExpectedSum(std::int64_t n, std::uint64_t first = 0) {
  std::uint64_t sum = 0;
  for (std::uint64_t i = first; i < first + static_cast<std::uint64_t>(n); ++i) sum += 2 * i + 6;
  return sum;
}

void Finish(benchmark::State& state, std::int64_t items_per_iteration, std::uint64_t sum, std::uint64_t expected) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * items_per_iteration);
  if (sum != expected) state.SkipWithError("consumer saw the wrong commands");
}

// A bounded blocking queue as most code writes it: one item per lock, notify per operation.
class MutexQueue {
 public:
  explicit MutexQueue(std::size_t capacity) : capacity_(capacity) {}
  void push(const Command& c) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return items_.size() < capacity_; });
    items_.push_back(c);
    lock.unlock();
    not_empty_.notify_one();
  }
  Command pop() {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return !items_.empty(); });
    const Command c = items_.front();
    items_.pop_front();
    lock.unlock();
    not_full_.notify_one();
    return c;
  }

 private:
  std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  std::deque<Command> items_;
  const std::size_t capacity_;
};

using BoostSpsc = boost::lockfree::spsc_queue<Command, boost::lockfree::capacity<kCapacity>>;
using BoostQueue = boost::lockfree::queue<Command, boost::lockfree::fixed_sized<true>>;

// ---------------------------------------------------------------------------------------
// 1 producer, 1 consumer, pinned.

void BM_Ring1p1c_Rill(benchmark::State& state) {
  std::uint64_t sum = 0;
  for (auto _ : state) {
    rill::engine::SpscRing<Command> ring(kCapacity);
    RunPinnedPair([&] { ConsumeAll(ring, sum); },
                  [&] {
                    for (std::int64_t i = 0; i < k1p1cItems; ++i) {
                      const Claim c = ring.claim();
                      Fill(ring[c.first], static_cast<std::uint64_t>(i));
                      ring.publish(c.first);
                    }
                    ring.shutdown();  // the consumer drains, then returns
                  });
  }
  Finish(state, k1p1cItems, sum, ExpectedSum(k1p1cItems) * state.iterations());
}

void BM_Ring1p1cBatch_Rill(benchmark::State& state) {
  std::uint64_t sum = 0;
  for (auto _ : state) {
    rill::engine::SpscRing<Command> ring(kCapacity);
    RunPinnedPair([&] { ConsumeAll(ring, sum); },
                  [&] {
                    for (std::int64_t i = 0; i < k1p1cItems; i += kBatch) {
                      const Claim c = ring.claim(kBatch);
                      for (std::int64_t s = c.first; s <= c.last; ++s) Fill(ring[s], static_cast<std::uint64_t>(s));
                      ring.publish(c);
                    }
                    ring.shutdown();
                  });
  }
  Finish(state, k1p1cItems, sum, ExpectedSum(k1p1cItems) * state.iterations());
}

void BM_Ring1p1c_BoostSpsc(benchmark::State& state) {
  std::uint64_t sum = 0;
  auto queue = std::make_unique<BoostSpsc>();
  for (auto _ : state) {
    std::atomic<bool> done{false};
    RunPinnedPair(
        [&] {
          auto take = [&](const Command& cmd) { sum += Digest(cmd); };
          for (;;) {
            if (queue->consume_all(take) != 0) continue;
            if (done.load(std::memory_order_acquire)) {
              queue->consume_all(take);
              return;
            }
            Relax();
          }
        },
        [&] {
          Command cmd;
          for (std::int64_t i = 0; i < k1p1cItems; ++i) {
            Fill(cmd, static_cast<std::uint64_t>(i));
            while (!queue->push(cmd)) Relax();
          }
          done.store(true, std::memory_order_release);
        });
  }
  Finish(state, k1p1cItems, sum, ExpectedSum(k1p1cItems) * state.iterations());
}

void BM_Ring1p1c_BoostQueue(benchmark::State& state) {
  std::uint64_t sum = 0;
  BoostQueue queue(kCapacity);
  for (auto _ : state) {
    std::atomic<bool> done{false};
    RunPinnedPair(
        [&] {
          Command cmd;
          for (;;) {
            if (queue.pop(cmd)) {
              sum += Digest(cmd);
              continue;
            }
            if (done.load(std::memory_order_acquire) && queue.empty()) return;
            Relax();
          }
        },
        [&] {
          Command cmd;
          for (std::int64_t i = 0; i < k1p1cItems; ++i) {
            Fill(cmd, static_cast<std::uint64_t>(i));
            while (!queue.bounded_push(cmd)) Relax();
          }
          done.store(true, std::memory_order_release);
        });
  }
  Finish(state, k1p1cItems, sum, ExpectedSum(k1p1cItems) * state.iterations());
}

void BM_Ring1p1c_Mutex(benchmark::State& state) {
  std::uint64_t sum = 0;
  for (auto _ : state) {
    MutexQueue queue(kCapacity);
    RunPinnedPair(
        [&] {
          for (std::int64_t i = 0; i < k1p1cItems; ++i) sum += Digest(queue.pop());
        },
        [&] {
          Command cmd;
          for (std::int64_t i = 0; i < k1p1cItems; ++i) {
            Fill(cmd, static_cast<std::uint64_t>(i));
            queue.push(cmd);
          }
        });
  }
  Finish(state, k1p1cItems, sum, ExpectedSum(k1p1cItems) * state.iterations());
}

// ---------------------------------------------------------------------------------------
// 3 producers, 1 consumer: four threads on two cores, unpinned, nobody busy-spins.

constexpr std::int64_t k3p1cItems = k3p1cItemsPerProducer * kProducers3p1c;
constexpr char k3p1cLabel[] = "4 threads > 2 cores: oversubscribed, unpinned, no busy-spin";

// Producer p sends ids p, p+3, p+6, ...: the consumer's sum is the same for every impl.
template <typename Send>
void RunProducers(Send send) {
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers3p1c; ++p) {
    producers.emplace_back([&send, p] {
      Command cmd;
      for (std::int64_t i = 0; i < k3p1cItemsPerProducer; ++i) {
        Fill(cmd, static_cast<std::uint64_t>(i * kProducers3p1c + p));
        send(cmd);
      }
    });
  }
  for (auto& t : producers) t.join();
}

void BM_Ring3p1c_Rill(benchmark::State& state) {
  std::uint64_t sum = 0;
  for (auto _ : state) {
    rill::engine::MpscRing<Command> ring(kCapacity);
    std::thread consumer([&] { ConsumeAll(ring, sum); });
    RunProducers([&](const Command& cmd) {
      const Claim c = ring.claim();
      ring[c.first] = cmd;
      ring.publish(c.first);
    });
    ring.shutdown();
    consumer.join();
  }
  state.SetLabel(k3p1cLabel);
  Finish(state, k3p1cItems, sum, ExpectedSum(k3p1cItems) * state.iterations());
}

void BM_Ring3p1c_BoostQueue(benchmark::State& state) {
  std::uint64_t sum = 0;
  BoostQueue queue(kCapacity);
  for (auto _ : state) {
    std::atomic<bool> done{false};
    std::thread consumer([&] {
      Command cmd;
      for (;;) {
        if (queue.pop(cmd)) {
          sum += Digest(cmd);
          continue;
        }
        if (done.load(std::memory_order_acquire) && queue.empty()) return;
        std::this_thread::yield();
      }
    });
    RunProducers([&](const Command& cmd) {
      while (!queue.bounded_push(cmd)) std::this_thread::yield();
    });
    done.store(true, std::memory_order_release);
    consumer.join();
  }
  state.SetLabel(k3p1cLabel);
  Finish(state, k3p1cItems, sum, ExpectedSum(k3p1cItems) * state.iterations());
}

void BM_Ring3p1c_Mutex(benchmark::State& state) {
  std::uint64_t sum = 0;
  for (auto _ : state) {
    MutexQueue queue(kCapacity);
    std::thread consumer([&] {
      for (std::int64_t i = 0; i < k3p1cItems; ++i) sum += Digest(queue.pop());
    });
    RunProducers([&](const Command& cmd) { queue.push(cmd); });
    consumer.join();
  }
  state.SetLabel(k3p1cLabel);
  Finish(state, k3p1cItems, sum, ExpectedSum(k3p1cItems) * state.iterations());
}

// ---------------------------------------------------------------------------------------
// Round trip: CPU 0 sends a command, CPU 1 echoes it back; one iteration = one round trip.

void BM_RingPingpong_Rill(benchmark::State& state) {
  rill::engine::SpscRing<Command> there(kCapacity), back(kCapacity);
  std::thread echo([&] {
    Pin(1);
    BatchConsumer c(there);
    c.run([&](Command& cmd, std::int64_t, bool) {
      if (back.publish_event([&](Command& out, std::int64_t) { out = cmd; }) != rill::engine::ClaimStatus::kOk) return;
    });
  });
  Pin(0);
  BatchConsumer replies(back);
  std::uint64_t i = 0, sum = 0;
  for (auto _ : state) {
    (void)there.publish_event([&](Command& cmd, std::int64_t) { Fill(cmd, i++); });
    (void)replies.process_batch([&](Command& cmd, std::int64_t, bool) { sum += Digest(cmd); });
  }
  there.shutdown();
  echo.join();
  Finish(state, 1, sum, ExpectedSum(static_cast<std::int64_t>(i)));
}

template <typename Queue>
void PingpongLockFree(benchmark::State& state) {
  auto there = std::make_unique<Queue>(kCapacity), back = std::make_unique<Queue>(kCapacity);
  std::atomic<bool> done{false};
  std::thread echo([&] {
    Pin(1);
    Command cmd;
    while (!done.load(std::memory_order_acquire)) {
      if (!there->pop(cmd)) {
        Relax();
        continue;
      }
      while (!back->push(cmd)) Relax();
    }
  });
  Pin(0);
  std::uint64_t i = 0, sum = 0;
  Command cmd;
  for (auto _ : state) {
    Fill(cmd, i++);
    while (!there->push(cmd)) Relax();
    while (!back->pop(cmd)) Relax();
    sum += Digest(cmd);
  }
  done.store(true, std::memory_order_release);
  echo.join();
  Finish(state, 1, sum, ExpectedSum(static_cast<std::int64_t>(i)));
}

// spsc_queue with a compile-time capacity has no size constructor; adapt it.
struct BoostSpscSized : BoostSpsc {
  explicit BoostSpscSized(std::size_t) {}
};

void BM_RingPingpong_BoostSpsc(benchmark::State& state) { PingpongLockFree<BoostSpscSized>(state); }
void BM_RingPingpong_BoostQueue(benchmark::State& state) { PingpongLockFree<BoostQueue>(state); }

void BM_RingPingpong_Mutex(benchmark::State& state) {
  MutexQueue there(kCapacity), back(kCapacity);
  std::thread echo([&] {
    Pin(1);
    for (;;) {
      const Command cmd = there.pop();
      if (cmd.id == ~std::uint64_t{0}) return;  // the stop command
      back.push(cmd);
    }
  });
  Pin(0);
  std::uint64_t i = 0, sum = 0;
  Command cmd;
  for (auto _ : state) {
    Fill(cmd, i++);
    there.push(cmd);
    sum += Digest(back.pop());
  }
  cmd.id = ~std::uint64_t{0};
  there.push(cmd);
  echo.join();
  Finish(state, 1, sum, ExpectedSum(static_cast<std::int64_t>(i)));
}

// The pingpong benchmarks pin the benchmark thread itself to CPU 0; put it back afterwards
// so later benchmarks in the binary run where they would have.
class RestoreAffinity {
 public:
  static void Save() { pthread_getaffinity_np(pthread_self(), sizeof saved_, &saved_); }
  static void Restore() { pthread_setaffinity_np(pthread_self(), sizeof saved_, &saved_); }

 private:
  static inline cpu_set_t saved_;
};

template <void (*Fn)(benchmark::State&)>
void RestoringAffinity(benchmark::State& state) {
  RestoreAffinity::Save();
  Fn(state);
  RestoreAffinity::Restore();
}

BENCHMARK(BM_Ring1p1c_Rill)->Name("ring_1p1c/rill")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Ring1p1c_BoostSpsc)->Name("ring_1p1c/boost_spsc")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Ring1p1c_BoostQueue)->Name("ring_1p1c/boost_queue")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Ring1p1c_Mutex)->Name("ring_1p1c/mutex")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Ring1p1cBatch_Rill)->Name("ring_1p1c_batch/rill")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Ring3p1c_Rill)->Name("ring_3p1c/rill")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Ring3p1c_BoostQueue)->Name("ring_3p1c/boost_queue")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Ring3p1c_Mutex)->Name("ring_3p1c/mutex")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(RestoringAffinity<BM_RingPingpong_Rill>)->Name("ring_pingpong/rill")->UseRealTime();
BENCHMARK(RestoringAffinity<BM_RingPingpong_BoostSpsc>)->Name("ring_pingpong/boost_spsc")->UseRealTime();
BENCHMARK(RestoringAffinity<BM_RingPingpong_BoostQueue>)->Name("ring_pingpong/boost_queue")->UseRealTime();
BENCHMARK(RestoringAffinity<BM_RingPingpong_Mutex>)->Name("ring_pingpong/mutex")->UseRealTime();

}  // namespace
