// Unit tests for the wait strategies, alone and driving a tiny ring where both sides wait.
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdint>
#include <thread>
#include <type_traits>

#include "rill/engine/batch_consumer.h"
#include "rill/engine/ring_buffer.h"
#include "rill/engine/wait_strategy.h"

using namespace rill::engine;

TEST_CASE("a Block sleeper wakes on notify after the progress it waits for", "[engine][wait]") {
  Block block;
  std::atomic<bool> ready{false};
  std::thread waiter([&] { block.wait_until([&]() noexcept { return ready.load(std::memory_order_acquire); }); });
  // Wait until the waiter is really asleep (or about to be): the wake must not be lost.
  while (block.sleepers() == 0) std::this_thread::yield();
  ready.store(true, std::memory_order_release);
  block.notify();
  waiter.join();
  CHECK(ready.load());
}

TEST_CASE("a Block waiter whose condition already holds does not sleep", "[engine][wait]") {
  Block block;
  block.wait_until([]() noexcept { return true; });
  CHECK(block.sleepers() == 0);
  block.notify();  // nobody sleeps: no wake, no effect
}

TEMPLATE_TEST_CASE("every wait strategy hands items through a 4-slot ring in order", "[engine][wait]", BusySpin, Yield,
                   Block, PhasedBackoff) {
  // Four slots force both sides to wait often: the consumer for data, the producer for space.
  RingBuffer<std::int64_t, MultiProducerSequencer<TestType, TestType>> ring(4);
  // BusySpin never yields: when both threads share a core (ctest -j2 on a busy 2-core box)
  // each hand-off can cost a time slice, so it moves fewer items. Correct either way.
  constexpr std::int64_t kItems = std::is_same_v<TestType, BusySpin> ? 2'000 : 20'000;
  std::thread producer([&] {
    for (std::int64_t i = 0; i < kItems; ++i) {
      REQUIRE(ring.publish_event([&](std::int64_t& slot, std::int64_t) { slot = i; }) == ClaimStatus::kOk);
    }
  });
  BatchConsumer consumer(ring);
  std::int64_t expected = 0;
  bool in_order = true;
  while (expected < kItems) {
    consumer.process_batch([&](std::int64_t& v, std::int64_t, bool) { in_order &= (v == expected++); });
  }
  producer.join();
  CHECK(in_order);
}
