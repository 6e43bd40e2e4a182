#include "rill/observability/counters_reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "rill/base/regular_file.h"
#include "rill/observability/process_identity.h"

namespace rill::observability {

namespace {

const CountersHeader* HeaderOf(const std::byte* base) { return reinterpret_cast<const CountersHeader*>(base); }

std::string Field(const char* chars, std::size_t capacity) { return std::string(chars, strnlen(chars, capacity)); }

}  // namespace

std::uint64_t MetricSample::Quantile(double q) const {
  const std::uint64_t total = histogram_count();
  if (total == 0) return 0;
  std::uint64_t buckets_total = 0;  // the buckets, not the count word: they may be a record apart
  for (std::uint32_t i = 0; i < kHistogramBuckets; ++i) buckets_total += values[i];
  const double want = q * static_cast<double>(buckets_total);
  std::uint64_t seen = 0;
  for (std::uint32_t i = 0; i < kHistogramBuckets; ++i) {
    seen += values[i];
    if (static_cast<double>(seen) >= want && seen > 0) return HistogramBucketBound(i);
  }
  return ~0ull;
}

const MetricSample* CountersSnapshot::Find(std::string_view name, std::string_view labels) const {
  for (const MetricSample& m : metrics)
    if (m.name == name && m.labels == labels) return &m;
  return nullptr;
}

std::uint64_t CountersSnapshot::Value(std::string_view name, std::string_view labels) const {
  const MetricSample* m = Find(name, labels);
  return m == nullptr ? 0 : m->value();
}

Result<CountersReader> CountersReader::Open(const std::string& directory) {
  const std::string path = directory + "/" + kCountersFileName;
  Result<int> fd = OpenRegularFile(path, O_RDONLY, "counters file");
  if (!fd.ok()) {
    if (fd.status().IsNotFound()) {
      return Status::NotFound("no counters file in " + directory +
                              ": no rill writer has run there with counters on (EngineOptions::counters), or it "
                              "is not a journal directory; start the service, or check the path");
    }
    return fd.status();
  }
  struct stat st {};
  if (::fstat(*fd, &st) != 0 || static_cast<std::size_t>(st.st_size) < kCountersFileSize) {
    ::close(*fd);
    return Status::Corruption("counters file " + path + " is " + std::to_string(st.st_size) + " bytes, expected " +
                              std::to_string(kCountersFileSize) + ": not a rill counters file of version " +
                              std::to_string(kCountersVersion));
  }
  void* m = ::mmap(nullptr, kCountersFileSize, PROT_READ, MAP_SHARED, *fd, 0);
  const int err = errno;
  ::close(*fd);
  if (m == MAP_FAILED) return Status::FromErrno("counters file " + path + ": mmap", err);
  const auto* base = static_cast<const std::byte*>(m);
  const CountersHeader* h = HeaderOf(base);
  if (std::memcmp(h->magic, kCountersMagic, sizeof h->magic) != 0 || h->version != kCountersVersion ||
      h->slot_capacity != kMetricSlots || h->value_capacity != kValueWords) {
    const std::uint32_t version = h->version;
    const bool magic = std::memcmp(h->magic, kCountersMagic, sizeof h->magic) == 0;
    ::munmap(m, kCountersFileSize);
    if (!magic) return Status::Corruption("counters file " + path + " is not a rill counters file (bad magic)");
    return Status::Corruption("counters file " + path + " has format version " + std::to_string(version) +
                              "; this rill reads version " + std::to_string(kCountersVersion) +
                              ": use the rill tools of the same release as the writer");
  }
  return CountersReader(path, base, static_cast<std::uint64_t>(st.st_ino));
}

CountersReader::CountersReader(CountersReader&& o) noexcept
    : path_(std::move(o.path_)), base_(std::exchange(o.base_, nullptr)), inode_(o.inode_) {}

CountersReader& CountersReader::operator=(CountersReader&& o) noexcept {
  if (this != &o) {
    if (base_ != nullptr) ::munmap(const_cast<std::byte*>(base_), kCountersFileSize);
    path_ = std::move(o.path_);
    base_ = std::exchange(o.base_, nullptr);
    inode_ = o.inode_;
  }
  return *this;
}

CountersReader::~CountersReader() {
  if (base_ != nullptr) ::munmap(const_cast<std::byte*>(base_), kCountersFileSize);
}

bool CountersReader::Replaced() const {
  struct stat st {};
  return ::stat(path_.c_str(), &st) != 0 || static_cast<std::uint64_t>(st.st_ino) != inode_;
}

CountersSnapshot CountersReader::Read() const {
  const CountersHeader* h = HeaderOf(base_);
  CountersSnapshot s;
  s.pid = h->pid;
  s.stale = !ProcessAlive(h->pid, h->process_start_ticks);
  s.program = Field(h->program, sizeof h->program);
  s.created_ns = h->created_ns;
  s.heartbeat_ns = __atomic_load_n(&h->heartbeat_ns, __ATOMIC_ACQUIRE);
  // Acquire: pairs with the registration's release, so every slot below the count is complete.
  std::uint32_t count = __atomic_load_n(&h->metric_count, __ATOMIC_ACQUIRE);
  if (count > kMetricSlots) count = kMetricSlots;  // a damaged file: never read past the slots
  const auto* values = reinterpret_cast<const std::uint64_t*>(base_ + kValuesOffset);
  s.metrics.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    const auto* slot =
        reinterpret_cast<const MetricSlot*>(base_ + kCountersHeaderSize + std::size_t{i} * kMetricSlotSize);
    if (slot->value_count == 0 || slot->value_index > kValueWords ||
        slot->value_count > kValueWords - slot->value_index)
      continue;  // damaged: skip rather than read out of the file
    MetricSample m;
    m.kind = slot->kind;
    m.name = Field(slot->name, sizeof slot->name);
    m.labels = Field(slot->labels, sizeof slot->labels);
    m.help = Field(slot->help, sizeof slot->help);
    m.unit = Field(slot->unit, sizeof slot->unit);
    m.scale = slot->scale;
    m.values.resize(slot->value_count);
    // Acquire: pairs with each value's release store (counters_file.h).
    for (std::uint32_t v = 0; v < slot->value_count; ++v)
      m.values[v] = __atomic_load_n(values + slot->value_index + v, __ATOMIC_ACQUIRE);
    s.metrics.push_back(std::move(m));
  }
  return s;
}

}  // namespace rill::observability
