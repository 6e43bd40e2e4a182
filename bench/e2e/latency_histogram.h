// rill/bench/e2e/latency_histogram.h: a log-linear latency histogram in the HdrHistogram
// style, for `rill bench` and its baselines. Values are nanoseconds from 0 to
// kMaxTrackable (about 73 minutes); larger values are clamped to it and counted in clamped().
//
//   rill::bench::LatencyHistogram h;                 // allocates its ~270 KiB of counters once
//   h.Record(done_ns - submit_ns);                   // closed loop: no allocation, no branch
//   h.Record(done_ns - intended_send_ns);            // open loop: see "Coordinated omission"
//   all.Merge(h);                                    // per-thread histograms, merged after join
//   LatencySummary s = all.Summarize();              // count, min, mean, p50 ... p99.9, max
//   for (auto [value_ns, fraction] : all.CumulativePoints()) ...   // for a plot
//
// Layout: values below 2^11 have a counter each (exact). Above, each power-of-two range
// [2^k, 2^(k+1)) is split into 1024 equal sub-buckets, so a recorded value and the value a
// percentile reports differ by less than kRelativePrecision = 2^-10 (about 0.1 %, three
// significant digits). Percentile(p) returns the highest value equivalent to the bucket that
// holds the sample of rank ceil(p/100 * count) (the same rank a sorted array gives), clamped
// to the exact max: never below the true sample, at most 0.1 % above it.
//
// Coordinated omission: in an open loop (a fixed offered rate), record completion minus the
// command's *intended* send time (start + i / rate), never minus the time it was actually
// sent, so a stall that delays later sends shows in their latency. RecordCorrected(v, interval)
// is HdrHistogram's after-the-fact alternative for a closed loop that was meant to send every
// `interval` ns: it also records v - interval, v - 2*interval, ... down to interval.
//
// Thread safety: one recording thread per histogram; Merge and the queries once it is done.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <vector>

namespace rill::bench {

struct LatencySummary {
  std::uint64_t count = 0;
  std::uint64_t min = 0, max = 0;  // exact
  double mean = 0;                 // from bucket midpoints, within kRelativePrecision
  std::uint64_t p50 = 0, p90 = 0, p99 = 0, p999 = 0;
};

class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 11;                                    // 2048 exact values first
  static constexpr std::uint64_t kSubBucketHalf = 1u << (kSubBucketBits - 1);  // 1024 per power of two
  static constexpr int kMaxValueBits = 42;                                     // 2^42 ns = 73.3 minutes
  static constexpr std::uint64_t kMaxTrackable = (std::uint64_t{1} << kMaxValueBits) - 1;
  static constexpr double kRelativePrecision = 1.0 / kSubBucketHalf;
  static constexpr std::size_t kBucketCount = (kMaxValueBits - kSubBucketBits + 2) * kSubBucketHalf;

  LatencyHistogram() : counts_(kBucketCount, 0) {}

  // The hot path: a clamp, a count-leading-zeros, a shift and two increments.
  void Record(std::uint64_t value_ns) noexcept { RecordN(value_ns, 1); }
  void RecordN(std::uint64_t value_ns, std::uint64_t n) noexcept {
    clamped_ += value_ns > kMaxTrackable ? n : 0;
    const std::uint64_t v = std::min(value_ns, kMaxTrackable);
    counts_[IndexOf(v)] += n;
    count_ += n;
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
  }
  // Records value_ns and the samples a stalled closed loop failed to send (see above).
  // expected_interval_ns == 0 records value_ns alone.
  void RecordCorrected(std::uint64_t value_ns, std::uint64_t expected_interval_ns) noexcept {
    Record(value_ns);
    if (expected_interval_ns == 0) return;
    for (std::uint64_t v = value_ns; v > expected_interval_ns;) {
      v -= expected_interval_ns;
      Record(v);
    }
  }

  void Merge(const LatencyHistogram& other) noexcept;
  void Reset() noexcept;

  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t clamped() const noexcept { return clamped_; }
  std::uint64_t min() const noexcept { return count_ ? min_ : 0; }
  std::uint64_t max() const noexcept { return max_; }
  double Mean() const noexcept;
  // p in [0, 100]; 0 when empty. Percentile(100) == max().
  std::uint64_t Percentile(double p) const noexcept;
  LatencySummary Summarize() const noexcept;

  struct Point {
    std::uint64_t value_ns;  // highest value of a non-empty bucket (clamped to max)
    double fraction;         // of samples <= value_ns
  };
  // One point per non-empty bucket, ascending; at most max_points (evenly thinned, the last
  // point always kept) so a plot stays small.
  std::vector<Point> CumulativePoints(std::size_t max_points = 2000) const;
  // The points as gnuplot-ready text: "value_ns fraction 1/(1-fraction)" per line, '#' header.
  void WritePlotData(std::FILE* out, std::size_t max_points = 2000) const;

  // Bucket arithmetic, public for tests.
  static std::size_t IndexOf(std::uint64_t v) noexcept {
    // shift = 0 below 2^11 (exact counters), else the magnitude above the sub-bucket range.
    const int magnitude = std::bit_width(v | 1) - 1;
    const int shift = std::max(magnitude - (kSubBucketBits - 1), 0);
    return static_cast<std::size_t>(kSubBucketHalf * static_cast<std::uint64_t>(shift) + (v >> shift));
  }
  static std::uint64_t LowestEquivalent(std::size_t index) noexcept;
  static std::uint64_t HighestEquivalent(std::size_t index) noexcept;

 private:
  std::vector<std::uint64_t> counts_;  // sized once; never reallocated while recording
  std::uint64_t count_ = 0;
  std::uint64_t clamped_ = 0;
  std::uint64_t min_ = ~std::uint64_t{0};
  std::uint64_t max_ = 0;
};

}  // namespace rill::bench
