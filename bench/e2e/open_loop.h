// rill/bench/e2e/open_loop.h: the send schedule of an open-loop producer: command i is meant
// to be sent at start + i * interval, whatever happened to earlier commands, and its latency
// is measured from that intended time, so a stall that delays sends shows up as latency
// instead of being hidden (no coordinated omission).
//
//   OpenLoopSchedule s(start_ns, /*rate_per_s=*/500'000);
//   for (;;) {
//     const std::int64_t now = clock();
//     while (sent < s.DueBy(now) && have_free_slot()) send(sent++, /*intended=*/s.Intended(sent));
//     ...
//     histogram.Record(OpenLoopLatency(s.Intended(i), done_ns));   // never from the send time
//   }
//
// The clock is the caller's (steady_clock ns in the driver, a fake in tests): the schedule is
// pure arithmetic, so it can be tested without time. Thread safety: one owner.
#pragma once

#include <cstdint>

namespace rill::bench {

class OpenLoopSchedule {
 public:
  // REQUIRES: rate_per_s > 0.
  OpenLoopSchedule(std::int64_t start_ns, double rate_per_s) noexcept
      : start_ns_(start_ns), interval_ns_(1e9 / rate_per_s) {}

  // When command i (from 0) is meant to be sent.
  std::int64_t Intended(std::uint64_t i) const noexcept {
    return start_ns_ + static_cast<std::int64_t>(static_cast<double>(i) * interval_ns_);
  }
  // How many commands are due by `now_ns` (those with Intended(i) <= now_ns).
  std::uint64_t DueBy(std::int64_t now_ns) const noexcept {
    if (now_ns < start_ns_) return 0;
    auto n = static_cast<std::uint64_t>(static_cast<double>(now_ns - start_ns_) / interval_ns_) + 1;
    // Floating point may round across a boundary: settle on the exact definition.
    while (n > 0 && Intended(n - 1) > now_ns) --n;
    while (Intended(n) <= now_ns) ++n;
    return n;
  }
  double interval_ns() const noexcept { return interval_ns_; }
  std::int64_t start_ns() const noexcept { return start_ns_; }

 private:
  std::int64_t start_ns_;
  double interval_ns_;
};

// Latency of an open-loop command: from its intended send time to its outcome (0 if the
// outcome somehow precedes it, which a consistent clock never shows).
constexpr std::uint64_t OpenLoopLatency(std::int64_t intended_ns, std::int64_t done_ns) noexcept {
  return done_ns > intended_ns ? static_cast<std::uint64_t>(done_ns - intended_ns) : 0;
}

}  // namespace rill::bench
