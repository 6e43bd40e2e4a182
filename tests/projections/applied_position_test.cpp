// Tests of projections/applied_position.cpp: wait_for (read-your-writes) on its own.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "rill/projections/applied_position.h"

using rill::projections::AppliedPosition;
using namespace std::chrono_literals;

TEST_CASE("wait_for returns at once for a position already applied", "[projections][wait_for]") {
  AppliedPosition a("v");
  a.Publish(10);
  CHECK(a.WaitFor(10, AppliedPosition::Clock::now()).ok());  // deadline already passed: still OK
  CHECK(a.WaitFor(3, 0ns).ok());
}

TEST_CASE("wait_for times out, naming the view and positions, when the position is never applied",
          "[projections][wait_for]") {
  AppliedPosition a("bank.balances");
  a.Publish(4);
  const rill::Status s = a.WaitFor(5, 20ms);
  REQUIRE(s.IsTimedOut());
  CHECK(s.ToString().find("bank.balances") != std::string::npos);
  CHECK(s.ToString().find("4 of 5") != std::string::npos);
}

TEST_CASE("wait_for wakes when another thread publishes the position", "[projections][wait_for]") {
  AppliedPosition a("v");
  std::atomic<bool> waiting{false};
  rill::Status result = rill::Status::Unavailable("not run");
  std::thread waiter([&] {
    waiting.store(true);
    result = a.WaitFor(100, 60s);  // generous: the test must not depend on timing
  });
  while (!waiting.load()) std::this_thread::yield();
  for (std::uint64_t p = 1; p <= 100; ++p) a.Publish(p);
  waiter.join();
  CHECK(result.ok());
}

TEST_CASE("many waiters on more threads than cores all return, each once its position is applied",
          "[projections][wait_for]") {
  AppliedPosition a("v");
  constexpr int kWaiters = 12;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0}, early{0};
  for (int i = 0; i < kWaiters; ++i) {
    threads.emplace_back([&, i] {
      const std::uint64_t target = 1 + static_cast<std::uint64_t>(i) * 50;
      if (a.WaitFor(target, 60s).ok()) {
        ok.fetch_add(1);
        if (a.position() < target) early.fetch_add(1);
      }
    });
  }
  for (std::uint64_t p = 1; p <= 600; ++p) {
    a.Publish(p);
    if (p % 64 == 0) std::this_thread::yield();
  }
  for (auto& t : threads) t.join();
  CHECK(ok.load() == kWaiters);
  CHECK(early.load() == 0);
}

TEST_CASE("a halt wakes waiters with Unavailable and the reason, positions below still succeed",
          "[projections][wait_for]") {
  AppliedPosition a("v");
  a.Publish(7);
  rill::Status result;
  std::atomic<bool> started{false};
  std::thread waiter([&] {
    started.store(true);
    result = a.WaitFor(50, 60s);
  });
  while (!started.load()) std::this_thread::yield();
  a.Halt(8, "the event at position 8 is bad");
  waiter.join();
  REQUIRE(result.IsUnavailable());
  CHECK(result.ToString().find("position 8") != std::string::npos);
  CHECK(a.WaitFor(7, 0ns).ok());
  CHECK_FALSE(a.WaitApplied(8, AppliedPosition::Clock::now() + 60s));  // returns at once: halted
}
