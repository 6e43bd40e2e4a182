#include "rill/observability/counters_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "rill/base/regular_file.h"
#include "rill/observability/process_identity.h"

namespace rill::observability {

namespace {

// Where default-constructed handles write: atomic stores that no reader sees. Shared by every
// such handle in every thread; only atomic accesses, so no data race, and lost updates are moot.
alignas(128) std::uint64_t g_scratch[kHistogramWords];

CountersHeader* HeaderOf(std::byte* base) { return reinterpret_cast<CountersHeader*>(base); }
MetricSlot* SlotOf(std::byte* base, std::uint32_t i) {
  return reinterpret_cast<MetricSlot*>(base + kCountersHeaderSize + std::size_t{i} * kMetricSlotSize);
}
std::uint64_t* ValuesOf(std::byte* base) { return reinterpret_cast<std::uint64_t*>(base + kValuesOffset); }

bool CopyField(char* dst, std::size_t capacity, std::string_view src) {
  if (src.size() >= capacity) return false;  // room for the NUL
  std::memcpy(dst, src.data(), src.size());
  dst[src.size()] = '\0';
  return true;
}

// A registered metric's values as the handle type that updates them.
template <typename Handle>
Result<Handle> AsHandle(Result<std::uint64_t*> values) {
  if (!values.ok()) return values.status();
  return Handle(*values);
}

Status TooLong(const char* field, std::string_view value, std::size_t capacity) {
  std::string msg = "counters file: metric ";
  msg.append(field).append(" \"").append(value).append("\" is longer than ");
  msg.append(std::to_string(capacity - 1)).append(" bytes");
  return Status::InvalidArgument(msg);
}

}  // namespace

Counter::Counter() noexcept : word_(g_scratch) {}
Gauge::Gauge() noexcept : word_(g_scratch) {}
Histogram::Histogram() noexcept : words_(g_scratch) {}

Result<std::unique_ptr<CountersFile>> CountersFile::Create(const std::string& directory, std::string_view program) {
  const std::string path = directory + "/" + kCountersFileName;
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  Result<int> fd = OpenRegularFile(tmp, O_RDWR | O_CREAT | O_TRUNC, "counters file");
  if (!fd.ok()) return fd.status();
  if (::ftruncate(*fd, static_cast<off_t>(kCountersFileSize)) != 0) {
    const int err = errno;
    ::close(*fd);
    ::unlink(tmp.c_str());
    return Status::FromErrno("counters file " + tmp + ": ftruncate", err);
  }
  void* m = ::mmap(nullptr, kCountersFileSize, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
  const int map_err = errno;
  ::close(*fd);  // the mapping keeps the file
  if (m == MAP_FAILED) {
    ::unlink(tmp.c_str());
    return Status::FromErrno("counters file " + tmp + ": mmap", map_err);
  }
  auto* base = static_cast<std::byte*>(m);
  CountersHeader* h = HeaderOf(base);  // the file is all zero: fill the header, then publish by rename
  h->version = kCountersVersion;
  h->header_size = kCountersHeaderSize;
  h->slot_capacity = kMetricSlots;
  h->value_capacity = kValueWords;
  h->pid = ::getpid();
  h->process_start_ticks = ProcessStartTicks(h->pid).value_or(0);
  h->created_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  h->heartbeat_ns = h->created_ns;
  CopyField(h->program, sizeof h->program, program.substr(0, sizeof h->program - 1));
  std::memcpy(h->magic, kCountersMagic, sizeof h->magic);  // last: a reader of a half-made file sees no magic
  // No fsync: the file describes a running process, and after a power loss it means nothing.
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::munmap(m, kCountersFileSize);
    ::unlink(tmp.c_str());
    return Status::FromErrno("counters file " + path + ": rename", err);
  }
  return std::unique_ptr<CountersFile>(new CountersFile(path, base));
}

CountersFile::~CountersFile() { ::munmap(base_, kCountersFileSize); }

void CountersFile::Heartbeat(std::int64_t now_ns) noexcept {
  __atomic_store_n(&HeaderOf(base_)->heartbeat_ns, now_ns, __ATOMIC_RELEASE);
}

Result<std::uint64_t*> CountersFile::Add(MetricKind kind, std::string_view name, std::string_view labels,
                                         std::string_view help, std::string_view unit, double scale) {
  std::lock_guard<std::mutex> lock(registration_);
  CountersHeader* h = HeaderOf(base_);
  const std::uint32_t count = h->metric_count;  // only registration (under the mutex) writes it
  for (std::uint32_t i = 0; i < count; ++i) {
    const MetricSlot* s = SlotOf(base_, i);
    if (name == s->name && labels == s->labels) {
      if (s->kind != kind) {
        std::string msg = "counters file: metric ";
        msg.append(name).append("{").append(labels).append("} is registered with another kind");
        return Status::FailedPrecondition(msg);
      }
      return ValuesOf(base_) + s->value_index;
    }
  }
  const std::uint32_t words = kind == MetricKind::kHistogram ? kHistogramWords : 1;
  const std::uint32_t first = (values_used_ + kValueAlignWords - 1) / kValueAlignWords * kValueAlignWords;
  if (count == kMetricSlots || first + words > kValueWords) {
    std::string msg = "counters file ";
    msg.append(path_).append(" is full (").append(std::to_string(count)).append(" metrics): cannot add ");
    msg.append(name);
    return Status::FailedPrecondition(msg);
  }
  MetricSlot* s = SlotOf(base_, count);
  if (!CopyField(s->name, sizeof s->name, name)) return TooLong("name", name, sizeof s->name);
  if (!CopyField(s->labels, sizeof s->labels, labels)) return TooLong("labels", labels, sizeof s->labels);
  if (!CopyField(s->help, sizeof s->help, help)) return TooLong("help", help, sizeof s->help);
  if (!CopyField(s->unit, sizeof s->unit, unit)) return TooLong("unit", unit, sizeof s->unit);
  s->kind = kind;
  s->value_index = first;
  s->value_count = words;
  s->scale = scale;
  values_used_ = first + words;
  // Release: the slot's fields (and its zero values) are visible before a reader counts it.
  __atomic_store_n(&h->metric_count, count + 1, __ATOMIC_RELEASE);
  return ValuesOf(base_) + first;
}

Result<Counter> CountersFile::AddCounter(std::string_view name, std::string_view labels, std::string_view help) {
  return AddCounterScaled(name, labels, help, "", 1.0);
}

Result<Counter> CountersFile::AddCounterScaled(std::string_view name, std::string_view labels, std::string_view help,
                                               std::string_view unit, double scale) {
  return AsHandle<Counter>(Add(MetricKind::kCounter, name, labels, help, unit, scale));
}

Result<Gauge> CountersFile::AddGauge(std::string_view name, std::string_view labels, std::string_view help,
                                     std::string_view unit, double scale) {
  return AsHandle<Gauge>(Add(MetricKind::kGauge, name, labels, help, unit, scale));
}

Result<Histogram> CountersFile::AddHistogram(std::string_view name, std::string_view labels, std::string_view help,
                                             std::string_view unit, double scale) {
  return AsHandle<Histogram>(Add(MetricKind::kHistogram, name, labels, help, unit, scale));
}

}  // namespace rill::observability
