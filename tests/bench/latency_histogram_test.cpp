#include "rill/bench/e2e/latency_histogram.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "rill/tests/support/allocation_counter.h"

using rill::bench::LatencyHistogram;

namespace {

// The reference: the sample of rank ceil(p% of n) in the sorted samples (the epsilon absorbs
// binary rounding of p, as in the histogram: 99.9% of 1000 is rank 999).
std::uint64_t ReferencePercentile(const std::vector<std::uint64_t>& sorted, double p) {
  const double exact = p / 100.0 * static_cast<double>(sorted.size());
  auto rank = static_cast<std::size_t>(std::ceil(exact - exact * 1e-12));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

// Log-uniform from 1 ns to about an hour: every bucket range gets samples.
std::vector<std::uint64_t> RandomSamples(std::uint64_t seed, std::size_t n) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> exponent(0.0, std::log(3.6e12));
  std::vector<std::uint64_t> v(n);
  for (auto& x : v) x = static_cast<std::uint64_t>(std::exp(exponent(rng)));
  return v;
}

}  // namespace

TEST_CASE("bucket bounds are contiguous and every value maps into its own bucket", "[bench][histogram]") {
  CHECK(LatencyHistogram::IndexOf(0) == 0);
  CHECK(LatencyHistogram::IndexOf(2047) == 2047);
  CHECK(LatencyHistogram::IndexOf(2048) == 2048);
  CHECK(LatencyHistogram::IndexOf(LatencyHistogram::kMaxTrackable) == LatencyHistogram::kBucketCount - 1);
  for (std::size_t i = 1; i < LatencyHistogram::kBucketCount; ++i) {
    INFO("bucket " << i);
    REQUIRE(LatencyHistogram::LowestEquivalent(i) == LatencyHistogram::HighestEquivalent(i - 1) + 1);
    REQUIRE(LatencyHistogram::IndexOf(LatencyHistogram::LowestEquivalent(i)) == i);
    REQUIRE(LatencyHistogram::IndexOf(LatencyHistogram::HighestEquivalent(i)) == i);
  }
  CHECK(LatencyHistogram::HighestEquivalent(LatencyHistogram::kBucketCount - 1) == LatencyHistogram::kMaxTrackable);
  CHECK(LatencyHistogram::kMaxTrackable >= 3'600'000'000'000ull);  // at least an hour
}

TEST_CASE("percentiles match a sorted reference within the documented precision", "[bench][histogram]") {
  const std::uint64_t seed = std::random_device{}();
  std::printf("latency_histogram_test seed %llu\n", static_cast<unsigned long long>(seed));
  INFO("seed " << seed);
  std::vector<std::uint64_t> samples = RandomSamples(seed, 200'000);
  LatencyHistogram h;
  for (std::uint64_t v : samples) h.Record(v);
  std::sort(samples.begin(), samples.end());

  REQUIRE(h.count() == samples.size());
  CHECK(h.min() == samples.front());
  CHECK(h.max() == samples.back());
  CHECK(h.clamped() == 0);
  for (double p : {0.0, 0.1, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    const std::uint64_t want = ReferencePercentile(samples, p);
    const std::uint64_t got = h.Percentile(p);
    INFO("p" << p << ": reference " << want << ", histogram " << got);
    CHECK(got >= want);  // the bucket's highest equivalent value, never below the sample
    CHECK(static_cast<double>(got - want) <= static_cast<double>(want) * LatencyHistogram::kRelativePrecision);
  }
  long double sum = 0;
  for (std::uint64_t v : samples) sum += v;
  const double mean = static_cast<double>(sum / samples.size());
  CHECK(std::abs(h.Mean() - mean) <= mean * LatencyHistogram::kRelativePrecision);

  const auto s = h.Summarize();
  CHECK(s.p50 == h.Percentile(50));
  CHECK(s.p999 == h.Percentile(99.9));
  CHECK(s.max == samples.back());
}

TEST_CASE("small values are exact", "[bench][histogram]") {
  LatencyHistogram h;
  for (std::uint64_t v = 1; v <= 1000; ++v) h.Record(v);
  CHECK(h.Percentile(50) == 500);
  CHECK(h.Percentile(99.9) == 999);
  CHECK(h.Percentile(100) == 1000);
  CHECK(h.min() == 1);
  CHECK(h.Mean() == Approx(500.5));
}

TEST_CASE("merging equals recording everything in one histogram", "[bench][histogram]") {
  const std::uint64_t seed = std::random_device{}();
  INFO("seed " << seed);
  const std::vector<std::uint64_t> samples = RandomSamples(seed, 50'000);
  LatencyHistogram all, a, b;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    all.Record(samples[i]);
    (i % 3 == 0 ? a : b).Record(samples[i]);
  }
  a.Merge(b);
  CHECK(a.count() == all.count());
  CHECK(a.min() == all.min());
  CHECK(a.max() == all.max());
  for (double p : {1.0, 50.0, 90.0, 99.0, 99.9, 100.0}) CHECK(a.Percentile(p) == all.Percentile(p));
}

TEST_CASE("values beyond the trackable range are clamped and counted", "[bench][histogram]") {
  LatencyHistogram h;
  h.Record(~std::uint64_t{0});
  h.Record(5);
  CHECK(h.count() == 2);
  CHECK(h.clamped() == 1);
  CHECK(h.max() == LatencyHistogram::kMaxTrackable);
  h.Reset();
  CHECK(h.count() == 0);
  CHECK(h.Percentile(99) == 0);
  CHECK(h.min() == 0);
}

// A closed loop meant to send every 1 ms that stalled for 10 ms: the correction back-fills the
// 9 commands it failed to send, with 9, 8, ... 1 ms of latency.
TEST_CASE("RecordCorrected back-fills the samples a stall hid", "[bench][histogram]") {
  LatencyHistogram h;
  h.RecordCorrected(10'000'000, 1'000'000);
  CHECK(h.count() == 10);
  CHECK(h.min() == 1'000'000);
  CHECK(h.max() == 10'000'000);
  LatencyHistogram plain;
  plain.RecordCorrected(10'000'000, 0);
  CHECK(plain.count() == 1);
}

TEST_CASE("cumulative points ascend to 1 and are thinned to the requested size", "[bench][histogram]") {
  const std::vector<std::uint64_t> samples = RandomSamples(42, 100'000);
  LatencyHistogram h;
  for (std::uint64_t v : samples) h.Record(v);
  const auto points = h.CumulativePoints(500);
  REQUIRE(points.size() == 500);
  CHECK(points.back().fraction == 1.0);
  CHECK(points.back().value_ns == h.max());
  for (std::size_t i = 1; i < points.size(); ++i) {
    REQUIRE(points[i].value_ns > points[i - 1].value_ns);
    REQUIRE(points[i].fraction >= points[i - 1].fraction);
  }
  CHECK(LatencyHistogram().CumulativePoints().empty());
}

TEST_CASE("recording, correcting and querying percentiles allocate nothing", "[bench][histogram]") {
  LatencyHistogram h, other;
  other.Record(77);
  const long before = rill::test::ThreadAllocations();
  for (std::uint64_t v = 1; v < 1'000'000'000'000ull; v = v * 3 + 1) h.Record(v);
  h.RecordCorrected(5'000'000, 1'000'000);
  h.Merge(other);
  const std::uint64_t p99 = h.Percentile(99);
  const auto summary = h.Summarize();
  CHECK(rill::test::ThreadAllocations() - before == 0);
  CHECK(p99 > 0);
  CHECK(summary.count == h.count());
}
