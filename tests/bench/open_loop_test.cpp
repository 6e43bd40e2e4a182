// The open-loop schedule: command i is due at start + i / rate, and its latency counts from
// that intended time, so a stall of the system shows in the latency of every command that was
// due during it (no coordinated omission). A fake clock: nothing here depends on time.
#include "rill/bench/e2e/open_loop.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "rill/bench/e2e/latency_histogram.h"

using rill::bench::LatencyHistogram;
using rill::bench::OpenLoopLatency;
using rill::bench::OpenLoopSchedule;

TEST_CASE("intended times are start + i / rate, and DueBy counts those at or before now", "[bench][open_loop]") {
  const OpenLoopSchedule s(1'000, 1'000'000);  // one command per microsecond
  CHECK(s.Intended(0) == 1'000);
  CHECK(s.Intended(1) == 2'000);
  CHECK(s.Intended(1'000'000) == 1'000'001'000);
  CHECK(s.DueBy(999) == 0);
  CHECK(s.DueBy(1'000) == 1);
  CHECK(s.DueBy(1'999) == 1);
  CHECK(s.DueBy(2'000) == 2);
  CHECK(s.DueBy(101'000) == 101);
}

TEST_CASE("DueBy agrees with Intended at awkward rates", "[bench][open_loop]") {
  for (const double rate : {3.0, 7.0, 333'333.0, 999'999.0, 1'234'567.0}) {
    const OpenLoopSchedule s(12'345, rate);
    for (std::uint64_t i = 0; i < 2'000; i += 7) {
      INFO("rate " << rate << " i " << i);
      CHECK(s.DueBy(s.Intended(i)) == i + 1);  // due exactly at its time
      CHECK(s.DueBy(s.Intended(i) - 1) <= i);  // not before
    }
  }
}

// Simulates a producer at 1M/s with a fake clock: the system answers instantly, except that
// it stalls for 100 us once. Commands due during the stall are sent late, all at once; their
// latency from the intended time shows the stall, their latency from the send time would not.
TEST_CASE("a stall shows in the latency of every command due during it", "[bench][open_loop]") {
  const OpenLoopSchedule s(0, 1'000'000);
  LatencyHistogram from_intended, from_send;
  std::uint64_t sent = 0;
  std::int64_t now = 0;
  const std::int64_t stall_from = 10'000, stall_to = 110'000;  // ns
  while (sent < 150) {
    if (now >= stall_from && now < stall_to) now = stall_to;  // the producer could not run
    const std::uint64_t due = s.DueBy(now);
    for (; sent < due && sent < 150; ++sent) {
      const std::int64_t done = now;  // answered at once
      from_intended.Record(OpenLoopLatency(s.Intended(sent), done));
      from_send.Record(OpenLoopLatency(now, done));
    }
    now += 250;  // the fake clock's next tick
  }
  CHECK(from_intended.count() == 150);
  CHECK(from_send.max() == 0);  // coordinated omission: the stall is invisible
  // Command 10 (due at 10 us) waited until 110 us: 100 us; the last one due in the stall, 0.
  CHECK(from_intended.max() == 100'000);
  // 100 of 150 commands were due during the stall: the median sits inside it.
  CHECK(from_intended.Percentile(50) > 0);
  CHECK(from_intended.Percentile(25) <= 250);
}

TEST_CASE("latency never goes negative", "[bench][open_loop]") {
  CHECK(OpenLoopLatency(100, 50) == 0);
  CHECK(OpenLoopLatency(100, 350) == 250);
}
