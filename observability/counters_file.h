// rill/observability/counters_file.h: the writing side of the counters file (counters_format.h).
// The engine creates one beside its journal; its writer, syncer, projectors and replicator
// register metrics at start-up and then publish with plain stores: no lock, no system call,
// no allocation after registration.
//
//   auto file = rill::observability::CountersFile::Create(dir, "rill-bank-service").value();
//   rill::observability::Counter accepted =
//       file->AddCounter("rill_commands_total", "result=\"accepted\"", "commands decided").value();
//   accepted.Add(batch_accepted);   // one release store
//
// Each handle has one writing thread (the one that owns what it counts); any number of readers
// in any process (counters_reader.h). The file lives as long as the CountersFile; it is left in
// place when the process exits or crashes, so its last values stay readable (marked stale).
// Thread safety: Add*/Heartbeat from any thread (registration takes a mutex); each handle's
// updates from its one owning thread.
#pragma once

#include <bit>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "rill/base/result.h"
#include "rill/observability/counters_format.h"

namespace rill::observability {

namespace detail {
// Single writer: a relaxed load of our own last store, then a release store, so a reader's
// acquire load sees the value whole and after whatever the writer did before publishing it.
inline void Publish(std::uint64_t* word, std::uint64_t value) noexcept {
  __atomic_store_n(word, value, __ATOMIC_RELEASE);
}
inline std::uint64_t Own(const std::uint64_t* word) noexcept { return __atomic_load_n(word, __ATOMIC_RELAXED); }
}  // namespace detail

// A count that only grows. Default-constructed: points at a private scratch word (a metric the
// caller chose not to publish costs the same store and goes nowhere).
class Counter {
 public:
  Counter() noexcept;
  explicit Counter(std::uint64_t* word) noexcept : word_(word) {}
  void Add(std::uint64_t n) noexcept { detail::Publish(word_, detail::Own(word_) + n); }
  void Set(std::uint64_t total) noexcept { detail::Publish(word_, total); }  // a total kept elsewhere
  std::uint64_t value() const noexcept { return detail::Own(word_); }

 private:
  std::uint64_t* word_;
};

// A current value (a position, a fill level, a state code).
class Gauge {
 public:
  Gauge() noexcept;
  explicit Gauge(std::uint64_t* word) noexcept : word_(word) {}
  void Set(std::uint64_t v) noexcept { detail::Publish(word_, v); }
  std::uint64_t value() const noexcept { return detail::Own(word_); }

 private:
  std::uint64_t* word_;
};

// Log2 buckets (counters_format.h); Record is three release stores.
class Histogram {
 public:
  Histogram() noexcept;
  explicit Histogram(std::uint64_t* words) noexcept : words_(words) {}
  void Record(std::uint64_t v) noexcept {
    const unsigned bucket = std::bit_width(v);
    std::uint64_t* b = words_ + (bucket < kHistogramBuckets ? bucket : kHistogramBuckets - 1);
    detail::Publish(b, detail::Own(b) + 1);
    detail::Publish(words_ + kHistogramBuckets, detail::Own(words_ + kHistogramBuckets) + v);
    detail::Publish(words_ + kHistogramBuckets + 1, detail::Own(words_ + kHistogramBuckets + 1) + 1);
  }
  std::uint64_t count() const noexcept { return detail::Own(words_ + kHistogramBuckets + 1); }

 private:
  std::uint64_t* words_;
};

// Registration into a handle kept as a member: `RILL_RETURN_IF_ERROR(Assign(file.AddGauge(...), gauge_));`.
template <typename Handle>
Status Assign(Result<Handle> registered, Handle& into) {
  if (!registered.ok()) return registered.status();
  into = *registered;
  return Status::OK();
}

class CountersFile {
 public:
  // Creates `<directory>/counters` (replacing one a previous process left: written under a
  // temporary name, then renamed, so a reader maps either the old file or the new one whole).
  // `program` names the writer for readers ("rill-bank-service"). IOError naming the path.
  static Result<std::unique_ptr<CountersFile>> Create(const std::string& directory, std::string_view program);
  ~CountersFile();  // unmaps; the file stays
  CountersFile(const CountersFile&) = delete;
  CountersFile& operator=(const CountersFile&) = delete;

  // Registration. `name` follows Prometheus conventions (snake_case, `_total` for counters, the
  // base unit as a suffix); `labels` is Prometheus label syntax without braces, or empty. The
  // same name and labels twice returns the same metric (a restarted projector keeps counting).
  // InvalidArgument when a string is too long for its field, FailedPrecondition when the file is full
  // (kMetricSlots metrics or kValueWords values) or a name is registered again with another kind.
  Result<Counter> AddCounter(std::string_view name, std::string_view labels, std::string_view help);
  // A counter kept in a raw unit (nanoseconds) and exposed as raw * scale of `unit` (seconds).
  Result<Counter> AddCounterScaled(std::string_view name, std::string_view labels, std::string_view help,
                                   std::string_view unit, double scale);
  Result<Gauge> AddGauge(std::string_view name, std::string_view labels, std::string_view help,
                         std::string_view unit = "", double scale = 1.0);
  // Values recorded in a raw unit (nanoseconds, say) and shown as raw * scale of `unit`.
  Result<Histogram> AddHistogram(std::string_view name, std::string_view labels, std::string_view help,
                                 std::string_view unit, double scale);

  // Stores CLOCK_REALTIME `now_ns` as the heartbeat (release): readers show its age.
  void Heartbeat(std::int64_t now_ns) noexcept;

  const std::string& path() const noexcept { return path_; }

 private:
  CountersFile(std::string path, std::byte* base) : path_(std::move(path)), base_(base) {}
  Result<std::uint64_t*> Add(MetricKind kind, std::string_view name, std::string_view labels, std::string_view help,
                             std::string_view unit, double scale);

  std::string path_;
  std::byte* base_;
  std::mutex registration_;
  std::uint32_t values_used_ = 0;  // under registration_
};

}  // namespace rill::observability
