// rill/observability/counters_format.h: the bytes of the counters file, `<journal dir>/counters`
// (README.md, "Format"). One process writes it (the one that holds the journal's LOCK); any
// process maps it read-only and reads it with no cooperation from the writer, like Aeron's
// CnC file. Fixed size, so a reader's mapping never needs to grow.
//
//   [0, 4096)                    header (CountersHeader)
//   [4096, +256 * kMetricSlots)  one MetricSlot per registered metric, in registration order
//   [values_offset, end)         u64 values; each metric's run starts on its own 128-byte line
//
// A metric's slot is written whole before `metric_count` is raised past it (release), so a
// reader that loads `metric_count` (acquire) sees complete slots. Values are single-writer
// u64s, each stored with release and loaded with acquire: a reader sees every value whole,
// never torn; a histogram's buckets, sum and count may be a few records apart.
// All integers little-endian (the machine's; rill targets x86-64 and ARMv8 little-endian).
#pragma once

#include <cstddef>
#include <cstdint>

namespace rill::observability {

inline constexpr char kCountersMagic[8] = {'R', 'I', 'L', 'L', 'C', 'N', 'T', '1'};
inline constexpr std::uint32_t kCountersVersion = 1;
inline constexpr std::uint32_t kCountersHeaderSize = 4096;
inline constexpr std::uint32_t kMetricSlots = 256;
inline constexpr std::uint32_t kMetricSlotSize = 256;
inline constexpr std::uint32_t kValueWords = 8192;
inline constexpr std::uint32_t kValueAlignWords = 16;  // 128 bytes: no false sharing between metrics
inline constexpr std::size_t kValuesOffset = kCountersHeaderSize + std::size_t{kMetricSlots} * kMetricSlotSize;
inline constexpr std::size_t kCountersFileSize = kValuesOffset + std::size_t{kValueWords} * 8;
inline constexpr const char* kCountersFileName = "counters";

// Histograms: bucket i counts values v with std::bit_width(v) == i (bucket 0: v == 0; bucket
// i: 2^(i-1) <= v < 2^i), so Prometheus's cumulative `le` bound of bucket i is (2^i - 1) * scale.
// Then the sum and the count of every value recorded.
inline constexpr std::uint32_t kHistogramBuckets = 64;
inline constexpr std::uint32_t kHistogramWords = kHistogramBuckets + 2;
// The largest raw value bucket i holds: 2^i - 1 (0 for bucket 0).
constexpr std::uint64_t HistogramBucketBound(std::uint32_t i) noexcept { return (std::uint64_t{1} << i) - 1; }

enum class MetricKind : std::uint32_t {
  kCounter = 1,    // only grows (while its writer lives)
  kGauge = 2,      // a current value
  kHistogram = 3,  // kHistogramWords values
};

struct CountersHeader {
  char magic[8];                 // kCountersMagic
  std::uint32_t version;         // kCountersVersion
  std::uint32_t header_size;     // kCountersHeaderSize
  std::uint32_t slot_capacity;   // kMetricSlots
  std::uint32_t value_capacity;  // kValueWords
  std::uint32_t metric_count;    // slots in use; raised with release after a slot is complete
  std::uint32_t reserved0;
  std::int64_t pid;                   // the writing process
  std::uint64_t process_start_ticks;  // its start time (/proc/<pid>/stat field 22): tells a reused pid apart
  std::int64_t created_ns;            // CLOCK_REALTIME when the file was created
  std::int64_t heartbeat_ns;          // CLOCK_REALTIME of the writer's last publication (release)
  char program[64];                   // the writing program's name, NUL-terminated
};
static_assert(sizeof(CountersHeader) == 128);

struct MetricSlot {
  MetricKind kind;
  std::uint32_t value_index;  // first of its u64 values, in units of 8 bytes from values_offset
  std::uint32_t value_count;  // 1, or kHistogramWords
  std::uint32_t reserved0;
  double scale;     // a raw value times scale is the value in `unit` (1e-9: ns -> seconds)
  char name[56];    // Prometheus metric name, NUL-terminated: rill_commands_total
  char labels[88];  // Prometheus label pairs without braces: result="accepted"
  char help[72];    // one line for # HELP
  char unit[16];    // "seconds", "commands", "" for counts
};
static_assert(sizeof(MetricSlot) == kMetricSlotSize);

}  // namespace rill::observability
