#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "rill/base/futex.h"
#include "rill/base/thread_affinity.h"

TEST_CASE("FutexWait returns at once when the word no longer holds the expected value", "[base][futex]") {
  std::atomic<std::uint32_t> word{5};
  CHECK(rill::FutexWait(word, 4, -1) == rill::FutexWaitResult::kWoken);
}

TEST_CASE("FutexWait times out when nobody changes the word", "[base][futex]") {
  std::atomic<std::uint32_t> word{0};
  CHECK(rill::FutexWait(word, 0, 1'000'000) == rill::FutexWaitResult::kTimedOut);
}

TEST_CASE("a sleeper on a futex wakes when the word changes and FutexWake is called", "[base][futex]") {
  std::atomic<std::uint32_t> word{0};
  std::thread sleeper([&] {
    // Re-check after every wake-up: spurious wake-ups are allowed.
    while (word.load(std::memory_order_acquire) == 0) rill::FutexWait(word, 0, -1);
  });
  word.store(1, std::memory_order_release);
  rill::FutexWakeAll(word);
  sleeper.join();
  CHECK(word.load() == 1);
}

TEST_CASE("pinning to a CPU that does not exist is an InvalidArgument, not a crash", "[base][affinity]") {
  const int cpus = rill::AvailableCpuCount();
  CHECK(cpus >= 1);
  CHECK(rill::PinCurrentThread(cpus + 4096).IsInvalidArgument());
  CHECK(rill::PinCurrentThread(-1).IsInvalidArgument());
  std::thread t([] {
    CHECK(rill::PinCurrentThread(0).ok());  // CPU 0 exists wherever this runs (2-core CI)
  });
  t.join();
}
