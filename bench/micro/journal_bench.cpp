// journal_append/<payload bytes>/<policy> beside journal_append/memcpy_baseline/<bytes>: the
// journal's append path against a raw copy into a preallocated, pre-faulted mapped file,
// in the same run. Goal: 64-byte appends with policy none at >= 50% of the raw copy rate.
// One iteration = one record; a batch is committed every kRecordsPerBatch records. With
// policy batch the writer never waits: syncs_per_s and events_per_sync show the group commit.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "rill/journal/journal_writer.h"

namespace {

constexpr std::size_t kSegmentSize = 64u << 20;
constexpr int kRecordsPerBatch = 16;

std::string MakeTempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/rill-journal-bench-XXXXXX";
  return ::mkdtemp(tmpl.data()) ? tmpl : std::string();
}

void RemoveDir(const std::string& dir) {
  const std::string cmd = "rm -rf '" + dir + "'";
  if (!dir.empty() && std::system(cmd.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", dir.c_str());
}

void BM_MemcpyBaseline(benchmark::State& state, std::size_t bytes) {
  const std::string dir = MakeTempDir();
  const std::string path = dir + "/baseline";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || posix_fallocate(fd, 0, kSegmentSize) != 0) {
    state.SkipWithError("cannot create the baseline file");
    return;
  }
  auto* base = static_cast<std::byte*>(::mmap(nullptr, kSegmentSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
  ::madvise(base, kSegmentSize, MADV_POPULATE_WRITE);
  std::vector<std::byte> src(bytes, std::byte{0x5a});
  std::size_t at = 0;
  for (auto _ : state) {
    if (at + bytes > kSegmentSize) at = 0;
    std::memcpy(base + at, src.data(), bytes);
    at += bytes;
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  ::munmap(base, kSegmentSize);
  ::close(fd);
  RemoveDir(dir);
}

template <rill::journal::Durability kPolicy, rill::journal::SyncMethod kMethod>
void BM_JournalAppend(benchmark::State& state, std::size_t bytes) {
  using namespace rill::journal;
  const std::string dir = MakeTempDir();
  WriterOptions o;
  o.directory = dir;
  o.segment_size = kSegmentSize;
  o.durability = kPolicy;
  o.sync_method = kMethod;
  auto w = JournalWriter::Open(o);
  if (!w.ok()) {
    state.SkipWithError(w.status().ToString().c_str());
    return;
  }
  std::vector<std::byte> src(bytes, std::byte{0x5a});
  int in_batch = 0;
  std::int64_t ts = 0;
  std::uint64_t segments_before = 0;
  for (auto _ : state) {
    auto span = (*w)->Reserve(bytes, 1);
    if (!span.ok()) {
      state.SkipWithError(span.status().ToString().c_str());
      break;
    }
    std::memcpy(span->data(), src.data(), bytes);
    if (++in_batch == kRecordsPerBatch) {
      in_batch = 0;
      auto last = (*w)->CommitBatch(++ts);
      // Retention keeps the disk footprint small; it runs once per 64 MiB at most.
      if (last.ok() && ((*last * (bytes + 16)) >> 26) != segments_before) {
        segments_before = (*last * (bytes + 16)) >> 26;
        state.PauseTiming();
        if (kPolicy != Durability::kNone) (void)(*w)->WaitDurable(*last, -1);
        (void)(*w)->DeleteSegmentsBefore(*last);
        state.ResumeTiming();
      }
    }
  }
  if (in_batch != 0) (void)(*w)->CommitBatch(++ts);
  const JournalStats s = (*w)->stats();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  if (kPolicy != Durability::kNone) {
    state.counters["syncs_per_s"] = benchmark::Counter(static_cast<double>(s.syncs), benchmark::Counter::kIsRate);
    state.counters["events_per_sync"] =
        s.syncs == 0 ? 0.0 : static_cast<double>(s.appends) / static_cast<double>(s.syncs);
    state.counters["us_per_sync"] =
        s.syncs == 0 ? 0.0 : static_cast<double>(s.sync_ns_total) / 1e3 / static_cast<double>(s.syncs);
  }
  w->reset();
  RemoveDir(dir);
}

// journal_commit_durable/<bytes>/<method>: one batch of kRecordsPerBatch records, then wait
// until it is durable: the acknowledgement latency of policy batch at low load, i.e. the
// cost of one sync of a small range (msync of the range against fdatasync of the file).
template <rill::journal::SyncMethod kMethod>
void BM_CommitDurable(benchmark::State& state, std::size_t bytes) {
  using namespace rill::journal;
  const std::string dir = MakeTempDir();
  WriterOptions o;
  o.directory = dir;
  o.segment_size = kSegmentSize;
  o.durability = Durability::kBatch;
  o.sync_method = kMethod;
  auto w = JournalWriter::Open(o);
  if (!w.ok()) {
    state.SkipWithError(w.status().ToString().c_str());
    return;
  }
  std::vector<std::byte> src(bytes, std::byte{0x5a});
  std::int64_t ts = 0;
  for (auto _ : state) {
    for (int i = 0; i < kRecordsPerBatch; ++i) {
      auto span = (*w)->Reserve(bytes, 1);
      if (!span.ok()) {
        state.SkipWithError(span.status().ToString().c_str());
        return;
      }
      std::memcpy(span->data(), src.data(), bytes);
    }
    auto last = (*w)->CommitBatch(++ts);
    if (!last.ok() || !(*w)->WaitDurable(*last, -1).ok()) {
      state.SkipWithError("commit or sync failed");
      return;
    }
  }
  const JournalStats s = (*w)->stats();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kRecordsPerBatch);
  state.counters["syncs_per_s"] = benchmark::Counter(static_cast<double>(s.syncs), benchmark::Counter::kIsRate);
  state.counters["events_per_sync"] =
      s.syncs == 0 ? 0.0 : static_cast<double>(s.appends) / static_cast<double>(s.syncs);
  w->reset();
  RemoveDir(dir);
}

using rill::journal::Durability;
using rill::journal::SyncMethod;

// Names follow journal_append/<payload bytes>/<policy>, so they cannot come from ->Arg().
const bool kRegistered = [] {
  for (std::size_t bytes : {64u, 512u}) {
    const std::string b = std::to_string(bytes);
    benchmark::RegisterBenchmark(("journal_append/memcpy_baseline/" + b).c_str(), BM_MemcpyBaseline, bytes);
    benchmark::RegisterBenchmark(("journal_append/" + b + "/none").c_str(),
                                 BM_JournalAppend<Durability::kNone, SyncMethod::kFdatasync>, bytes);
    benchmark::RegisterBenchmark(("journal_append/" + b + "/batch").c_str(),
                                 BM_JournalAppend<Durability::kBatch, SyncMethod::kFdatasync>, bytes)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("journal_append/" + b + "/batch_msync").c_str(),
                                 BM_JournalAppend<Durability::kBatch, SyncMethod::kMsync>, bytes)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("journal_commit_durable/" + b + "/fdatasync").c_str(),
                                 BM_CommitDurable<SyncMethod::kFdatasync>, bytes)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("journal_commit_durable/" + b + "/msync").c_str(),
                                 BM_CommitDurable<SyncMethod::kMsync>, bytes)
        ->UseRealTime();
  }
  return true;
}();

}  // namespace
