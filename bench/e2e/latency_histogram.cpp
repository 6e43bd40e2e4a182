#include "rill/bench/e2e/latency_histogram.h"

#include <cmath>

namespace rill::bench {
namespace {
// Inverse of IndexOf: the shift of the bucket range an index belongs to.
int ShiftOf(std::size_t index) noexcept {
  const std::uint64_t range = index / LatencyHistogram::kSubBucketHalf;
  return range < 2 ? 0 : static_cast<int>(range - 1);
}
}  // namespace

std::uint64_t LatencyHistogram::LowestEquivalent(std::size_t index) noexcept {
  const int shift = ShiftOf(index);
  return (static_cast<std::uint64_t>(index) - kSubBucketHalf * static_cast<std::uint64_t>(shift)) << shift;
}

std::uint64_t LatencyHistogram::HighestEquivalent(std::size_t index) noexcept {
  return LowestEquivalent(index) + (std::uint64_t{1} << ShiftOf(index)) - 1;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) noexcept {
  for (std::size_t i = 0; i < kBucketCount; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  clamped_ += other.clamped_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void LatencyHistogram::Reset() noexcept {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = clamped_ = max_ = 0;
  min_ = ~std::uint64_t{0};
}

double LatencyHistogram::Mean() const noexcept {
  if (count_ == 0) return 0;
  // long double: 3.6e12 ns x billions of samples must not lose the small values' weight.
  long double sum = 0;
  for (std::size_t i = 0; i < kBucketCount; ++i) {
    if (counts_[i] == 0) continue;
    const long double mid = (static_cast<long double>(LowestEquivalent(i)) + HighestEquivalent(i)) / 2;
    sum += mid * counts_[i];
  }
  return static_cast<double>(sum / count_);
}

std::uint64_t LatencyHistogram::Percentile(double p) const noexcept {
  if (count_ == 0) return 0;
  p = std::clamp(p, 0.0, 100.0);
  // The rank a sorted array of the samples would use: ceil(p% of count), at least 1. The
  // epsilon keeps 99.9% of 1000 at 999: in binary 99.9 / 100 * 1000 is a hair above it.
  const double exact = p / 100.0 * static_cast<double>(count_);
  auto rank = static_cast<std::uint64_t>(std::ceil(exact - exact * 1e-12));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBucketCount; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(HighestEquivalent(i), max_);
  }
  return max_;
}

LatencySummary LatencyHistogram::Summarize() const noexcept {
  LatencySummary s;
  s.count = count_;
  s.min = min();
  s.max = max_;
  s.mean = Mean();
  s.p50 = Percentile(50);
  s.p90 = Percentile(90);
  s.p99 = Percentile(99);
  s.p999 = Percentile(99.9);
  return s;
}

std::vector<LatencyHistogram::Point> LatencyHistogram::CumulativePoints(std::size_t max_points) const {
  std::vector<Point> all;
  if (count_ == 0 || max_points == 0) return all;
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBucketCount; ++i) {
    if (counts_[i] == 0) continue;
    seen += counts_[i];
    all.push_back({std::min(HighestEquivalent(i), max_), static_cast<double>(seen) / static_cast<double>(count_)});
  }
  if (all.size() <= max_points) return all;
  std::vector<Point> thin;
  thin.reserve(max_points);
  const double step = static_cast<double>(all.size() - 1) / static_cast<double>(max_points - 1);
  for (std::size_t k = 0; k + 1 < max_points; ++k) thin.push_back(all[static_cast<std::size_t>(k * step)]);
  thin.push_back(all.back());
  return thin;
}

void LatencyHistogram::WritePlotData(std::FILE* out, std::size_t max_points) const {
  std::fprintf(out, "# value_ns cumulative_fraction 1/(1-fraction)   (%llu samples)\n",
               static_cast<unsigned long long>(count_));
  for (const Point& pt : CumulativePoints(max_points)) {
    // The last point's 1/(1-f) is infinite; gnuplot's percentile axis wants a finite end.
    const double inv = pt.fraction < 1.0 ? 1.0 / (1.0 - pt.fraction) : static_cast<double>(count_) * 10.0;
    std::fprintf(out, "%llu %.9f %.3f\n", static_cast<unsigned long long>(pt.value_ns), pt.fraction, inv);
  }
}

}  // namespace rill::bench
